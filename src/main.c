/* main.c -- process-wide set-up around cmd_main
 *
 * Everything a command does is in the library (src/cmd.c and the cmd_*
 * files); main only raises the descriptor limit, checks stdout once for
 * every command, and picks how the process ends.
 */
#include "cgops/agent.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/subcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Results go to stdout; a write error there (a full disk, a closed pipe)
 * must not be reported as success, so check it once for every command, as
 * git's run_builtin does. */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            cmd_error("write error on standard output: %s", strerror(errno));
        return status ? status : CG_EXIT_FAIL;
    }
    return status;
}

#define MIN_NOFILE 16

/* A closed standard descriptor would be taken by the first file or socket
 * cgops opens: libuv aborts on a socket numbered 0..2, and messages meant
 * for stderr would land in a port file or an agent's socket.  Fill the gap
 * with /dev/null, as git's sanitize_stdfds does.  Returns 0 or -1. */
static int sanitize_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* open returns the lowest free number: this one. */
        if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int status;
    size_t nofile;

    /* A closed pipe is an error to report (or to end on quietly), not a
     * signal that kills cgops halfway through writing a file. */
    signal(SIGPIPE, SIG_IGN);
    subcmd_child_init();
    if (sanitize_std_fds() < 0)
        return CG_EXIT_FAIL;
    /* Below this, libuv aborts in uv_loop_init and a listing would skip
     * processes for want of descriptors: refuse plainly instead. */
    nofile = cg_raise_nofile();
    if (nofile < MIN_NOFILE && !(argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                                               strcmp(argv[1], "--version") == 0))) {
        cmd_error("too few open files allowed (ulimit -n %zu); cgops needs at least %d", nofile,
                  MIN_NOFILE);
        return CG_EXIT_FAIL;
    }
    status = finish_stdout(cmd_main(argc, argv));
    if (agent_lookups_abandoned()) {
        /* exit() would run libuv's exit handler, which waits for the
         * thread still blocked in the resolver; the loop it will touch
         * when it returns was kept alive for it (loop.h). */
        fflush(stderr);
        _exit(status);
    }
    return status;
}

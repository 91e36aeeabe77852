/* main.c -- the command table and the dispatcher
 *
 * `cgops` alone lists Go processes, `cgops PID` describes one process, and
 * every other first word names a command in commands[].  The table only
 * wires the modules together; each cmd_* parses its own options.
 */
#include "cgops/agent.h"
#include "cgops/cmd.h"
#include "cgops/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const cmd_t commands[] = {
    {"gc", cmd_agent, 0x02, "TARGET...", "run a garbage collection and wait for it"},
    {"help", cmd_help, 0, "[COMMAND]", "show help for cgops or one command"},
    {"list", cmd_list, 0, "", "list Go processes (the default)"},
    {"memstats", cmd_agent, 0x03, "TARGET...", "print the runtime's memory statistics"},
    {"pprof-cpu", cmd_agent, 0x06, "TARGET", "record a 30 s CPU profile and save it"},
    {"pprof-heap", cmd_agent, 0x05, "TARGET", "save a heap profile"},
    {"process", cmd_process, 0, "PID [PERIOD]", "show details of one process"},
    {"setgc", cmd_agent, 0x10, "TARGET... N|off", "set the GC target percentage"},
    {"stack", cmd_agent, 0x01, "TARGET...", "print the stack traces of all goroutines"},
    {"stats", cmd_agent, 0x07, "TARGET...", "print goroutine, thread and CPU counts"},
    {"trace", cmd_agent, 0x08, "TARGET", "record a 5 s execution trace and save it"},
    {"tree", cmd_tree, 0, "", "show Go processes as a tree of parents"},
    {"version", cmd_agent, 0x04, "TARGET...", "print the Go version the target runs"},
    {NULL, NULL, 0, NULL, NULL},
};

const cmd_t *cmd_lookup(const char *name)
{
    for (const cmd_t *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cmd_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cgops: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

int cmd_usage_error(const cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;

    fputs("cgops: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd && cmd->name)
        fprintf(stderr, "hint: see 'cgops help %s'\n", cmd->name);
    else
        fputs("hint: see 'cgops --help'\n", stderr);
    return CG_EXIT_USAGE;
}

static int is_pid(const char *s)
{
    long long v;
    return cg_parse_ll(s, 1, 4194304, &v) == 0 && s[0] != '+' && s[0] != '-';
}

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

int main(int argc, char **argv)
{
    const cmd_t *cmd;
    int status;
    size_t nofile;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return finish_stdout(cmd_help(argc - 1, argv + 1, cmd_lookup("help")));
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("cgops %s\n", CGOPS_VERSION);
        return finish_stdout(CG_EXIT_OK);
    }
    /* Below this, libuv aborts in uv_loop_init and a listing would skip
     * processes for want of descriptors: refuse plainly instead. */
    nofile = cg_raise_nofile();
    if (nofile < MIN_NOFILE) {
        cmd_error("too few open files allowed (ulimit -n %zu); cgops needs at least %d",
                  nofile, MIN_NOFILE);
        return CG_EXIT_FAIL;
    }
    /* Options before any command belong to the default listing. */
    if (argc < 2 || argv[1][0] == '-')
        return finish_stdout(cmd_list(argc, argv, cmd_lookup("list")));
    if (is_pid(argv[1]))
        return finish_stdout(cmd_process(argc, argv, cmd_lookup("process")));
    cmd = cmd_lookup(argv[1]);
    if (cmd == NULL) {
        cmd_error("'%s' is not a cgops command", argv[1]);
        fputs("hint: see 'cgops --help' for the list of commands\n", stderr);
        return CG_EXIT_USAGE;
    }
    status = finish_stdout(cmd->fn(argc - 1, argv + 1, cmd));
    if (agent_lookups_abandoned()) {
        /* exit() would run libuv's exit handler, which waits for the
         * thread still blocked in the resolver. */
        fflush(stderr);
        _exit(status);
    }
    return status;
}

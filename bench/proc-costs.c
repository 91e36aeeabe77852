/* proc-costs.c -- what each access that discovery makes costs, per
 * process: `proc-costs PID...` prints the best of 5 passes over the pids,
 * in microseconds per process.  bench/proc-costs runs it against 200 Go
 * fixture processes with an agent; the rows after the first are what
 * cgops pays for a Go process with an agent on top of the floor's one look
 * at PID/exe (environ is read only when the caller's config dir has no
 * usable port file for the pid).  Port files are read from
 * $GOPS_CONFIG_DIR. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXE_STAT, PID_DIR, STAT_FILE, EXE_READLINK, PORT_FILE, NS_STAT, FD3_READLINK, ENVIRON, NOPS };

static const char *const op_names[NOPS] = {
    [EXE_STAT] = "stat PID/exe (every process)",
    [PID_DIR] = "open + close PID/",
    [STAT_FILE] = "read stat (ppid, name)",
    [EXE_READLINK] = "readlink exe (path)",
    [PORT_FILE] = "port file (open, fstat, read, close)",
    [NS_STAT] = "stat ns/net (which listeners)",
    [FD3_READLINK] = "readlink fd/3 (the agent's socket)",
    [ENVIRON] = "read environ (no caller port file)",
};

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* op on pid, whose directory is open as dirfd (as cgops has it). */
static void run_op(int op, int procfd, int cfgfd, int dirfd, int pid)
{
    static char buf[65536];
    char path[64];
    struct stat st;
    int fd = -1;

    switch (op) {
    case EXE_STAT:
        snprintf(path, sizeof path, "%d/exe", pid);
        fstatat(procfd, path, &st, 0);
        return;
    case PID_DIR:
        snprintf(path, sizeof path, "%d", pid);
        fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        break;
    case STAT_FILE:
    case ENVIRON:
        fd = openat(dirfd, op == STAT_FILE ? "stat" : "environ", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            (void)!read(fd, buf, op == STAT_FILE ? 1023 : 16384);
        break;
    case EXE_READLINK:
        (void)!readlinkat(dirfd, "exe", buf, 4096);
        return;
    case PORT_FILE:
        snprintf(path, sizeof path, "%d", pid);
        fd = cfgfd < 0 ? -1 : openat(cfgfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) == 0)
            (void)!read(fd, buf, 65);
        break;
    case NS_STAT:
        fstatat(dirfd, "ns/net", &st, 0);
        return;
    case FD3_READLINK:
        (void)!readlinkat(dirfd, "fd/3", buf, 64);
        return;
    }
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY), n = argc - 1, *dirs;
    const char *cfg = getenv("GOPS_CONFIG_DIR");
    int cfgfd = cfg ? open(cfg, O_PATH | O_DIRECTORY) : -1;
    double extra = 0;

    if (procfd < 0 || n < 1) {
        fprintf(stderr, "usage: proc-costs PID...\n");
        return 2;
    }
    dirs = calloc((size_t)n, sizeof *dirs);
    for (int i = 0; i < n; i++) {
        char path[16];

        snprintf(path, sizeof path, "%d", atoi(argv[i + 1]));
        dirs[i] = openat(procfd, path, O_RDONLY | O_DIRECTORY);
    }
    for (int op = 0; op < NOPS; op++) {
        double best = 1e18;

        for (int pass = 0; pass < 5; pass++) {
            double t0 = now_us();

            for (int i = 0; i < n; i++)
                run_op(op, procfd, cfgfd, dirs[i], atoi(argv[i + 1]));
            if (now_us() - t0 < best)
                best = now_us() - t0;
        }
        printf("  %-38s %6.2f us\n", op_names[op], best / n);
        if (op != EXE_STAT && op != ENVIRON)
            extra += best / n;
    }
    printf("  %-38s %6.2f us\n", "an agent process beyond the exe stat", extra);
    return 0;
}

/* proc-costs.c -- what each /proc access that discovery makes costs, per
 * process: `proc-costs PID...` prints the best of 5 passes over the pids,
 * in microseconds per process.  bench/proc-costs runs it against 200 Go
 * fixture processes; the sum of the rows after the first is what cgops
 * pays for a Go process on top of the floor's one readlink. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXE_STAT, PID_DIR, STAT_FILE, ENVIRON, EXE_READLINK, ROOT_STAT, NOPS };

static const char *const op_names[NOPS] = {
    [EXE_STAT] = "stat PID/exe (every process)",
    [PID_DIR] = "open + close PID/",
    [STAT_FILE] = "read PID/stat (ppid, name)",
    [ENVIRON] = "read PID/environ (config dir)",
    [EXE_READLINK] = "readlink PID/exe (path)",
    [ROOT_STAT] = "stat PID/root (same root?)",
};

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void run_op(int op, int procfd, int pid)
{
    static char buf[65536];
    char path[64];
    struct stat st;
    int fd = -1;

    switch (op) {
    case EXE_STAT:
    case EXE_READLINK:
        snprintf(path, sizeof path, "%d/exe", pid);
        if (op == EXE_STAT)
            fstatat(procfd, path, &st, 0);
        else
            (void)!readlinkat(procfd, path, buf, 4096);
        return;
    case ROOT_STAT:
        snprintf(path, sizeof path, "%d/root", pid);
        fstatat(procfd, path, &st, 0);
        return;
    case PID_DIR:
        snprintf(path, sizeof path, "%d", pid);
        fd = openat(procfd, path, O_RDONLY | O_DIRECTORY);
        break;
    case STAT_FILE:
    case ENVIRON:
        snprintf(path, sizeof path, "%d/%s", pid, op == STAT_FILE ? "stat" : "environ");
        fd = openat(procfd, path, O_RDONLY);
        if (fd >= 0)
            (void)!read(fd, buf, op == STAT_FILE ? 1023 : 16384);
        break;
    }
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY), n = argc - 1;
    double extra = 0;

    if (procfd < 0 || n < 1) {
        fprintf(stderr, "usage: proc-costs PID...\n");
        return 2;
    }
    for (int op = 0; op < NOPS; op++) {
        double best = 1e18;

        for (int pass = 0; pass < 5; pass++) {
            double t0 = now_us();

            for (int i = 1; i <= n; i++)
                run_op(op, procfd, atoi(argv[i]));
            if (now_us() - t0 < best)
                best = now_us() - t0;
        }
        printf("  %-34s %6.2f us\n", op_names[op], best / n);
        if (op != EXE_STAT)
            extra += best / n;
    }
    printf("  %-34s %6.2f us\n", "a Go process beyond the exe stat", extra);
    return 0;
}

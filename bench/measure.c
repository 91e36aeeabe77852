/* measure.c -- run a command N times; print the median wall time (ms), the
 * largest peak RSS (KiB) and the median CPU time, user + system (ms), of the
 * runs: `measure N CMD ARGS...`.
 * stdout of the command goes to /dev/null. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int n = argc > 2 ? atoi(argv[1]) : 0;
    double *ms, *cpu;
    long maxrss = 0;

    if (n <= 0) {
        fprintf(stderr, "usage: measure N CMD [ARGS...]\n");
        return 2;
    }
    ms = calloc((size_t)n, sizeof *ms);
    cpu = calloc((size_t)n, sizeof *cpu);
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        struct rusage ru;
        int status;
        pid_t pid;

        clock_gettime(CLOCK_MONOTONIC, &a);
        pid = fork();
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            dup2(fd, 1);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        wait4(pid, &status, 0, &ru);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "measure: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
        ms[i] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
        cpu[i] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        if (ru.ru_maxrss > maxrss)
            maxrss = ru.ru_maxrss;
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp);
    qsort(cpu, (size_t)n, sizeof *cpu, cmp);
    printf("%.3f %ld %.3f\n", n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, maxrss,
           n % 2 ? cpu[n / 2] : (cpu[n / 2 - 1] + cpu[n / 2]) / 2);
    return 0;
}

/* stophold.c -- test helper: stop every thread of a process and hold it
 *
 * `stophold PID` stops PID with gostop_seize, prints "stopped N" (N threads)
 * and sleeps until killed, so a test can look at the stopped target and then
 * SIGKILL the tracer to see that the target runs on without it.
 * `stophold PID release` stops, releases and prints "released N".
 * Exit status 1 with the module's message when the seize fails.
 */
#include "cgops/common.h"
#include "cgops/gomem.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char err[CG_ERR_LEN];
    long long pid;
    gostop_t *s;
    int rc;

    if (argc < 2 || cg_parse_ll(argv[1], 1, 0x7fffffff, &pid) != 0) {
        fprintf(stderr, "usage: stophold PID [release]\n");
        return 2;
    }
    rc = gostop_seize((pid_t)pid, &s, err);
    if (rc != 0) {
        fprintf(stderr, "stophold: %s\n", err);
        return 1;
    }
    if (argc > 2 && strcmp(argv[2], "release") == 0) {
        size_t n = gostop_count(s);
        gostop_release(s);
        printf("released %zu\n", n);
        return 0;
    }
    printf("stopped %zu\n", gostop_count(s));
    fflush(stdout);
    for (;;)
        pause();
}

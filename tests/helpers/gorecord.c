/* gorecord.c -- record what cgops reads of a live Go process
 *
 *   gorecord PID OUT
 *
 * Opens PID as the agentless commands do (gort.h) with recording on, reads
 * every goroutine with its frames, the Ms and the Ps, and saves the memory
 * it read as an image (gomem.h's format).  The replay test and the
 * fuzz-gort target read the image back together with the executable.
 */
#include "cgops/common.h"
#include "cgops/gort.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int count(void *ctx, const gort_g_t *g)
{
    (void)g;
    (*(unsigned long *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    char err[CG_ERR_LEN] = "";
    gort_t *r;
    const gort_m_t *ms;
    const gort_p_t *ps;
    size_t nm, np;
    unsigned long n = 0;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: gorecord PID OUT\n");
        return 2;
    }
    if (gort_open(atoi(argv[1]), GORT_RECORD, &r, err) != 0 || gort_walk(r, GORT_DEPTH_MAX, count, &n, err) != 0 ||
        gort_ms(r, &ms, &nm, err) != 0 || gort_ps(r, &ps, &np, err) != 0) {
        fprintf(stderr, "gorecord: %s\n", err);
        return 1;
    }
    fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || gort_save_image(r, fd, err) != 0 || close(fd) != 0) {
        fprintf(stderr, "gorecord: %s: %s\n", argv[2], err[0] ? err : "cannot write");
        return 1;
    }
    printf("%lu goroutines, %zu Ms, %zu Ps\n", n, nm, np);
    gort_close(r);
    return 0;
}

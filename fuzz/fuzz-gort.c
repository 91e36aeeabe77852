/* fuzz-gort.c -- the agentless reader over a corrupted recording
 *
 * A Go process's memory is outside bytes like any reply: a hostile or
 * racing target can hold anything where the runtime's structures should
 * be.  At start this target loads a real executable and a recording of
 * what cgops read from it (fuzz/run-gort.sh records a live fixture with
 * tests/helpers/gorecord); each input is a list of patches written over
 * the recorded bytes, {u32 offset, u8 length, bytes}, so the fuzzer
 * corrupts pointers, lengths, statuses and stacks where the reader looks.
 * Then the whole read runs: goroutines with frames, Ms, Ps.
 */
#include "cgops/common.h"
#include "cgops/gort.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *exe, *img;
static size_t exesize, imgsize, data_off;
static pid_t pid;

static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    uint8_t *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return buf;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    exe = slurp(getenv("CGOPS_FUZZ_GOEXE"), &exesize);
    img = slurp(getenv("CGOPS_FUZZ_GOIMG"), &imgsize);
    if (exe == NULL || img == NULL || imgsize < 48) {
        fprintf(stderr, "fuzz-gort: set CGOPS_FUZZ_GOEXE and CGOPS_FUZZ_GOIMG (fuzz/run-gort.sh does)\n");
        exit(1);
    }
    pid = (pid_t)rd32(img + 16);
    /* Patches go to the recorded bytes, past the header, maps and ranges. */
    data_off = 48 + (size_t)rd32(img + 20) * 24 + (size_t)rd32(img + 32) * 16;
    if (data_off >= imgsize) {
        fprintf(stderr, "fuzz-gort: the image holds no data\n");
        exit(1);
    }
    return 0;
}

static int touch(void *ctx, const gort_g_t *g)
{
    size_t *sum = ctx;

    /* Every string handed out must be readable to its end. */
    for (int i = 0; i < g->nframes; i++)
        *sum += strlen(g->frames[i].function) + strlen(g->frames[i].file);
    if (g->created_by.function)
        *sum += strlen(g->created_by.function) + strlen(g->created_by.file);
    if (g->start_function)
        *sum += strlen(g->start_function);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *m = malloc(imgsize);
    size_t span = imgsize - data_off, sum = 0;
    char err[CG_ERR_LEN];
    gort_t *r;

    memcpy(m, img, imgsize);
    for (size_t i = 0; i + 5 <= size;) {
        size_t off = data_off + rd32(data + i) % span, len = data[i + 4];

        i += 5;
        if (len > size - i)
            len = size - i;
        if (len > imgsize - off)
            len = imgsize - off;
        memcpy(m + off, data + i, len);
        i += len;
    }
    if (gort_open_image(exe, exesize, m, imgsize, pid, &r, err) == 0) {
        const gort_m_t *ms;
        const gort_p_t *ps;
        size_t n;

        gort_walk(r, GORT_DEPTH_MAX, touch, &sum, err);
        gort_ms(r, &ms, &n, err);
        gort_ps(r, &ps, &n, err);
        gort_close(r);
    }
    free(m);
    return sum == (size_t)-1;
}

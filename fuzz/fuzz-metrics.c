/* fuzz-metrics.c -- libFuzzer target for the state file of `cgops metrics
 * --state` (a file on disk anyone with access may have changed) and for the
 * label values the renderer writes (process names and executable paths
 * are chosen by whoever starts a process).
 *
 * Input: a selector byte, then the bytes.  Oracles beyond "no crash": a
 * parsed state formats and parses back to the same counts; a refused one
 * leaves every count 0; a rendered label value is valid UTF-8 without a
 * raw newline, so each series stays one line.
 */
#include "cgops/common.h"
#include "cgops/metrics.h"
#include "fuzz-util.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fuzz_state(const char *s, size_t n)
{
    uint64_t e[METRICS_ERR_N], back[METRICS_ERR_N];
    char err[CG_ERR_LEN];

    if (metrics_state_parse(s, n, e, err) == 0) {
        char *text = metrics_state_format(e);

        if (metrics_state_parse(text, strlen(text), back, err) != 0 || memcmp(e, back, sizeof e) != 0)
            abort();
        free(text);
    } else {
        for (int r = 0; r < METRICS_ERR_N; r++)
            if (e[r] != 0)
                abort();
    }
}

static void fuzz_render(const char *s, int om)
{
    metrics_proc_t p;
    metrics_run_t run;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL)
        return;
    memset(&p, 0, sizeof p);
    memset(&run, 0, sizeof run);
    p.pid = 1;
    p.name = s;
    p.exe = s + strlen(s) / 2;
    p.go_version = s;
    p.goroutines = (metrics_val_t){1, 1, 1, 0};
    run.procs = &p;
    run.n = 1;
    if (metrics_render(f, &run, om) != 0)
        abort();
    fclose(f);
    if (!cg_utf8_valid(text, len))
        abort();
    /* One series line for go_goroutines: the names cannot add lines. */
    {
        const char *g = strstr(text, "\ngo_goroutines{");
        const char *nl = g ? strchr(g + 1, '\n') : NULL;

        if (g == NULL || nl == NULL || strncmp(nl - 2, " 1", 2) != 0)
            abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    size_t n;

    s = fuzz_text(data, size, &n);
    if (s == NULL)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_state(s, n);
        break;
    default:
        fuzz_render(s, data[0] % 3 == 2);
        break;
    }
    free(s);
    return 0;
}

/* fuzz-http-pprof.c -- libFuzzer target for the parsers of what a
 * net/http/pprof server sends (src/http_pprof.c)
 *
 * Input: a selector byte, then the body.  The selector picks the expvar
 * memstats parser (with the GOMAXPROCS/NumCPU reader on the same bytes),
 * the heap profile's runtime.MemStats trailer, or a debug=1 profile's first
 * line.  Oracles beyond "no crash": a parser that says 0 gives text made of
 * "key: value\n" lines with the agent's keys in its order, one that fails
 * gives no text, a message and -EPROTO or -ENOENT; GOMAXPROCS, NumCPU and
 * a profile's total are never negative.  The seeds
 * (fuzz/corpus/fuzz-http-pprof) are protocol/vectors/http/ behind their
 * selector byte.
 */
#include "cgops/common.h"
#include "cgops/http_pprof.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {
    "alloc", "total-alloc", "sys", "lookups", "mallocs", "frees", "heap-alloc", "heap-sys", "heap-idle",
    "heap-in-use", "heap-released", "heap-objects", "stack-in-use", "stack-sys", "mspan-in-use", "mspan-sys",
    "mcache-in-use", "mcache-sys", "buck-hash-sys", "other-sys", "gc-sys", "next-gc", "last-gc",
    "gc-pause-total", "gc-pause", "gc-pause-end", "num-gc", "num-forced-gc", "gc-cpu-fraction", "enable-gc",
    "debug-gc",
};

/* text is "key: value\n" lines, each key the agent's, in its order. */
static void check_text(const char *text)
{
    size_t next = 0;

    if (text == NULL || text[0] == '\0')
        abort();
    while (*text) {
        const char *colon = strstr(text, ": "), *nl = strchr(text, '\n');
        size_t i;

        if (colon == NULL || nl == NULL || colon > nl || nl == colon + 2)
            abort();
        for (i = next; i < sizeof keys / sizeof keys[0]; i++)
            if (strlen(keys[i]) == (size_t)(colon - text) && memcmp(keys[i], text, (size_t)(colon - text)) == 0)
                break;
        if (i == sizeof keys / sizeof keys[0])
            abort(); /* unknown, repeated or out of order */
        next = i + 1;
        text = nl + 1;
    }
}

static void result(int rc, char *text, const char *err)
{
    if (rc == 0) {
        check_text(text);
    } else if (text != NULL || err[0] == '\0' || (rc != -EPROTO && rc != -ENOENT)) {
        abort();
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CG_ERR_LEN] = "", *text = NULL, *body;
    long long a = -1, b = -1, n = -1;
    size_t len;
    int rc;

    if (size < 1)
        return 0;
    len = size - 1;
    /* An exact-size copy, so ASan sees any read past len. */
    body = malloc(len ? len : 1);
    memcpy(body, data + 1, len);
    switch (data[0] % 4) {
    case 0:
        rc = http_pprof_vars_memstats(body, len, &text, err);
        result(rc, text, err);
        http_pprof_vars_sched(body, len, &a, &b);
        if (a < 0 || b < 0)
            abort();
        break;
    case 1:
        rc = http_pprof_trailer_memstats(body, len, &text, err);
        result(rc, text, err);
        break;
    case 2:
        rc = http_pprof_profile_total(body, len, "goroutine", &n);
        if ((rc != 0 && rc != -EPROTO) || (rc == 0 && n < 0))
            abort();
        rc = http_pprof_profile_total(body, len, "threadcreate", &n);
        if ((rc != 0 && rc != -EPROTO) || (rc == 0 && n < 0))
            abort();
        break;
    default:
        /* The sched reader alone, on anything. */
        http_pprof_vars_sched(body, len, &a, &b);
        if (a < 0 || b < 0)
            abort();
        break;
    }
    free(body);
    return 0;
}

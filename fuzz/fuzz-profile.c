/* fuzz-profile.c -- libFuzzer target for the pprof decoder and report
 *
 * Input: a profile, gzipped or raw.  Whatever decodes must then go through
 * every report without a fault: the -top table for each sample type (by
 * flat and by cum, with a -nodecount), a base diff against itself, and the
 * folded stacks, whose values must add up to the sum of the samples'.
 * Limits are lowered so that the fuzzer cannot make it allocate much.
 */
#include "cgops/common.h"
#include "cgops/profile.h"
#include "cgops/profile_report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void sum_cb(void *ctx, const char *const *frames, size_t n, int64_t value)
{
    int64_t *sum = ctx;

    for (size_t i = 0; i < n; i++)
        if (frames[i] == NULL || frames[i][0] == '\0')
            abort();
    *sum = (int64_t)((uint64_t)*sum + (uint64_t)value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    profile_limits_t lim = {1 << 20, 10000};
    profile_t *p = NULL;
    char err[CG_ERR_LEN];

    if (null == NULL && (null = fopen("/dev/null", "w")) == NULL)
        abort();
    if (profile_decode(data, size, &lim, &p, err) != 0) {
        if (p != NULL || err[0] == '\0')
            abort(); /* a failure always says why */
        return 0;
    }
    for (size_t si = 0; si < p->ntypes && si < 4; si++) {
        profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
        profile_top_t t;
        char idx[16];
        int64_t sum = 0, want = 0;

        snprintf(idx, sizeof idx, "%zu", si);
        ro.sample_index = idx;
        for (int pass = 0; pass < 3; pass++) {
            ro.cum_sort = pass == 1;
            ro.node_count = pass == 2 ? 3 : 0;
            ro.base = pass == 2 ? p : NULL;
            if (profile_top(p, &ro, &t, err) != 0)
                abort(); /* a decoded profile always reports */
            profile_top_print(null, &t, 0);
            profile_top_free(&t);
        }
        if (profile_folded(p, (int)si, sum_cb, &sum) != 0)
            abort();
        for (size_t i = 0; i < p->nsamples; i++)
            want = (int64_t)((uint64_t)want + (uint64_t)p->samples[i].values[si]);
        if (sum != want)
            abort();
    }
    profile_free(p);
    return 0;
}

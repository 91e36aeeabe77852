/* profile_report.c -- what `go tool pprof -top` computes, from a decoded profile
 *
 * The nodes are functions (pprof's default granularity, inlined frames
 * kept); flat and cum are summed, low-cum nodes dropped (nodefraction) and
 * sorted exactly as pprof's report package does, and the numbers are
 * formatted with its unit scaling and percentages, so that the text is
 * byte for byte pprof's.  A base profile is subtracted as pprof's -base.
 */
#ifndef CGOPS_PROFILE_REPORT_H
#define CGOPS_PROFILE_REPORT_H

#include "cgops/profile.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *sample_index; /* NULL: pprof's default */
    int cum_sort;             /* sort by cum (pprof -cum) */
    int node_count;           /* keep the top N nodes (pprof -nodecount); 0: all */
    double node_fraction;     /* pprof's default 0.005 */
    double edge_fraction;     /* pprof's default 0.001 */
    const char *focus, *ignore; /* POSIX extended regexes on function names, files, binaries */
    const profile_t *base;    /* subtracted (pprof -base), or NULL */
} profile_report_opts_t;

#define PROFILE_REPORT_OPTS_INIT {NULL, 0, 0, 0.005, 0.001, NULL, NULL, NULL}

typedef struct {
    char *name;
    int64_t flat, cum;
    const char *inline_label; /* "", "(inline)" or "(partial-inline)" */
} profile_row_t;

typedef struct {
    profile_row_t *rows;
    size_t nrows;
    size_t orig_count;    /* nodes before -nodecount */
    size_t dropped_nodes; /* under the nodefraction cutoff */
    int64_t total;        /* pprof's report total: sum of |value| */
    int sample_index;
    char out_unit[32];    /* the unit values are printed in */
    const char *sample_unit; /* the profile's (points into it: keep it alive) */
    char **header;        /* the label lines, pprof's order */
    size_t nheader;
} profile_top_t;

/* Build the table.  Returns 0, -EINVAL (bad sample index, regex, or base
 * of another kind: message in err) or -ENOMEM.  Free with profile_top_free. */
int profile_top(const profile_t *p, const profile_report_opts_t *o, profile_top_t *t, char *err);
void profile_top_free(profile_top_t *t);

/* Print it as `pprof -top` does: the header, the column titles and at most
 * max_rows rows (all if 0). */
int profile_top_print(FILE *f, const profile_top_t *t, size_t max_rows);

/* pprof's -focus/-ignore on the samples of p: *keep (malloc'd, one byte
 * per sample, free it) is 1 for a sample with a frame matching focus (any
 * frame if focus is NULL) and none matching ignore.  A frame matches by
 * its function's name or file, or its binary.  Returns 0, -EINVAL (bad
 * regex, message in err) or -ENOMEM. */
int profile_select(const profile_t *p, const char *focus, const char *ignore, unsigned char **keep,
                   char *err);

/* The value v, in unit `from`, as pprof prints it in unit `to` ("minimum",
 * "auto", or a unit): "1.50MB", "620ms", "12". */
void profile_scaled_label(int64_t v, const char *from, const char *to, char *buf, size_t size);

/* v as a percentage of total, pprof's way: "  100%", "80.52%", " 0.5%". */
void profile_percentage(int64_t v, int64_t total, char *buf, size_t size);

#endif

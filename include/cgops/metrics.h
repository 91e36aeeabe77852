/* metrics.h -- the host's Go processes as Prometheus metrics
 *
 * protocol/METRICS.md is the contract.  Two halves: metrics_collect
 * (metrics_collect.c) gathers the figures of every Go process into plain
 * metrics_proc_t structs, bounded in time; metrics_render (metrics.c) is
 * pure and turns those structs into the text exposition (Prometheus 0.0.4
 * or OpenMetrics 1.0.0), so tests feed it structs.  The scrape-error
 * counters can be carried from run to run in a small state file
 * (metrics_state_*), since each `cgops metrics` is a fresh process.
 */
#ifndef CGOPS_METRICS_H
#define CGOPS_METRICS_H

#include "cgops/gort.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One figure: absent, an exact integer, or a float. */
typedef struct {
    int have;   /* 0: no series is written */
    int is_int; /* u holds it, else f */
    uint64_t u;
    double f;
} metrics_val_t;

/* The memstats figures, in the order of METRICS.md. */
enum {
    METRICS_MS_ALLOC,
    METRICS_MS_TOTAL_ALLOC,
    METRICS_MS_SYS,
    METRICS_MS_MALLOCS,
    METRICS_MS_FREES,
    METRICS_MS_HEAP_ALLOC,
    METRICS_MS_HEAP_SYS,
    METRICS_MS_HEAP_IDLE,
    METRICS_MS_HEAP_INUSE,
    METRICS_MS_HEAP_RELEASED,
    METRICS_MS_HEAP_OBJECTS,
    METRICS_MS_STACK_INUSE,
    METRICS_MS_STACK_SYS,
    METRICS_MS_NEXT_GC,
    METRICS_MS_LAST_GC,   /* seconds since 1970 */
    METRICS_MS_PAUSE_TOTAL, /* seconds */
    METRICS_MS_NUM_GC,
    METRICS_MS_N
};

/* The gops memstats key a figure comes from ("heap-alloc"), and how the
 * key's value is scaled: 1 or 1e-9 (ns to seconds).  For the agent's JSON,
 * '-' becomes '_'.  last-gc is read from the agent's gc-pause-end (the
 * same instant in ns: the runtime sets both from one clock read in
 * gcMarkTermination) since its last-gc is a local-time string. */
const char *metrics_ms_key(int i);
int metrics_ms_is_ns(int i);

/* Reasons of cgops_scrape_errors_total. */
enum {
    METRICS_ERR_TIMEOUT,
    METRICS_ERR_PERMISSION,
    METRICS_ERR_VANISHED,
    METRICS_ERR_AGENT,
    METRICS_ERR_READ,
    METRICS_ERR_N
};
const char *metrics_err_name(int reason);

/* A Go process's figures.  Strings are owned by whoever filled the
 * struct (the collector: its scan result). */
typedef struct {
    pid_t pid;
    const char *name;
    const char *exe;
    const char *go_version; /* "" or NULL: "unknown" */
    int dropped;            /* no series at all (vanished, timed out) */

    metrics_val_t goroutines;      /* go_goroutines */
    int have_states;
    uint64_t by_status[GORT_NSTATUS]; /* cgops_goroutines{state} */
    metrics_val_t threads;         /* go_threads */
    metrics_val_t gomaxprocs;      /* go_sched_gomaxprocs_threads */
    metrics_val_t ms[METRICS_MS_N];
    metrics_val_t cpu_seconds, rss_bytes, start_time;
    int agent_up;
} metrics_proc_t;

/* What one run produced. */
typedef struct {
    metrics_proc_t *procs;
    size_t n;
    uint64_t errors[METRICS_ERR_N]; /* this run's, plus the state's */
    double duration_s;              /* wall time of the collection */
    double timestamp_s;             /* when it started, unix seconds */
    void *priv;                     /* the collector's (what strings point into) */
} metrics_run_t;

/* Write the exposition of run to f: every family once (HELP and TYPE
 * once, its series together), in METRICS.md's order; label values
 * escaped (backslash, double quote, newline) and made valid UTF-8 (each
 * invalid byte becomes U+FFFD).  openmetrics: OpenMetrics 1.0.0 text
 * (counter families declared without _total, `# EOF` at the end).
 * Returns 0, or -EIO when f reports a write error. */
int metrics_render(FILE *f, const metrics_run_t *run, int openmetrics);

/* The content type of each format, for `cgops serve`. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* ---- the state file: counters carried across runs ---------------------
 * Text: the line "cgops-metrics-state 1", then one "REASON COUNT" line per
 * reason (decimal, at most 2^64-1).  Parse text of len bytes into errors
 * (zeroed first).  Returns 0, or -EINVAL with err for anything else (a
 * caller starts from zero again: a counter reset Prometheus understands). */
#define METRICS_STATE_MAX 4096
int metrics_state_parse(const char *text, size_t len, uint64_t errors[METRICS_ERR_N], char *err);

/* The text of errors (a heap string, free()). */
char *metrics_state_format(const uint64_t errors[METRICS_ERR_N]);

/* Read path's counters into errors (a missing file is zeros), and write
 * errors back to path (a temporary file beside it, then rename(2), mode
 * 0600).  0 or -errno with err. */
int metrics_state_load(const char *path, uint64_t errors[METRICS_ERR_N], char *err);
int metrics_state_save(const char *path, const uint64_t errors[METRICS_ERR_N], char *err);

/* ---- collection (metrics_collect.c) --------------------------------- */
typedef struct {
    uint64_t timeout_ns;      /* the whole collection; never 0 */
    uint64_t proc_timeout_ns; /* each process's own bound; never 0 */
} metrics_opts_t;

/* Find the Go processes under the /proc at procfd and gather their
 * figures into run (run->errors counts this run's failures; figures that
 * could not be read are left out, never zero).  Free with
 * metrics_run_free.  Returns 0, or -errno with err when /proc cannot be
 * listed or the event loop cannot be made. */
int metrics_collect(int procfd, const metrics_opts_t *o, metrics_run_t *run, char *err);
void metrics_run_free(metrics_run_t *run);

#endif

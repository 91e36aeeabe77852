/* metrics.c -- the Prometheus / OpenMetrics text exposition of the figures
 * metrics_collect gathered, and the state file of the error counters
 *
 * Pure: structs in, text out (protocol/METRICS.md is the contract).  Each
 * family is written once, HELP and TYPE first, then its series for every
 * process, so a parser that wants families grouped (OpenMetrics does, and
 * promtool checks it) is satisfied.
 */
#include "cgops/metrics.h"

#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const ms_keys[METRICS_MS_N] = {
    [METRICS_MS_ALLOC] = "alloc",
    [METRICS_MS_TOTAL_ALLOC] = "total-alloc",
    [METRICS_MS_SYS] = "sys",
    [METRICS_MS_MALLOCS] = "mallocs",
    [METRICS_MS_FREES] = "frees",
    [METRICS_MS_HEAP_ALLOC] = "heap-alloc",
    [METRICS_MS_HEAP_SYS] = "heap-sys",
    [METRICS_MS_HEAP_IDLE] = "heap-idle",
    [METRICS_MS_HEAP_INUSE] = "heap-in-use",
    [METRICS_MS_HEAP_RELEASED] = "heap-released",
    [METRICS_MS_HEAP_OBJECTS] = "heap-objects",
    [METRICS_MS_STACK_INUSE] = "stack-in-use",
    [METRICS_MS_STACK_SYS] = "stack-sys",
    [METRICS_MS_NEXT_GC] = "next-gc",
    [METRICS_MS_LAST_GC] = "last-gc",
    [METRICS_MS_PAUSE_TOTAL] = "gc-pause-total",
    [METRICS_MS_NUM_GC] = "num-gc",
};

const char *metrics_ms_key(int i)
{
    return i >= 0 && i < METRICS_MS_N ? ms_keys[i] : NULL;
}

int metrics_ms_is_ns(int i)
{
    return i == METRICS_MS_LAST_GC || i == METRICS_MS_PAUSE_TOTAL;
}

static const char *const err_names[METRICS_ERR_N] = {
    [METRICS_ERR_TIMEOUT] = "timeout",
    [METRICS_ERR_PERMISSION] = "permission",
    [METRICS_ERR_VANISHED] = "vanished",
    [METRICS_ERR_AGENT] = "agent",
    [METRICS_ERR_READ] = "read",
};

const char *metrics_err_name(int reason)
{
    return reason >= 0 && reason < METRICS_ERR_N ? err_names[reason] : NULL;
}

/* ---- families ----------------------------------------------------------- */

enum { SRC_GOROUTINES, SRC_STATES, SRC_THREADS, SRC_GOMAXPROCS, SRC_MS, SRC_CPU, SRC_RSS, SRC_START, SRC_AGENT_UP };

typedef struct {
    const char *name; /* the sample name, _total included for counters */
    int counter;      /* else gauge */
    int src, idx;     /* where the value is (idx: METRICS_MS_*) */
    const char *help;
} family_t;

/* METRICS.md's table, in its order; client_golang's names and help where
 * the meaning is the same. */
static const family_t families[] = {
    {"go_goroutines", 0, SRC_GOROUTINES, 0, "Number of goroutines that currently exist."},
    {"cgops_goroutines", 0, SRC_STATES, 0, "Goroutines of the process by scheduler state."},
    {"go_threads", 0, SRC_THREADS, 0, "Number of OS threads created."},
    {"go_sched_gomaxprocs_threads", 0, SRC_GOMAXPROCS, 0,
     "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute "
     "user-level Go code simultaneously."},
    {"go_memstats_alloc_bytes", 0, SRC_MS, METRICS_MS_ALLOC, "Number of bytes allocated and still in use."},
    {"go_memstats_alloc_bytes_total", 1, SRC_MS, METRICS_MS_TOTAL_ALLOC, "Total number of bytes allocated, even if freed."},
    {"go_memstats_sys_bytes", 0, SRC_MS, METRICS_MS_SYS, "Number of bytes obtained from system."},
    {"go_memstats_mallocs_total", 1, SRC_MS, METRICS_MS_MALLOCS, "Total number of mallocs."},
    {"go_memstats_frees_total", 1, SRC_MS, METRICS_MS_FREES, "Total number of frees."},
    {"go_memstats_heap_alloc_bytes", 0, SRC_MS, METRICS_MS_HEAP_ALLOC, "Number of heap bytes allocated and still in use."},
    {"go_memstats_heap_sys_bytes", 0, SRC_MS, METRICS_MS_HEAP_SYS, "Number of heap bytes obtained from system."},
    {"go_memstats_heap_idle_bytes", 0, SRC_MS, METRICS_MS_HEAP_IDLE, "Number of heap bytes waiting to be used."},
    {"go_memstats_heap_inuse_bytes", 0, SRC_MS, METRICS_MS_HEAP_INUSE, "Number of heap bytes that are in use."},
    {"go_memstats_heap_released_bytes", 0, SRC_MS, METRICS_MS_HEAP_RELEASED, "Number of heap bytes released to OS."},
    {"go_memstats_heap_objects", 0, SRC_MS, METRICS_MS_HEAP_OBJECTS, "Number of allocated objects."},
    {"go_memstats_stack_inuse_bytes", 0, SRC_MS, METRICS_MS_STACK_INUSE, "Number of bytes in use by the stack allocator."},
    {"go_memstats_stack_sys_bytes", 0, SRC_MS, METRICS_MS_STACK_SYS,
     "Number of bytes obtained from system for stack allocator."},
    {"go_memstats_next_gc_bytes", 0, SRC_MS, METRICS_MS_NEXT_GC,
     "Number of heap bytes when next garbage collection will take place."},
    {"go_memstats_last_gc_time_seconds", 0, SRC_MS, METRICS_MS_LAST_GC,
     "Number of seconds since 1970 of last garbage collection."},
    {"cgops_gc_pause_seconds_total", 1, SRC_MS, METRICS_MS_PAUSE_TOTAL,
     "Total time the process's garbage collector stopped the world."},
    {"cgops_gc_cycles_total", 1, SRC_MS, METRICS_MS_NUM_GC, "Completed garbage collection cycles."},
    {"process_cpu_seconds_total", 1, SRC_CPU, 0, "Total user and system CPU time spent in seconds."},
    {"process_resident_memory_bytes", 0, SRC_RSS, 0, "Resident memory size in bytes."},
    {"process_start_time_seconds", 0, SRC_START, 0, "Start time of the process since unix epoch in seconds."},
    {"cgops_agent_up", 0, SRC_AGENT_UP, 0, "Whether a gops agent answers for the process (1) or not (0)."},
};

static const metrics_val_t *proc_val(const metrics_proc_t *p, const family_t *fam, metrics_val_t *tmp)
{
    switch (fam->src) {
    case SRC_GOROUTINES:
        return &p->goroutines;
    case SRC_THREADS:
        return &p->threads;
    case SRC_GOMAXPROCS:
        return &p->gomaxprocs;
    case SRC_MS:
        return &p->ms[fam->idx];
    case SRC_CPU:
        return &p->cpu_seconds;
    case SRC_RSS:
        return &p->rss_bytes;
    case SRC_START:
        return &p->start_time;
    case SRC_AGENT_UP:
        *tmp = (metrics_val_t){1, 1, p->agent_up ? 1u : 0u, 0};
        return tmp;
    }
    return NULL;
}

/* The states written even at zero, so a graph of them does not have
 * holes; any other state only when a goroutine is in it. */
static int state_always(unsigned s)
{
    return s == GORT_RUNNING || s == GORT_RUNNABLE || s == GORT_WAITING || s == GORT_SYSCALL;
}

/* ---- writing ------------------------------------------------------------ */

/* A label value: backslash, double quote and newline escaped as the
 * format wants; a byte that is not part of well-formed UTF-8 becomes
 * U+FFFD (Prometheus refuses invalid UTF-8, and client_golang does the
 * same replacement); any other control character becomes '?', as
 * cg_text_safe does, so a name cannot act on the terminal of whoever runs
 * `cgops metrics` by hand. */
static void put_label_value(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);

    while (len > 0) {
        size_t n = cg_utf8_seq_len(p, len);

        if (n == 0) {
            fputs("\xef\xbf\xbd", f);
            n = 1;
        } else if (*p == '\\') {
            fputs("\\\\", f);
        } else if (*p == '"') {
            fputs("\\\"", f);
        } else if (*p == '\n') {
            fputs("\\n", f);
        } else if (cg_utf8_is_control(p, n)) {
            fputc('?', f);
        } else {
            fwrite(p, 1, n, f);
        }
        p += n;
        len -= n;
    }
}

/* HELP text: backslash and newline escaped (both formats). */
static void put_help(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* A float as Go's strconv.FormatFloat(v, 'g', -1, 64) would pick it: the
 * shortest digits that read back as v. */
static void put_float(FILE *f, double v)
{
    char buf[64];

    if (isnan(v)) {
        fputs("NaN", f);
        return;
    }
    if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", f);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, f);
}

static void put_value(FILE *f, const metrics_val_t *v)
{
    if (v->is_int)
        fprintf(f, "%llu", (unsigned long long)v->u);
    else
        put_float(f, v->f);
}

/* HELP and TYPE of a family.  In OpenMetrics a counter family is named
 * without _total (its samples keep it).  go_memstats_alloc_bytes_total is
 * the exception: its family would be go_memstats_alloc_bytes, which is
 * already the gauge of bytes in use, and OpenMetrics forbids two families
 * of one name; so it is declared "unknown" under its full name, which
 * keeps the series name that dashboards query. */
static void put_header(FILE *f, const char *name, int counter, const char *help, int om)
{
    char fam[128];
    const char *type = counter ? "counter" : "gauge";
    size_t len = strlen(name);

    cg_strlcpy(fam, name, sizeof fam);
    if (om && counter && len > 6 && strcmp(name + len - 6, "_total") == 0) {
        fam[len - 6] = '\0';
        if (strcmp(fam, "go_memstats_alloc_bytes") == 0) {
            cg_strlcpy(fam, name, sizeof fam);
            type = "unknown";
        }
    }
    fprintf(f, "# HELP %s ", fam);
    put_help(f, help);
    fprintf(f, "\n# TYPE %s %s\n", fam, type);
}

static void put_proc_labels(FILE *f, const metrics_proc_t *p)
{
    fprintf(f, "pid=\"%d\",name=\"", (int)p->pid);
    put_label_value(f, p->name ? p->name : "");
    fputs("\",exe=\"", f);
    put_label_value(f, p->exe ? p->exe : "");
    fputs("\",go_version=\"", f);
    put_label_value(f, p->go_version && p->go_version[0] ? p->go_version : "unknown");
    fputc('"', f);
}

static void put_family(FILE *f, const metrics_run_t *run, const family_t *fam, int om)
{
    int any = 0;
    metrics_val_t tmp;

    for (size_t i = 0; i < run->n && !any; i++) {
        const metrics_proc_t *p = &run->procs[i];

        if (p->dropped)
            continue;
        any = fam->src == SRC_STATES ? p->have_states : proc_val(p, fam, &tmp)->have;
    }
    /* A family without a series is left out whole: its HELP alone would
     * say nothing. */
    if (!any)
        return;
    put_header(f, fam->name, fam->counter, fam->help, om);
    for (size_t i = 0; i < run->n; i++) {
        const metrics_proc_t *p = &run->procs[i];

        if (p->dropped)
            continue;
        if (fam->src == SRC_STATES) {
            if (!p->have_states)
                continue;
            for (unsigned s = 0; s < GORT_NSTATUS; s++) {
                if (!p->by_status[s] && !state_always(s))
                    continue;
                fprintf(f, "%s{", fam->name);
                put_proc_labels(f, p);
                fprintf(f, ",state=\"%s\"} %llu\n", gort_status_name(s), (unsigned long long)p->by_status[s]);
            }
            continue;
        }
        const metrics_val_t *v = proc_val(p, fam, &tmp);

        if (!v->have)
            continue;
        fprintf(f, "%s{", fam->name);
        put_proc_labels(f, p);
        fputs("} ", f);
        put_value(f, v);
        fputc('\n', f);
    }
}

int metrics_render(FILE *f, const metrics_run_t *run, int om)
{
    for (size_t i = 0; i < CG_ARRAY_SIZE(families); i++)
        put_family(f, run, &families[i], om);

    put_header(f, "cgops_processes", 0, "Go processes found in the last refresh.", om);
    fprintf(f, "cgops_processes %zu\n", run->n);
    put_header(f, "cgops_scrape_errors_total", 1,
               "Processes (or parts of them) that could not be read, since start.", om);
    for (int r = 0; r < METRICS_ERR_N; r++)
        fprintf(f, "cgops_scrape_errors_total{reason=\"%s\"} %llu\n", err_names[r],
                (unsigned long long)run->errors[r]);
    put_header(f, "cgops_refresh_duration_seconds", 0, "Wall time of the last refresh of the figures.", om);
    fputs("cgops_refresh_duration_seconds ", f);
    put_float(f, run->duration_s);
    fputc('\n', f);
    put_header(f, "cgops_refresh_timestamp_seconds", 0, "When the figures served were read (unix seconds).", om);
    fputs("cgops_refresh_timestamp_seconds ", f);
    put_float(f, run->timestamp_s);
    fputc('\n', f);
    if (om)
        fputs("# EOF\n", f);
    return ferror(f) ? -EIO : 0;
}

/* ---- the state file ----------------------------------------------------- */

#define STATE_MAGIC "cgops-metrics-state 1"

static int parse_state(const char *text, size_t len, uint64_t errors[METRICS_ERR_N], char *err)
{
    const char *p = text, *end = text + len;
    size_t mlen = strlen(STATE_MAGIC);
    int seen[METRICS_ERR_N] = {0};

    memset(errors, 0, METRICS_ERR_N * sizeof errors[0]);
    if (len > METRICS_STATE_MAX) {
        cg_seterr(err, "larger than %d bytes", METRICS_STATE_MAX);
        return -EINVAL;
    }
    if (len < mlen + 1 || memcmp(p, STATE_MAGIC, mlen) != 0 || p[mlen] != '\n') {
        cg_seterr(err, "does not start with the line '%s'", STATE_MAGIC);
        return -EINVAL;
    }
    p += mlen + 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *sp;
        char word[32], num[32];
        int r;
        uint64_t v = 0;

        if (nl == NULL) {
            cg_seterr(err, "its last line has no newline");
            return -EINVAL;
        }
        sp = memchr(p, ' ', (size_t)(nl - p));
        if (sp == NULL || sp == p || (size_t)(sp - p) >= sizeof word || nl - sp - 1 < 1 ||
            (size_t)(nl - sp - 1) >= sizeof num) {
            cg_seterr(err, "a line is not 'REASON COUNT'");
            return -EINVAL;
        }
        memcpy(word, p, (size_t)(sp - p));
        word[sp - p] = '\0';
        memcpy(num, sp + 1, (size_t)(nl - sp - 1));
        num[nl - sp - 1] = '\0';
        for (r = 0; r < METRICS_ERR_N; r++)
            if (strcmp(word, err_names[r]) == 0)
                break;
        if (r == METRICS_ERR_N || seen[r]) {
            cg_seterr(err, "unknown or repeated reason");
            return -EINVAL;
        }
        for (const char *d = num; *d; d++) {
            if (*d < '0' || *d > '9' || v > (UINT64_MAX - (uint64_t)(*d - '0')) / 10) {
                cg_seterr(err, "a count is not a decimal number within 64 bits");
                return -EINVAL;
            }
            v = v * 10 + (uint64_t)(*d - '0');
        }
        seen[r] = 1;
        errors[r] = v;
        p = nl + 1;
    }
    return 0;
}

int metrics_state_parse(const char *text, size_t len, uint64_t errors[METRICS_ERR_N], char *err)
{
    int rc = parse_state(text, len, errors, err);

    /* Nothing of a refused file is kept: half of it is no count. */
    if (rc < 0)
        memset(errors, 0, METRICS_ERR_N * sizeof errors[0]);
    return rc;
}

char *metrics_state_format(const uint64_t errors[METRICS_ERR_N])
{
    char buf[METRICS_STATE_MAX];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s\n", STATE_MAGIC);

    for (int r = 0; r < METRICS_ERR_N; r++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s %llu\n", err_names[r], (unsigned long long)errors[r]);
    return cg_xstrdup(buf);
}

int metrics_state_load(const char *path, uint64_t errors[METRICS_ERR_N], char *err)
{
    char *buf = NULL, why[CG_ERR_LEN];
    size_t len = 0;
    struct stat st;
    int truncated = 0, rc, fd;

    memset(errors, 0, METRICS_ERR_N * sizeof errors[0]);
    /* O_NONBLOCK and a regular file only: a FIFO planted where the state
     * file should be would block the open (and the run, before its
     * --timeout starts) for ever. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        rc = -errno;
    } else if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        close(fd);
        cg_seterr(err, "state file '%s' is not a regular file", path);
        return -EINVAL;
    } else {
        rc = cg_read_fd(fd, METRICS_STATE_MAX, &buf, &len, &truncated);
        close(fd);
    }
    if (rc < 0) {
        cg_seterr(err, "cannot read state file '%s': %s", path, strerror(-rc));
        return rc;
    }
    rc = truncated ? -EINVAL : metrics_state_parse(buf, len, errors, why);
    if (truncated)
        cg_strlcpy(why, "too large", sizeof why);
    free(buf);
    if (rc < 0)
        cg_seterr(err, "state file '%s': %s", path, why);
    return rc;
}

int metrics_state_save(const char *path, const uint64_t errors[METRICS_ERR_N], char *err)
{
    char *text = metrics_state_format(errors), *tmp = NULL;
    size_t len = strlen(text);
    int fd, rc = 0;

    if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
        free(text);
        cg_seterr(err, "out of memory");
        return -ENOMEM;
    }
    /* O_EXCL|O_NOFOLLOW: a name planted beside the state file is not
     * written through. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
    } else {
        if (write(fd, text, len) != (ssize_t)len)
            rc = errno ? -errno : -EIO;
        if (close(fd) != 0 && rc == 0)
            rc = -errno;
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -errno;
        if (rc != 0)
            unlink(tmp);
    }
    if (rc != 0)
        cg_seterr(err, "cannot write state file '%s': %s", path, strerror(-rc));
    free(tmp);
    free(text);
    return rc;
}

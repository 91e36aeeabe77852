/* cmd_summary.c -- `cgops summary PID`: a Go process at a glance, agentless
 *
 * The binary, its Go version and uptime, each P, the threads by state, the
 * goroutines by status and wait reason, then grouped by where they wait
 * (the first frame outside the runtime).  Counting needs no allocation per
 * goroutine: only one counter per distinct key.
 */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/gort.h"
#include "cgops/out_json.h"
#include "cgops/proc.h"
#include "cgops/procinfo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Frames unwound per goroutine to find its first frame outside the
 * runtime: parked goroutines have a few runtime frames on top. */
#define SUMMARY_DEPTH 32

typedef struct {
    int json;
    int stop;
    const char *by;
} summary_opts_t;

const opt_t cmd_summary_opts[] = {
    OPT_BOOL_('j', "json", summary_opts_t, json, "print JSON (schema: protocol/schemas/summary.schema.json)"),
    OPT_BOOL_(0, "stop", summary_opts_t, stop, "stop the process (ptrace) while reading; it runs on afterwards"),
    OPT_STRING_(0, "by", "KEY", summary_opts_t, by,
                "group goroutines by location (default), start, creator or wait"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

typedef struct {
    gort_t *r;
    group_by_t by;
    uint64_t total, user;
    uint64_t by_status[GORT_NSTATUS];
    groups_t reasons;
    groups_t groups;
} tally_t;

static int tally_cb(void *ctx, const gort_g_t *g)
{
    tally_t *t = ctx;

    t->total++;
    if (!g->system)
        t->user++;
    if (g->status < GORT_NSTATUS)
        t->by_status[g->status]++;
    if (g->status == GORT_WAITING)
        groups_get(&t->reasons, gort_state(t->r, g))->count++;
    groups_get(&t->groups, agentless_group_key(t->r, g, t->by))->count++;
    return 0;
}

static int by_count_desc(const void *a, const void *b)
{
    const group_t *x = a, *y = b;

    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

static long long uptime_seconds(pid_t pid)
{
    char path[64], *text = NULL;
    size_t len;
    proc_stat_t st;
    long long btime;
    long ticks = sysconf(_SC_CLK_TCK);
    int dfd;

    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    if (proc_read_stat(dfd, &st, NULL) != 0) {
        close(dfd);
        return -1;
    }
    close(dfd);
    if (cg_read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &text, &len, NULL) != 0)
        return -1;
    if (procinfo_parse_btime(text, &btime) != 0 || ticks <= 0) {
        free(text);
        return -1;
    }
    free(text);
    return (long long)time(NULL) - (btime + (long long)(st.starttime / (unsigned long long)ticks));
}

static const char *p_status_name(unsigned s)
{
    static const char *const names[] = {"idle", "running", "syscall", "gcstop", "dead"};

    return s < CG_ARRAY_SIZE(names) ? names[s] : "unknown";
}

/* What only DWARF gives (agentless.h), when the binary has it. */
typedef struct {
    agentless_sched_t sched;
    godwarf_msval_t ms[GODWARF_MS_KEYS];
    size_t nms;
    char why[CG_ERR_LEN]; /* why not, when neither */
} dwarf_figs_t;

static const godwarf_msval_t *ms_key(const dwarf_figs_t *d, const char *key)
{
    for (size_t i = 0; i < d->nms; i++)
        if (strcmp(d->ms[i].key, key) == 0)
            return &d->ms[i];
    return NULL;
}

static void print_text(pid_t pid, tally_t *t, const char *exe, long long up, int32_t gmp,
                       const gort_p_t *ps, size_t nps, const gort_m_t *ms, size_t nms,
                       const thread_t *th, size_t nth, const dwarf_figs_t *dw)
{
    char buf[64];
    size_t counts[128] = {0};
    unsigned spinning = 0, idle_ps = 0;

    printf("pid:         %d\n", (int)pid);
    printf("binary:      %s\n", exe);
    printf("go version:  %s\n", gort_go_version(t->r)[0] ? gort_go_version(t->r) : "unknown");
    if (up >= 0) {
        procinfo_format_etime(up, buf, sizeof buf);
        printf("uptime:      %s\n", buf);
    }
    if (gmp > 0)
        printf("gomaxprocs:  %d\n", (int)gmp);
    for (size_t i = 0; i < nth; i++)
        counts[(unsigned char)th[i].state & 127]++;
    printf("threads:     %zu (", nth);
    for (int c = 0, first = 1; c < 128; c++) {
        if (counts[c]) {
            printf("%s%c %zu", first ? "" : ", ", c, counts[c]);
            first = 0;
        }
    }
    printf(")\n");
    for (size_t i = 0; i < nms; i++)
        spinning += ms[i].spinning != 0;
    for (size_t i = 0; i < nps; i++)
        idle_ps += ps[i].status == 0;
    printf("scheduler:   %zu Ms (%u spinning), %zu Ps (%u idle)\n", nms, spinning, nps, idle_ps);
    if (dw->sched.valid)
        printf("run queue:   %lld global; Ms idle %lld, spinning %lld, system %lld (runtime.sched)\n",
               (long long)dw->sched.runq, (long long)dw->sched.idle_ms, (long long)dw->sched.spinning_ms,
               (long long)dw->sched.system_ms);
    if (dw->nms) {
        const godwarf_msval_t *ng = ms_key(dw, "num-gc"), *nf = ms_key(dw, "num-forced-gc"),
                              *ha = ms_key(dw, "heap-alloc"), *nx = ms_key(dw, "next-gc"),
                              *pt = ms_key(dw, "gc-pause-total");
        char a[64] = "?", b[64] = "?", c[64] = "?";

        if (ha)
            agentless_format_bytes(ha->u, a, sizeof a);
        if (nx)
            agentless_format_bytes(nx->u, b, sizeof b);
        if (pt)
            procinfo_format_go_duration((long long)pt->u, c, sizeof c);
        printf("gc:          %llu cycles (%llu forced), heap %s, next at %s, pauses %s\n",
               ng ? (unsigned long long)ng->u : 0, nf ? (unsigned long long)nf->u : 0, a, b, c);
    }
    if (!dw->sched.valid && !dw->nms && dw->why[0])
        printf("(no scheduler or GC figures: %s)\n", dw->why);
    printf("goroutines:  %llu (%llu user, %llu runtime)\n", (unsigned long long)t->total,
           (unsigned long long)t->user, (unsigned long long)(t->total - t->user));
    printf("\nPs:\n  %-4s %-8s %10s %12s %6s %6s\n", "P", "STATUS", "SCHEDTICK", "SYSCALLTICK", "M", "RUNQ");
    for (size_t i = 0; i < nps; i++) {
        char m[24] = "-";

        if (ps[i].m_id >= 0)
            snprintf(m, sizeof m, "%lld", (long long)ps[i].m_id);
        printf("  %-4d %-8s %10u %12u %6s %6u\n", (int)ps[i].id, p_status_name(ps[i].status),
               ps[i].schedtick, ps[i].syscalltick, m, ps[i].runq);
    }
    printf("\ngoroutines by status:\n");
    for (unsigned s = 0; s < GORT_NSTATUS; s++)
        if (t->by_status[s])
            printf("  %8llu  %s\n", (unsigned long long)t->by_status[s], gort_status_name(s));
    if (t->reasons.n) {
        qsort(t->reasons.v, t->reasons.n, sizeof *t->reasons.v, by_count_desc);
        printf("\nwaiting goroutines by reason:\n");
        for (size_t i = 0; i < t->reasons.n; i++)
            printf("  %8llu  %s\n", (unsigned long long)t->reasons.v[i].count, t->reasons.v[i].key);
    }
    qsort(t->groups.v, t->groups.n, sizeof *t->groups.v, by_count_desc);
    printf("\ngoroutines by %s:\n", agentless_group_name(t->by));
    for (size_t i = 0; i < t->groups.n; i++)
        printf("  %8llu  %s\n", (unsigned long long)t->groups.v[i].count, t->groups.v[i].key);
}

static cJSON *groups_json(groups_t *gs)
{
    cJSON *a = cJSON_CreateArray();

    qsort(gs->v, gs->n, sizeof *gs->v, by_count_desc);
    for (size_t i = 0; i < gs->n; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "key", gs->v[i].key);
        cJSON_AddNumberToObject(o, "count", (double)gs->v[i].count);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static void print_json(pid_t pid, tally_t *t, const char *exe, long long up, int32_t gmp,
                       const gort_p_t *ps, size_t nps, const gort_m_t *ms, size_t nms,
                       const thread_t *th, size_t nth, const dwarf_figs_t *dw)
{
    cJSON *o = cJSON_CreateObject(), *a, *st;

    cJSON_AddNumberToObject(o, "pid", pid);
    cJSON_AddStringToObject(o, "binary", exe);
    cJSON_AddStringToObject(o, "go_version", gort_go_version(t->r));
    if (up >= 0)
        cJSON_AddNumberToObject(o, "uptime_seconds", (double)up);
    else
        cJSON_AddNullToObject(o, "uptime_seconds");
    if (gmp > 0)
        cJSON_AddNumberToObject(o, "gomaxprocs", gmp);
    else
        cJSON_AddNullToObject(o, "gomaxprocs");
    a = cJSON_AddArrayToObject(o, "ps");
    for (size_t i = 0; i < nps; i++) {
        cJSON *p = cJSON_CreateObject();

        cJSON_AddNumberToObject(p, "id", ps[i].id);
        cJSON_AddStringToObject(p, "status", p_status_name(ps[i].status));
        cJSON_AddNumberToObject(p, "schedtick", ps[i].schedtick);
        cJSON_AddNumberToObject(p, "syscalltick", ps[i].syscalltick);
        if (ps[i].m_id >= 0)
            cJSON_AddNumberToObject(p, "m", (double)ps[i].m_id);
        else
            cJSON_AddNullToObject(p, "m");
        cJSON_AddNumberToObject(p, "runq", ps[i].runq);
        cJSON_AddItemToArray(a, p);
    }
    a = cJSON_AddArrayToObject(o, "ms");
    for (size_t i = 0; i < nms; i++) {
        cJSON *m = cJSON_CreateObject();

        cJSON_AddNumberToObject(m, "id", (double)ms[i].id);
        cJSON_AddNumberToObject(m, "thread", ms[i].tid);
        if (ms[i].curg_goid)
            cJSON_AddNumberToObject(m, "goroutine", (double)ms[i].curg_goid);
        else
            cJSON_AddNullToObject(m, "goroutine");
        if (ms[i].p_id >= 0)
            cJSON_AddNumberToObject(m, "p", ms[i].p_id);
        else
            cJSON_AddNullToObject(m, "p");
        cJSON_AddBoolToObject(m, "spinning", ms[i].spinning);
        cJSON_AddItemToArray(a, m);
    }
    if (dw->sched.valid) {
        cJSON *sc = cJSON_AddObjectToObject(o, "scheduler");

        cJSON_AddNumberToObject(sc, "global_runq", (double)dw->sched.runq);
        cJSON_AddNumberToObject(sc, "idle_ms", (double)dw->sched.idle_ms);
        cJSON_AddNumberToObject(sc, "spinning_ms", (double)dw->sched.spinning_ms);
        cJSON_AddNumberToObject(sc, "idle_ps", (double)dw->sched.idle_ps);
        cJSON_AddNumberToObject(sc, "system_ms", (double)dw->sched.system_ms);
    } else {
        cJSON_AddNullToObject(o, "scheduler");
    }
    if (dw->nms) {
        cJSON *gc = cJSON_AddObjectToObject(o, "gc");
        static const char *const keys[] = {"num-gc", "num-forced-gc", "heap-alloc", "next-gc",
                                           "gc-pause-total", "gc-cpu-fraction"};
        static const char *const names[] = {"num_gc", "num_forced_gc", "heap_alloc", "next_gc",
                                            "gc_pause_total_ns", "gc_cpu_fraction"};

        for (size_t i = 0; i < CG_ARRAY_SIZE(keys); i++) {
            const godwarf_msval_t *v = ms_key(dw, keys[i]);

            if (v == NULL)
                cJSON_AddNullToObject(gc, names[i]);
            else if (v->kind == GODWARF_MS_FLOAT)
                cJSON_AddNumberToObject(gc, names[i], v->f);
            else
                cJSON_AddNumberToObject(gc, names[i], (double)v->u);
        }
    } else {
        cJSON_AddNullToObject(o, "gc");
    }
    if (!dw->sched.valid && !dw->nms && dw->why[0])
        cJSON_AddStringToObject(o, "dwarf_figures_error", dw->why);
    else
        cJSON_AddNullToObject(o, "dwarf_figures_error");
    st = cJSON_AddObjectToObject(o, "threads");
    cJSON_AddNumberToObject(st, "total", (double)nth);
    {
        cJSON *bs = cJSON_AddObjectToObject(st, "by_state");

        for (size_t i = 0; i < nth; i++) {
            char k[2] = {th[i].state, 0};
            cJSON *v = cJSON_GetObjectItemCaseSensitive(bs, k);

            if (v)
                cJSON_SetNumberValue(v, v->valuedouble + 1);
            else
                cJSON_AddNumberToObject(bs, k, 1);
        }
    }
    st = cJSON_AddObjectToObject(o, "goroutines");
    cJSON_AddNumberToObject(st, "total", (double)t->total);
    cJSON_AddNumberToObject(st, "user", (double)t->user);
    cJSON_AddNumberToObject(st, "runtime", (double)(t->total - t->user));
    {
        cJSON *bs = cJSON_AddObjectToObject(st, "by_status");

        for (unsigned s = 0; s < GORT_NSTATUS; s++)
            if (t->by_status[s] && !cJSON_GetObjectItemCaseSensitive(bs, gort_status_name(s)))
                cJSON_AddNumberToObject(bs, gort_status_name(s), (double)t->by_status[s]);
    }
    cJSON_AddItemToObject(st, "by_wait_reason", groups_json(&t->reasons));
    cJSON_AddStringToObject(st, "grouped_by", agentless_group_name(t->by));
    cJSON_AddItemToObject(st, "groups", groups_json(&t->groups));
    out_json_write(stdout, o);
    cJSON_Delete(o);
}

int cmd_summary(int argc, char **argv, const cmd_t *cmd)
{
    summary_opts_t o = {0};
    opt_args_t args = {0};
    pid_t pid = 0;
    gort_t *r = NULL;
    tally_t t;
    char err[CG_ERR_LEN] = "", exe[PATH_MAX] = "?", path[64];
    const gort_m_t *ms;
    const gort_p_t *ps;
    size_t nms = 0, nps = 0, nth = 0;
    thread_t *th = NULL;
    int32_t gmp = 0;
    dwarf_figs_t dw;
    ssize_t n;
    int rc;

    memset(&t, 0, sizeof t);
    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON)
        return rc;
    rc = agentless_pid_arg(cmd, &args, &pid);
    free(args.v);
    if (rc != OPT_GO_ON)
        return rc;
    if (o.by && agentless_group_parse(o.by, &t.by) != 0)
        return cmd_usage_error(cmd, "--by: '%s' is not one of location, start, creator, wait", o.by);
    if (agentless_open(pid, o.stop ? GORT_STOP : 0, &r) != CG_EXIT_OK)
        return CG_EXIT_FAIL;
    t.r = r;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    if ((n = readlink(path, exe, sizeof exe - 1)) > 0)
        exe[n] = '\0';

    agentless_threads(pid, &th, &nth);
    /* With DWARF: the scheduler's counters and the GC's figures. */
    memset(&dw, 0, sizeof dw);
    agentless_dwarf_figures(pid, &dw.sched, dw.ms, &dw.nms, dw.why);
    rc = gort_walk(r, t.by == GROUP_LOCATION ? SUMMARY_DEPTH : 0, tally_cb, &t, err);
    /* After the walk, which reads the Ms again itself (ms stays valid
     * until the next gort call). */
    if (gort_ms(r, &ms, &nms, NULL) != 0)
        nms = 0;
    if (gort_ps(r, &ps, &nps, NULL) != 0)
        nps = 0;
    if (gort_gomaxprocs(r, &gmp) != 0)
        gmp = 0;
    if (rc == 0) {
        char *safe = cg_text_safe(exe);
        long long up = uptime_seconds(pid);

        if (o.json)
            print_json(pid, &t, exe, up, gmp, ps, nps, ms, nms, th, nth, &dw);
        else
            print_text(pid, &t, safe, up, gmp, ps, nps, ms, nms, th, nth, &dw);
        free(safe);
    } else {
        cmd_error("%s", err);
    }
    groups_free(&t.reasons);
    groups_free(&t.groups);
    free(th);
    gort_close(r);
    if (o.stop)
        agentless_released_early();
    return rc == 0 ? CG_EXIT_OK : CG_EXIT_FAIL;
}

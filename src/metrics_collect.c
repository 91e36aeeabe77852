/* metrics_collect.c -- gather the figures of every Go process for metrics
 *
 * Discovery (scan_run) names the processes.  Every agent is asked `stats`
 * and `memstats` at once, on one libuv loop, while the figures that need
 * no agent are read process after process: /proc/PID/stat (CPU, RSS,
 * start, threads) and the goroutines by status from memory (agentless);
 * the loop gets a turn between two processes so replies are taken as they
 * come.  Memstats are read from memory (DWARF) for the processes that
 * have no agent that answered, once the agents are done.  Each process has
 * its own bound and the whole run another; what misses one is counted in
 * run->errors, never written as a zero.
 */
#include "cgops/metrics.h"

#include "cgops/agentless.h"
#include "cgops/common.h"
#include "cgops/loop.h"
#include "cgops/proc.h"
#include "cgops/procinfo.h"
#include "cgops/proto.h"
#include "cgops/request.h"
#include "cgops/scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Requests in flight at once: two descriptors each (the socket, and the
 * netns one while connecting); far below the descriptor limit main sets. */
#define INFLIGHT_MAX 128

typedef struct collect collect_t;

typedef struct {
    request_t req;
    collect_t *c;
    size_t idx;  /* the process */
    int command; /* PROTO_STATS or PROTO_MEMSTATS */
    char *buf;
    size_t len;
    int last;
} job_t;

typedef struct {
    target_t target;
    int stats_ok, memstats_ok;
    int agent_err;   /* METRICS_ERR_AGENT or _TIMEOUT when a request failed, else -1 */
    uint64_t agent_goroutines, agent_threads, agent_gomaxprocs;
    int have_agent_gomaxprocs;
    agentless_counts_t counts;
    int have_counts;
} pstate_t;

struct collect {
    uv_loop_t *loop;
    const metrics_opts_t *o;
    metrics_run_t *run;
    scan_result_t scan;
    pstate_t *ps;
    job_t **jobs;
    size_t njobs, next, inflight;
    uint64_t deadline; /* cg_now_ns() clock */
    agentless_dwcache_t *dw; /* DWARF of each executable, parsed once */
    agentless_execache_t *exes; /* the runtime's tables of each executable, parsed once */
    int procfd;
};

/* ---- replies ------------------------------------------------------------ */

/* An exact integer of a parsed reply (a raw item with the digits) or a
 * number.  0 or -ENOENT. */
static int json_u64(const cJSON *o, const char *key, uint64_t *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    char *end;

    if (cJSON_IsRaw(it) && it->valuestring && it->valuestring[0] >= '0' && it->valuestring[0] <= '9') {
        errno = 0;
        *v = strtoull(it->valuestring, &end, 10);
        return errno == 0 && *end == '\0' ? 0 : -ENOENT;
    }
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 18446744073709551616.0) {
        *v = (uint64_t)it->valuedouble;
        return 0;
    }
    return -ENOENT;
}

static void take_stats(pstate_t *s, const cJSON *doc)
{
    uint64_t g, t;

    if (json_u64(doc, "goroutines", &g) != 0 || json_u64(doc, "os_threads", &t) != 0)
        return;
    s->agent_goroutines = g;
    s->agent_threads = t;
    s->have_agent_gomaxprocs = json_u64(doc, "gomaxprocs", &s->agent_gomaxprocs) == 0;
    s->stats_ok = 1;
}

static void set_ms(metrics_val_t *v, int i, uint64_t u)
{
    if (metrics_ms_is_ns(i))
        *v = (metrics_val_t){1, 0, 0, (double)u / 1e9};
    else
        *v = (metrics_val_t){1, 1, u, 0};
}

static void take_memstats(metrics_proc_t *p, pstate_t *s, const cJSON *doc)
{
    for (int i = 0; i < METRICS_MS_N; i++) {
        char key[64];
        uint64_t u;

        /* last-gc is a local-time string; gc-pause-end is the same instant
         * in ns (0 before the first GC, as LastGC is). */
        cg_strlcpy(key, i == METRICS_MS_LAST_GC ? "gc-pause-end-ns" : i == METRICS_MS_PAUSE_TOTAL ? "gc-pause-total-ns" : metrics_ms_key(i), sizeof key);
        for (char *k = key; *k; k++)
            if (*k == '-')
                *k = '_';
        if (json_u64(doc, key, &u) == 0)
            set_ms(&p->ms[i], i, u);
    }
    s->memstats_ok = 1;
}

static void start_more(collect_t *c);

static int on_data(request_t *r, const char *buf, size_t len, char *err)
{
    job_t *j = r->data;

    if (j->len + len > PROTO_REPLY_MAX) {
        cg_seterr(err, "%s reply larger than %u bytes", r->what, PROTO_REPLY_MAX);
        return -EFBIG;
    }
    j->buf = cg_xrealloc(j->buf, j->len + len);
    memcpy(j->buf + j->len, buf, len);
    j->len += len;
    j->last = (unsigned char)buf[len - 1];
    return 0;
}

static void on_done(request_t *r, int status)
{
    job_t *j = r->data;
    collect_t *c = j->c;
    pstate_t *s = &c->ps[j->idx];
    char err[CG_ERR_LEN];

    if (status == 0 &&
        proto_reply_check(j->command, j->buf, j->len, r->received, r->received ? j->last : -1, NULL, err) == 0) {
        cJSON *doc = proto_reply_json(j->command, j->buf, j->len, err);

        if (doc && j->command == PROTO_STATS)
            take_stats(s, doc);
        else if (doc)
            take_memstats(&c->run->procs[j->idx], s, doc);
        if (doc == NULL)
            status = -EPROTO;
        cJSON_Delete(doc);
    } else if (status == 0) {
        status = -EPROTO;
    }
    /* One error per process for its agent, the worst kind: a timeout. */
    if (status != 0 && s->agent_err != METRICS_ERR_TIMEOUT)
        s->agent_err = status == -ETIMEDOUT ? METRICS_ERR_TIMEOUT : METRICS_ERR_AGENT;
    free(j->buf);
    j->buf = NULL;
    c->inflight--;
    start_more(c);
}

static void start_more(collect_t *c)
{
    while (c->next < c->njobs && c->inflight < INFLIGHT_MAX) {
        job_t *j = c->jobs[c->next++];
        pstate_t *s = &c->ps[j->idx];
        uint64_t now = cg_now_ns(), bound = c->o->proc_timeout_ns;

        /* Whatever is left of the whole run when less than a process's
         * own bound: the run ends on time even for the last ones. */
        if (now + 1000000 >= c->deadline) {
            s->agent_err = METRICS_ERR_TIMEOUT;
            continue;
        }
        if (c->deadline - now < bound)
            bound = c->deadline - now;
        j->req.data = j;
        j->req.target = &s->target;
        j->req.command = j->command;
        j->req.what = proto_command_name(j->command);
        j->req.on_data = on_data;
        j->req.on_done = on_done;
        request_set_timeouts(&j->req, j->command, bound);
        if (request_start(c->loop, &j->req) < 0) {
            if (s->agent_err != METRICS_ERR_TIMEOUT)
                s->agent_err = METRICS_ERR_AGENT;
            continue;
        }
        c->inflight++;
    }
}

/* ---- what needs no agent ------------------------------------------------ */

static int errno_reason(int rc)
{
    if (rc == -ETIMEDOUT)
        return METRICS_ERR_TIMEOUT;
    if (rc == -EPERM || rc == -EACCES)
        return METRICS_ERR_PERMISSION;
    if (rc == -ENOENT || rc == -ESRCH)
        return METRICS_ERR_VANISHED;
    return METRICS_ERR_READ;
}

/* The process is still there (its /proc entry and the same start time). */
static int still_there(collect_t *c, pid_t pid, unsigned long long starttime)
{
    proc_stat_t st;
    int fd = proc_pid_open(c->procfd, pid), rc;

    if (fd < 0)
        return 0;
    rc = proc_read_stat(fd, &st, NULL);
    close(fd);
    return rc == 0 && st.starttime == starttime;
}

static void read_local(collect_t *c, size_t i, long long btime)
{
    metrics_proc_t *p = &c->run->procs[i];
    pstate_t *s = &c->ps[i];
    static long ticks, page;
    proc_stat_t st;
    char err[CG_ERR_LEN];
    uint64_t now = cg_now_ns(), deadline;
    int fd, rc;

    if (ticks == 0) {
        ticks = sysconf(_SC_CLK_TCK);
        page = sysconf(_SC_PAGESIZE);
    }
    if (now >= c->deadline) {
        p->dropped = 1;
        c->run->errors[METRICS_ERR_TIMEOUT]++;
        return;
    }
    deadline = now + c->o->proc_timeout_ns < c->deadline ? now + c->o->proc_timeout_ns : c->deadline;
    fd = proc_pid_open(c->procfd, p->pid);
    rc = fd < 0 ? fd : proc_read_stat(fd, &st, NULL);
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        p->dropped = 1;
        c->run->errors[errno_reason(rc)]++;
        return;
    }
    p->cpu_seconds = (metrics_val_t){1, 0, 0, (double)(st.utime + st.stime) / (double)ticks};
    p->rss_bytes = (metrics_val_t){1, 1, (uint64_t)(st.rss_pages > 0 ? st.rss_pages : 0) * (uint64_t)page, 0};
    if (btime > 0)
        p->start_time = (metrics_val_t){1, 0, 0, (double)btime + (double)st.starttime / (double)ticks};
    /* Threads now alive: the field of stat that status's Threads: line
     * prints (both are signal->nr_threads), without a second read. */
    p->threads = (metrics_val_t){1, 1, (uint64_t)(st.num_threads > 0 ? st.num_threads : 0), 0};

    rc = agentless_counts_cached(c->exes, p->pid, deadline, &s->counts, err);
    if (rc == 0) {
        s->have_counts = 1;
        return;
    }
    if (rc == -ETIMEDOUT) {
        p->dropped = 1;
        c->run->errors[METRICS_ERR_TIMEOUT]++;
    } else if (!still_there(c, p->pid, st.starttime)) {
        p->dropped = 1;
        c->run->errors[METRICS_ERR_VANISHED]++;
    } else if (rc != -ENOTSUP) {
        /* A build the reader does not support (another architecture, a Go
         * before 1.16) is not a failure: those figures simply do not
         * exist for it. */
        c->run->errors[errno_reason(rc) == METRICS_ERR_PERMISSION ? METRICS_ERR_PERMISSION : METRICS_ERR_READ]++;
    }
}

/* memstats from memory, for a process no agent gave them for. */
static void read_memstats(collect_t *c, size_t i)
{
    metrics_proc_t *p = &c->run->procs[i];
    godwarf_msval_t vals[GODWARF_MS_KEYS];
    char err[CG_ERR_LEN];
    size_t n = 0;
    int rc;

    if (cg_now_ns() >= c->deadline) {
        c->run->errors[METRICS_ERR_TIMEOUT]++;
        return;
    }
    if (c->dw == NULL)
        c->dw = agentless_dwcache_new();
    rc = agentless_memstats_values_cached(c->dw, p->pid, vals, &n, err);
    if (rc != 0) {
        /* Only Go 1.19 builds with DWARF can be read this way: the others
         * (-ENOTSUP, -ENOENT for no DWARF) have no memstats, and that is
         * not an error. */
        if (rc == -EPERM || rc == -EACCES)
            c->run->errors[METRICS_ERR_PERMISSION]++;
        else if (rc == -ESRCH)
            c->run->errors[METRICS_ERR_VANISHED]++;
        else if (rc != -ENOTSUP && rc != -ENOENT)
            c->run->errors[METRICS_ERR_READ]++;
        return;
    }
    for (size_t k = 0; k < n; k++)
        for (int m = 0; m < METRICS_MS_N; m++)
            if (strcmp(vals[k].key, metrics_ms_key(m)) == 0 && vals[k].kind != GODWARF_MS_FLOAT &&
                vals[k].kind != GODWARF_MS_BOOL)
                set_ms(&p->ms[m], m, vals[k].u);
}

/* ---- the run ------------------------------------------------------------ */

static long long boot_time(int procfd)
{
    char *buf = NULL;
    size_t len;
    long long btime = 0;

    if (cg_read_file_at(procfd, "stat", 1 << 20, &buf, &len, NULL) == 0) {
        procinfo_parse_btime(buf, &btime);
        free(buf);
    }
    return btime;
}

int metrics_collect(int procfd, const metrics_opts_t *o, metrics_run_t *run, char *err)
{
    collect_t *c = cg_xcalloc(1, sizeof *c);
    struct timespec ts;
    uint64_t t0 = cg_now_ns();
    long long btime;
    int rc;

    memset(run, 0, sizeof *run);
    clock_gettime(CLOCK_REALTIME, &ts);
    run->timestamp_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    run->priv = c;
    c->o = o;
    c->run = run;
    c->procfd = procfd;
    c->deadline = t0 + o->timeout_ns;
    c->exes = agentless_execache_new();
    c->loop = loop_new(err);
    if (c->loop == NULL)
        return -ENOMEM;
    rc = scan_run(procfd, &c->scan, NULL, NULL);
    if (rc < 0) {
        cg_seterr(err, "cannot list processes: %s", strerror(-rc));
        return rc;
    }
    btime = boot_time(procfd);
    run->n = c->scan.n;
    run->procs = cg_xcalloc(run->n ? run->n : 1, sizeof *run->procs);
    c->ps = cg_xcalloc(run->n ? run->n : 1, sizeof *c->ps);
    c->jobs = cg_xcalloc(2 * run->n + 1, sizeof *c->jobs);
    for (size_t i = 0; i < run->n; i++) {
        const scan_proc_t *sp = &c->scan.procs[i];
        metrics_proc_t *p = &run->procs[i];
        pstate_t *s = &c->ps[i];

        p->pid = sp->pid;
        p->name = sp->name;
        p->exe = sp->path;
        p->go_version = sp->bin ? sp->bin->version : "";
        s->agent_err = -1;
        if (!sp->agent)
            continue;
        {
            portfile_t pf;

            memset(&pf, 0, sizeof pf);
            pf.port = sp->agent_port;
            pf.verified = sp->agent_verified;
            portfile_target_init(procfd, sp->pid, &pf, &s->target);
        }
        for (int k = 0; k < 2; k++) {
            job_t *j = cg_xcalloc(1, sizeof *j);

            j->c = c;
            j->idx = i;
            j->command = k == 0 ? PROTO_STATS : PROTO_MEMSTATS;
            c->jobs[c->njobs++] = j;
        }
    }
    start_more(c);
    for (size_t i = 0; i < run->n; i++) {
        uv_run(c->loop, UV_RUN_NOWAIT);
        read_local(c, i, btime);
    }
    /* Every request is bounded by what was left of the run when it
     * started, so this ends by the deadline. */
    uv_run(c->loop, UV_RUN_DEFAULT);

    for (size_t i = 0; i < run->n; i++) {
        metrics_proc_t *p = &run->procs[i];
        pstate_t *s = &c->ps[i];

        if (s->agent_err >= 0)
            run->errors[s->agent_err]++;
        if (p->dropped)
            continue;
        p->agent_up = s->stats_ok;
        if (s->stats_ok) {
            p->goroutines = (metrics_val_t){1, 1, s->agent_goroutines, 0};
            p->threads = (metrics_val_t){1, 1, s->agent_threads, 0};
        } else if (s->have_counts) {
            p->goroutines = (metrics_val_t){1, 1, s->counts.user, 0};
        }
        if (s->stats_ok && s->have_agent_gomaxprocs)
            p->gomaxprocs = (metrics_val_t){1, 1, s->agent_gomaxprocs, 0};
        else if (s->have_counts && s->counts.have_gomaxprocs)
            p->gomaxprocs = (metrics_val_t){1, 1, (uint64_t)s->counts.gomaxprocs, 0};
        if (s->have_counts) {
            p->have_states = 1;
            memcpy(p->by_status, s->counts.by_status, sizeof p->by_status);
        }
        if (!s->memstats_ok)
            read_memstats(c, i);
    }
    run->duration_s = (double)(cg_now_ns() - t0) / 1e9;
    return 0;
}

void metrics_run_free(metrics_run_t *run)
{
    collect_t *c = run->priv;

    if (c) {
        for (size_t i = 0; i < c->njobs; i++) {
            free(c->jobs[i]->buf);
            free(c->jobs[i]);
        }
        free(c->jobs);
        free(c->ps);
        agentless_dwcache_free(c->dw);
        agentless_execache_free(c->exes);
        if (c->loop)
            loop_free(c->loop);
        if (c->scan.procs || c->scan.cache)
            scan_free(&c->scan);
        free(c);
    }
    free(run->procs);
    memset(run, 0, sizeof *run);
}

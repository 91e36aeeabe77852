/* serve.c -- `cgops serve`: an HTTP server on the command's one libuv loop
 *
 * libmicrohttpd (Debian's libmicrohttpd-dev) parses HTTP; it runs in
 * external-event mode with its own epoll set (MHD_USE_EPOLL, no thread of
 * its own): that epoll descriptor is watched by a uv_poll_t, MHD_run is
 * called after each readiness, and a uv_timer follows MHD_get_timeout for
 * its idle timeouts.  libh2o was the other candidate, built on libuv
 * itself, but Debian 12's libh2o is 2.2.5, years old, and its libuv binding
 * is the little-used one of that library; MHD is maintained, in every
 * distribution, and small.
 *
 * No answer is computed in this process.  Each request names a cgops
 * command (cgops --json, cgops goroutines --json PID, ...) that runs in a
 * child (subcmd.h) with a deadline and a cap on its output, while the
 * request waits suspended (MHD_suspend_connection), so the loop never
 * blocks and a reader that crashes or hangs on a hostile target costs one
 * answer.  At most max_children run at once (and a /metrics refresh,
 * which never waits for a slot); more wait in a FIFO queue of
 * bounded length (503 beyond it), and identical read-only requests share
 * one child.  One client address holds at most max_per_client of those
 * commands (429 beyond), so one client cannot take every slot and the
 * whole queue from the others.  /metrics is cached: refreshed at most once per min_interval,
 * a scrape is answered from the last figures without waiting.
 *
 * Bounds against clients: a connection cap and a per-IP cap, MHD's memory
 * limit per connection (a huge header is refused, memory stays flat), an
 * idle timeout, and our own deadline on the whole request head (MHD's
 * timeout restarts with each byte, so a client sending one byte a second
 * would hold a connection for ever: slowloris).
 */
#include "cgops/serve.h"
#include "cgops/subcmd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Output caps: a JSON document of a process with a million goroutines is
 * tens of MiB; a profile saved by the child is read back whole. */
#define JSON_OUT_MAX (64u << 20)
#define PROFILE_MAX (64u << 20)
#define METRICS_OUT_MAX (16u << 20)
/* Bytes of request body taken (gc and setgc need none). */
#define BODY_MAX 4096
/* The first scrape waits for the first figures at most this long.
 * `cgops metrics` bounds its own run (each process 2 s of it); its child
 * gets a little more before it is killed. */
#define FIRST_SCRAPE_WAIT_MS 10000
#define METRICS_RUN_TIMEOUT "8s"
#define METRICS_CHILD_MS 12000
/* After the last child, how long open connections get to finish. */
#define DRAIN_MS 2000
#define MAXARGS 16

typedef struct job_s job_t;
typedef struct req_s req_t;
typedef struct sock_s sock_t;
typedef struct mcache_s mcache_t;

/* One TCP connection (MHD's socket context), for the head deadline. */
struct sock_s {
    sock_t *prev, *next;
    int fd;
    uint64_t since_ms; /* when its current request began (or it connected) */
    int busy;          /* the request head is in: no deadline while answered */
    int cut;           /* shut down for being too slow */
};

/* One HTTP request (MHD's con_cls). */
struct req_s {
    serve_t *srv;
    struct MHD_Connection *conn;
    sock_t *sock;
    serve_route_t route;
    size_t body;
    int started;   /* dispatched */
    int suspended; /* waiting for a child, or for the first figures */
    int answered;
    struct MHD_Response *resp; /* made while suspended, queued on resume */
    unsigned code;
    job_t *job;            /* waiting for it */
    req_t *wprev, *wnext;  /* in job->waiters or mc->waiters */
    mcache_t *mc;
};

typedef enum { JOB_JSON, JOB_PROFILE, JOB_PROFILE_TOP, JOB_METRICS, JOB_ACTION } job_kind_t;

struct job_s {
    serve_t *srv;
    job_t *prev, *next; /* in the queue or in the running list */
    job_kind_t kind;
    char *argv[MAXARGS + 1];
    char *key;          /* argv joined: identical read-only jobs are shared */
    int running;
    subcmd_t sc;
    uint64_t timeout_ms;
    size_t max_out;
    req_t *waiters;
    char *tmpfile;      /* a profile saved by the child */
    int raw;            /* serve the profile's bytes, not its top */
    char top[8];
    mcache_t *mc;
    int fair;           /* its client's entry in srv->fair, plus 1; 0: none */
};

/* The last figures of one exposition format. */
struct mcache_s {
    int om; /* OpenMetrics */
    char *body;
    size_t len;
    uint64_t at_ms; /* when they were read; 0: never */
    job_t *job;     /* a refresh under way */
    req_t *waiters; /* first scrapes waiting for the first figures */
    uv_timer_t wait_timer;
    uint64_t failures;
};

#define NCODES 16

struct serve_s {
    uv_loop_t *loop;
    struct MHD_Daemon *d;
    serve_opts_t o;
    char token[SERVE_TOKEN_MAX + 1];
    int auth;
    char addr[INET6_ADDRSTRLEN + 16];
    char tmpdir[1024];
    unsigned long tmpseq;
    int epfd;
    uv_poll_t poll;
    uv_timer_t mhd_timer, sweep_timer, stop_timer;
    int nhandles; /* open uv handles, for the shutdown */
    sock_t *socks;
    job_t *qhead, *qtail;
    unsigned nqueued;
    job_t *running;
    unsigned nrunning;
    serve_fair_t fair;  /* what each client address holds */
    mcache_t mc[2];
    /* `cgops metrics` for each format, its error counters carried across
     * runs in a state file of our private directory. */
    char statefile[2][1100];
    const char *margv[2][8];
    struct {
        unsigned code;
        uint64_t n;
    } counts[NCODES];
    unsigned inflight;    /* requests begun and not completed */
    int trim;             /* answers were freed since the last malloc_trim */
    int stopping, stopped;
    uint64_t stop_at;
    void (*stop_cb)(serve_t *s, void *ctx);
    void *stop_ctx;
};


static uint64_t now_ms(void)
{
    return cg_now_ns() / 1000000u;
}

static void kick(serve_t *s);
static void job_start_next(serve_t *s);
static void check_stopped(serve_t *s);

/* ---- answering ---------------------------------------------------------- */

static void count_code(serve_t *s, unsigned code)
{
    for (size_t i = 0; i < NCODES; i++) {
        if (s->counts[i].code == code || s->counts[i].code == 0) {
            s->counts[i].code = code;
            s->counts[i].n++;
            return;
        }
    }
}

/* Answer r with resp (ownership taken).  Inside MHD's handler (r not
 * suspended) the answer is queued at once; else it is kept and the
 * connection resumed, and the handler, called again, queues it. */
static void answer(req_t *r, unsigned code, struct MHD_Response *resp)
{
    serve_t *s = r->srv;

    if (r->answered) {
        MHD_destroy_response(resp);
        return;
    }
    r->answered = 1;
    count_code(s, code);
    if (s->stopping)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (!r->suspended) {
        MHD_queue_response(r->conn, code, resp);
        MHD_destroy_response(resp);
        return;
    }
    r->resp = resp;
    r->code = code;
    r->suspended = 0;
    MHD_resume_connection(r->conn);
    kick(s);
}

static struct MHD_Response *make_resp(const char *ctype, const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

    if (resp == NULL)
        abort(); /* out of memory: as cg_xmalloc does */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return resp;
}

static void answer_body(req_t *r, unsigned code, const char *ctype, const void *body, size_t len)
{
    answer(r, code, make_resp(ctype, body, len));
}

/* {"error": msg, "status": code}: protocol/schemas/serve-error.schema.json */
static void answer_error(req_t *r, unsigned code, const char *msg)
{
    cJSON *doc = cJSON_CreateObject();
    char *text, *safe;
    struct MHD_Response *resp;

    /* The message quotes a child's stderr: one line, valid UTF-8. */
    safe = cg_text_safe(msg[0] ? msg : "failed");
    cJSON_AddStringToObject(doc, "error", safe);
    cJSON_AddNumberToObject(doc, "status", code);
    text = cJSON_PrintUnformatted(doc);
    if (text == NULL)
        abort();
    resp = make_resp("application/json", text, strlen(text));
    free(text);
    free(safe);
    cJSON_Delete(doc);
    if (code == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"cgops\"");
    if (code == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                strcmp(r->route.method, "GET") == 0 ? "GET, HEAD" : r->route.method);
    if (code == 503 || code == 429)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    answer(r, code, resp);
}

static void suspend(req_t *r)
{
    if (r->answered || r->suspended)
        return;
    r->suspended = 1;
    MHD_suspend_connection(r->conn);
}

/* ---- children ------------------------------------------------------------ */

static void waiter_add(req_t **head, req_t *r)
{
    r->wprev = NULL;
    r->wnext = *head;
    if (*head)
        (*head)->wprev = r;
    *head = r;
}

static void waiter_del(req_t **head, req_t *r)
{
    if (r->wprev)
        r->wprev->wnext = r->wnext;
    else if (*head == r)
        *head = r->wnext;
    if (r->wnext)
        r->wnext->wprev = r->wprev;
    r->wprev = r->wnext = NULL;
}

static job_t *job_new(serve_t *s, job_kind_t kind, uint64_t timeout_ms, size_t max_out,
                      const char *const *argv)
{
    job_t *j = cg_xcalloc(1, sizeof *j);
    size_t n, klen = 0;

    j->srv = s;
    j->kind = kind;
    j->timeout_ms = timeout_ms;
    j->max_out = max_out;
    for (n = 0; argv[n] && n < MAXARGS; n++) {
        j->argv[n] = cg_xstrdup(argv[n]);
        klen += strlen(argv[n]) + 1;
    }
    j->key = cg_xmalloc(klen + 1);
    j->key[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(j->key, j->argv[i]);
        strcat(j->key, "\x1f");
    }
    return j;
}

static void job_set_argv(job_t *j, const char *const *argv)
{
    for (size_t i = 0; j->argv[i]; i++) {
        free(j->argv[i]);
        j->argv[i] = NULL;
    }
    for (size_t n = 0; argv[n] && n < MAXARGS; n++)
        j->argv[n] = cg_xstrdup(argv[n]);
}

static void job_free(job_t *j)
{
    if (j->fair)
        serve_fair_release(&j->srv->fair, j->fair - 1);
    for (size_t i = 0; j->argv[i]; i++)
        free(j->argv[i]);
    if (j->tmpfile) {
        unlink(j->tmpfile);
        free(j->tmpfile);
    }
    free(j->key);
    free(j);
}

static void list_del(job_t **head, job_t *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else if (*head == j)
        *head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* Every waiter of j gets the same error. */
static void job_fail_all(job_t *j, unsigned code, const char *msg)
{
    while (j->waiters) {
        req_t *r = j->waiters;

        waiter_del(&j->waiters, r);
        r->job = NULL;
        answer_error(r, code, msg);
    }
}

/* One copy of an answer shared by the responses of every waiter (fifty
 * clients asking for the listing at once hold it once, not fifty times):
 * each response holds a reference, dropped by MHD when it is sent. */
typedef struct {
    unsigned refs;
    char data[];
} shared_t;

static void shared_unref(void *cls)
{
    shared_t *sh = cls;

    if (--sh->refs == 0)
        free(sh);
}

static void job_answer_all(job_t *j, const char *ctype, const void *body, size_t len)
{
    shared_t *sh = cg_xmalloc(sizeof *sh + len + 1);

    memcpy(sh->data, body, len);
    sh->refs = 1; /* ours, until every response holds one */
    while (j->waiters) {
        req_t *r = j->waiters;
        struct MHD_Response *resp;

        waiter_del(&j->waiters, r);
        r->job = NULL;
        sh->refs++;
        resp = MHD_create_response_from_buffer_with_free_callback_cls(len, sh->data, shared_unref, sh);
        if (resp == NULL)
            abort();
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        answer(r, 200, resp);
    }
    shared_unref(sh);
}

static void metrics_done(job_t *j, int status);
static void subcmd_done(subcmd_t *sc, int status);

/* Start j's child (j is not in any list).  Returns 0 or -errno. */
static int job_spawn(job_t *j)
{
    serve_t *s = j->srv;
    int rc;

    memset(&j->sc, 0, sizeof j->sc);
    j->sc.data = j;
    j->sc.argv = (const char *const *)j->argv;
    j->sc.timeout_ms = j->timeout_ms;
    j->sc.max_out = j->max_out;
    j->sc.on_done = subcmd_done;
    rc = subcmd_start(s->loop, &j->sc);
    if (rc < 0)
        return rc;
    j->running = 1;
    j->prev = NULL;
    j->next = s->running;
    if (s->running)
        s->running->prev = j;
    s->running = j;
    s->nrunning++;
    return 0;
}

/* The child of j could not start, or j was dropped from the queue. */
static void job_abort(job_t *j, unsigned code, const char *msg)
{
    if (j->kind == JOB_METRICS) {
        metrics_done(j, -ECANCELED);
        return;
    }
    job_fail_all(j, code, msg);
    job_free(j);
}

/* A refresh of /metrics (at the head of the queue, at most one per
 * format) starts even when every slot is taken: clients keeping the slots
 * busy with slow commands (profiles of a silent agent) would otherwise
 * freeze the figures Prometheus is served, for as long as they like. */
static void job_start_next(serve_t *s)
{
    while (s->qhead && (s->nrunning < s->o.max_children || s->qhead->kind == JOB_METRICS)) {
        job_t *j = s->qhead;
        char msg[CG_ERR_LEN];
        int rc;

        list_del(&s->qhead, j);
        if (s->qhead == NULL)
            s->qtail = NULL;
        s->nqueued--;
        if ((rc = job_spawn(j)) < 0) {
            snprintf(msg, sizeof msg, "cannot start the command: %s", strerror(-rc));
            job_abort(j, 500, msg);
        }
    }
}

/* Queue j (at the head for /metrics: a scrape must not wait behind slow
 * profiles), and start what may start. */
static void job_submit(serve_t *s, job_t *j, int urgent)
{
    j->prev = j->next = NULL;
    if (urgent && s->qhead) {
        j->next = s->qhead;
        s->qhead->prev = j;
        s->qhead = j;
    } else if (s->qtail) {
        s->qtail->next = j;
        j->prev = s->qtail;
        s->qtail = j;
    } else {
        s->qhead = s->qtail = j;
    }
    s->nqueued++;
    job_start_next(s);
}

/* A read-only job already queued or running with the same command. */
static job_t *job_find(serve_t *s, const char *key)
{
    for (job_t *j = s->running; j; j = j->next)
        if (j->kind == JOB_JSON && strcmp(j->key, key) == 0)
            return j;
    for (job_t *j = s->qhead; j; j = j->next)
        if (j->kind == JOB_JSON && strcmp(j->key, key) == 0)
            return j;
    return NULL;
}

/* The child's failure as an error for the client: its last line of
 * stderr without the "cgops: " prefix. */
static void child_error(const subcmd_t *sc, int status, char *msg, size_t size)
{
    char buf[sizeof sc->errtext];
    char *t, *nl, *line;

    if (status == -ETIMEDOUT) {
        snprintf(msg, size, "the command did not finish within %llu ms",
                 (unsigned long long)sc->timeout_ms);
        return;
    }
    if (status == -EFBIG) {
        snprintf(msg, size, "the answer is larger than %zu bytes", sc->max_out);
        return;
    }
    if (status < 0) {
        snprintf(msg, size, "the command failed: %s", strerror(-status));
        return;
    }
    /* subcmd gives one line per message, "cgops: " dropped: the message
     * is the last line that is not a "hint:". */
    cg_strlcpy(buf, sc->errtext, sizeof buf);
    t = cg_trim(buf);
    line = t;
    for (char *p = t; p && *p; p = (nl = strchr(p, '\n')) ? nl + 1 : NULL)
        if (strncmp(p, "hint:", 5) != 0)
            line = p;
    if ((nl = strchr(line, '\n')) != NULL)
        *nl = '\0';
    if (strncmp(line, "cgops: ", 7) == 0)
        line += 7;
    if (line[0])
        snprintf(msg, size, "%s", line);
    else if (sc->term_signal)
        snprintf(msg, size, "the command was killed by signal %d", sc->term_signal);
    else
        snprintf(msg, size, "the command failed (exit status %d)", sc->exit_status);
}

static int child_ok(const subcmd_t *sc, int status)
{
    return status == 0 && sc->exit_status == 0 && sc->term_signal == 0;
}

static void profile_done(job_t *j, int status)
{
    serve_t *s = j->srv;
    char msg[CG_ERR_LEN];
    char *buf = NULL;
    size_t len = 0;
    int trunc = 0, rc;

    if (!child_ok(&j->sc, status)) {
        child_error(&j->sc, status, msg, sizeof msg);
        job_fail_all(j, (unsigned)serve_status_of(status, j->sc.exit_status, j->sc.errtext), msg);
        goto out;
    }
    if (!j->raw) {
        /* Second step: the saved profile's top, by `cgops profile`. */
        const char *argv[] = {"profile", "--json", "--top", j->top, j->tmpfile, NULL};

        subcmd_release(&j->sc);
        job_set_argv(j, argv);
        j->kind = JOB_PROFILE_TOP;
        j->timeout_ms = 30000;
        j->max_out = JSON_OUT_MAX;
        if ((rc = job_spawn(j)) < 0) {
            snprintf(msg, sizeof msg, "cannot start the command: %s", strerror(-rc));
            job_fail_all(j, 500, msg);
            job_free(j);
        }
        return;
    }
    rc = cg_read_file_at(AT_FDCWD, j->tmpfile, PROFILE_MAX, &buf, &len, &trunc);
    if (rc < 0 || trunc) {
        snprintf(msg, sizeof msg, "cannot read the saved profile: %s",
                 rc < 0 ? strerror(-rc) : "larger than the limit");
        job_fail_all(j, 500, msg);
    } else {
        job_answer_all(j, "application/octet-stream", buf, len);
    }
    free(buf);
out:
    subcmd_release(&j->sc);
    job_free(j);
    (void)s;
}

static void subcmd_done(subcmd_t *sc, int status)
{
    job_t *j = sc->data;
    serve_t *s = j->srv;
    char msg[CG_ERR_LEN];

    list_del(&s->running, j);
    j->running = 0;
    s->nrunning--;
    switch (j->kind) {
    case JOB_METRICS:
        metrics_done(j, status);
        break;
    case JOB_PROFILE:
        profile_done(j, status);
        break;
    default:
        if (child_ok(sc, status)) {
            job_answer_all(j, "application/json", sc->out ? sc->out : "", sc->outlen);
        } else {
            child_error(sc, status, msg, sizeof msg);
            job_fail_all(j, (unsigned)serve_status_of(status, sc->exit_status, sc->errtext), msg);
        }
        subcmd_release(sc);
        job_free(j);
        break;
    }
    job_start_next(s);
    if (s->stopping)
        check_stopped(s);
}

/* ---- /metrics ------------------------------------------------------------- */

/* serve's own series, in the format of mc, appended to buf. */
static char *own_series(serve_t *s, const mcache_t *mc, size_t *len)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    const char *req = mc->om ? "cgops_serve_requests" : "cgops_serve_requests_total";
    const char *fail = mc->om ? "cgops_serve_metrics_refresh_failures" : "cgops_serve_metrics_refresh_failures_total";
    uint64_t now = now_ms();

    if (f == NULL)
        abort();
    fprintf(f, "# HELP %s HTTP requests answered by cgops serve, by status code.\n", req);
    fprintf(f, "# TYPE %s counter\n", req);
    for (size_t i = 0; i < NCODES && s->counts[i].code; i++)
        fprintf(f, "cgops_serve_requests_total{code=\"%u\"} %llu\n", s->counts[i].code,
                (unsigned long long)s->counts[i].n);
    fprintf(f, "# HELP cgops_serve_children_running Commands cgops serve is running.\n"
               "# TYPE cgops_serve_children_running gauge\n"
               "cgops_serve_children_running %u\n", s->nrunning);
    fprintf(f, "# HELP cgops_serve_queued_commands Commands waiting for a free slot.\n"
               "# TYPE cgops_serve_queued_commands gauge\n"
               "cgops_serve_queued_commands %u\n", s->nqueued);
    fprintf(f, "# HELP %s Refreshes of the figures that failed.\n# TYPE %s counter\n", fail, fail);
    fprintf(f, "cgops_serve_metrics_refresh_failures_total %llu\n", (unsigned long long)mc->failures);
    fprintf(f, "# HELP cgops_serve_metrics_age_seconds Age of the figures served.\n"
               "# TYPE cgops_serve_metrics_age_seconds gauge\n"
               "cgops_serve_metrics_age_seconds %.3f\n",
            mc->at_ms ? (double)(now - mc->at_ms) / 1000.0 : 0.0);
    if (fclose(f) != 0)
        abort();
    *len = size;
    return out;
}

static void metrics_answer(req_t *r, mcache_t *mc)
{
    serve_t *s = r->srv;
    const char *ctype = mc->om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                               : "text/plain; version=0.0.4; charset=utf-8";
    size_t olen, blen = mc->len, cut = mc->len;
    char *own = own_series(s, mc, &olen);
    char *body;

    /* OpenMetrics ends with "# EOF": our series go before it. */
    if (mc->om && blen >= 6 && memcmp(mc->body + blen - 6, "# EOF\n", 6) == 0)
        cut = blen - 6;
    body = cg_xmalloc(blen + olen + 8);
    memcpy(body, mc->body, cut);
    memcpy(body + cut, own, olen);
    memcpy(body + cut + olen, mc->body + cut, blen - cut);
    blen += olen;
    if (mc->om && (blen < 6 || memcmp(body + blen - 6, "# EOF\n", 6) != 0)) {
        memcpy(body + blen, "# EOF\n", 6);
        blen += 6;
    }
    answer_body(r, 200, ctype, body, blen);
    free(body);
    free(own);
}

static void metrics_release_waiters(mcache_t *mc, const char *why)
{
    while (mc->waiters) {
        req_t *r = mc->waiters;

        waiter_del(&mc->waiters, r);
        r->mc = NULL;
        if (mc->body)
            metrics_answer(r, mc);
        else
            answer_error(r, 503, why);
    }
    uv_timer_stop(&mc->wait_timer);
}

static void metrics_done(job_t *j, int status)
{
    mcache_t *mc = j->mc;
    char msg[CG_ERR_LEN];

    mc->job = NULL;
    if (status != -ECANCELED && child_ok(&j->sc, status)) {
        free(mc->body);
        mc->body = cg_xmalloc(j->sc.outlen + 1);
        memcpy(mc->body, j->sc.out ? j->sc.out : "", j->sc.outlen);
        mc->len = j->sc.outlen;
        mc->at_ms = now_ms();
        msg[0] = '\0';
    } else {
        mc->failures++;
        if (status == -ECANCELED)
            snprintf(msg, sizeof msg, "the figures could not be refreshed");
        else
            child_error(&j->sc, status, msg, sizeof msg);
    }
    metrics_release_waiters(mc, msg);
    if (status != -ECANCELED)
        subcmd_release(&j->sc);
    job_free(j);
}

static void wait_timer_cb(uv_timer_t *t)
{
    metrics_release_waiters(t->data, "no figures yet: the first refresh is still running");
}

static void serve_metrics(req_t *r)
{
    serve_t *s = r->srv;
    const char *accept = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    mcache_t *mc = &s->mc[serve_wants_openmetrics(accept) ? 1 : 0];
    uint64_t now = now_ms();

    if (mc->body && now - mc->at_ms < s->o.min_interval_ms) {
        metrics_answer(r, mc);
        return;
    }
    if (mc->job == NULL && !s->stopping) {
        job_t *j = job_new(s, JOB_METRICS, METRICS_CHILD_MS, METRICS_OUT_MAX,
                           mc->om ? s->o.openmetrics_argv : s->o.metrics_argv);

        j->mc = mc;
        mc->job = j;
        job_submit(s, j, 1);
    }
    /* The last figures at once, however old: a scrape never waits on a
     * refresh but the very first. */
    if (mc->body) {
        metrics_answer(r, mc);
        return;
    }
    if (mc->job == NULL) {
        answer_error(r, 503, "no figures: the refresh failed");
        return;
    }
    r->mc = mc;
    waiter_add(&mc->waiters, r);
    if (!uv_is_active((uv_handle_t *)&mc->wait_timer))
        uv_timer_start(&mc->wait_timer, wait_timer_cb, FIRST_SCRAPE_WAIT_MS, 0);
    suspend(r);
}

/* ---- routes -> commands ----------------------------------------------------- */

static const char *query(req_t *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* Hand r to a child running argv: shared with an identical read-only job
 * under way, else queued (503 when the queue is full). */
static void run_job(req_t *r, job_t *j)
{
    serve_t *s = r->srv;
    const union MHD_ConnectionInfo *ci;
    unsigned char key[16];

    if (j->kind == JOB_JSON) {
        job_t *same = job_find(s, j->key);

        if (same) {
            job_free(j);
            j = same;
            goto wait;
        }
    }
    /* One client may not hold every slot and the whole queue: past its
     * share it is told to slow down, and the others are still served. */
    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr && serve_fair_key(ci->client_addr, key) == 0) {
        int e = serve_fair_take(&s->fair, key);

        if (e < 0) {
            job_free(j);
            answer_error(r, e == -EAGAIN ? 429 : 503,
                         e == -EAGAIN ? "too many requests of this client under way: try again"
                                      : "too many requests waiting: try again");
            return;
        }
        j->fair = e + 1;
    }
    if (s->nqueued >= s->o.max_queued) {
        job_free(j);
        answer_error(r, 503, "too many requests waiting: try again");
        return;
    }
    r->job = j;
    waiter_add(&j->waiters, r);
    job_submit(s, j, 0);
    suspend(r);
    return;
wait:
    r->job = j;
    waiter_add(&j->waiters, r);
    suspend(r);
}

static void run_argv(req_t *r, job_kind_t kind, uint64_t timeout_ms, const char *const *argv)
{
    run_job(r, job_new(r->srv, kind, timeout_ms, JSON_OUT_MAX, argv));
}

static void dispatch(req_t *r)
{
    serve_t *s = r->srv;
    const serve_route_t *rt = &r->route;
    char pid[16], err[CG_ERR_LEN];
    const char *v;

    snprintf(pid, sizeof pid, "%d", rt->pid);
    if (serve_route_writes(rt) && !s->o.allow_write) {
        answer_error(r, 403, "this server is read-only: start it with --allow-write");
        return;
    }
    /* Agent commands carry their own timeout, shorter than the child's
     * deadline, so a silent agent is reported by the command itself. */
    switch (rt->kind) {
    case SERVE_R_HEALTH:
        answer_body(r, 200, "text/plain; charset=utf-8", "ok\n", 3);
        return;
    case SERVE_R_METRICS:
        serve_metrics(r);
        return;
    case SERVE_R_PROCESSES: {
        const char *argv[] = {"list", "--json", NULL};
        run_argv(r, JOB_JSON, 30000, argv);
        return;
    }
    case SERVE_R_PROCESS: {
        const char *argv[] = {"process", "--json", "--", pid, NULL};
        run_argv(r, JOB_JSON, 30000, argv);
        return;
    }
    case SERVE_R_GOROUTINES:
    case SERVE_R_SUMMARY:
        v = query(r, "group_by");
        if (v && serve_check_group_by(v, err) != 0) {
            answer_error(r, 400, err);
            return;
        }
        if (rt->kind == SERVE_R_GOROUTINES && v == NULL) {
            const char *argv[] = {"goroutines", "--json", "--", pid, NULL};
            run_argv(r, JOB_JSON, 30000, argv);
        } else {
            const char *argv[] = {"summary", "--json", "--by", v ? v : "location", "--", pid, NULL};
            run_argv(r, JOB_JSON, 30000, argv);
        }
        return;
    case SERVE_R_STATS:
    case SERVE_R_MEMSTATS:
    case SERVE_R_STACK: {
        const char *cmd = rt->kind == SERVE_R_STATS ? "stats" : rt->kind == SERVE_R_MEMSTATS ? "memstats" : "stack";
        /* The runtime formats a whole dump before its first byte: a
         * stack of many goroutines may keep the agent silent a while. */
        int stack = rt->kind == SERVE_R_STACK;
        const char *argv[] = {cmd, "--json", "--timeout", stack ? "20s" : "5s", "--", pid, NULL};
        run_argv(r, JOB_JSON, stack ? 40000 : 30000, argv);
        return;
    }
    case SERVE_R_GC: {
        const char *argv[] = {"gc", "--json", "--timeout", "10s", "--", pid, NULL};
        run_argv(r, JOB_ACTION, 20000, argv);
        return;
    }
    case SERVE_R_SETGC: {
        v = query(r, "percent");
        if (v == NULL || serve_check_percent(v, err) != 0) {
            answer_error(r, 400, v ? err : "setgc needs ?percent=N or ?percent=off");
            return;
        }
        const char *argv[] = {"setgc", "--json", "--timeout", "5s", "--", pid, v, NULL};
        run_argv(r, JOB_ACTION, 20000, argv);
        return;
    }
    case SERVE_R_PROFILE: {
        const char *fmt = query(r, "format"), *top = query(r, "top");
        int trace = strcmp(rt->profile, "trace") == 0, cpu = strcmp(rt->profile, "cpu") == 0;
        long long n = 20;
        char path[PATH_MAX + 32];
        job_t *j;

        if (fmt && serve_check_format(fmt, err) != 0) {
            answer_error(r, 400, err);
            return;
        }
        if (trace && fmt && strcmp(fmt, "top") == 0) {
            answer_error(r, 400, "a trace has no top: use format=raw");
            return;
        }
        if (top && (strspn(top, "0123456789") != strlen(top) || cg_parse_ll(top, 1, 1000, &n) != 0)) {
            answer_error(r, 400, "bad top: want 1..1000");
            return;
        }
        snprintf(path, sizeof path, "%s/p%lu.%s", s->tmpdir, ++s->tmpseq, rt->profile);
        {
            const char *argv[] = {trace ? "trace" : cpu ? "pprof-cpu" : "pprof-heap", "--no-launch",
                                  "--timeout", cpu ? "45s" : trace ? "20s" : "10s", "-o", path,
                                  "--", pid, NULL};
            j = job_new(s, JOB_PROFILE, cpu ? 60000 : 30000, 65536, argv);
        }
        j->tmpfile = cg_xstrdup(path);
        j->raw = trace || (fmt && strcmp(fmt, "raw") == 0);
        snprintf(j->top, sizeof j->top, "%lld", n);
        run_job(r, j);
        return;
    }
    case SERVE_R_NONE:
        break;
    }
    answer_error(r, 404, "no such route");
}

/* ---- MHD callbacks -------------------------------------------------------------- */

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    serve_t *s = cls;
    req_t *r = *con_cls;
    const union MHD_ConnectionInfo *ci;
    const char *cl;
    char err[CG_ERR_LEN];
    int code;

    (void)version;
    (void)upload_data;
    if (r == NULL) {
        /* The head is in: say so, then wait for the body, if any. */
        r = cg_xcalloc(1, sizeof *r);
        s->inflight++;
        r->srv = s;
        r->conn = conn;
        ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->sock = ci ? ci->socket_context : NULL;
        *con_cls = r;
        /* A body announced too large is refused before it is sent (MHD
         * then closes the connection rather than read it). */
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && cl[0] && strspn(cl, "0123456789") == strlen(cl) &&
            (strlen(cl) - strspn(cl, "0") > 9 || strtoul(cl, NULL, 10) > BODY_MAX)) {
            r->started = 1;
            answer_error(r, 413, "request body too large");
        }
        return MHD_YES;
    }
    if (r->resp) {
        /* Resumed with the answer. */
        enum MHD_Result ok = MHD_queue_response(conn, r->code, r->resp);

        MHD_destroy_response(r->resp);
        r->resp = NULL;
        return ok;
    }
    if (*upload_data_size) {
        /* Only counted: MHD takes no answer while a body is coming in
         * (MHD_queue_response fails then, and the client would wait for
         * ever); a body too large is refused once it has ended. */
        r->body += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->started)
        return MHD_YES; /* suspended, or answered already */
    r->started = 1;
    if (r->body > BODY_MAX) {
        answer_error(r, 413, "request body too large");
        return MHD_YES;
    }
    if (r->sock)
        r->sock->busy = 1;
    code = serve_route_parse(method, url, &r->route, err);
    /* The token is checked first (except for the probe's /healthz), so
     * that nothing, not even which routes exist, is told without it. */
    if (s->auth && !(code == 0 && r->route.kind == SERVE_R_HEALTH) &&
        !serve_token_ok(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                        s->token)) {
        answer_error(r, 401, "missing or wrong bearer token");
        return MHD_YES;
    }
    if (code != 0) {
        answer_error(r, (unsigned)code, err);
        return MHD_YES;
    }
    if (s->stopping && r->route.kind != SERVE_R_HEALTH) {
        answer_error(r, 503, "shutting down");
        return MHD_YES;
    }
    dispatch(r);
    return MHD_YES;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req_t *r = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (r == NULL)
        return;
    /* A request MHD drops while it waits (never, as suspended connections
     * are not closed; but a stale pointer would be worse). */
    if (r->job)
        waiter_del(&r->job->waiters, r);
    if (r->mc)
        waiter_del(&r->mc->waiters, r);
    if (r->resp)
        MHD_destroy_response(r->resp);
    if (r->sock) {
        r->sock->busy = 0;
        r->sock->since_ms = now_ms();
    }
    r->srv->inflight--;
    r->srv->trim = 1;
    free(r);
    *con_cls = NULL;
}

static void connection_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    serve_t *s = cls;
    sock_t *k;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        k = cg_xcalloc(1, sizeof *k);
        k->fd = ci ? ci->connect_fd : -1;
        k->since_ms = now_ms();
        k->next = s->socks;
        if (s->socks)
            s->socks->prev = k;
        s->socks = k;
        *socket_context = k;
        return;
    }
    k = *socket_context;
    if (k == NULL)
        return;
    if (k->prev)
        k->prev->next = k->next;
    else
        s->socks = k->next;
    if (k->next)
        k->next->prev = k->prev;
    free(k);
    *socket_context = NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* MHD's own unescaping turns "%00" into a NUL, and the path it hands us
 * then ends there: "/api/v1/processes/1%00/x" would be read as process 1.
 * Here %00 becomes 0x01 instead, which no route or value takes, so such a
 * path is refused (400/404) rather than cut.  Applies to the path and to
 * the query values alike. */
static size_t unescape_cb(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;
    int hi, lo;

    (void)cls;
    (void)c;
    for (const char *r = s; *r; r++) {
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            *w = (char)(hi << 4 | lo);
            if (*w == '\0')
                *w = '\x01';
            w++;
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* MHD logs through here: a module never prints, and the client's errors
 * are answered, not logged. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

/* ---- the loop ------------------------------------------------------------------ */

static void mhd_timer_cb(uv_timer_t *t);

static void rearm(serve_t *s)
{
    MHD_UNSIGNED_LONG_LONG to;

    if (s->d == NULL)
        return;
    if (MHD_get_timeout(s->d, &to) == MHD_YES)
        uv_timer_start(&s->mhd_timer, mhd_timer_cb, to > 60000 ? 60000 : (uint64_t)to, 0);
    else
        uv_timer_stop(&s->mhd_timer);
}

static void mhd_timer_cb(uv_timer_t *t)
{
    serve_t *s = t->data;

    if (s->d == NULL)
        return;
    MHD_run(s->d);
    rearm(s);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    serve_t *s = p->data;

    (void)status;
    (void)events;
    if (s->d == NULL)
        return;
    MHD_run(s->d);
    rearm(s);
}

/* Run MHD soon, outside whatever callback we are in (MHD is not
 * re-entrant): after a resume, MHD must look at the connection again. */
static void kick(serve_t *s)
{
    if (s->d)
        uv_timer_start(&s->mhd_timer, mhd_timer_cb, 0, 0);
}

/* Every second: cut connections whose request head (or body) has taken
 * longer than the timeout.  shutdown(), not close(): MHD owns the
 * descriptor and sees the end on its next read. */
static void sweep_cb(uv_timer_t *t)
{
    serve_t *s = t->data;
    uint64_t now = now_ms(), limit = (uint64_t)s->o.conn_timeout_s * 1000;

    for (sock_t *k = s->socks; k; k = k->next) {
        if (!k->busy && !k->cut && k->fd >= 0 && now - k->since_ms > limit) {
            shutdown(k->fd, SHUT_RDWR);
            k->cut = 1;
        }
    }
    /* A crowd or a large answer leaves freed memory that glibc keeps;
     * once all is quiet it goes back, so the resident size returns to its
     * base instead of keeping the last peak. */
    if (s->trim && s->inflight == 0 && s->nrunning == 0) {
        malloc_trim(0);
        s->trim = 0;
    }
    if (s->d)
        kick(s);
}

static int bind_listen(const serve_opts_t *o, int auth, char *addr, size_t addrsize, int *v6, char *err)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int loopback, fd, one = 1, rc;
    char host[INET6_ADDRSTRLEN];

    if ((rc = serve_listen_parse(o->listen ? o->listen : SERVE_DEFAULT_LISTEN, &ss, &len, &loopback, err)) < 0)
        return rc;
    if (!loopback && !auth) {
        cg_seterr(err, "listening on '%s', which is not a loopback address, needs --token-file",
                  o->listen);
        return -EPERM;
    }
    *v6 = ss.ss_family == AF_INET6;
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        cg_seterr(err, "socket: %s", strerror(-rc));
        return rc;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* "[::]:PORT" is every address of both families (IPv4 clients come
     * as ::ffff:a.b.c.d), whatever net.ipv6.bindv6only says: one --listen
     * serves IPv4, IPv6 and dual-stack pods alike.  Any other IPv6
     * address is that address only. */
    if (*v6) {
        int v6only = !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr);

        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) {
            rc = -errno;
            cg_seterr(err, "IPV6_V6ONLY: %s", strerror(-rc));
            close(fd);
            return rc;
        }
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 512) != 0) {
        rc = -errno;
        cg_seterr(err, "cannot listen on '%s': %s", o->listen ? o->listen : SERVE_DEFAULT_LISTEN,
                  strerror(-rc));
        close(fd);
        return rc;
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    if (*v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(addr, addrsize, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(addr, addrsize, "%s:%u", host, ntohs(in->sin_port));
    }
    return fd;
}

int serve_start(uv_loop_t *loop, const serve_opts_t *o, serve_t **out, char *err)
{
    serve_t *s = cg_xcalloc(1, sizeof *s);
    const union MHD_DaemonInfo *di;
    int fd, v6 = 0, rc;
    unsigned flags;

    s->loop = loop;
    s->o = *o;
    s->epfd = -1;
    if (!s->o.min_interval_ms)
        s->o.min_interval_ms = 5000;
    if (!s->o.max_children)
        s->o.max_children = 8;
    if (!s->o.max_queued)
        s->o.max_queued = 128;
    if (!s->o.max_connections)
        s->o.max_connections = 512;
    if (!s->o.max_per_ip)
        s->o.max_per_ip = 256;
    if (!s->o.max_per_client)
        s->o.max_per_client = SERVE_PER_CLIENT_DEFAULT;
    /* Every command that can be held at once has an owner's entry (a
     * /metrics refresh has none). */
    s->fair.cap = (size_t)s->o.max_children + s->o.max_queued;
    s->fair.v = cg_xcalloc(s->fair.cap, sizeof *s->fair.v);
    s->fair.limit = s->o.max_per_client;
    if (!s->o.conn_timeout_s)
        s->o.conn_timeout_s = 10;
    if (o->token && o->token[0]) {
        cg_strlcpy(s->token, o->token, sizeof s->token);
        s->auth = 1;
    }
    s->o.token = NULL;
    s->mc[1].om = 1;
    snprintf(s->tmpdir, sizeof s->tmpdir, "%s/cgops-serve.XXXXXX", cg_tmp_dir());
    if (mkdtemp(s->tmpdir) == NULL) {
        rc = -errno;
        cg_seterr(err, "cannot make a private directory in '%s': %s", cg_tmp_dir(), strerror(-rc));
        s->tmpdir[0] = '\0';
        serve_free(s);
        return rc;
    }
    for (int i = 0; i < 2; i++) {
        const char **a = s->margv[i];

        snprintf(s->statefile[i], sizeof s->statefile[i], "%s/metrics-%s.state", s->tmpdir, i ? "om" : "text");
        *a++ = "metrics";
        *a++ = "--timeout";
        *a++ = METRICS_RUN_TIMEOUT;
        *a++ = "--state";
        *a++ = s->statefile[i];
        if (i)
            *a++ = "--openmetrics";
        *a = NULL;
    }
    if (!s->o.metrics_argv)
        s->o.metrics_argv = s->margv[0];
    if (!s->o.openmetrics_argv)
        s->o.openmetrics_argv = s->margv[1];
    if ((fd = bind_listen(&s->o, s->auth, s->addr, sizeof s->addr, &v6, err)) < 0) {
        serve_free(s);
        return fd;
    }
    flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s,
                            MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->o.max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->o.max_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.conn_timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                            MHD_OPTION_NOTIFY_CONNECTION, connection_cb, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape_cb, s,
                            MHD_OPTION_END);
    if (s->d == NULL) {
        cg_seterr(err, "libmicrohttpd could not start on '%s'", s->addr);
        close(fd);
        serve_free(s);
        return -EIO;
    }
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (di == NULL) {
        cg_seterr(err, "libmicrohttpd has no epoll descriptor");
        serve_free(s);
        return -EIO;
    }
    s->epfd = di->epoll_fd;
    if ((rc = uv_poll_init(loop, &s->poll, s->epfd)) < 0) {
        cg_seterr(err, "uv_poll_init: %s", uv_strerror(rc));
        serve_free(s);
        return rc;
    }
    s->poll.data = s;
    uv_timer_init(loop, &s->mhd_timer);
    uv_timer_init(loop, &s->sweep_timer);
    uv_timer_init(loop, &s->stop_timer);
    uv_timer_init(loop, &s->mc[0].wait_timer);
    uv_timer_init(loop, &s->mc[1].wait_timer);
    s->mhd_timer.data = s->sweep_timer.data = s->stop_timer.data = s;
    s->mc[0].wait_timer.data = &s->mc[0];
    s->mc[1].wait_timer.data = &s->mc[1];
    s->nhandles = 6;
    uv_poll_start(&s->poll, UV_READABLE, poll_cb);
    uv_timer_start(&s->sweep_timer, sweep_cb, 1000, 1000);
    kick(s);
    *out = s;
    return 0;
}

const char *serve_address(const serve_t *s)
{
    return s->addr;
}

static void close_cb(uv_handle_t *h)
{
    serve_t *s = h->data;

    if (--s->nhandles == 0) {
        s->stopped = 1;
        if (s->stop_cb)
            s->stop_cb(s, s->stop_ctx);
    }
}

static void close_all(serve_t *s)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&s->poll, (uv_handle_t *)&s->mhd_timer,
                         (uv_handle_t *)&s->sweep_timer, (uv_handle_t *)&s->stop_timer,
                         (uv_handle_t *)&s->mc[0].wait_timer, (uv_handle_t *)&s->mc[1].wait_timer};

    /* libuv forgets the epoll descriptor before MHD closes it. */
    uv_poll_stop(&s->poll);
    if (s->d) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(hs); i++) {
        hs[i]->data = s;
        uv_close(hs[i], close_cb);
    }
}

static unsigned connections(serve_t *s)
{
    const union MHD_DaemonInfo *di = s->d ? MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;

    return di ? di->num_connections : 0;
}

static int anyone_waiting(serve_t *s)
{
    return s->nrunning || s->nqueued || s->mc[0].waiters || s->mc[1].waiters;
}

/* Once no child runs and no request waits, open connections get DRAIN_MS
 * to take their answers; then everything closes. */
static void stop_timer_cb(uv_timer_t *t)
{
    check_stopped(t->data);
}

static void check_stopped(serve_t *s)
{
    if (!s->stopping || s->nhandles == 0 || s->d == NULL)
        return;
    if (anyone_waiting(s)) {
        s->stop_at = 0;
        return;
    }
    if (s->stop_at == 0)
        s->stop_at = now_ms() + DRAIN_MS;
    if (connections(s) == 0 || now_ms() >= s->stop_at) {
        uv_timer_stop(&s->stop_timer);
        close_all(s);
        return;
    }
    if (!uv_is_active((uv_handle_t *)&s->stop_timer))
        uv_timer_start(&s->stop_timer, stop_timer_cb, 50, 50);
}

void serve_shutdown(serve_t *s, void (*cb)(serve_t *s, void *ctx), void *ctx)
{
    MHD_socket lfd;

    if (s->stopping)
        return;
    s->stopping = 1;
    s->stop_cb = cb;
    s->stop_ctx = ctx;
    /* No new connections; the ones open finish what they asked. */
    lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    /* Commands not started yet never will be; running ones end by their
     * deadline (the child is killed then). */
    while (s->qhead) {
        job_t *j = s->qhead;

        list_del(&s->qhead, j);
        s->nqueued--;
        job_abort(j, 503, "shutting down");
    }
    s->qtail = NULL;
    kick(s);
    check_stopped(s);
}

void serve_free(serve_t *s)
{
    if (s == NULL)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    for (int i = 0; i < 2; i++)
        free(s->mc[i].body);
    for (int i = 0; i < 2; i++)
        if (s->statefile[i][0])
            unlink(s->statefile[i]);
    if (s->tmpdir[0])
        rmdir(s->tmpdir);
    explicit_bzero(s->token, sizeof s->token);
    free(s->fair.v);
    free(s);
}

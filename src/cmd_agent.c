/* cmd_agent.c -- the commands that talk to gops agents
 *
 * stack, gc, setgc, memstats, version, stats take any number of targets
 * (or --all) and query them concurrently on one libuv loop; output keeps
 * target order: the first unfinished target streams straight to stdout,
 * later ones spool until their turn: in memory up to SPOOL_MEM bytes, then
 * in an anonymous temp file, so small replies cost no file and memory stays
 * flat whatever the replies' size.  pprof-heap, pprof-cpu and trace
 * take one target and save the reply to a file.
 */
#include "cgops/agent.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/portfile.h"
#include "cgops/proto.h"
#include "cgops/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reply size above which a reply that --json must hold whole (memstats,
 * stats, version, setgc, gc) is refused: real ones are a few KiB. */
#define JSON_REPLY_MAX (1u << 20)

/* Bytes a waiting target keeps in memory before its spool moves to a temp
 * file: stats, memstats and version replies are well under it; with --all
 * over hundreds of agents the total stays a few MiB. */
#define SPOOL_MEM (64u << 10)

#define MS(s) ((uint64_t)(s) * 1000u)

/* runtime/pprof's limit for a goroutine dump (writeGoroutineStacks). */
#define STACK_RUNTIME_CAP (64ull << 20)

typedef struct {
    int json;
    int verbose;
    int all;
    int no_launch;
    uint64_t timeout_ms;   /* --timeout, 0 = per-command defaults */
    const char *outfile;   /* -o */
    const char *binfile;   /* --binary */
} opts_t;

typedef struct job job_t;
typedef struct spool spool_t;

typedef struct {
    const cmd_t *cmd;
    opts_t o;
    uv_loop_t *loop;
    int procfd;            /* /proc, to resolve pids */
    long long gcvalue;     /* setgc's argument */
    job_t **jobs;          /* in target order; a job never moves (libuv
                              holds pointers into it) */
    size_t njobs;
    size_t next_out;       /* first job not yet written to stdout */
    size_t next_start;     /* first job whose request is not started */
    size_t active;         /* requests in flight */
    size_t spilled;        /* spools holding a temp file open */
    size_t max_files;      /* bound on active + spilled (descriptors) */
    int adding;            /* --all: discovery may still add jobs */
    int multi;             /* several targets: headers / JSON array */
    int failed;
    int closed;            /* the multi-target JSON array was closed */
} run_t;

struct job {
    run_t *run;
    size_t idx;            /* place in target order */
    agent_req_t req;
    target_t target;
    unsigned char msg[1 + PROTO_SETGC_ARG_LEN];
    int done;
    int status;            /* 0 ok, else failed */
    char err[CG_ERR_LEN];  /* message printed in order */
    FILE *spool;           /* output while waiting for our turn (spool_t) */
    spool_t *spool_state;  /* the spool's cookie */
    FILE *out;             /* spool, or stdout once it is our turn */
    /* --json */
    char *buf;             /* whole reply for the small commands */
    size_t len;
    proto_stack_parser_t *sp;
    unsigned long ngoroutines;
    int opened;            /* "{...result": written for multi JSON */
    char last;             /* last reply byte, for the truncation check */
    int cut;               /* a stack dump the runtime cut at 64 MiB: said
                              on stderr in target order */
    /* profiles */
    int fd;
    unsigned char head[PROTO_HEAD_MAX]; /* the reply's first bytes */
    size_t headlen;
    char path[4096];
};

static int is_stack(const run_t *run)
{
    return run->cmd->agent_byte == PROTO_STACK;
}

static int is_profile(const cmd_t *cmd)
{
    return cmd->agent_byte == PROTO_HEAP || cmd->agent_byte == PROTO_CPU ||
           cmd->agent_byte == PROTO_TRACE;
}

/* Timeouts per command when --timeout is not given.  The idle timeout is
 * how long the agent may stay silent: a CPU profile replies only after
 * 30 s and a trace after 5 s, and a stack dump starts only once the runtime
 * has formatted every goroutine (about 28 s per million). */
static void set_timeouts(agent_req_t *r, int byte, const opts_t *o)
{
    r->connect_timeout_ms = MS(10);
    switch (byte) {
    case PROTO_CPU:
        r->idle_timeout_ms = MS(40);
        break;
    case PROTO_TRACE:
        r->idle_timeout_ms = MS(15);
        break;
    case PROTO_STACK:
        r->idle_timeout_ms = MS(60);
        break;
    default:
        r->idle_timeout_ms = MS(10);
        break;
    }
    r->total_timeout_ms = 0;
    if (o->timeout_ms) {
        r->connect_timeout_ms = r->idle_timeout_ms = r->total_timeout_ms = o->timeout_ms;
    }
}

/* ---- ordered output ------------------------------------------------- */

/* $TMPDIR, else /tmp: where profiles without -o and spilled spools go. */
static const char *tmp_dir(void)
{
    const char *dir = getenv("TMPDIR");

    return dir && *dir ? dir : "/tmp";
}

/* An anonymous temp file in tmp_dir() (tmpfile(3) ignores $TMPDIR). */
static FILE *anon_tmpfile(void)
{
    int fd = open(tmp_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    FILE *f;

    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        /* A file system without O_TMPFILE: a named file, unlinked at once. */
        char path[PATH_MAX];

        snprintf(path, sizeof path, "%s/cgops-spoolXXXXXX", tmp_dir());
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            unlink(path);
    }
    if (fd < 0)
        return NULL;
    f = fdopen(fd, "w+");
    if (f == NULL)
        close(fd);
    return f;
}

/* A spool: the FILE a waiting job writes to.  Its bytes stay in mem until
 * SPOOL_MEM, then everything moves to an anonymous temp file. */
struct spool {
    char *mem;
    size_t len;
    FILE *file;
    size_t *spilled;       /* the run's count of open spool files */
    int err;  /* errno of the first failure; sticky, so no byte is skipped */
};

static ssize_t spool_write(void *cookie, const char *buf, size_t n)
{
    spool_t *sp = cookie;

    if (sp->err)
        return -1;
    if (sp->file == NULL && sp->len + n > SPOOL_MEM) {
        sp->file = anon_tmpfile();
        if (sp->file)
            ++*sp->spilled;
        if (sp->file == NULL || fwrite(sp->mem, 1, sp->len, sp->file) != sp->len) {
            sp->err = errno ? errno : EIO;
            return -1;
        }
        free(sp->mem);
        sp->mem = NULL;
        sp->len = 0;
    }
    if (sp->file) {
        if (fwrite(buf, 1, n, sp->file) == n)
            return (ssize_t)n;
        sp->err = errno ? errno : EIO;
        return -1;
    }
    if (sp->mem == NULL)
        sp->mem = cg_xmalloc(SPOOL_MEM);
    memcpy(sp->mem + sp->len, buf, n);
    sp->len += n;
    return (ssize_t)n;
}

static int spool_close(void *cookie)
{
    spool_t *sp = cookie;

    if (sp->file) {
        fclose(sp->file);
        --*sp->spilled;
    }
    free(sp->mem);
    free(sp);
    return 0;
}

/* Write everything spooled so far to f. */
static void spool_copy(spool_t *sp, FILE *f)
{
    char buf[65536];
    size_t n;

    if (sp->file == NULL) {
        fwrite(sp->mem, 1, sp->len, f);
        return;
    }
    fflush(sp->file);
    rewind(sp->file);
    while ((n = fread(buf, 1, sizeof buf, sp->file)) > 0)
        fwrite(buf, 1, n, f);
}

/* Where a job writes: stdout once it is its turn, else a spool created on
 * first use. */
static FILE *job_out(job_t *j)
{
    if (j->out == NULL) {
        spool_t *sp = cg_xcalloc(1, sizeof *sp);

        sp->spilled = &j->run->spilled;
        j->spool = fopencookie(sp, "w", (cookie_io_functions_t){
                                            .write = spool_write, .close = spool_close});
        if (j->spool == NULL) {
            cmd_error("cannot create a spool: %s", strerror(errno));
            exit(CG_EXIT_FAIL);
        }
        j->spool_state = sp;
        j->out = j->spool;
    }
    return j->out;
}

static void json_string(FILE *f, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = out_json_print(j, 0);

    fputs(t ? t : "\"\"", f);
    free(t);
    cJSON_Delete(j);
}

static void open_block(job_t *j)
{
    run_t *run = j->run;
    size_t idx = j->idx;

    if (j->opened)
        return;
    j->opened = 1;
    if (run->o.json) {
        if (run->multi) {
            fputs(idx == 0 ? "[\n" : ",\n", job_out(j));
            fputs("{\"target\": ", job_out(j));
            json_string(job_out(j), j->target.display);
            if (j->target.pid)
                fprintf(job_out(j), ", \"pid\": %d", (int)j->target.pid);
        }
    } else if (run->multi) {
        fprintf(job_out(j), "%s==> %s <==\n", idx == 0 ? "" : "\n", j->target.display);
    }
}

/* Write a job's end: JSON closing or error object.  Errors go to stderr
 * when the job's turn comes, so they follow target order too. */
static void close_block(job_t *j)
{
    run_t *run = j->run;

    open_block(j);
    if (run->o.json) {
        if (is_stack(run) && j->sp) {
            /* The array was opened with the first goroutine or not at all. */
            if (j->ngoroutines)
                fputs("\n]", job_out(j));
            else if (j->status == 0 || !run->multi)
                fputs(run->multi ? ", \"result\": []" : "[]", job_out(j));
        }
        if (run->multi) {
            if (j->status != 0) {
                fputs(", \"error\": ", job_out(j));
                json_string(job_out(j), j->err);
            }
            fputs("}", job_out(j));
        } else if (j->status == 0 || (is_stack(run) && j->sp)) {
            fputs("\n", job_out(j));
        }
    }
}

static void flush_spool(job_t *j)
{
    if (j->spool == NULL)
        return;
    if (fflush(j->spool) != 0 || j->spool_state->err) {
        cmd_error("%s: cannot spool the reply in a temporary file: %s", j->target.display,
                  strerror(j->spool_state->err ? j->spool_state->err : errno));
        exit(CG_EXIT_FAIL);
    }
    spool_copy(j->spool_state, stdout);
    fclose(j->spool);
    j->spool = NULL;
    j->spool_state = NULL;
}

/* Hand stdout to the next jobs in order, writing out those already done. */
static void advance_output(run_t *run)
{
    while (run->next_out < run->njobs) {
        job_t *j = run->jobs[run->next_out];

        flush_spool(j);
        j->out = stdout;
        if (!j->done)
            return;
        if (j->status != 0) {
            fflush(stdout);
            cmd_error("%s", j->err);
        } else if (j->cut) {
            fflush(stdout);
            fprintf(stderr, "cgops: %s: the Go runtime cut the goroutine dump at 64 MiB\n",
                    j->target.display);
        }
        run->next_out++;
    }
    if (run->o.json && run->multi && !run->closed && !run->adding) {
        run->closed = 1;
        fputs("\n]\n", stdout);
    }
}

/* ---- reply handling ------------------------------------------------- */

static void goroutine_cb(cJSON *g, void *ctx)
{
    job_t *j = ctx;
    char *s = out_json_print(g, 0);

    open_block(j);
    if (j->ngoroutines++ == 0)
        fputs(j->run->multi ? ", \"result\": [\n" : "[\n", job_out(j));
    else
        fputs(",\n", job_out(j));
    fputs(s, job_out(j));
    free(s);
    cJSON_Delete(g);
}

static int on_data(agent_req_t *r, const char *buf, size_t len, char *err)
{
    job_t *j = r->data;
    run_t *run = j->run;

    j->last = buf[len - 1];
    /* Profiles, traces and binaries go to their file (no run_t there). */
    if (j->fd >= 0) {
        size_t off = 0;

        if (j->headlen < sizeof j->head) {
            size_t n = len < sizeof j->head - j->headlen ? len : sizeof j->head - j->headlen;
            memcpy(j->head + j->headlen, buf, n);
            j->headlen += n;
        }
        while (off < len) {
            ssize_t w = write(j->fd, buf + off, len - off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                cg_seterr(err, "writing %s: %s", j->path, strerror(errno));
                return -errno;
            }
            off += (size_t)w;
        }
        return 0;
    }
    if (run->o.json && is_stack(run))
        return proto_stack_parser_feed(j->sp, buf, len, err);
    if (run->o.json || run->cmd->agent_byte == PROTO_GC) {
        if (j->len + len > JSON_REPLY_MAX) {
            cg_seterr(err, "%s reply larger than %u bytes", run->cmd->name, JSON_REPLY_MAX);
            return -EFBIG;
        }
        j->buf = cg_xrealloc(j->buf, j->len + len + 1);
        memcpy(j->buf + j->len, buf, len);
        j->len += len;
        j->buf[j->len] = '\0';
        return 0;
    }
    open_block(j);
    if (fwrite(buf, 1, len, job_out(j)) != len) {
        cg_seterr(err, "write error: %s", strerror(errno));
        return -EIO;
    }
    return 0;
}

/* The reply is complete; check and render what was held back. */
static int complete_reply(job_t *j, char *err)
{
    run_t *run = j->run;
    int byte = run->cmd->agent_byte;
    cJSON *v = NULL;

    if (j->req.received == 0) {
        cg_seterr(err, "the agent closed the connection without a %s reply", run->cmd->name);
        return -EPROTO;
    }
    if (byte == PROTO_GC) {
        if (j->len != 2 || memcmp(j->buf, "ok", 2) != 0) {
            cg_seterr(err, "unexpected gc reply (%zu bytes)", j->len);
            return -EPROTO;
        }
        if (run->o.json) {
            v = cJSON_CreateObject();
            cJSON_AddTrueToObject(v, "ok");
        }
    } else if (is_profile(run->cmd)) {
        return 0;
    } else if (run->o.json) {
        char why[CG_ERR_LEN] = "";

        /* Parse first: garbage deserves "malformed", not "truncated". */
        switch (byte) {
        case PROTO_STACK:
            if (j->last != '\n' && j->req.received == STACK_RUNTIME_CAP)
                proto_stack_parser_drop_partial_line(j->sp);
            if (proto_stack_parser_finish(j->sp, why) < 0) {
                cg_seterr(err, "%s", why);
                return -EPROTO;
            }
            break;
        case PROTO_MEMSTATS:
            v = proto_memstats_json(j->buf, j->len, why);
            break;
        case PROTO_STATS:
            v = proto_stats_json(j->buf, j->len, why);
            break;
        case PROTO_VERSION:
            v = proto_version_json(j->buf, j->len, why);
            break;
        case PROTO_SETGC:
            v = proto_setgc_reply_json(j->buf, j->len, why);
            break;
        }
        if (v == NULL && byte != PROTO_STACK) {
            cg_seterr(err, "%s", why[0] ? why : "malformed reply");
            return -EPROTO;
        }
    }
    if (byte == PROTO_STACK && j->last != '\n' && j->req.received == STACK_RUNTIME_CAP) {
        /* Go's pprof stops formatting a goroutine dump once it fills its
         * 64 MiB buffer: the reply is complete as the runtime sent it. */
        j->cut = 1;
    } else if (byte != PROTO_GC && j->last != '\n') {
        /* Every text reply ends with a newline; a connection closed
         * before it cut the reply short. */
        cJSON_Delete(v);
        cg_seterr(err, "%s reply truncated: connection closed after %llu bytes",
                  run->cmd->name, (unsigned long long)j->req.received);
        return -EPROTO;
    }
    if (v) {
        char *s = out_json_print(v, !run->multi);
        open_block(j);
        fputs(run->multi ? ", \"result\": " : "", job_out(j));
        fputs(s, job_out(j));
        free(s);
        cJSON_Delete(v);
    }
    return 0;
}

static void start_queued(run_t *run);

static void job_done(agent_req_t *r, int status)
{
    job_t *j = r->data;
    run_t *run = j->run;

    run->active--;
    if (status == 0) {
        char err[CG_ERR_LEN] = "";
        if (complete_reply(j, err) < 0) {
            snprintf(j->err, sizeof j->err, "%.100s: %.400s", j->target.display, err);
            status = -EPROTO;
        }
    } else {
        cg_strlcpy(j->err, r->err, sizeof j->err);
    }
    j->status = status;
    if (status != 0)
        run->failed = 1;
    close_block(j);
    j->done = 1;
    if (run->next_out == j->idx)
        advance_output(run);
    start_queued(run);
    /* All written: a timed-out name lookup may still hold the loop. */
    if (run->next_out == run->njobs && !run->adding)
        uv_stop(run->loop);
}

/* ---- option parsing ------------------------------------------------- */

/* "--timeout": a Go duration ("500ms", "1m30s") or plain seconds ("2.5"). */
static int parse_timeout(const char *s, uint64_t *ms)
{
    char *end;
    double secs = strtod(s, &end);
    long long ns;

    if (end != s && *end == '\0') {
        if (!(secs > 0) || secs > 1e7)
            return -ERANGE;
        *ms = (uint64_t)(secs * 1000 + 0.5);
    } else {
        if (proto_go_duration_ns(s, &ns) != 0)
            return -EINVAL;
        if (ns <= 0)
            return -ERANGE;
        *ms = (uint64_t)((ns + 999999) / 1000000);
    }
    return *ms > 0 ? 0 : -ERANGE;
}

static void log_stderr(const char *msg, void *ctx)
{
    if (*(int *)ctx)
        fprintf(stderr, "cgops: %s\n", msg);
}

/* How many descriptors the requests and spools of a run may hold at once
 * (main raised the soft limit to the hard one): all but a reserve for
 * /proc, the loop and the port-file checks, and at most 1024. */
static size_t descriptor_budget(void)
{
    size_t n = cg_raise_nofile();

    if (n > 1024 + 32)
        return 1024;
    return n > 48 ? n - 32 : 8;
}

/* Start a job's request on loop; on failure (nothing started, on_done
 * will not run) j->err says so.  Returns 0 or -errno. */
static int job_request_start(uv_loop_t *loop, job_t *j)
{
    int rc = agent_req_start(loop, &j->req);

    if (rc < 0)
        snprintf(j->err, sizeof j->err, "%.100s: cannot start the request: %s",
                 j->target.display, uv_strerror(rc));
    return rc;
}

/* A job that ends before its request ran (cannot resolve, cannot start). */
static void job_fail_early(job_t *j, int rc)
{
    j->status = rc;
    j->run->failed = 1;
    close_block(j);
    j->done = 1;
}

/* Start the requests of the jobs added so far, in order, while the run
 * stays within its descriptors: one socket per request in flight, one
 * temp file per spilled spool.  A host with more agents than descriptors
 * is queried in waves instead of failing with "too many open files". */
static void start_queued(run_t *run)
{
    while (run->next_start < run->njobs && run->active + run->spilled < run->max_files) {
        job_t *j = run->jobs[run->next_start++];
        int rc;

        if (j->done)
            continue;
        rc = job_request_start(run->loop, j);
        if (rc < 0) {
            job_fail_early(j, rc);
            continue;
        }
        run->active++;
    }
}

/* Add a job in target order for target (resolved by discovery) or arg (a
 * pid or host:port to resolve), and start its request. */
static void job_add(run_t *run, const target_t *target, const char *arg)
{
    job_t *j = cg_xcalloc(1, sizeof *j);
    int byte = run->cmd->agent_byte, rc = 0;

    run->jobs = cg_xrealloc(run->jobs, (run->njobs + 1) * sizeof *run->jobs);
    run->jobs[run->njobs] = j;
    j->idx = run->njobs++;
    j->run = run;
    j->fd = -1;
    /* Its turn already when every earlier job is written out (with --all,
     * the earlier agents may have answered before this one was found). */
    j->out = j->idx == run->next_out ? stdout : NULL;
    if (target) {
        j->target = *target;
    } else {
        rc = portfile_target_resolve(run->procfd, arg, &j->target, j->err);
        if (rc < 0)
            cg_strlcpy(j->target.display, arg, sizeof j->target.display);
        else if (run->o.verbose && j->target.pid && !j->target.pf.verified && j->target.pf.note[0])
            fprintf(stderr, "cgops: %s\n", j->target.pf.note);
    }
    if (rc == 0) {
        if (byte == PROTO_SETGC) {
            j->req.msglen = proto_setgc_request(run->gcvalue, j->msg);
        } else {
            j->msg[0] = (unsigned char)byte;
            j->req.msglen = 1;
        }
        if (run->o.json && is_stack(run))
            j->sp = proto_stack_parser_new(goroutine_cb, j);
        j->req.data = j;
        j->req.target = &j->target;
        j->req.msg = j->msg;
        j->req.what = run->cmd->name;
        j->req.on_data = on_data;
        j->req.on_done = job_done;
        set_timeouts(&j->req, byte, &run->o);
    } else {
        job_fail_early(j, rc);
    }
    start_queued(run);
}

/* --all: each process that discovery finds with a verified (or
 * unverifiable) agent is queried at once, so the agents answer while the
 * scan goes on; the loop is given a turn after each. */
static void on_found(const scan_proc_t *p, void *arg)
{
    run_t *run = arg;
    portfile_t pf;
    target_t t;

    if (!p->agent)
        return;
    memset(&pf, 0, sizeof pf);
    pf.port = p->agent_port;
    pf.verified = p->agent_verified;
    memset(&t, 0, sizeof t);
    portfile_target_init(run->procfd, p->pid, &pf, &t);
    job_add(run, &t, NULL);
    uv_run(run->loop, UV_RUN_NOWAIT);
}

/* ---- profiles -------------------------------------------------------- */

static void profile_done(agent_req_t *r, int status)
{
    job_t *j = r->data;

    uv_stop(r->loop); /* a timed-out name lookup may still hold the loop */
    j->status = status;
    j->done = 1;
    if (status == 0 && r->received == 0) {
        snprintf(j->err, sizeof j->err, "%.100s: the agent closed the connection without a %s reply",
                 j->target.display, r->what);
        j->status = -EPROTO;
    } else if (status != 0) {
        cg_strlcpy(j->err, r->err, sizeof j->err);
    } else {
        const char *what;

        if (!proto_binary_head_ok(j->msg[0], j->head, j->headlen, &what)) {
            snprintf(j->err, sizeof j->err, "%.100s: the %s reply is not %s (%llu bytes)",
                     j->target.display, r->what, what, (unsigned long long)r->received);
            j->status = -EPROTO;
        }
    }
}

/* Where a binary reply is being written: tmp is renamed to final once the
 * whole reply is in; tmp alone (no final) is a file of ours to remove on
 * failure; neither when writing in place. */
typedef struct {
    char tmp[PATH_MAX];
    char final[PATH_MAX];
} outfile_t;

/* Open where a binary reply goes, into j->fd.  Without -o (path NULL): a
 * new file in $TMPDIR named after tmpl, as gops does.  With -o: a regular
 * file (or a new one; through a symlink, the file it names) is written as a
 * temp file beside it and renamed over it only once the whole reply is in,
 * so a failed fetch leaves the old file as it was; anything else (a FIFO,
 * /dev/stdout) is written in place and never removed.  j->path gets the
 * name to show.  Returns 0, or -1 with j->err set. */
static int output_open(job_t *j, const char *path, const char *tmpl, outfile_t *of)
{
    struct stat st;
    mode_t mask;
    char *slash;
    int exists;

    of->tmp[0] = of->final[0] = '\0';
    if (path == NULL) {
        snprintf(j->path, sizeof j->path, "%s/%sXXXXXX", tmp_dir(), tmpl);
        j->fd = mkostemp(j->path, O_CLOEXEC);
        if (j->fd >= 0)
            cg_strlcpy(of->tmp, j->path, sizeof of->tmp);
    } else {
        cg_strlcpy(j->path, path, sizeof j->path);
        exists = stat(path, &st) == 0;
        if (exists && !S_ISREG(st.st_mode)) {
            j->fd = open(path, O_WRONLY | O_CLOEXEC);
        } else {
            if (!exists || realpath(path, of->final) == NULL)
                cg_strlcpy(of->final, path, sizeof of->final);
            slash = strrchr(of->final, '/');
            if (slash == NULL)
                snprintf(of->tmp, sizeof of->tmp, ".cgops-XXXXXX");
            else
                snprintf(of->tmp, sizeof of->tmp, "%.*s/.cgops-XXXXXX",
                         (int)(slash - of->final), of->final);
            j->fd = mkostemp(of->tmp, O_CLOEXEC);
            if (j->fd >= 0) {
                mask = umask(0);
                umask(mask);
                /* The mode is cosmetic: a failure to set it is not one. */
                (void)!fchmod(j->fd, exists ? st.st_mode & 07777 : 0666 & ~mask);
            }
        }
    }
    if (j->fd < 0) {
        snprintf(j->err, sizeof j->err, "cannot create %.400s: %s", j->path, strerror(errno));
        of->tmp[0] = of->final[0] = '\0';
        return -1;
    }
    return 0;
}

/* Give up an opened output: what we created goes, what was there stays. */
static void output_abandon(job_t *j, outfile_t *of)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    if (of->tmp[0])
        unlink(of->tmp);
    of->tmp[0] = of->final[0] = '\0';
}

/* Fetch one binary reply (profile, trace, executable) into the output
 * output_open prepared, and keep it only if it is whole. */
static int fetch_into(uv_loop_t *loop, job_t *j, int byte, const char *what, const opts_t *o,
                      outfile_t *of)
{
    int rc;

    memset(&j->req, 0, sizeof j->req);
    j->headlen = 0;
    j->msg[0] = (unsigned char)byte;
    j->req.data = j;
    j->req.target = &j->target;
    j->req.msg = j->msg;
    j->req.msglen = 1;
    j->req.what = what;
    j->req.on_data = on_data;
    j->req.on_done = profile_done;
    set_timeouts(&j->req, byte, o);
    j->done = 0;
    rc = job_request_start(loop, j);
    if (rc < 0)
        j->status = rc;
    else
        uv_run(loop, UV_RUN_DEFAULT);
    if (close(j->fd) != 0 && j->status == 0) {
        j->status = -errno;
        snprintf(j->err, sizeof j->err, "writing %.400s: %s", j->path, strerror(errno));
    }
    j->fd = -1;
    if (j->status == 0 && of->final[0] && rename(of->tmp, of->final) != 0) {
        j->status = -errno;
        snprintf(j->err, sizeof j->err, "cannot save %.400s: %s", j->path, strerror(errno));
    }
    if (j->status != 0) {
        /* Never leave a partial profile behind to be mistaken for one. */
        output_abandon(j, of);
        return -1;
    }
    return 0;
}

static int go_on_path(void)
{
    const char *path = getenv("PATH");
    char *dirs, *d, *save = NULL;
    int found = 0;

    if (path == NULL)
        return 0;
    dirs = cg_xstrdup(path);
    for (d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/go", *d ? d : ".");
        found = access(p, X_OK) == 0;
    }
    free(dirs);
    return found;
}

static int run_profile(const cmd_t *cmd, const opts_t *o, const char *arg)
{
    int byte = cmd->agent_byte, procfd, rc;
    job_t j, b;
    outfile_t jof, bof;
    uv_loop_t loop;
    const char *tmpl = byte == PROTO_HEAP ? "heap_profile" : byte == PROTO_CPU ? "cpu_profile" : "trace";
    struct stat st;
    char profile[4096];
    int launch;

    memset(&j, 0, sizeof j);
    memset(&jof, 0, sizeof jof);
    memset(&bof, 0, sizeof bof);
    j.fd = -1;
    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = portfile_target_resolve(procfd, arg, &j.target, j.err);
    if (procfd >= 0)
        close(procfd);
    if (rc < 0) {
        cmd_error("%s", j.err);
        return CG_EXIT_FAIL;
    }
    if (o->verbose && j.target.pid && !j.target.pf.verified && j.target.pf.note[0])
        fprintf(stderr, "cgops: %s\n", j.target.pf.note);
    launch = !o->no_launch && !o->json && isatty(STDOUT_FILENO) && go_on_path();
    memset(&b, 0, sizeof b);
    b.fd = -1;
    b.target = j.target;
    /* Both outputs are made before anything is fetched: a bad --binary
     * path is reported at once, not after a 30 s CPU profile. */
    if (output_open(&j, o->outfile, tmpl, &jof) < 0) {
        cmd_error("%s", j.err);
        return CG_EXIT_FAIL;
    }
    if (o->binfile && output_open(&b, o->binfile, "binary", &bof) < 0) {
        output_abandon(&j, &jof);
        cmd_error("%s", b.err);
        return CG_EXIT_FAIL;
    }
    if (byte == PROTO_CPU)
        fputs("Profiling CPU now, will take 30 secs...\n", stderr);
    else if (byte == PROTO_TRACE)
        fputs("Tracing now, will take 5 secs...\n", stderr);
    rc = uv_loop_init(&loop);
    if (rc < 0) {
        output_abandon(&j, &jof);
        output_abandon(&b, &bof);
        cmd_error("cannot start the event loop: %s", uv_strerror(rc));
        return CG_EXIT_FAIL;
    }
    if (fetch_into(&loop, &j, byte, cmd->name, o, &jof) < 0) {
        output_abandon(&b, &bof);
        uv_loop_close(&loop);
        cmd_error("%s", j.err);
        return CG_EXIT_FAIL;
    }
    cg_strlcpy(profile, j.path, sizeof profile);
    if (!o->json)
        printf("%s dump saved to: %s\n", byte == PROTO_TRACE ? "Trace" : "Profile", profile);
    if (o->binfile || (launch && byte != PROTO_TRACE)) {
        if (!o->binfile && output_open(&b, NULL, "binary", &bof) < 0) {
            uv_loop_close(&loop);
            cmd_error("%s", b.err);
            return CG_EXIT_FAIL;
        }
        if (fetch_into(&loop, &b, PROTO_BINARY_DUMP, "binary dump", o, &bof) < 0) {
            uv_loop_close(&loop);
            cmd_error("%s", b.err);
            return CG_EXIT_FAIL;
        }
        if (!o->json)
            printf("Binary file saved to: %s\n", b.path);
        cg_strlcpy(j.path, b.path, sizeof j.path);
    }
    /* --json last: it names only files that are written. */
    if (o->json) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "path", profile);
        cJSON_AddNumberToObject(v, "size", stat(profile, &st) == 0 ? (double)st.st_size : 0);
        if (o->binfile)
            cJSON_AddStringToObject(v, "binary", o->binfile);
        out_json_write(stdout, v);
        cJSON_Delete(v);
    }
    uv_loop_close(&loop);
    if (launch) {
        fflush(stdout);
        if (byte == PROTO_TRACE)
            execlp("go", "go", "tool", "trace", profile, (char *)NULL);
        else
            execlp("go", "go", "tool", "pprof", j.path, profile, (char *)NULL);
        cmd_error("cannot run go tool: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    return CG_EXIT_OK;
}

/* ---- the command ----------------------------------------------------- */

int cmd_agent(int argc, char **argv, const cmd_t *cmd)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},
        {"binary", required_argument, NULL, 'b'},
        {"no-launch", no_argument, NULL, 'n'},
        {"all", no_argument, NULL, 'a'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    run_t run;
    char **targets = NULL;
    size_t ntargets = 0;
    long long gcvalue = 0;
    char *negative = NULL;
    uv_loop_t loop;
    int c, procfd, procerr;
    int byte = cmd->agent_byte;

    memset(&run, 0, sizeof run);
    run.cmd = cmd;
    /* Options may come anywhere, but "setgc PID -5 --json" must keep its
     * negative value: getopt would take it for an option, so a word that is
     * a negative integer (and not the value of an option) is set aside. */
    if (byte == PROTO_SETGC) {
        for (int i = 1; i < argc; i++) {
            const char *prev = argv[i - 1];

            if (strcmp(argv[i], "--") == 0)
                break;
            if (argv[i][0] != '-' || argv[i][1] == '\0' ||
                strspn(argv[i] + 1, "0123456789") != strlen(argv[i] + 1) ||
                strcmp(prev, "-t") == 0 || strcmp(prev, "--timeout") == 0 ||
                strcmp(prev, "-o") == 0 || strcmp(prev, "--output") == 0 ||
                strcmp(prev, "-b") == 0 || strcmp(prev, "--binary") == 0)
                continue;
            negative = argv[i];
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv);
            argc--;
            break;
        }
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "-jt:o:b:navh", longopts, NULL)) != -1) {
        switch (c) {
        case 1:
            targets = cg_xrealloc(targets, (ntargets + 1) * sizeof *targets);
            targets[ntargets++] = optarg;
            break;
        case 'j':
            run.o.json = 1;
            break;
        case 't':
            if (parse_timeout(optarg, &run.o.timeout_ms) < 0) {
                free(targets);
                return cmd_usage_error(cmd, "invalid --timeout '%s': want a duration such as 10s, 500ms or 2.5", optarg);
            }
            break;
        case 'o':
            run.o.outfile = optarg;
            break;
        case 'b':
            run.o.binfile = optarg;
            break;
        case 'n':
            run.o.no_launch = 1;
            break;
        case 'a':
            run.o.all = 1;
            break;
        case 'v':
            run.o.verbose = 1;
            break;
        case 'h':
            free(targets);
            return cmd_help(2, (char *[]){"help", (char *)cmd->name, NULL}, cmd_lookup("help"));
        default:
            free(targets);
            if (optopt && optopt != '?' && strchr("tob", optopt))
                return cmd_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
            return cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    /* After "--" everything is a target. */
    for (; optind < argc; optind++) {
        targets = cg_xrealloc(targets, (ntargets + 1) * sizeof *targets);
        targets[ntargets++] = argv[optind];
    }
    if (negative) {
        targets = cg_xrealloc(targets, (ntargets + 1) * sizeof *targets);
        targets[ntargets++] = negative;
    }
    if (byte == PROTO_SETGC) {
        char err[CG_ERR_LEN];
        if (ntargets == 0 || (ntargets == 1 && !run.o.all)) {
            free(targets);
            return cmd_usage_error(cmd, "setgc needs a target and a GC percent (an integer or 'off')");
        }
        if (proto_setgc_value_parse(targets[ntargets - 1], &gcvalue, err) < 0) {
            free(targets);
            return cmd_usage_error(cmd, "%s", err);
        }
        ntargets--;
    }
    if ((run.o.outfile || run.o.binfile) && !is_profile(cmd)) {
        free(targets);
        return cmd_usage_error(cmd, "-o and --binary only apply to pprof-heap, pprof-cpu and trace");
    }
    if (is_profile(cmd)) {
        int status;
        if (ntargets != 1 || run.o.all) {
            free(targets);
            return cmd_usage_error(cmd, "%s takes exactly one target", cmd->name);
        }
        status = run_profile(cmd, &run.o, targets[0]);
        free(targets);
        return status;
    }
    if (run.o.all && ntargets) {
        free(targets);
        return cmd_usage_error(cmd, "--all takes no targets");
    }
    if (!run.o.all && ntargets == 0) {
        free(targets);
        return cmd_usage_error(cmd, "missing target: a pid or host:port");
    }

    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    procerr = procfd < 0 ? errno : 0;
    c = uv_loop_init(&loop);
    if (c < 0) {
        cmd_error("cannot start the event loop: %s", uv_strerror(c));
        if (procfd >= 0)
            close(procfd);
        free(targets);
        return CG_EXIT_FAIL;
    }
    run.loop = &loop;
    run.procfd = procfd;
    run.gcvalue = gcvalue;
    run.multi = ntargets > 1 || run.o.all;
    run.max_files = descriptor_budget();
    if (run.o.all) {
        scan_result_t res;
        int rc;

        run.adding = 1;
        rc = procfd < 0 ? -procerr
                        : scan_run_each(procfd, &res, log_stderr, &run.o.verbose, on_found, &run);
        if (rc == 0)
            scan_free(&res);
        run.adding = 0;
        if (rc < 0 || run.njobs == 0) {
            if (rc < 0)
                cmd_error("cannot list processes: %s", strerror(-rc));
            else
                cmd_error("no process with a gops agent found");
            if (procfd >= 0)
                close(procfd);
            uv_loop_close(&loop);
            free(targets);
            return CG_EXIT_FAIL;
        }
    } else {
        for (size_t i = 0; i < ntargets; i++)
            job_add(&run, NULL, targets[i]);
    }
    if (procfd >= 0)
        close(procfd);
    /* Jobs that failed before their request ran, and with --all the end of
     * the JSON array once no job can be added. */
    advance_output(&run);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);

    for (size_t i = 0; i < run.njobs; i++) {
        job_t *j = run.jobs[i];

        proto_stack_parser_free(j->sp);
        free(j->buf);
        if (j->spool)
            fclose(j->spool);
        free(j);
    }
    free(run.jobs);
    free(targets);
    return run.failed ? CG_EXIT_FAIL : CG_EXIT_OK;
}

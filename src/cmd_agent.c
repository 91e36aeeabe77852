/* cmd_agent.c -- stack, gc, setgc, memstats, version, stats
 *
 * These take any number of targets (or --all) and query them concurrently
 * on one libuv loop; fanout.h keeps the output in target order, request.h
 * carries each command to its target, proto.h says whether a reply is
 * what the command expects, out_agent.h frames it.  This file only wires
 * them: options, targets, and what each reply byte is for.
 *
 * Every reply is checked before it is shown, in text mode as in --json:
 * the small replies are held whole (at most PROTO_REPLY_MAX bytes) and
 * parsed, a stack dump must begin as one and may not pass the runtime's
 * own 64 MiB limit.
 */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/fanout.h"
#include "cgops/loop.h"
#include "cgops/out_agent.h"
#include "cgops/portfile.h"
#include "cgops/proto.h"
#include "cgops/request.h"
#include "cgops/scan.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one waiting target may hold back for its turn, and all of them
 * together: a stack dump is at most 64 MiB as the runtime sends it (its
 * JSON form somewhat more); the other replies are a few KiB. */
#define SPOOL_TARGET_MAX (256ull << 20)
#define SPOOL_TOTAL_MAX (1ull << 30)

typedef struct {
    int json;
    int all;
    int verbose;
    uint64_t timeout_ns;
    int agent_only;
    int agentless;
    opt_strings_t headers;
    int insecure;
    const char *cacert;
} agent_opts_t;

/* The options every agent command has. */
#define AGENT_OPTS                                                                                    \
    OPT_BOOL_(0, "json", agent_opts_t, json, "print one JSON document (protocol/schemas/agent-*.schema.json)"), \
    OPT_BOOL_(0, "all", agent_opts_t, all, "every local process with a verified agent"),                \
    OPT_DURATION_(0, "timeout", agent_opts_t, timeout_ns,                                              \
                  "bound connect, silence and the whole exchange (10s, 500ms, 2.5)"),                   \
    OPT_BOOL_('v', "verbose", agent_opts_t, verbose, "say why a port could not be verified"),        \
    CMD_HTTP_OPTS_(agent_opts_t, "HTTP targets")

const opt_t cmd_agent_opts[] = {
    AGENT_OPTS,
    OPT_SEPARATOR_(),
    OPT_END_(),
};

const opt_t cmd_stack_opts[] = {
    AGENT_OPTS,
    OPT_BOOL_(0, "agent-only", agent_opts_t, agent_only,
              "fail when the process has no agent, instead of reading its goroutines from memory"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

const opt_t cmd_memstats_opts[] = {
    AGENT_OPTS,
    OPT_BOOL_(0, "agentless", agent_opts_t, agentless,
              "read the statistics from the process's memory even when it has an agent"),
    OPT_BOOL_(0, "agent-only", agent_opts_t, agent_only,
              "fail when the process has no agent, instead of reading its memory"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

typedef struct {
    const cmd_t *cmd;
    agent_opts_t o;
    out_agent_mode_t mode;
    uv_loop_t *loop;
    fanout_t *fan;
    int procfd;          /* /proc, to resolve pids */
    long long gcvalue;   /* setgc's argument */
    http_opts_t http;    /* -H, --insecure */
    int adding;          /* --all: discovery may still add targets */
    struct slot *slots;  /* one per target, in order (the fanout's items) */
    size_t nslots, capslots;
} run_t;

/* A target before its turn to start: all that is kept of the targets not
 * yet started or already done, so memory does not grow with their number
 * beyond a few bytes each (100,000 targets on a command line are legal). */
typedef struct slot {
    const char *arg;     /* the word to resolve, or NULL: found by --all */
    pid_t pid;           /* --all: what discovery found */
    int port;
    int verified;
} slot_t;

/* A target from its start to its end. */
typedef struct {
    run_t *run;
    size_t idx;          /* place in target order */
    request_t req;
    target_t target;
    char *buf;           /* a small reply held whole, or a stack dump's head */
    size_t len;
    proto_stack_parser_t *sp;   /* stack --json */
    int ngoroutines;
    int head_checked;    /* stack text: the start was seen to be a dump */
    int write_err;       /* stdout failed: said once, by the command */
    int emit_rc;         /* a goroutine could not be written (-errno) */
    char emit_err[CG_ERR_LEN];
    int last;            /* the reply's last byte so far */
    char head[PROTO_STACK_HEAD_MAX]; /* a stack dump's first bytes */
    size_t headlen;
    proto_text_state_t text; /* stack text: every byte printed is text */
    char err[CG_ERR_LEN];
} target_job_t;

static int is_stack(const run_t *run)
{
    return run->cmd->agent_byte == PROTO_STACK;
}

/* Write len bytes as the job's output; frame for the few bytes that open
 * and close its block, which pass the spool caps so that a target cut at
 * its cap still ends as valid JSON.  Returns 0 or -errno with err set. */
static int emit_bytes(target_job_t *j, const char *buf, size_t len, int frame, char *err)
{
    int rc = fanout_write(j->run->fan, j->idx, buf, len, frame);

    if (rc == -EFBIG)
        cg_seterr(err, "more output than cgops holds back for one target (%llu MiB) or for all (%llu MiB)",
                  SPOOL_TARGET_MAX >> 20, SPOOL_TOTAL_MAX >> 20);
    else if (rc < 0 && fanout_out_error(j->run->fan))
        j->write_err = 1; /* reported once, by the command */
    else if (rc < 0)
        cg_seterr(err, "cannot spool the reply in a temporary file: %s", strerror(-rc));
    return rc;
}

/* emit_bytes for a heap string, freed here. */
static int emit(target_job_t *j, char *s, int frame, char *err)
{
    int rc = emit_bytes(j, s, strlen(s), frame, err);

    free(s);
    return rc;
}

static void goroutine_cb(cJSON *g, void *ctx)
{
    target_job_t *j = ctx;

    /* The parser cannot be stopped from here: the first failure is kept
     * and on_data returns it after the feed. */
    if (j->emit_rc == 0)
        j->emit_rc = emit(j, out_agent_goroutine(j->run->mode, j->ngoroutines == 0, g), 0, j->emit_err);
    if (j->emit_rc == 0)
        j->ngoroutines++;
    cJSON_Delete(g);
}

static int hold(target_job_t *j, const char *buf, size_t len, size_t max, char *err)
{
    if (j->len + len > max) {
        cg_seterr(err, "%s reply larger than %zu bytes: not what a gops agent sends", j->run->cmd->name, max);
        return -EFBIG;
    }
    j->buf = cg_xrealloc(j->buf, j->len + len + 1);
    memcpy(j->buf + j->len, buf, len);
    j->len += len;
    j->buf[j->len] = '\0';
    return 0;
}

static int on_data(request_t *r, const char *buf, size_t len, char *err)
{
    target_job_t *j = r->data;
    run_t *run = j->run;
    proto_text_state_t before;
    size_t out;
    int rc;

    j->last = (unsigned char)buf[len - 1];
    if (!is_stack(run))
        return hold(j, buf, len, PROTO_REPLY_MAX, err);
    if (j->headlen < sizeof j->head) {
        size_t n = len < sizeof j->head - j->headlen ? len : sizeof j->head - j->headlen;
        memcpy(j->head + j->headlen, buf, n);
        j->headlen += n;
    }
    if (r->received > PROTO_STACK_RUNTIME_CAP) {
        cg_seterr(err, "stack reply larger than the Go runtime's 64 MiB limit: not a goroutine dump");
        return -EFBIG;
    }
    if (run->o.json) {
        rc = proto_stack_parser_feed(j->sp, buf, len, err);
        if (j->emit_rc < 0) {
            cg_strlcpy(err, j->emit_err, CG_ERR_LEN);
            return j->emit_rc;
        }
        return rc;
    }
    /* Printed as it arrives, so checked as it arrives: a peer's escape
     * sequence or binary never reaches the terminal.  A UTF-8 sequence cut
     * by the read's end is carried by the check and printed only once the
     * next read showed it whole. */
    before = j->text;
    rc = proto_text_stream_check(&j->text, buf, len, err);
    if (rc < 0) {
        cg_seterr(err, "malformed goroutine dump: not text (a control character or bytes that are not UTF-8)");
        return rc;
    }
    if (!j->head_checked) {
        /* Nothing goes out before the reply is seen to be a dump. */
        rc = hold(j, buf, len, PROTO_REPLY_MAX, err);
        if (rc == 0)
            rc = proto_stack_head_check(j->head, j->headlen, err);
        if (rc <= 0)
            return rc; /* refused, or too short to tell yet */
        j->head_checked = 1;
        rc = emit_bytes(j, j->buf, j->len - j->text.n, 0, err);
        free(j->buf);
        j->buf = NULL;
        j->len = 0;
        return rc;
    }
    /* What this read makes whole: the bytes carried from the last one,
     * then this one's, less what is carried on. */
    out = before.n + len - j->text.n;
    rc = emit_bytes(j, (const char *)before.carry, out < before.n ? out : before.n, 0, err);
    if (rc == 0 && out > before.n)
        rc = emit_bytes(j, buf, out - before.n, 0, err);
    return rc;
}

/* The reply is complete: check it (proto.h says what a reply of each
 * command must be), and write what was held back. */
static int complete_reply(target_job_t *j, int *cut, char *err)
{
    run_t *run = j->run;
    int byte = run->cmd->agent_byte, rc;
    cJSON *v;

    /* An HTTP 200 with nothing in it: no agent closed anything. */
    if (j->req.received == 0 && request_target_is_http(&j->target)) {
        cg_seterr(err, "the server sent an empty body for %s", run->cmd->name);
        return -EPROTO;
    }
    if (is_stack(run))
        rc = proto_reply_check(byte, j->head, j->headlen, j->req.received,
                               j->req.received ? j->last : -1, cut, err);
    else
        rc = proto_reply_check(byte, j->buf, j->len, j->req.received, j->req.received ? j->last : -1,
                               cut, err);
    if (rc < 0)
        return rc;
    if (is_stack(run)) {
        if (run->o.json) {
            if (*cut)
                proto_stack_parser_drop_partial_line(j->sp);
            if (proto_stack_parser_finish(j->sp, err) < 0)
                return -EPROTO;
            if (j->emit_rc < 0) {
                cg_strlcpy(err, j->emit_err, CG_ERR_LEN);
                return j->emit_rc;
            }
            return 0;
        }
        /* The runtime's cut may fall inside a UTF-8 sequence. */
        if (!*cut && proto_text_stream_end(&j->text, err) < 0)
            return -EPROTO;
        /* A dump shorter than its checked start is still held. */
        return j->head_checked ? 0 : emit_bytes(j, j->buf, j->len, 0, err);
    }
    if (!run->o.json)
        return byte == PROTO_GC ? 0 /* gops prints nothing */ : emit_bytes(j, j->buf, j->len, 0, err);
    v = proto_reply_json(byte, j->buf, j->len, err);
    if (v == NULL)
        return -EPROTO;
    rc = emit(j, out_agent_result(run->mode, v), 0, err);
    cJSON_Delete(v);
    return rc;
}

/* The job is over: its block is closed and its messages queued in order. */
static void job_end(target_job_t *j, const char *error, const char *warning)
{
    run_t *run = j->run;
    char err[CG_ERR_LEN];

    if (!j->write_err)
        emit(j, out_agent_close(run->mode, j->target.display, j->target.pid,
                                is_stack(run) && run->o.json ? j->ngoroutines : -1, error),
             1, err);
    /* A failed output is said once, by the command, not per target. */
    proto_stack_parser_free(j->sp);
    free(j->buf);
    /* The job goes before the fanout hears of its end, which may start the
     * next target; nothing of it is used after this (agent.h: on_done comes
     * once every handle of the request is closed). */
    {
        fanout_t *fan = run->fan;
        size_t idx = j->idx;
        int write_err = j->write_err;
        char *e = error ? cg_xstrdup(error) : NULL, *w = warning ? cg_xstrdup(warning) : NULL;

        free(j);
        fanout_finish(fan, idx, write_err ? (e ? "" : NULL) : e, w);
        free(e);
        free(w);
    }
}

static void job_done(request_t *r, int status)
{
    target_job_t *j = r->data;
    run_t *run = j->run;
    char err[CG_ERR_LEN] = "", msg[CG_ERR_LEN], warn[CG_ERR_LEN];
    int cut = 0;

    if (status == 0 && complete_reply(j, &cut, err) < 0) {
        snprintf(msg, sizeof msg, "%.100s: %.400s", j->target.display, err);
        status = -EPROTO;
    } else if (status != 0) {
        cg_strlcpy(msg, j->write_err ? "" : r->err, sizeof msg);
    }
    if (cut)
        snprintf(warn, sizeof warn, "%.100s: the Go runtime cut the goroutine dump at 64 MiB",
                 j->target.display);
    else if (r->note[0])
        cg_strlcpy(warn, r->note, sizeof warn);
    job_end(j, status ? msg : NULL, cut || r->note[0] ? warn : NULL);
    /* All written: a timed-out name lookup may still hold the loop. */
    if (fanout_all_written(run->fan) && !run->adding)
        uv_stop(run->loop);
}

/* A target's turn to start: resolve it, open its block, send the
 * request.  A target that cannot start ends here, with its message. */
static int job_start(void *item, size_t idx)
{
    run_t *run = item;
    const slot_t *slot = &run->slots[idx];
    target_job_t *j = cg_xcalloc(1, sizeof *j);
    char err[CG_ERR_LEN];
    int rc = 0;

    j->run = run;
    j->idx = idx;
    if (slot->arg == NULL) {
        portfile_t pf;

        memset(&pf, 0, sizeof pf);
        pf.port = slot->port;
        pf.verified = slot->verified;
        portfile_target_init(run->procfd, slot->pid, &pf, &j->target);
    } else {
        rc = request_target_resolve(run->procfd, slot->arg, &j->target, j->err);
        if (rc < 0)
            cg_strlcpy(j->target.display, slot->arg, sizeof j->target.display);
        else
            cmd_target_notes(&j->target, run->o.verbose);
    }
    emit(j, out_agent_open(run->mode, idx, j->target.display, j->target.pid), 1, err);
    if (rc < 0) {
        job_end(j, j->err, NULL);
        return rc;
    }
    if (run->o.json && is_stack(run))
        j->sp = proto_stack_parser_new(goroutine_cb, j);
    j->req.data = j;
    j->req.target = &j->target;
    j->req.command = run->cmd->agent_byte;
    j->req.arg = run->gcvalue;
    j->req.what = run->cmd->name;
    j->req.http = &run->http;
    j->req.on_data = on_data;
    j->req.on_done = job_done;
    request_set_timeouts(&j->req, run->cmd->agent_byte, run->o.timeout_ns);
    rc = request_start(run->loop, &j->req);
    if (rc < 0)
        job_end(j, j->req.err, NULL);
    return rc;
}

/* Add a target in order: arg (a pid or host:port to resolve) or, for
 * --all, what discovery found.  It starts when the fanout's budget allows. */
static void job_add(run_t *run, const char *arg, pid_t pid, int port, int verified)
{
    if (run->nslots == run->capslots) {
        run->capslots = run->capslots ? run->capslots * 2 : 16;
        run->slots = cg_xrealloc(run->slots, run->capslots * sizeof *run->slots);
    }
    run->slots[run->nslots++] = (slot_t){arg, pid, port, verified};
    fanout_add(run->fan, run);
}

/* --all: each process that discovery finds with a verified (or
 * unverifiable) agent is queried at once, so the agents answer while the
 * scan goes on; the loop is given a turn after each. */
static void on_found(const scan_proc_t *p, void *arg)
{
    run_t *run = arg;

    if (!p->agent)
        return;
    job_add(run, NULL, p->pid, p->agent_port, p->agent_verified);
    fanout_pump(run->fan);
    uv_run(run->loop, UV_RUN_NOWAIT);
}

/* stack --json targets parsed at once: each may hold one goroutine of up
 * to PROTO_STACK_GOROUTINE_MAX while it is built, so the run's memory is
 * bounded by this many of them, not by the number of agents (--all). */
#define STACK_JSON_PARALLEL 16

/* Descriptors that resolving one target may hold for a moment (its /proc
 * directory, root, port file, namespace and netlink sockets). */
#define RESOLVE_FDS 8

/* How many descriptors the requests and spools of a run may hold at once
 * (main raised the soft limit to the hard one): what the limit leaves once
 * the descriptors already open (the loop's, /proc) and a reserve for
 * resolving the next target are counted, at least 1, at most 1024.  At the
 * lowest limit cgops accepts (16) that is one request at a time. */
static size_t descriptor_budget(void)
{
    size_t limit = cg_raise_nofile(), open_now = 0;
    DIR *d = cg_opendir_at(AT_FDCWD, "/proc/self/fd");
    struct dirent *e;

    if (d == NULL)
        open_now = 16; /* unknown: assume a few */
    else {
        while ((e = readdir(d)) != NULL)
            open_now += e->d_name[0] != '.';
        closedir(d); /* its own descriptor was counted: one spare */
    }
    if (limit == SIZE_MAX || limit > 1024 + open_now + RESOLVE_FDS)
        return 1024;
    return limit > open_now + RESOLVE_FDS ? limit - open_now - RESOLVE_FDS : 1;
}

/* Parse the command line into run and the targets.  Returns OPT_GO_ON or
 * the exit status. */
static int parse_args(run_t *run, int argc, char **argv, opt_args_t *args)
{
    const cmd_t *cmd = run->cmd;
    int rc = opt_parse(cmd, argc, argv, &run->o, args);

    if (rc != OPT_GO_ON)
        return rc;
    if (cmd->agent_byte == PROTO_SETGC) {
        char err[CG_ERR_LEN];

        if (args->n == 0 || (args->n == 1 && !run->o.all))
            rc = cmd_usage_error(cmd, "setgc needs a target and a GC percent (an integer or 'off')");
        else if (proto_setgc_value_parse(args->v[args->n - 1], &run->gcvalue, err) < 0)
            rc = cmd_usage_error(cmd, "%s", err);
        else
            args->n--;
    }
    if (rc == OPT_GO_ON)
        rc = cmd_http_opts(cmd, &run->o.headers, run->o.insecure, run->o.cacert, &run->http);
    if (rc == OPT_GO_ON && run->o.all && args->n)
        rc = cmd_usage_error(cmd, "--all takes no targets");
    if (rc == OPT_GO_ON && !run->o.all && args->n == 0)
        rc = cmd_usage_error(cmd, "missing target: a pid or host:port");
    if (rc != OPT_GO_ON) {
        free(args->v);
        args->v = NULL;
    }
    return rc;
}

/* stack and memstats of one pid with no agent read the process's memory
 * instead (agentless.h), saying so on stderr.  Returns the exit status, or
 * OPT_GO_ON when the agent is to be asked. */
static int agentless_fallback(run_t *run, const opt_args_t *args)
{
    const int stack = run->cmd->agent_byte == PROTO_STACK;
    long long pid;
    target_t target;
    char err[CG_ERR_LEN] = "", probe[64];
    int procfd, rc;

    if ((!stack && run->cmd->agent_byte != PROTO_MEMSTATS) || run->o.all || args->n != 1 ||
        run->o.agent_only || cg_parse_ll(args->v[0], 1, 0x7fffffff, &pid) != 0)
        return OPT_GO_ON;
    if (!run->o.agentless) {
        snprintf(probe, sizeof probe, "/proc/%lld", pid);
        if (access(probe, F_OK) != 0)
            return OPT_GO_ON; /* the agent path says "no such process" */
        procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
            return OPT_GO_ON;
        memset(&target, 0, sizeof target);
        rc = portfile_target_resolve(procfd, args->v[0], &target, err);
        close(procfd);
        if (rc >= 0)
            return OPT_GO_ON;
        cmd_error("%s; reading %s from its memory instead (--agent-only to fail)", err,
                  stack ? "its goroutines" : "the runtime's statistics");
    }
    if (stack)
        return agentless_dump((pid_t)pid, run->o.json, 0, 0, GORT_DEPTH_MAX);
    return agentless_memstats((pid_t)pid, run->o.json);
}

int cmd_agent(int argc, char **argv, const cmd_t *cmd)
{
    run_t run;
    opt_args_t args;
    fanout_config_t fc;
    char err[CG_ERR_LEN];
    int rc, procerr, status = CG_EXIT_OK;

    memset(&run, 0, sizeof run);
    run.cmd = cmd;
    rc = parse_args(&run, argc, argv, &args);
    if (rc != OPT_GO_ON) {
        free(run.o.headers.v);
        http_opts_free(&run.http);
        return rc;
    }
    if (run.o.agentless && run.o.agent_only)
        rc = cmd_usage_error(cmd, "--agentless and --agent-only exclude each other");
    else
        rc = agentless_fallback(&run, &args);
    if (rc != OPT_GO_ON) {
        free(args.v);
        free(run.o.headers.v);
        http_opts_free(&run.http);
        return rc;
    }
    run.mode.json = run.o.json;
    run.mode.multi = args.n > 1 || run.o.all;
    run.loop = loop_new(err);
    if (run.loop == NULL) {
        free(args.v);
        free(run.o.headers.v);
        http_opts_free(&run.http);
        cmd_error("%s", err);
        return CG_EXIT_FAIL;
    }
    run.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    procerr = run.procfd < 0 ? errno : 0;
    memset(&fc, 0, sizeof fc);
    fc.out = stdout;
    fc.err = stderr;
    fc.max_files = descriptor_budget();
    if (run.o.json && is_stack(&run) && fc.max_files > STACK_JSON_PARALLEL)
        fc.max_files = STACK_JSON_PARALLEL;
    fc.spool_max = SPOOL_TARGET_MAX;
    fc.spool_total_max = SPOOL_TOTAL_MAX;
    fc.tmpdir = cg_tmp_dir();
    fc.start = job_start;
    fc.say = cmd_say;
    run.fan = fanout_new(&fc);

    if (run.o.all) {
        scan_result_t res;

        run.adding = 1;
        rc = run.procfd < 0 ? -procerr
                            : scan_run_each(run.procfd, &res, run.o.verbose ? cmd_log : NULL, NULL, on_found, &run);
        if (rc == 0)
            scan_free(&res);
        run.adding = 0;
        if (rc < 0)
            cmd_error("cannot list processes: %s", strerror(-rc));
        else if (fanout_count(run.fan) == 0)
            cmd_error("no process with a gops agent found");
        if (rc < 0 || fanout_count(run.fan) == 0)
            status = CG_EXIT_FAIL;
    } else {
        for (size_t i = 0; i < args.n; i++)
            job_add(&run, args.v[i], 0, 0, 0);
    }
    fanout_pump(run.fan);
    if (!fanout_all_written(run.fan))
        uv_run(run.loop, UV_RUN_DEFAULT);
    if (run.procfd >= 0)
        close(run.procfd);
    if (status == CG_EXIT_OK && fanout_out_error(run.fan) == 0) {
        char *end = out_agent_end(run.mode, fanout_count(run.fan));
        fputs(end, stdout);
        free(end);
    }
    if (fanout_failed(run.fan))
        status = CG_EXIT_FAIL;
    rc = fanout_out_error(run.fan);
    if (rc < 0) {
        if (rc != -EPIPE)
            cmd_error("write error on standard output: %s", strerror(-rc));
        /* Said once: what stdio still holds would fail again in main's
         * check and be said twice. */
        __fpurge(stdout);
        clearerr(stdout);
        status = CG_EXIT_FAIL;
    }
    if (loop_free(run.loop) < 0 && !agent_lookups_abandoned())
        cmd_error("the event loop could not be closed");
    fanout_free(run.fan);
    free(run.slots);
    free(args.v);
    free(run.o.headers.v);
    http_opts_free(&run.http);
    return status;
}

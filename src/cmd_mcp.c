/* cmd_mcp.c -- `cgops mcp`: a Model Context Protocol server on stdio
 *
 * The messages are mcp.c's; this file moves lines and runs commands.
 * Standard input is read with uv_fs_read on the loop (it works alike for a
 * pipe, a terminal or a file), split into lines of at most MCP_LINE_MAX
 * bytes; a longer line is answered with an error and skipped to its end.
 *
 * Requests are answered concurrently, each reply carrying its request's id
 * (JSON-RPC's way, which MCP keeps): ping, initialize and tools/list at
 * once; tool calls run as children (subcmd.h), at most MCP_RUNNING at a
 * time, the rest waiting in arrival order, so a 30 s CPU profile holds
 * neither a ping nor another tool.  At most MCP_QUEUED wait; past that we
 * stop reading until one finishes (the client waits, memory does not grow).
 * notifications/cancelled kills the child or drops the waiting call, and
 * no reply is sent for it.  At end of input, the calls already accepted
 * run to the end and are answered, then cgops exits 0.
 *
 * Replies are written with blocking stdio and flushed per message: one
 * message is one line, never interleaved.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/loop.h"
#include "cgops/mcp.h"
#include "cgops/subcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MCP_RUNNING 4
#define MCP_QUEUED 64
#define READ_CHUNK 65536

typedef struct {
    int allow_write;
} mcp_opts_t;

const opt_t cmd_mcp_opts[] = {
    OPT_BOOL_(0, "allow-write", mcp_opts_t, allow_write,
              "allow the tools that change a target: gc, set_gc_percent, CPU profiles"),
    OPT_END_(),
};

typedef struct call {
    subcmd_t sc;
    mcp_job_t *job;
    struct server *srv;
    int running, cancelled;
    struct call *next;
} call_t;

typedef struct server {
    mcp_t m;
    uv_loop_t *loop;
    uv_fs_t rd;
    char chunk[READ_CHUNK];
    char *line;
    size_t len;
    int skipping;  /* the rest of an oversized line */
    int reading;   /* a read is in flight */
    int eof;
    int write_failed; /* the errno of the failed write */
    call_t *calls; /* waiting and running, in arrival order */
    int nrunning, nwaiting;
    char tmpdir[512];
} server_t;

static void read_more(server_t *sv);
static void start_calls(server_t *sv);

static void send_line(server_t *sv, char *msg)
{
    if (msg == NULL)
        return;
    if (!sv->write_failed && (fputs(msg, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) != 0))
        sv->write_failed = errno ? errno : EIO; /* the client is gone: finish quietly */
    free(msg);
}

static void unlink_call(server_t *sv, call_t *c)
{
    for (call_t **p = &sv->calls; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

static void call_free(call_t *c)
{
    if (c->job && c->job->tmpfile)
        unlink(c->job->tmpfile);
    mcp_job_free(c->job);
    free(c);
}

static void call_done(subcmd_t *s, int status)
{
    call_t *c = s->data;
    server_t *sv = c->srv;
    char *reply = NULL;

    sv->nrunning--;
    c->running = 0;
    if (!c->cancelled && mcp_job_step(&sv->m, c->job, status, s->exit_status, s->out, s->outlen, s->errtext,
                                      &reply) == 1) {
        /* A next command (profile_top: read the profile just saved): it
         * waits again, in its place in arrival order. */
        subcmd_release(s);
        sv->nwaiting++;
        start_calls(sv);
        return;
    }
    subcmd_release(s);
    send_line(sv, reply);
    unlink_call(sv, c);
    call_free(c);
    /* A large answer (10,000 goroutines is ~10 MB of JSON and its tree)
     * leaves freed pages in the heap: give them back, so the server's
     * resident size returns to its base between calls. */
    malloc_trim(0);
    start_calls(sv);
    read_more(sv);
}

static void start_calls(server_t *sv)
{
    call_t *c = sv->calls, *next;

    for (; c && sv->nrunning < MCP_RUNNING; c = next) {
        int rc;

        next = c->next;
        if (c->running)
            continue;
        c->sc.data = c;
        c->sc.argv = (const char *const *)c->job->argv;
        c->sc.timeout_ms = c->job->timeout_ms;
        c->sc.max_out = c->job->max_out;
        c->sc.on_done = call_done;
        sv->nwaiting--;
        if ((rc = subcmd_start(sv->loop, &c->sc)) < 0) {
            char msg[CG_ERR_LEN];

            snprintf(msg, sizeof msg, "cannot run cgops: %s", strerror(-rc));
            send_line(sv, mcp_job_fail(c->job, msg));
            unlink_call(sv, c);
            call_free(c);
            continue;
        }
        c->running = 1;
        sv->nrunning++;
    }
}

static void cancel(server_t *sv, const cJSON *id)
{
    for (call_t *c = sv->calls; c; c = c->next) {
        if (!cJSON_Compare(c->job->id, id, 1) || c->cancelled)
            continue;
        c->cancelled = 1;
        if (c->running) {
            subcmd_cancel(&c->sc); /* call_done drops it */
        } else {
            sv->nwaiting--;
            unlink_call(sv, c);
            call_free(c);
        }
        return;
    }
}

static void handle_line(server_t *sv, const char *line, size_t len)
{
    mcp_out_t out;

    mcp_handle(&sv->m, line, len, &out);
    send_line(sv, out.reply);
    out.reply = NULL;
    if (out.cancel)
        cancel(sv, out.cancel);
    if (out.job) {
        call_t *c = cg_xcalloc(1, sizeof *c), **p = &sv->calls;

        c->job = out.job;
        c->srv = sv;
        out.job = NULL;
        while (*p)
            p = &(*p)->next;
        *p = c;
        sv->nwaiting++;
        start_calls(sv);
    }
    mcp_out_free(&out);
}

static void feed(server_t *sv, const char *p, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;

        if (!sv->skipping) {
            if (sv->len + take > MCP_LINE_MAX) {
                send_line(sv, mcp_error_reply(NULL, MCP_INVALID_REQUEST, "request line over 1 MiB: skipped"));
                sv->skipping = 1;
                sv->len = 0;
            } else {
                memcpy(sv->line + sv->len, p, take);
                sv->len += take;
            }
        }
        if (nl == NULL)
            return;
        if (!sv->skipping)
            handle_line(sv, sv->line, sv->len);
        sv->skipping = 0;
        sv->len = 0;
        p += take + 1;
        n -= take + 1;
    }
}

static void read_cb(uv_fs_t *req)
{
    server_t *sv = req->data;
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    sv->reading = 0;
    if (n <= 0) {
        /* End of input (or a read error, the same end): a last line
         * without its newline still counts. */
        if (sv->len > 0 && !sv->skipping)
            handle_line(sv, sv->line, sv->len);
        sv->len = 0;
        sv->eof = 1;
        return;
    }
    feed(sv, sv->chunk, (size_t)n);
    read_more(sv);
}

static void read_more(server_t *sv)
{
    uv_buf_t b;

    if (sv->reading || sv->eof || sv->write_failed || sv->nwaiting >= MCP_QUEUED)
        return;
    b = uv_buf_init(sv->chunk, sizeof sv->chunk);
    sv->rd.data = sv;
    if (uv_fs_read(sv->loop, &sv->rd, 0, &b, 1, -1, read_cb) < 0) {
        sv->eof = 1;
        return;
    }
    sv->reading = 1;
}

int cmd_mcp(int argc, char **argv, const cmd_t *cmd)
{
    mcp_opts_t o = {0};
    opt_args_t args = {0};
    server_t *sv;
    char err[CG_ERR_LEN] = "";
    int rc, fl, deleted = 0;

    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON)
        return rc;
    rc = args.n;
    free(args.v);
    if (rc > 0)
        return cmd_usage_error(cmd, "mcp takes no arguments");
    if (subcmd_exe_init(&deleted, err) < 0)
        return cmd_error("%s", err);
    if (deleted)
        cmd_say(stderr, "note: the cgops binary was replaced since it started; tools run the old one "
                        "(restart to use the new)");
    sv = cg_xcalloc(1, sizeof *sv);
    sv->line = cg_xmalloc(MCP_LINE_MAX + 1);
    snprintf(sv->tmpdir, sizeof sv->tmpdir, "%s/cgops-mcp-XXXXXX", cg_tmp_dir());
    if (mkdtemp(sv->tmpdir) == NULL) {
        cmd_error("cannot create a temporary directory in %s: %s", cg_tmp_dir(), strerror(errno));
        sv->tmpdir[0] = '\0';
    }
    mcp_init(&sv->m, o.allow_write, sv->tmpdir[0] ? sv->tmpdir : NULL);
    if ((sv->loop = loop_new(err)) == NULL) {
        free(sv->line);
        free(sv);
        return cmd_error("%s", err);
    }
    /* A client may hand us a non-blocking stdin; the reads run in
     * libuv's thread pool and must block there, or EAGAIN would look like
     * the end of input. */
    if ((fl = fcntl(0, F_GETFL)) >= 0 && (fl & O_NONBLOCK))
        fcntl(0, F_SETFL, fl & ~O_NONBLOCK);
    read_more(sv);
    uv_run(sv->loop, UV_RUN_DEFAULT);
    loop_free(sv->loop);
    if (sv->tmpdir[0])
        rmdir(sv->tmpdir);
    /* Said here, with the errno of that write: main's check of stdout
     * would see only the stream's error flag and print whatever errno
     * the children's reaping left ("No such process"). */
    rc = CG_EXIT_OK;
    if (sv->write_failed) {
        clearerr(stdout);
        if (sv->write_failed != EPIPE)
            cmd_error("write error on standard output: %s", strerror(sv->write_failed));
        rc = CG_EXIT_FAIL;
    }
    free(sv->line);
    free(sv);
    return rc;
}

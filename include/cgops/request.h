/* request.h -- one command sent to one target, whatever carries it
 *
 * The commands ask for content (a stack dump, memstats, a heap profile);
 * how the bytes travel is the transport's business.  Today every target is
 * a gops agent (agent.h) or a net/http/pprof server (http_pprof.h, over
 * http.h), chosen per target, so no command grows an `if` for it: the
 * HTTP side hands the commands the reply an agent would have sent.  Data
 * is handed to on_data as it arrives; nothing here prints.
 */
#ifndef CGOPS_REQUEST_H
#define CGOPS_REQUEST_H

#include "cgops/agent.h"
#include "cgops/common.h"
#include "cgops/http.h"
#include "cgops/portfile.h"
#include "cgops/proto.h"

#include <stdint.h>
#include <uv.h>

typedef struct request request_t;

/* Return 0 to go on, or -errno to stop the request (err then says why). */
typedef int (*request_data_cb)(request_t *r, const char *buf, size_t len, char *err);
/* status 0: the whole reply arrived; else -errno and r->err says why,
 * prefixed with the target. */
typedef void (*request_done_cb)(request_t *r, int status);

struct request {
    /* set by the caller */
    void *data;
    const target_t *target;
    int command;         /* PROTO_* */
    long long arg;       /* setgc's value */
    const char *what;    /* for messages: "memstats" */
    uint64_t connect_timeout_ms;
    uint64_t idle_timeout_ms;  /* most silence while waiting for data */
    uint64_t total_timeout_ms; /* bound on the whole exchange, never 0 */
    request_data_cb on_data;
    request_done_cb on_done;
    const http_opts_t *http;   /* HTTP targets: -H, --insecure (may be NULL) */
    unsigned seconds;          /* HTTP targets: a CPU profile's or trace's length (0: 30 s, 5 s) */

    /* results */
    uint64_t received;   /* reply bytes so far */
    char err[CG_ERR_LEN];
    char note[CG_ERR_LEN]; /* what the user should know besides the reply
                              ("GC run by /debug/pprof/heap?gc=1"), or "" */

    /* private: the transport's state */
    agent_req_t agent;
    unsigned char msg[1 + PROTO_SETGC_ARG_LEN];
    void *hp;            /* the HTTP exchange (http_pprof.c) */
    uv_loop_t *loop;
};

/* Resolve a command-line target: "http://..." or "https://..." is a
 * net/http/pprof base URL (http.h checks it), anything else goes to
 * portfile_target_resolve (a pid, host:port).  Returns 0 or -errno with err
 * set. */
int request_target_resolve(int procfd, const char *arg, target_t *out, char *err);

/* Whether t is reached over HTTP. */
static inline int request_target_is_http(const target_t *t)
{
    return t->url[0] != '\0';
}

/* Default time bounds for command (PROTO_*), or all three set to timeout_ns
 * (--timeout) when it is not 0.  Every request has a total deadline by
 * default, so a peer that trickles a byte now and then cannot hold cgops:
 * 30 s for the small replies, 60 s for a heap or CPU profile (the CPU
 * profile itself takes 30 s) and a trace, 120 s for a stack dump (the
 * runtime formats about a million goroutines in 28 s) and the binary. */
void request_set_timeouts(request_t *r, int command, uint64_t timeout_ns);

/* Start r on loop.  on_done is called exactly once, after everything of
 * the request is closed, so r may be freed there.  Returns 0, or -errno
 * with r->err set when nothing could be started (on_done is not called). */
int request_start(uv_loop_t *loop, request_t *r);

/* The loop a started request runs on (for a caller that stops it). */
uv_loop_t *request_loop(const request_t *r);

#endif

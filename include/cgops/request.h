/* request.h -- one command sent to one target, whatever carries it
 *
 * The commands ask for content (a stack dump, memstats, a heap profile);
 * how the bytes travel is the transport's business.  Today every target is
 * a gops agent (agent.h); an HTTP transport (net/http/pprof) slots in here
 * beside it, chosen per target, so no command grows an `if` for it.  Data
 * is handed to on_data as it arrives; nothing here prints.
 */
#ifndef CGOPS_REQUEST_H
#define CGOPS_REQUEST_H

#include "cgops/agent.h"
#include "cgops/common.h"
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

    /* results */
    uint64_t received;   /* reply bytes so far */
    char err[CG_ERR_LEN];

    /* private: the transport's state */
    agent_req_t agent;
    unsigned char msg[1 + PROTO_SETGC_ARG_LEN];
};

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

#endif

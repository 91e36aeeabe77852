/* agent.h -- one request to a gops agent, on a libuv loop
 *
 * A request resolves the target's address, connects (inside the target's
 * network namespace when needed), sends the command bytes in one write and
 * reads until the agent closes.  Data is handed to on_data as it arrives,
 * so the caller decides where it goes and memory stays flat.  Any number of
 * requests can run at once on one loop (one loop per process: they share
 * one read buffer, valid only during on_data).  Nothing here prints.
 */
#ifndef CGOPS_AGENT_H
#define CGOPS_AGENT_H

#include "cgops/common.h"
#include "cgops/portfile.h"

#include <stdint.h>
#include <uv.h>

typedef struct agent_req agent_req_t;

/* Return 0 to go on, or -errno to stop the request (err then says why). */
typedef int (*agent_data_cb)(agent_req_t *r, const char *buf, size_t len, char *err);
/* status 0: the agent sent its reply and closed; else -errno and r->err. */
typedef void (*agent_done_cb)(agent_req_t *r, int status);

struct agent_req {
    /* set by the caller */
    void *data;
    const target_t *target;
    const unsigned char *msg;   /* command byte(s) to send */
    size_t msglen;
    const char *what;           /* command name for messages: "memstats" */
    uint64_t connect_timeout_ms;
    uint64_t idle_timeout_ms;   /* max silence while waiting for data */
    uint64_t total_timeout_ms;  /* 0 = none; bounds the whole exchange */
    agent_data_cb on_data;
    agent_done_cb on_done;

    /* results */
    uint64_t received;          /* reply bytes so far */
    char err[CG_ERR_LEN];

    /* private */
    uv_loop_t *loop;
    uv_getaddrinfo_t *gai;      /* the lookup, while one runs */
    uv_connect_t conn;
    uv_write_t wr;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_buf_t wbuf;
    uint64_t deadline;          /* loop time (ms) of the total deadline */
    int phase;
    int closing;
    int handles_open;
    int tcp_open;
    int gai_pending;
    int status;
    struct addrinfo *addrs;     /* from the lookup; tried in turn */
    struct addrinfo *next_addr; /* the next one to try on a failed connect */
};

/* Start r on loop.  on_done is called exactly once, after every handle of
 * the request is closed, so r may be freed there.  Returns 0, or -errno
 * when nothing could be started (on_done is then not called). */
int agent_req_start(uv_loop_t *loop, agent_req_t *r);

/* Name lookups given up on (timed out) but still running in libuv's thread
 * pool: they cannot be stopped, they keep the loop alive and libuv's exit
 * handler waits for them.  When this is non-zero, the caller stops its loop
 * once its own requests are done and ends the process with _exit(). */
int agent_lookups_abandoned(void);

/* Format milliseconds the way the user wrote a duration: "10s", "1.5s",
 * "250ms". */
void agent_format_ms(uint64_t ms, char *buf, size_t size);

#endif

/* agent.c -- one request to a gops agent, on a libuv loop
 *
 * Phases: resolve (uv_getaddrinfo) -> connect -> write the command -> read
 * until EOF.  One timer guards every phase: the connect timeout while
 * connecting, then the idle timeout re-armed on each chunk, never past the
 * total deadline.  The agent writes nothing at all when a command fails
 * inside it and never closes the connection, so without this timer a client
 * would hang forever.
 */
#include "cgops/agent.h"
#include "cgops/netns.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PH_RESOLVE, PH_CONNECT, PH_READ, PH_DONE };

static int lookups_abandoned;

int agent_lookups_abandoned(void)
{
    return lookups_abandoned;
}

static const char *target_name(const agent_req_t *r)
{
    return r->target->display;
}

void agent_format_ms(uint64_t ms, char *buf, size_t size)
{
    if (ms % 1000 == 0) {
        snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
    } else if (ms > 1000) {
        /* Exact, trailing zeros cut: 1500 -> "1.5s", 1001 -> "1.001s". */
        char frac[8];
        size_t n;

        snprintf(frac, sizeof frac, "%03u", (unsigned)(ms % 1000));
        n = strlen(frac);
        while (n > 0 && frac[n - 1] == '0')
            frac[--n] = '\0';
        snprintf(buf, size, "%llu.%ss", (unsigned long long)(ms / 1000), frac);
    } else {
        snprintf(buf, size, "%llums", (unsigned long long)ms);
    }
}

/* on_done runs once nothing of the request is pending any more: handles
 * closed and the name lookup, which is a request, returned. */
static void maybe_done(agent_req_t *r)
{
    if (r->handles_open == 0 && !r->gai_pending) {
        if (r->addrs)
            uv_freeaddrinfo(r->addrs);
        r->addrs = r->next_addr = NULL;
        r->on_done(r, r->status);
    }
}

static void close_cb(uv_handle_t *h)
{
    agent_req_t *r = h->data;

    r->handles_open--;
    maybe_done(r);
}

/* End the request with status (0 or -errno; r->err already set). */
static void finish(agent_req_t *r, int status)
{
    if (r->closing)
        return;
    r->closing = 1;
    r->phase = PH_DONE;
    r->status = status;
    if (r->gai_pending && uv_cancel((uv_req_t *)r->gai) != 0) {
        /* Already running in the thread pool: it cannot be stopped, so it
         * is left to finish on its own (gai_cb frees it) and the request
         * ends now instead of when the resolver gives up. */
        r->gai->data = NULL;
        r->gai = NULL;
        r->gai_pending = 0;
        lookups_abandoned++;
    }
    uv_close((uv_handle_t *)&r->timer, close_cb);
    if (r->tcp_open)
        uv_close((uv_handle_t *)&r->tcp, close_cb);
}

static void fail(agent_req_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(agent_req_t *r, int status, const char *fmt, ...)
{
    char msg[CG_ERR_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%.100s: %.400s", target_name(r), msg);
    finish(r, status);
}

static void timer_cb(uv_timer_t *t)
{
    agent_req_t *r = t->data;
    char d[32];
    uint64_t now = uv_now(r->loop);

    if (r->deadline && now >= r->deadline && r->phase == PH_READ) {
        agent_format_ms(r->total_timeout_ms, d, sizeof d);
        fail(r, -ETIMEDOUT, "timed out after %s waiting for the %s reply (%llu bytes received)",
             d, r->what, (unsigned long long)r->received);
        return;
    }
    switch (r->phase) {
    case PH_RESOLVE:
        /* finish() abandons a lookup already running in the thread pool
         * (see agent_lookups_abandoned). */
        agent_format_ms(r->connect_timeout_ms, d, sizeof d);
        fail(r, -ETIMEDOUT, "timed out after %s looking up host '%s'", d, r->target->host);
        break;
    case PH_CONNECT:
        agent_format_ms(r->connect_timeout_ms, d, sizeof d);
        fail(r, -ETIMEDOUT, "timed out after %s waiting to connect", d);
        break;
    default:
        agent_format_ms(r->idle_timeout_ms, d, sizeof d);
        if (r->received == 0)
            fail(r, -ETIMEDOUT, "timed out after %s waiting for the %s reply", d, r->what);
        else
            fail(r, -ETIMEDOUT, "timed out after %s of silence in the %s reply (%llu bytes received)",
                 d, r->what, (unsigned long long)r->received);
        break;
    }
}

/* Arm the timer for timeout_ms, but never past the total deadline. */
static void arm(agent_req_t *r, uint64_t timeout_ms)
{
    uint64_t now = uv_now(r->loop);

    if (r->deadline) {
        uint64_t left = r->deadline > now ? r->deadline - now : 0;
        if (timeout_ms == 0 || left < timeout_ms)
            timeout_ms = left;
    }
    uv_timer_start(&r->timer, timer_cb, timeout_ms, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    /* libuv calls read_cb right after each read, and on_data hands the
     * bytes on before it returns, so every request of the (single-threaded)
     * loop can read into one buffer: memory does not grow with the reply or
     * with the number of targets. */
    static char rbuf[65536];

    (void)h;
    (void)suggested;
    buf->base = rbuf;
    buf->len = sizeof rbuf;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    agent_req_t *r = s->data;

    if (r->closing)
        return;
    if (nread > 0) {
        char err[CG_ERR_LEN] = "";
        int rc;

        r->received += (uint64_t)nread;
        rc = r->on_data(r, buf->base, (size_t)nread, err);
        if (rc < 0) {
            fail(r, rc, "%s", err[0] ? err : strerror(-rc));
            return;
        }
        arm(r, r->idle_timeout_ms);
        return;
    }
    if (nread == UV_EOF) {
        finish(r, 0);
        return;
    }
    if (nread < 0) {
        if (nread == UV_ECONNRESET)
            fail(r, (int)nread, "connection reset by the agent after %llu bytes of the %s reply",
                 (unsigned long long)r->received, r->what);
        else
            fail(r, (int)nread, "reading the %s reply: %s", r->what, uv_strerror((int)nread));
    }
}

static void write_cb(uv_write_t *w, int status)
{
    agent_req_t *r = w->data;

    if (r->closing)
        return;
    if (status < 0)
        fail(r, status, "sending the %s command: %s", r->what, uv_strerror(status));
}

static void connect_to(agent_req_t *r, const struct sockaddr *addr);

/* The socket of a failed connect is closed: try the next address. */
static void retry_close_cb(uv_handle_t *h)
{
    agent_req_t *r = h->data;
    const struct addrinfo *ai = r->next_addr;

    r->handles_open--;
    if (r->closing) {
        maybe_done(r);
        return;
    }
    r->next_addr = ai->ai_next;
    connect_to(r, ai->ai_addr);
}

static void connect_cb(uv_connect_t *c, int status)
{
    agent_req_t *r = c->data;
    int rc;

    if (r->closing)
        return;
    if (status < 0 && r->next_addr) {
        /* A name may give several addresses ("localhost": ::1 and
         * 127.0.0.1) and the agent listens on one: try each, as Go's
         * net.Dial does. */
        r->tcp_open = 0; /* being closed: finish() must not close it again */
        uv_close((uv_handle_t *)&r->tcp, retry_close_cb);
        return;
    }
    if (status < 0) {
        fail(r, status, "cannot connect: %s", uv_strerror(status));
        return;
    }
    r->phase = PH_READ;
    arm(r, r->idle_timeout_ms);
    /* Exactly the command bytes, in one write: anything more turns the
     * agent's close into a reset. */
    r->wbuf = uv_buf_init((char *)r->msg, (unsigned)r->msglen);
    r->wr.data = r;
    rc = uv_write(&r->wr, (uv_stream_t *)&r->tcp, &r->wbuf, 1, write_cb);
    if (rc == 0)
        rc = uv_read_start((uv_stream_t *)&r->tcp, alloc_cb, read_cb);
    if (rc < 0)
        fail(r, rc, "sending the %s command: %s", r->what, uv_strerror(rc));
}

/* Open the socket (inside the target's network namespace if need be) and
 * start connecting to addr. */
static void connect_to(agent_req_t *r, const struct sockaddr *addr)
{
    int rc;

    r->phase = PH_CONNECT;
    rc = uv_tcp_init(r->loop, &r->tcp);
    if (rc < 0) {
        fail(r, rc, "cannot create a socket: %s", uv_strerror(rc));
        return;
    }
    r->tcp.data = r;
    r->tcp_open = 1;
    r->handles_open++;
    if (r->target->netns_pid) {
        char why[CG_ERR_LEN];
        int fd;

        rc = netns_tcp_socket(r->target->netns_pid, addr->sa_family, &fd, why);
        if (rc < 0) {
            fail(r, rc, "%s", why);
            return;
        }
        rc = uv_tcp_open(&r->tcp, fd);
        if (rc < 0) {
            close(fd);
            fail(r, rc, "cannot use the socket: %s", uv_strerror(rc));
            return;
        }
    }
    r->conn.data = r;
    rc = uv_tcp_connect(&r->conn, &r->tcp, addr, connect_cb);
    if (rc < 0)
        fail(r, rc, "cannot connect: %s", uv_strerror(rc));
}

static void gai_cb(uv_getaddrinfo_t *g, int status, struct addrinfo *res)
{
    agent_req_t *r = g->data;

    free(g);
    if (r == NULL) { /* abandoned by finish() */
        uv_freeaddrinfo(res);
        lookups_abandoned--;
        return;
    }
    r->gai = NULL;
    r->gai_pending = 0;
    if (r->closing) {
        uv_freeaddrinfo(res);
        maybe_done(r);
        return;
    }
    if (status < 0) {
        fail(r, status, "cannot resolve host '%s': %s", r->target->host, uv_strerror(status));
        uv_freeaddrinfo(res);
        return;
    }
    r->addrs = res;
    r->next_addr = res->ai_next;
    connect_to(r, res->ai_addr);
}

/* A numeric address and port need no lookup: skipping getaddrinfo (and
 * the thread pool it runs on) is most of the cost of a small command. */
static int numeric_addr(const target_t *t, struct sockaddr_storage *ss)
{
    long long port;

    if (cg_parse_ll(t->port, 1, 65535, &port) != 0)
        return 0;
    return uv_ip4_addr(t->host, (int)port, (struct sockaddr_in *)ss) == 0 ||
           uv_ip6_addr(t->host, (int)port, (struct sockaddr_in6 *)ss) == 0;
}

int agent_req_start(uv_loop_t *loop, agent_req_t *r)
{
    struct addrinfo hints;
    struct sockaddr_storage ss;
    int rc;

    r->loop = loop;
    r->received = 0;
    r->err[0] = '\0';
    r->closing = 0;
    r->status = 0;
    r->phase = PH_RESOLVE;
    r->handles_open = 0;
    r->tcp_open = 0;
    r->gai_pending = 0;
    r->gai = NULL;
    r->addrs = r->next_addr = NULL;
    rc = uv_timer_init(loop, &r->timer);
    if (rc < 0)
        return rc;
    r->timer.data = r;
    r->handles_open = 1;
    r->deadline = r->total_timeout_ms ? uv_now(loop) + r->total_timeout_ms : 0;
    arm(r, r->connect_timeout_ms);
    if (numeric_addr(r->target, &ss)) {
        connect_to(r, (const struct sockaddr *)&ss);
        return 0;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r->gai = cg_xcalloc(1, sizeof *r->gai);
    r->gai->data = r;
    r->gai_pending = 1;
    rc = uv_getaddrinfo(loop, r->gai, gai_cb, r->target->host, r->target->port, &hints);
    if (rc < 0) {
        free(r->gai);
        r->gai = NULL;
        r->gai_pending = 0;
        fail(r, rc, "cannot resolve host '%s': %s", r->target->host, uv_strerror(rc));
    }
    return 0;
}

/* serve.h -- `cgops serve`: the host's Go processes over HTTP, on one libuv loop
 *
 * The server (serve.c) is libmicrohttpd in external-event mode driven from
 * the command's libuv loop; every answer is computed by a cgops command run
 * in a child (subcmd.h), so a crash or a hang in a reader costs one request,
 * never the server.  The pure parts (serve_route.c: routes, the listen
 * address, the bearer token, the mapping of a child's failure to an HTTP
 * status) take text and are tested and fuzzed on their own.
 */
#ifndef CGOPS_SERVE_H
#define CGOPS_SERVE_H

#include "cgops/common.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* The default address, and what a non-loopback one needs (a token). */
#define SERVE_DEFAULT_LISTEN "127.0.0.1:9465"
/* The largest token file read; the token is what is left once trimmed. */
#define SERVE_TOKEN_MAX 4096
/* The largest pid the kernel hands out (PID_MAX_LIMIT on 64-bit). */
#define SERVE_PID_MAX 4194304

typedef enum {
    SERVE_R_NONE = 0,
    SERVE_R_HEALTH,     /* GET /healthz: no token, for probes */
    SERVE_R_METRICS,    /* GET /metrics */
    SERVE_R_PROCESSES,  /* GET /api/v1/processes */
    SERVE_R_PROCESS,    /* GET /api/v1/processes/PID */
    SERVE_R_GOROUTINES, /* GET .../PID/goroutines[?group_by=KEY] */
    SERVE_R_SUMMARY,    /* GET .../PID/summary[?group_by=KEY] */
    SERVE_R_STATS,      /* GET .../PID/stats */
    SERVE_R_MEMSTATS,   /* GET .../PID/memstats */
    SERVE_R_STACK,      /* GET .../PID/stack */
    SERVE_R_PROFILE,    /* GET .../PID/profile/KIND[?format=top|raw] */
    SERVE_R_GC,         /* POST .../PID/gc */
    SERVE_R_SETGC,      /* POST .../PID/setgc?percent=N|off */
} serve_route_kind_t;

typedef struct {
    serve_route_kind_t kind;
    int pid;              /* 1..SERVE_PID_MAX for the per-process routes */
    char profile[16];     /* "heap", "cpu", "trace" */
    const char *method;   /* the one method the route takes ("GET", "POST") */
} serve_route_t;

/* Match a request's method and decoded path (no query string) against the
 * routes.  Returns 0 with r filled, or the HTTP status to answer with and
 * a message in err: 404 for a path no route has (any other shape, "..",
 * "." or empty segments, a trailing slash, unknown profile kinds), 400 for
 * a pid that is not 1..SERVE_PID_MAX written in plain digits, 405 when the
 * path is known but the method is not (r->method then says which is). */
int serve_route_parse(const char *method, const char *path, serve_route_t *r, char *err);

/* Whether a route changes the target or makes it work (gc, setgc, CPU
 * profile, trace): refused (403) unless --allow-write. */
int serve_route_writes(const serve_route_t *r);

/* A query value: group_by must be location|start|creator|wait; percent an
 * integer -1..2147483647 or "off"; format top|raw.  Return 0 or -EINVAL
 * with err set. */
int serve_check_group_by(const char *v, char *err);
int serve_check_percent(const char *v, char *err);
int serve_check_format(const char *v, char *err);

/* Parse a listen address: "HOST:PORT", "[V6]:PORT" (numeric addresses or
 * "localhost"; port 0..65535, 0 for any free port).  Fills ss and *sslen,
 * *loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).  Returns 0 or
 * -EINVAL with err set. */
int serve_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, int *loopback,
                       char *err);

/* Read a bearer token from path: a regular file (symlinks followed, as
 * Kubernetes mounts secrets), not readable by others (mode o-r), at most
 * SERVE_TOKEN_MAX bytes, trimmed of white space, then non-empty and made of
 * printable ASCII without spaces (it goes in a header).  tok has room for
 * SERVE_TOKEN_MAX + 1 bytes.  Returns 0 or -errno with err set. */
int serve_token_read(const char *path, char *tok, char *err);

/* Whether an Authorization header value is "Bearer TOKEN" for token, in
 * time that depends on neither where the two differ nor the token's length
 * (every byte of a SERVE_TOKEN_MAX window is compared).  hdr may be NULL. */
int serve_token_ok(const char *hdr, const char *token);

/* The HTTP status for a command that did not answer: status is subcmd's
 * (0 exited, -ETIMEDOUT, -EFBIG, -errno), exit_status and errtext the
 * child's.  The rule: timed out (either bound) 504; exit 2 (usage) 400;
 * "no such process", "not a Go" 404; a message about the agent (port
 * file, TCPAddress, agent, reply, connection) 502; anything else 500. */
int serve_status_of(int status, int exit_status, const char *errtext);

/* Whether an Accept header asks for OpenMetrics before the text format. */
int serve_wants_openmetrics(const char *accept);

/* What one client address may hold at once: commands of its own running
 * or queued (a request that joins an identical command under way holds
 * none).  A table of at most cap addresses, each with its count; an
 * address is dropped when its count falls to 0.  IPv4 and IPv4-mapped
 * IPv6 peers are the same key (a dual-stack listener sees the latter). */
#define SERVE_PER_CLIENT_DEFAULT 16
typedef struct {
    unsigned char addr[16]; /* IPv6, or ::ffff:a.b.c.d */
    unsigned n;             /* 0: a free entry */
} serve_client_t;
typedef struct {
    serve_client_t *v;
    size_t cap;     /* entries in v: enough for every command at once */
    unsigned limit; /* what one address may hold */
} serve_fair_t;
/* The key of a peer address (AF_INET or AF_INET6): 0, or -EAFNOSUPPORT. */
int serve_fair_key(const struct sockaddr *sa, unsigned char key[16]);
/* One more command for key: returns its entry (>= 0, for
 * serve_fair_release), -EAGAIN when key holds limit already (answer 429),
 * or -ENOSPC when the table is full (cannot happen when cap is at least
 * every command that can be held at once). */
int serve_fair_take(serve_fair_t *f, const unsigned char key[16]);
/* The command counted in entry i (from serve_fair_take) has ended. */
void serve_fair_release(serve_fair_t *f, int i);

typedef struct {
    const char *listen;        /* NULL: SERVE_DEFAULT_LISTEN */
    const char *token;         /* NULL or "": no authentication */
    int allow_write;
    uint64_t min_interval_ms;  /* /metrics refreshed at most this often */
    unsigned max_children;     /* commands running at once (8) */
    unsigned max_queued;       /* requests waiting for a child (128): more get 503 */
    unsigned max_connections;  /* (512) */
    unsigned max_per_ip;       /* (256) */
    unsigned max_per_client;   /* commands one address may hold (SERVE_PER_CLIENT_DEFAULT): more get 429 */
    unsigned conn_timeout_s;   /* idle and request-header bound (10) */
    const char *const *metrics_argv;    /* child argv of /metrics (NULL: {"metrics"}) */
    const char *const *openmetrics_argv;/* (NULL: {"metrics", "--openmetrics"}) */
} serve_opts_t;

typedef struct serve_s serve_t;

/* Bind and set the server up on loop (nothing runs before uv_run).
 * Returns 0 with *out set, or -errno with err set. */
int serve_start(uv_loop_t *loop, const serve_opts_t *o, serve_t **out, char *err);

/* The bound address as "HOST:PORT" ("[::1]:PORT" for IPv6). */
const char *serve_address(const serve_t *s);

/* Stop accepting, let the running commands end (each by its deadline),
 * answer their requests, then close every handle; cb runs once all is
 * closed, and serve_free may then be called.  Idempotent. */
void serve_shutdown(serve_t *s, void (*cb)(serve_t *s, void *ctx), void *ctx);

/* Free what serve_start allocated (after serve_shutdown's cb, or when the
 * loop never ran). */
void serve_free(serve_t *s);

#endif

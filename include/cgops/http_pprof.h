/* http_pprof.h -- net/http/pprof targets: which endpoints answer each
 * command, and how their bytes become the agent's reply
 *
 * A Go service that serves net/http/pprof (and often expvar) answers the
 * same questions as a gops agent at other places and in other shapes.
 * request.c hands an HTTP target's request here; the commands then see the
 * reply an agent would have sent (a stack dump, the memstats or stats
 * lines, "ok" for gc, a profile's bytes), checked by the same code.
 *
 *   stack      BASE/debug/pprof/goroutine?debug=2 (the agent's own format)
 *   gc         BASE/debug/pprof/heap?gc=1 (the handler runs a GC first)
 *   memstats   BASE/debug/vars "memstats" (expvar), else the
 *              "# runtime.MemStats" trailer of BASE/debug/pprof/heap?debug=1
 *   stats      totals of goroutine?debug=1 and threadcreate?debug=1;
 *              GOMAXPROCS and num CPU from BASE/debug/vars when the program
 *              publishes them (expvar "GOMAXPROCS", "NumCPU")
 *   profiles   heap, profile?seconds=N, trace?seconds=N, allocs, block,
 *              mutex, goroutine, threadcreate
 *   version, setgc, the binary: no such endpoint (refused)
 *
 * The parsers are pure (strings in, the agent's text out) so the tests and
 * fuzz/fuzz-http-pprof.c feed them directly.
 */
#ifndef CGOPS_HTTP_PPROF_H
#define CGOPS_HTTP_PPROF_H

#include "cgops/common.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct request;

/* Start r (an HTTP target) on loop.  The contract of request_start. */
int http_pprof_start(uv_loop_t *loop, struct request *r);

/* The endpoint of command under base: "BASE/debug/pprof/heap" (with
 * ?seconds=N for a CPU profile or trace: seconds 0 means the agent's 30 s
 * or 5 s).  Returns 0, or -ENOTSUP with err saying why for a command no
 * endpoint answers. */
int http_pprof_url(const char *base, int command, unsigned seconds, char *url, size_t size, char *err);

/* The most a /debug/vars document may be (expvar of a busy service holds
 * whatever the program publishes). */
#define HTTP_PPROF_VARS_MAX (16u << 20)
/* The end of heap?debug=1 kept for its runtime.MemStats trailer. */
#define HTTP_PPROF_TRAILER_MAX (64u << 10)

/* The "memstats" member of an expvar document as the agent's memstats
 * lines (*text, heap).  Integers are taken digit for digit (a unix time in
 * ns is past 2^53).  Returns 0, -ENOENT when the document has no memstats
 * member, -EPROTO when it is not JSON or the member is malformed. */
int http_pprof_vars_memstats(const char *json, size_t len, char **text, char *err);

/* The "GOMAXPROCS" and "NumCPU" members of an expvar document, 0 when
 * absent or not a positive int. */
void http_pprof_vars_sched(const char *json, size_t len, long long *gomaxprocs, long long *numcpu);

/* The "# runtime.MemStats" trailer at the end of buf (the tail of
 * heap?debug=1) as the agent's memstats lines.  Returns 0, -ENOENT when
 * there is no trailer, -EPROTO when it is malformed. */
int http_pprof_trailer_memstats(const char *buf, size_t len, char **text, char *err);

/* The first line of a debug=1 profile, "NAME profile: total N": N.
 * Returns 0 or -EPROTO. */
int http_pprof_profile_total(const char *line, size_t len, const char *name, long long *total);

#endif

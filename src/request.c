/* request.c -- one command sent to one target, whatever carries it */
#include "cgops/request.h"
#include "cgops/http_pprof.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MS(s) ((uint64_t)(s) * 1000u)

void request_set_timeouts(request_t *r, int command, uint64_t timeout_ns)
{
    /* The idle bound is how long the peer may stay silent: a CPU profile
     * replies only after 30 s and a trace after 5 s, and a stack dump
     * starts only once the runtime has formatted every goroutine. */
    r->connect_timeout_ms = MS(10);
    switch (command) {
    case PROTO_CPU:
        r->idle_timeout_ms = MS(40);
        r->total_timeout_ms = MS(60);
        break;
    case PROTO_HEAP:
    case PROTO_ALLOCS:
    case PROTO_BLOCK:
    case PROTO_MUTEX:
    case PROTO_GOROUTINE:
    case PROTO_THREADCREATE:
        r->idle_timeout_ms = MS(10);
        r->total_timeout_ms = MS(60);
        break;
    case PROTO_TRACE:
        r->idle_timeout_ms = MS(15);
        r->total_timeout_ms = MS(60);
        break;
    case PROTO_STACK:
        r->idle_timeout_ms = MS(60);
        r->total_timeout_ms = MS(120);
        break;
    case PROTO_BINARY_DUMP:
        r->idle_timeout_ms = MS(10);
        r->total_timeout_ms = MS(120);
        break;
    default:
        r->idle_timeout_ms = MS(10);
        r->total_timeout_ms = MS(30);
        break;
    }
    /* Over HTTP a CPU profile or trace lasts what was asked: the server is
     * silent until then. */
    if ((command == PROTO_CPU || command == PROTO_TRACE) && r->seconds) {
        r->idle_timeout_ms = MS(r->seconds) + MS(10);
        r->total_timeout_ms = MS(r->seconds) + MS(30);
    }
    if (timeout_ns) {
        uint64_t ms = (timeout_ns + 999999) / 1000000;
        r->connect_timeout_ms = r->idle_timeout_ms = r->total_timeout_ms = ms;
    }
}

static int agent_data(agent_req_t *a, const char *buf, size_t len, char *err)
{
    request_t *r = a->data;

    r->received = a->received;
    return r->on_data(r, buf, len, err);
}

static void agent_done(agent_req_t *a, int status)
{
    request_t *r = a->data;

    r->received = a->received;
    if (status != 0)
        cg_strlcpy(r->err, a->err, sizeof r->err);
    r->on_done(r, status);
}

int request_target_resolve(int procfd, const char *arg, target_t *out, char *err)
{
    char why[CG_ERR_LEN] = "";
    int rc;

    if (!http_is_url(arg))
        return portfile_target_resolve(procfd, arg, out, err);
    memset(out, 0, sizeof *out);
    cg_strlcpy(out->display, arg, sizeof out->display);
    rc = http_base_parse(arg, out->url, sizeof out->url, why);
    if (rc < 0) {
        out->url[0] = '\0';
        cg_seterr(err, "%.100s: %.400s", arg, why);
    }
    return rc;
}

uv_loop_t *request_loop(const request_t *r)
{
    return r->loop;
}

int request_start(uv_loop_t *loop, request_t *r)
{
    agent_req_t *a = &r->agent;
    int rc;

    memset(a, 0, sizeof *a);
    r->received = 0;
    r->err[0] = '\0';
    r->note[0] = '\0';
    r->hp = NULL;
    r->loop = loop;
    if (request_target_is_http(r->target))
        return http_pprof_start(loop, r);
    if (r->command > 0xff) {
        snprintf(r->err, sizeof r->err,
                 "%.100s: a gops agent has no %s profile: give the program's net/http/pprof address (http://HOST:PORT)",
                 r->target->display, proto_command_name(r->command) + 6);
        return -ENOTSUP;
    }
    if (r->seconds) {
        snprintf(r->err, sizeof r->err,
                 "%.100s: a gops agent's %s always lasts %s: --seconds needs an http:// target",
                 r->target->display, r->command == PROTO_TRACE ? "trace" : "CPU profile",
                 r->command == PROTO_TRACE ? "5 s" : "30 s");
        return -ENOTSUP;
    }
    if (r->command == PROTO_SETGC) {
        a->msglen = proto_setgc_request(r->arg, r->msg);
    } else {
        r->msg[0] = (unsigned char)r->command;
        a->msglen = 1;
    }
    a->data = r;
    a->target = r->target;
    a->msg = r->msg;
    a->what = r->what;
    a->connect_timeout_ms = r->connect_timeout_ms;
    a->idle_timeout_ms = r->idle_timeout_ms;
    a->total_timeout_ms = r->total_timeout_ms;
    a->on_data = agent_data;
    a->on_done = agent_done;
    rc = agent_req_start(loop, a);
    if (rc < 0)
        snprintf(r->err, sizeof r->err, "%.100s: cannot start the request: %s", r->target->display,
                 uv_strerror(rc));
    return rc;
}

/* http.h -- one HTTP(S) GET on a libuv loop, through libcurl
 *
 * The transport of HTTP targets (net/http/pprof, expvar): it behaves like
 * agent_req_t (include/cgops/agent.h), so the command layer treats both
 * kinds of target alike.  libcurl does the protocol; the libuv loop does
 * the waiting: one curl multi handle per loop (made when the first request
 * on that loop starts, cleaned up when the last one ends), a uv_poll_t per
 * socket curl asks about and one uv_timer_t for curl's timeouts.  Any
 * number of requests can run at once on one loop.  Nothing here prints.
 *
 * What a request does (protocol/PROTOCOL.md, "HTTP targets"):
 * - The body of a 2xx reply goes to on_data as it arrives; curl's own
 *   buffer is the only one, so memory does not grow with the body.
 * - Any other final status fails the request, -ENOENT for 404, -EACCES
 *   for 401 and 403, -EPROTO for the rest (r->status_code has it), with
 *   "DISPLAY: HTTP 404 Not Found from PATH: LINE", LINE being the
 *   first non-empty line of the body (at most 4 KiB of it is held), made
 *   printable and cut to 200 bytes, HTML tags stripped (http_error_line).
 * - Redirects are followed, only to http and https, at most max_redirects
 *   (HTTP_MAX_REDIRECTS when 0); one more fails with -ELOOP.  When -H
 *   headers are set, a redirect to another origin (scheme, host or port)
 *   is refused (-EPERM): curl 7.88 keeps only Authorization and Cookie from
 *   other hosts, an "X-Api-Key: ..." would be sent on.
 * - Timeouts: connect (name lookup, TCP and TLS handshake, by curl), idle
 *   (no byte for idle_timeout_ms once connected: -ETIMEDOUT "no data for
 *   10s from PATH") and total (-ETIMEDOUT "no complete reply within 30s").
 * - TLS certificates and host names are checked unless opts->insecure.
 * - No Accept-Encoding (the bytes as the server sends them), User-Agent
 *   "cgops/VERSION", no proxy (the environment's http_proxy is not used:
 *   debug endpoints are internal and their tokens must not go through a
 *   proxy set up for other traffic), no cookies, no .netrc.
 * PATH in messages is the path and query of the URL requested: DISPLAY
 * already names the host.
 */
#ifndef CGOPS_HTTP_H
#define CGOPS_HTTP_H

#include "cgops/common.h"

#include <stdint.h>
#include <uv.h>

#define HTTP_MAX_REDIRECTS 5
/* -H @FILE: the largest header file read. */
#define HTTP_HEADER_FILE_MAX (64 * 1024)
/* The most of an error reply's body held to quote its first line. */
#define HTTP_ERROR_BODY_MAX 4096
/* The quoted line of an error body, at most (bytes). */
#define HTTP_ERROR_LINE_MAX 200

typedef struct {
    char **headers;        /* "Name: value" lines, each checked: no CR/LF/NUL, has a ':' and a token name */
    size_t nheaders;
    int insecure;          /* skip TLS certificate and host checks (--insecure); off by default */
    const char *cacert;    /* trust the CA certificates (PEM) of this file instead of the system's (--cacert), or NULL */
    int max_redirects;     /* followed redirects, http/https only; 0 = use HTTP_MAX_REDIRECTS (5) */
} http_opts_t;

/* -H ARG: "Name: value", or "@FILE": one header per line of FILE (blank
 * lines and lines starting with '#' skipped, CRLF accepted, file at most
 * 64 KiB, must be a regular file; so tokens stay out of ps).  0 or -errno
 * with err; on failure o is unchanged. */
int http_opts_add_header(http_opts_t *o, const char *arg, char *err);
void http_opts_free(http_opts_t *o);

/* Check one header line (without line end): a token name, ':', a value
 * without control characters other than tab (so no CR, LF or NUL), not
 * empty.  0 or -EINVAL with err. */
int http_header_check(const char *line, size_t len, char *err);

/* The lines of a header file's text (len bytes, NULs refused) added to o,
 * as http_opts_add_header does for @FILE; src names the file in messages.
 * Pure: no I/O, so the fuzz target feeds it.  0 or -errno with err; on
 * failure o is unchanged. */
int http_opts_add_lines(http_opts_t *o, const char *text, size_t len, const char *src, char *err);

/* Is arg an HTTP target ("http://" or "https://", case-insensitive)? */
int http_is_url(const char *arg);

/* Check and normalise a target base URL: scheme http/https, a host,
 * optional port, optional path prefix (no trailing '/'), no query, no
 * fragment, no user:password.  out gets "scheme://host[:port][/prefix]",
 * scheme and host in lower case.  0 or -errno (-EINVAL, -ENAMETOOLONG)
 * with err. */
int http_base_parse(const char *arg, char *out, size_t outsize, char *err);

/* The line quoted from an error reply's body: the first line with
 * something other than white space, trimmed, HTML tags dropped first when
 * html, control characters and bytes outside well-formed UTF-8 made '?',
 * cut to HTTP_ERROR_LINE_MAX bytes on a character boundary.  out is ""
 * when there is no such line.  outsize > HTTP_ERROR_LINE_MAX. */
void http_error_line(const char *body, size_t len, int html, char *out, size_t outsize);

typedef struct http_req http_req_t;
/* Return 0 to go on, or -errno to stop the request (err then says why). */
typedef int (*http_data_cb)(http_req_t *r, const char *buf, size_t len, char *err);
/* status 0: the whole body of a 2xx reply was received; else -errno, r->err. */
typedef void (*http_done_cb)(http_req_t *r, int status);

struct http_multi;

struct http_req {
    /* set by the caller */
    void *data;
    const char *url;             /* full URL of this request (caller keeps it alive until on_done) */
    const http_opts_t *opts;     /* may be NULL */
    const char *what;            /* for messages: "memstats" */
    const char *display;         /* the target as the user wrote it, prefix of every message */
    uint64_t connect_timeout_ms, idle_timeout_ms, total_timeout_ms; /* total never 0 */
    uint64_t max_body;           /* 0 = no cap of its own; else the body beyond it is an error -EFBIG */
    http_data_cb on_data;
    http_done_cb on_done;

    /* results */
    long status_code;            /* last HTTP status, 0 if none */
    uint64_t received;           /* body bytes so far */
    char err[CG_ERR_LEN];

    /* private */
    uv_loop_t *loop;
    struct http_multi *multi;
    void *easy;                  /* CURL * */
    void *hdrs;                  /* struct curl_slist * */
    uv_timer_t timer;            /* idle and total deadline */
    uint64_t deadline;           /* loop time (ms) of the total deadline */
    char *ebody;                 /* start of a non-2xx body, HTTP_ERROR_BODY_MAX at most */
    size_t ebody_len;
    int connected;
    int closing;
    int status;
    int stop_status;             /* set by a curl callback that stopped the transfer */
    char reason[64];             /* reason phrase of the last status line */
    char curl_err[256];          /* CURLOPT_ERRORBUFFER (CURL_ERROR_SIZE) */
};

/* Start r on loop.  on_done is called exactly once, after every handle of
 * the request is closed, so r may be freed there; the on_done of the last
 * request running on the loop also waits for the loop's curl handles and
 * connections to close, so the caller may stop and close the loop there.  Returns 0, or -errno
 * with r->err set when nothing could be started (on_done is then not
 * called). */
int http_req_start(uv_loop_t *loop, http_req_t *r);

#endif

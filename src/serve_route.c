/* serve_route.c -- the pure parts of `cgops serve`: routes, listen address,
 * bearer token, and which HTTP status a failed command earns
 *
 * Everything here reads bytes a client or an operator wrote, so it takes
 * text and returns a verdict, with no I/O but the token file: the unit
 * tests and fuzz/fuzz-serve-route.c feed it directly.
 */
#include "cgops/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define API "/api/v1/processes"

/* The next segment of p (after a '/'): its length, or 0 when empty. */
static size_t seg_len(const char *p)
{
    return strcspn(p, "/");
}

static int seg_is(const char *p, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(p, word, n) == 0;
}

/* A pid in plain digits, no sign, no leading zero, 1..SERVE_PID_MAX. */
static int parse_pid(const char *p, size_t n, int *pid)
{
    long v = 0;

    if (n == 0 || n > 7 || p[0] == '0')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v < 1 || v > SERVE_PID_MAX)
        return -1;
    *pid = (int)v;
    return 0;
}

static int method_fits(const char *method, serve_route_t *r, char *err)
{
    if (strcmp(method, r->method) == 0)
        return 0;
    /* HEAD is GET without the body: MHD drops the body itself. */
    if (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)
        return 0;
    cg_seterr(err, "method %s not allowed here (use %s)", method, r->method);
    return 405;
}

int serve_route_parse(const char *method, const char *path, serve_route_t *r, char *err)
{
    static const struct {
        const char *name;
        serve_route_kind_t kind;
        const char *method;
    } sub[] = {
        {"goroutines", SERVE_R_GOROUTINES, "GET"}, {"summary", SERVE_R_SUMMARY, "GET"},
        {"stats", SERVE_R_STATS, "GET"},           {"memstats", SERVE_R_MEMSTATS, "GET"},
        {"stack", SERVE_R_STACK, "GET"},           {"gc", SERVE_R_GC, "POST"},
        {"setgc", SERVE_R_SETGC, "POST"},
    };
    static const char *const kinds[] = {"heap", "cpu", "trace"};
    const char *p;
    size_t n;

    memset(r, 0, sizeof *r);
    r->method = "GET";
    if (strcmp(path, "/healthz") == 0) {
        r->kind = SERVE_R_HEALTH;
        return method_fits(method, r, err);
    }
    if (strcmp(path, "/metrics") == 0) {
        r->kind = SERVE_R_METRICS;
        return method_fits(method, r, err);
    }
    if (strcmp(path, API) == 0) {
        r->kind = SERVE_R_PROCESSES;
        return method_fits(method, r, err);
    }
    if (strncmp(path, API "/", sizeof API) != 0)
        goto not_found;
    p = path + sizeof API;
    n = seg_len(p);
    if (parse_pid(p, n, &r->pid) != 0) {
        /* "..", "." and empty segments are no pid either: the answer is
         * the same 400, and no path ever names a file. */
        cg_seterr(err, "bad pid '%.*s': want 1..%d in decimal digits", (int)(n > 32 ? 32 : n), p,
                  SERVE_PID_MAX);
        return 400;
    }
    p += n;
    if (*p == '\0') {
        r->kind = SERVE_R_PROCESS;
        return method_fits(method, r, err);
    }
    p++; /* the '/' */
    n = seg_len(p);
    if (p[n] == '\0') {
        for (size_t i = 0; i < CG_ARRAY_SIZE(sub); i++) {
            if (seg_is(p, n, sub[i].name)) {
                r->kind = sub[i].kind;
                r->method = sub[i].method;
                return method_fits(method, r, err);
            }
        }
        goto not_found;
    }
    if (!seg_is(p, n, "profile"))
        goto not_found;
    p += n + 1;
    n = seg_len(p);
    if (p[n] != '\0')
        goto not_found;
    for (size_t i = 0; i < CG_ARRAY_SIZE(kinds); i++) {
        if (seg_is(p, n, kinds[i])) {
            r->kind = SERVE_R_PROFILE;
            cg_strlcpy(r->profile, kinds[i], sizeof r->profile);
            return method_fits(method, r, err);
        }
    }
    cg_seterr(err, "unknown profile kind '%.*s' (heap, cpu, trace)", (int)(n > 32 ? 32 : n), p);
    return 404;

not_found:
    memset(r, 0, sizeof *r);
    cg_seterr(err, "no such route");
    return 404;
}

int serve_route_writes(const serve_route_t *r)
{
    if (r->kind == SERVE_R_GC || r->kind == SERVE_R_SETGC)
        return 1;
    /* A CPU profile makes the target sample itself for 30 s and a trace
     * slows it down: not something a reader may start. */
    return r->kind == SERVE_R_PROFILE && strcmp(r->profile, "heap") != 0;
}

int serve_check_group_by(const char *v, char *err)
{
    static const char *const keys[] = {"location", "start", "creator", "wait"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(keys); i++)
        if (strcmp(v, keys[i]) == 0)
            return 0;
    cg_seterr(err, "bad group_by: want location, start, creator or wait");
    return -EINVAL;
}

int serve_check_percent(const char *v, char *err)
{
    long long n;

    if (strcmp(v, "off") == 0)
        return 0;
    /* Plain digits with an optional minus: cg_parse_ll alone would also
     * take "+5" or " 5", which the child's parser may read otherwise. */
    if (v[0] == '\0' || strspn(v + (v[0] == '-'), "0123456789") != strlen(v + (v[0] == '-')) ||
        cg_parse_ll(v, -1, 2147483647, &n) != 0) {
        cg_seterr(err, "bad percent: want an integer -1..2147483647 or off");
        return -EINVAL;
    }
    return 0;
}

int serve_check_format(const char *v, char *err)
{
    if (strcmp(v, "top") == 0 || strcmp(v, "raw") == 0)
        return 0;
    cg_seterr(err, "bad format: want top or raw");
    return -EINVAL;
}

int serve_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, int *loopback,
                       char *err)
{
    char host[64];
    const char *colon, *hs;
    size_t hn;
    long long port;

    memset(ss, 0, sizeof *ss);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');

        if (end == NULL || end[1] != ':')
            goto bad;
        hs = s + 1;
        hn = (size_t)(end - hs);
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
            goto bad;
        hs = s;
        hn = (size_t)(colon - s);
    }
    if (hn == 0 || hn >= sizeof host || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
        cg_parse_ll(colon + 1, 0, 65535, &port) != 0)
        goto bad;
    memcpy(host, hs, hn);
    host[hn] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (s[0] != '[') {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;

        if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
            goto bad;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *sslen = sizeof *in;
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        const unsigned char *b = in6->sin6_addr.s6_addr;

        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            goto bad;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *sslen = sizeof *in6;
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127);
    }
    return 0;
bad:
    cg_seterr(err, "bad listen address '%.100s': want IP:PORT or [IPv6]:PORT (numeric, port 0-65535)", s);
    return -EINVAL;
}

int serve_token_read(const char *path, char *tok, char *err)
{
    char buf[SERVE_TOKEN_MAX + 2];
    struct stat st;
    ssize_t n;
    size_t len = 0;
    char *t;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0) {
        int e = errno;

        cg_seterr(err, "cannot open token file '%s': %s", path, strerror(e));
        return -e;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        cg_seterr(err, "token file '%s' is not a regular file", path);
        return -EINVAL;
    }
    if (st.st_mode & S_IROTH) {
        close(fd);
        cg_seterr(err, "token file '%s' is readable by every user (chmod o-r it)", path);
        return -EPERM;
    }
    /* Read one byte more than allowed, to tell a full file from a long one. */
    while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) != 0) {
        if (n < 0) {
            int e = errno;

            if (e == EINTR)
                continue;
            close(fd);
            cg_seterr(err, "cannot read token file '%s': %s", path, strerror(e));
            return -e;
        }
        len += (size_t)n;
    }
    close(fd);
    if (len > SERVE_TOKEN_MAX) {
        cg_seterr(err, "token file '%s' is larger than %d bytes", path, SERVE_TOKEN_MAX);
        return -EFBIG;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        cg_seterr(err, "token file '%s' holds a NUL byte", path);
        return -EINVAL;
    }
    t = cg_trim(buf);
    if (t[0] == '\0') {
        cg_seterr(err, "token file '%s' is empty", path);
        return -EINVAL;
    }
    for (const char *c = t; *c; c++) {
        if (*c <= ' ' || *c > '~') {
            cg_seterr(err, "token in '%s' has a space or a byte that is not printable ASCII", path);
            return -EINVAL;
        }
    }
    memcpy(tok, t, strlen(t) + 1);
    explicit_bzero(buf, sizeof buf);
    return 0;
}

int serve_token_ok(const char *hdr, const char *token)
{
    /* Both sides are copied into fixed windows and every byte of them is
     * compared, so neither the place of the first difference nor the
     * length of the token shows in the time taken. */
    static const char prefix[] = "Bearer ";
    unsigned char a[SERVE_TOKEN_MAX], b[SERVE_TOKEN_MAX];
    size_t tl = strlen(token), hl;
    volatile unsigned char diff = 0;

    if (hdr == NULL || strncmp(hdr, prefix, sizeof prefix - 1) != 0)
        return 0;
    hdr += sizeof prefix - 1;
    hl = strnlen(hdr, SERVE_TOKEN_MAX + 1);
    if (tl > SERVE_TOKEN_MAX)
        return 0;
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memcpy(a, hdr, hl > SERVE_TOKEN_MAX ? SERVE_TOKEN_MAX : hl);
    memcpy(b, token, tl);
    for (size_t i = 0; i < SERVE_TOKEN_MAX; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    diff |= (unsigned char)(hl != tl);
    return diff == 0;
}

int serve_status_of(int status, int exit_status, const char *errtext)
{
    if (status == -ETIMEDOUT)
        return 504;
    if (status != 0)
        return 500;
    if (exit_status == 2)
        return 400;
    if (strstr(errtext, "timed out") != NULL)
        return 504;
    if (strstr(errtext, "no such process") != NULL || strstr(errtext, "not a Go") != NULL)
        return 404;
    if (strstr(errtext, "TCPAddress") != NULL || strstr(errtext, "agent") != NULL ||
        strstr(errtext, "port file") != NULL || strstr(errtext, "reply") != NULL ||
        strstr(errtext, "connection") != NULL)
        return 502;
    return 500;
}

int serve_wants_openmetrics(const char *accept)
{
    /* Prometheus sends "application/openmetrics-text;version=1.0.0,
     * ...;q=0.5,text/plain;version=0.0.4;q=0.4,*;q=0.1" when it may take
     * OpenMetrics: the first type it names is what it prefers. */
    const char *om, *tp;

    if (accept == NULL || (om = strcasestr(accept, "application/openmetrics-text")) == NULL)
        return 0;
    tp = strcasestr(accept, "text/plain");
    return tp == NULL || om < tp;
}

int serve_fair_key(const struct sockaddr *sa, unsigned char key[16])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        memset(key, 0, 10);
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}

/* A linear scan: the table holds at most max_children + max_queued
 * addresses (136 by default), and it is read once per command started. */
int serve_fair_take(serve_fair_t *f, const unsigned char key[16])
{
    int free_i = -1;

    for (size_t i = 0; i < f->cap; i++) {
        serve_client_t *c = &f->v[i];

        if (c->n == 0) {
            if (free_i < 0)
                free_i = (int)i;
            continue;
        }
        if (memcmp(c->addr, key, 16) == 0) {
            if (c->n >= f->limit)
                return -EAGAIN;
            c->n++;
            return (int)i;
        }
    }
    if (free_i < 0)
        return -ENOSPC;
    if (f->limit == 0)
        return -EAGAIN;
    memcpy(f->v[free_i].addr, key, 16);
    f->v[free_i].n = 1;
    return free_i;
}

void serve_fair_release(serve_fair_t *f, int i)
{
    if (i >= 0 && (size_t)i < f->cap && f->v[i].n > 0)
        f->v[i].n--;
}

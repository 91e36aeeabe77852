/* http_pprof.c -- net/http/pprof targets: the endpoints that answer each
 * command, and their bytes made the agent's reply (see http_pprof.h) */
#include "cgops/http_pprof.h"
#include "cgops/agentless.h"
#include "cgops/http.h"
#include "cgops/proto.h"
#include "cgops/request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parsers ------------------------------------------------------ */

/* The runtime.MemStats fields the agent prints, in its order, with the
 * name expvar and the heap profile's trailer give them. */
static const struct ms_field {
    const char *go;   /* runtime.MemStats field */
    const char *key;  /* the agent's key */
    godwarf_mskind_t kind;
} ms_fields[] = {
    {"Alloc", "alloc", GODWARF_MS_BYTES},
    {"TotalAlloc", "total-alloc", GODWARF_MS_BYTES},
    {"Sys", "sys", GODWARF_MS_BYTES},
    {"Lookups", "lookups", GODWARF_MS_COUNT},
    {"Mallocs", "mallocs", GODWARF_MS_COUNT},
    {"Frees", "frees", GODWARF_MS_COUNT},
    {"HeapAlloc", "heap-alloc", GODWARF_MS_BYTES},
    {"HeapSys", "heap-sys", GODWARF_MS_BYTES},
    {"HeapIdle", "heap-idle", GODWARF_MS_BYTES},
    {"HeapInuse", "heap-in-use", GODWARF_MS_BYTES},
    {"HeapReleased", "heap-released", GODWARF_MS_BYTES},
    {"HeapObjects", "heap-objects", GODWARF_MS_COUNT},
    {"StackInuse", "stack-in-use", GODWARF_MS_BYTES},
    {"StackSys", "stack-sys", GODWARF_MS_BYTES},
    {"MSpanInuse", "mspan-in-use", GODWARF_MS_BYTES},
    {"MSpanSys", "mspan-sys", GODWARF_MS_BYTES},
    {"MCacheInuse", "mcache-in-use", GODWARF_MS_BYTES},
    {"MCacheSys", "mcache-sys", GODWARF_MS_BYTES},
    {"BuckHashSys", "buck-hash-sys", GODWARF_MS_BYTES},
    {"OtherSys", "other-sys", GODWARF_MS_BYTES},
    {"GCSys", "gc-sys", GODWARF_MS_BYTES},
    {"NextGC", "next-gc", GODWARF_MS_BYTES},
    {"LastGC", "last-gc", GODWARF_MS_UNIX_NS},
    {"PauseTotalNs", "gc-pause-total", GODWARF_MS_NS},
    {"PauseNs", "gc-pause", GODWARF_MS_COUNT},    /* [(NumGC+255)%256] */
    {"PauseEnd", "gc-pause-end", GODWARF_MS_COUNT},
    {"NumGC", "num-gc", GODWARF_MS_COUNT},
    {"NumForcedGC", "num-forced-gc", GODWARF_MS_COUNT},
    {"GCCPUFraction", "gc-cpu-fraction", GODWARF_MS_FLOAT},
    {"EnableGC", "enable-gc", GODWARF_MS_BOOL},
    {"DebugGC", "debug-gc", GODWARF_MS_BOOL},
};
#define MS_NFIELDS (sizeof ms_fields / sizeof ms_fields[0])
#define MS_PAUSE_NS 24
#define MS_PAUSE_END 25
#define MS_NUM_GC 26

/* An unsigned decimal of at most 20 digits that fits in 64 bits. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d;

        if (!isdigit((unsigned char)s[i]))
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* A finite float >= 0, as Go's %v writes it. */
static int parse_float(const char *s, size_t n, double *out)
{
    char buf[64], *end;
    double v;

    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (!isdigit((unsigned char)buf[0]))
        return -1;
    v = strtod(buf, &end);
    if (*end != '\0' || !(v >= 0) || v > 1e308)
        return -1;
    *out = v;
    return 0;
}

/* The values found, by field; then the agent's lines of those present. */
typedef struct {
    godwarf_msval_t v[MS_NFIELDS];
    int have[MS_NFIELDS];
    /* PauseNs and PauseEnd are arrays: their element for the last GC. */
    uint64_t pause_ns[256], pause_end[256];
    int have_pause_ns, have_pause_end;
} ms_found_t;

static char *ms_text(ms_found_t *f)
{
    godwarf_msval_t out[MS_NFIELDS];
    size_t n = 0;

    if (f->have[MS_NUM_GC]) {
        unsigned last = (unsigned)((f->v[MS_NUM_GC].u + 255) % 256);

        if (f->have_pause_ns) {
            f->v[MS_PAUSE_NS].u = f->pause_ns[last];
            f->have[MS_PAUSE_NS] = 1;
        }
        if (f->have_pause_end) {
            f->v[MS_PAUSE_END].u = f->pause_end[last];
            f->have[MS_PAUSE_END] = 1;
        }
    }
    for (size_t i = 0; i < MS_NFIELDS; i++) {
        if (!f->have[i])
            continue;
        out[n] = f->v[i];
        out[n].key = ms_fields[i].key;
        out[n].kind = ms_fields[i].kind;
        n++;
    }
    return agentless_memstats_text(out, n);
}

static const struct ms_field *ms_field_named(const char *name, size_t len, size_t *idx)
{
    for (size_t i = 0; i < MS_NFIELDS; i++)
        if (strlen(ms_fields[i].go) == len && memcmp(ms_fields[i].go, name, len) == 0) {
            *idx = i;
            return &ms_fields[i];
        }
    return NULL;
}

/* One scalar value of field i from its text (a JSON or %v token). */
static int ms_set(ms_found_t *f, size_t i, const char *s, size_t n)
{
    switch (ms_fields[i].kind) {
    case GODWARF_MS_FLOAT:
        if (parse_float(s, n, &f->v[i].f) < 0)
            return -1;
        break;
    case GODWARF_MS_BOOL:
        if (n == 4 && memcmp(s, "true", 4) == 0)
            f->v[i].u = 1;
        else if (n == 5 && memcmp(s, "false", 5) == 0)
            f->v[i].u = 0;
        else
            return -1;
        break;
    default:
        if (parse_u64(s, n, &f->v[i].u) < 0)
            return -1;
        if ((i == MS_NUM_GC || strcmp(ms_fields[i].go, "NumForcedGC") == 0) && f->v[i].u > UINT32_MAX)
            return -1;
        break;
    }
    f->have[i] = 1;
    return 0;
}

/* A JSON scanner over a document json_is_object has already checked: it
 * finds values and their exact text, which cJSON would keep only as
 * doubles. */
static const char *json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Past the string that starts at p (a '"'). */
static const char *json_skip_string(const char *p, const char *end)
{
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < end ? p + 1 : end;
}

/* Past the value that starts at p. */
static const char *json_skip_value(const char *p, const char *end)
{
    int depth = 0;

    if (p >= end)
        return end;
    if (*p == '"')
        return json_skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\t' &&
               *p != '\r')
            p++;
        return p;
    }
    for (; p < end; p++) {
        if (*p == '"') {
            p = json_skip_string(p, end) - 1;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (--depth == 0)
                return p + 1;
        }
    }
    return end;
}

/* The members of the object at p: cb(name, namelen, value, valueend). */
typedef int (*json_member_cb)(void *ctx, const char *name, size_t nlen, const char *v, const char *vend);

static int json_members(const char *p, const char *end, json_member_cb cb, void *ctx)
{
    p = json_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    for (p = json_ws(p + 1, end); p < end && *p == '"';) {
        const char *name = p + 1, *nend = json_skip_string(p, end) - 1, *v, *vend;
        int rc;

        p = json_ws(nend + 1, end);
        if (p >= end || *p != ':')
            return -1;
        v = json_ws(p + 1, end);
        vend = json_skip_value(v, end);
        if ((rc = cb(ctx, name, (size_t)(nend - name), v, vend)) != 0)
            return rc;
        p = json_ws(vend, end);
        if (p < end && *p == ',')
            p = json_ws(p + 1, end);
    }
    return 0;
}

/* A JSON array of up to 256 unsigned integers. */
static int json_u64_array(const char *p, const char *end, uint64_t *out)
{
    size_t n = 0;

    if (p >= end || *p != '[')
        return -1;
    for (p = json_ws(p + 1, end); p < end && *p != ']';) {
        const char *e = json_skip_value(p, end);

        if (n == 256 || parse_u64(p, (size_t)(e - p), &out[n++]) < 0)
            return -1;
        p = json_ws(e, end);
        if (p < end && *p == ',')
            p = json_ws(p + 1, end);
    }
    return 0;
}

static int memstats_member(void *ctx, const char *name, size_t nlen, const char *v, const char *vend)
{
    ms_found_t *f = ctx;
    size_t i;

    /* Fields of other releases (BySize, MaxRSS...) are not the agent's. */
    if (ms_field_named(name, nlen, &i) == NULL)
        return 0;
    if (i == MS_PAUSE_NS || i == MS_PAUSE_END) {
        if (json_u64_array(v, vend, i == MS_PAUSE_NS ? f->pause_ns : f->pause_end) < 0)
            return -2;
        *(i == MS_PAUSE_NS ? &f->have_pause_ns : &f->have_pause_end) = 1;
        return 0;
    }
    return ms_set(f, i, v, (size_t)(vend - v)) < 0 ? -2 : 0;
}

typedef struct {
    const char *want;
    const char *v, *vend;
} find_member_t;

static int find_member(void *ctx, const char *name, size_t nlen, const char *v, const char *vend)
{
    find_member_t *fm = ctx;

    if (strlen(fm->want) == nlen && memcmp(fm->want, name, nlen) == 0) {
        fm->v = v;
        fm->vend = vend;
        return 1;
    }
    return 0;
}

/* The top-level member want of a checked JSON object, or -1. */
static int vars_member(const char *json, size_t len, const char *want, const char **v, const char **vend)
{
    find_member_t fm = {want, NULL, NULL};

    if (json_members(json, json + len, find_member, &fm) < 0 || fm.v == NULL)
        return -1;
    *v = fm.v;
    *vend = fm.vend;
    return 0;
}

/* Whether json is one JSON object (RFC 8259), checked before the scanner
 * above reads it.  Checked in place, allocating nothing: cJSON would build
 * a node (about 80 bytes with malloc's) per value, so a 16 MiB document of
 * "[0,0,0,...]" would cost 650 MB.  Nesting is bounded as cJSON bounds it;
 * trailing white space only. */
#define JSON_DEPTH_MAX 1000

static const char *json_check_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= end)
                return NULL;
            if (*p == 'u') {
                if (end - p < 5)
                    return NULL;
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i]))
                        return NULL;
                p += 4;
            } else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
                return NULL;
            }
        }
    }
    return NULL;
}

static const char *json_check_number(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end || !isdigit((unsigned char)*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && isdigit((unsigned char)*p))
            p++;
    if (p < end && *p == '.') {
        if (++p >= end || !isdigit((unsigned char)*p))
            return NULL;
        while (p < end && isdigit((unsigned char)*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !isdigit((unsigned char)*p))
            return NULL;
        while (p < end && isdigit((unsigned char)*p))
            p++;
    }
    return p;
}

static int json_is_object(const char *json, size_t len)
{
    const char *p = json, *end = json + len;
    char stack[JSON_DEPTH_MAX]; /* '{' or '[' of each open container */
    int depth = 0;

    p = json_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    for (;;) {
        /* p is at a value */
        p = json_ws(p, end);
        if (p >= end)
            return 0;
        if (*p == '{' || *p == '[') {
            if (depth == JSON_DEPTH_MAX)
                return 0;
            stack[depth++] = *p;
            p = json_ws(p + 1, end);
            if (p < end && *p == (stack[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                p++;
                goto after_value;
            }
            if (stack[depth - 1] == '{')
                goto member_name;
            continue;
        }
        if (*p == '"')
            p = json_check_string(p, end);
        else if (*p == '-' || isdigit((unsigned char)*p))
            p = json_check_number(p, end);
        else if (end - p >= 4 && memcmp(p, "true", 4) == 0)
            p += 4;
        else if (end - p >= 5 && memcmp(p, "false", 5) == 0)
            p += 5;
        else if (end - p >= 4 && memcmp(p, "null", 4) == 0)
            p += 4;
        else
            return 0;
        if (p == NULL)
            return 0;
    after_value:
        for (;;) {
            p = json_ws(p, end);
            if (depth == 0)
                return p == end;
            if (p >= end)
                return 0;
            if (*p == ',') {
                p++;
                if (stack[depth - 1] == '{')
                    goto member_name;
                break; /* the next element */
            }
            if (*p != (stack[depth - 1] == '{' ? '}' : ']'))
                return 0;
            depth--;
            p++;
        }
        continue;
    member_name:
        p = json_ws(p, end);
        if (p >= end || *p != '"' || (p = json_check_string(p, end)) == NULL)
            return 0;
        p = json_ws(p, end);
        if (p >= end || *p != ':')
            return 0;
        p++;
    }
}

int http_pprof_vars_memstats(const char *json, size_t len, char **text, char *err)
{
    ms_found_t f;
    const char *v, *vend;
    int rc;

    *text = NULL;
    if (!json_is_object(json, len)) {
        cg_seterr(err, "/debug/vars is not a JSON object (not expvar)");
        return -EPROTO;
    }
    if (vars_member(json, len, "memstats", &v, &vend) < 0) {
        cg_seterr(err, "/debug/vars has no memstats");
        return -ENOENT;
    }
    memset(&f, 0, sizeof f);
    rc = json_members(v, vend, memstats_member, &f);
    if (rc != 0) {
        cg_seterr(err, "malformed memstats in /debug/vars: a value is not what runtime.MemStats holds");
        return -EPROTO;
    }
    if (!f.have[0] && !f.have[2]) {
        cg_seterr(err, "the memstats of /debug/vars have neither Alloc nor Sys: not runtime.MemStats");
        return -EPROTO;
    }
    *text = ms_text(&f);
    return 0;
}

static long long vars_int(const char *json, size_t len, const char *name)
{
    const char *v, *vend;
    uint64_t u;

    if (vars_member(json, len, name, &v, &vend) < 0 || parse_u64(v, (size_t)(vend - v), &u) < 0 || u == 0 ||
        u > INT64_MAX)
        return 0;
    return (long long)u;
}

void http_pprof_vars_sched(const char *json, size_t len, long long *gomaxprocs, long long *numcpu)
{
    *gomaxprocs = *numcpu = 0;
    if (!json_is_object(json, len))
        return;
    *gomaxprocs = vars_int(json, len, "GOMAXPROCS");
    *numcpu = vars_int(json, len, "NumCPU");
}

/* "[1 2 3]": Go's %d of a [256]uint64. */
static int trailer_array(const char *s, size_t n, uint64_t *out)
{
    size_t i = 0, k = 0;

    if (n < 2 || s[0] != '[' || s[n - 1] != ']')
        return -1;
    s++;
    n -= 2;
    while (i < n) {
        size_t j = i;

        while (j < n && s[j] != ' ')
            j++;
        if (k == 256 || parse_u64(s + i, j - i, &out[k++]) < 0)
            return -1;
        i = j + 1;
    }
    return k == 256 ? 0 : -1;
}

int http_pprof_trailer_memstats(const char *buf, size_t len, char **text, char *err)
{
    static const char mark[] = "\n# runtime.MemStats\n";
    const char *p = NULL, *end = buf + len;
    ms_found_t f;

    *text = NULL;
    for (const char *q = buf; q + sizeof mark - 1 <= end; q++) {
        q = memchr(q, '\n', (size_t)(end - q));
        if (q == NULL || (size_t)(end - q) < sizeof mark - 1)
            break;
        if (memcmp(q, mark, sizeof mark - 1) == 0)
            p = q + sizeof mark - 1; /* the last one: a symbol may not contain it, but be sure */
    }
    if (p == NULL) {
        cg_seterr(err, "the heap profile has no runtime.MemStats trailer");
        return -ENOENT;
    }
    memset(&f, 0, sizeof f);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *eq, *val;
        size_t n, i;

        if (eol == NULL)
            eol = end;
        n = (size_t)(eol - p);
        if (n == 0) {
            p = eol + 1;
            continue;
        }
        eq = n > 2 ? memmem(p, n, " = ", 3) : NULL;
        if (n < 2 || p[0] != '#' || p[1] != ' ' || eq == NULL)
            goto bad;
        val = eq + 3;
        if (eq - (p + 2) == 5 && memcmp(p + 2, "Stack", 5) == 0) {
            const char *slash = memmem(val, (size_t)(eol - val), " / ", 3);
            if (slash == NULL || ms_set(&f, 12, val, (size_t)(slash - val)) < 0 ||
                ms_set(&f, 13, slash + 3, (size_t)(eol - slash - 3)) < 0)
                goto bad;
        } else if ((eq - (p + 2) == 5 && memcmp(p + 2, "MSpan", 5) == 0) ||
                   (eq - (p + 2) == 6 && memcmp(p + 2, "MCache", 6) == 0)) {
            const char *slash = memmem(val, (size_t)(eol - val), " / ", 3);
            size_t first = p[3] == 'S' ? 14 : 16;
            if (slash == NULL || ms_set(&f, first, val, (size_t)(slash - val)) < 0 ||
                ms_set(&f, first + 1, slash + 3, (size_t)(eol - slash - 3)) < 0)
                goto bad;
        } else if (ms_field_named(p + 2, (size_t)(eq - p - 2), &i)) {
            if (i == MS_PAUSE_NS || i == MS_PAUSE_END) {
                if (trailer_array(val, (size_t)(eol - val), i == MS_PAUSE_NS ? f.pause_ns : f.pause_end) < 0)
                    goto bad;
                *(i == MS_PAUSE_NS ? &f.have_pause_ns : &f.have_pause_end) = 1;
            } else if (ms_set(&f, i, val, (size_t)(eol - val)) < 0) {
                goto bad;
            }
        }
        /* Other lines (MaxRSS of later releases) are not the agent's. */
        p = eol + 1;
    }
    if (!f.have[0] || !f.have[2]) {
        cg_seterr(err, "the heap profile's runtime.MemStats trailer has no Alloc or Sys");
        return -EPROTO;
    }
    *text = ms_text(&f);
    return 0;
bad:
    cg_seterr(err, "malformed runtime.MemStats trailer in the heap profile");
    return -EPROTO;
}

int http_pprof_profile_total(const char *line, size_t len, const char *name, long long *total)
{
    size_t nl = strlen(name);
    uint64_t u;
    static const char mid[] = " profile: total ";

    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len <= nl + sizeof mid - 1 || memcmp(line, name, nl) != 0 ||
        memcmp(line + nl, mid, sizeof mid - 1) != 0 ||
        parse_u64(line + nl + sizeof mid - 1, len - nl - (sizeof mid - 1), &u) < 0 || u > INT64_MAX)
        return -EPROTO;
    *total = (long long)u;
    return 0;
}

/* ---- endpoints -------------------------------------------------------- */

int http_pprof_url(const char *base, int command, unsigned seconds, char *url, size_t size, char *err)
{
    const char *path;
    char q[48] = "";

    switch (command) {
    case PROTO_STACK: path = "goroutine?debug=2"; break;
    case PROTO_GC: path = "heap?gc=1"; break;
    case PROTO_HEAP: path = "heap"; break;
    case PROTO_CPU:
        path = "profile";
        snprintf(q, sizeof q, "?seconds=%u", seconds ? seconds : 30);
        break;
    case PROTO_TRACE:
        path = "trace";
        snprintf(q, sizeof q, "?seconds=%u", seconds ? seconds : 5);
        break;
    case PROTO_ALLOCS: path = "allocs"; break;
    case PROTO_BLOCK: path = "block"; break;
    case PROTO_MUTEX: path = "mutex"; break;
    case PROTO_GOROUTINE: path = "goroutine"; break;
    case PROTO_THREADCREATE: path = "threadcreate"; break;
    case PROTO_VERSION:
        cg_seterr(err, "version is not available over HTTP: net/http/pprof has no such endpoint (the Go version is in 'cgops PID' or the binary)");
        return -ENOTSUP;
    case PROTO_SETGC:
        cg_seterr(err, "setgc is not available over HTTP: net/http/pprof cannot change the GC percent");
        return -ENOTSUP;
    case PROTO_BINARY_DUMP:
        cg_seterr(err, "the binary cannot be fetched over HTTP: net/http/pprof does not serve it");
        return -ENOTSUP;
    default:
        cg_seterr(err, "%s is not available over HTTP", proto_command_name(command));
        return -ENOTSUP;
    }
    if ((size_t)snprintf(url, size, "%s/debug/pprof/%s%s", base, path, q) >= size) {
        cg_seterr(err, "the URL is too long");
        return -ENAMETOOLONG;
    }
    return 0;
}

/* ---- the exchange ----------------------------------------------------- */

/* What a step does with the body. */
typedef enum {
    BODY_STREAM,  /* to the command, as it arrives */
    BODY_DISCARD, /* only that it came whole (gc) */
    BODY_HOLD,    /* whole, up to a cap (/debug/vars) */
    BODY_TAIL,    /* the last HTTP_PPROF_TRAILER_MAX bytes (heap?debug=1) */
    BODY_LINE,    /* the first line, then stop (debug=1 totals) */
} body_t;

enum { STEP_MAIN, STEP_VARS, STEP_TRAILER, STEP_GOROUTINES, STEP_THREADS, STEP_SCHED };

typedef struct {
    request_t *r;
    uv_loop_t *loop;
    int step;
    body_t body;
    uint64_t deadline;       /* loop time (ms) the whole exchange must end by */
    char url[sizeof ((target_t *)0)->url + 64];
    char *buf;
    size_t len;
    size_t cap;              /* BODY_HOLD: bytes allocated at buf */
    int line_done;
    long long goroutines, threads;
    char vars_err[CG_ERR_LEN]; /* why /debug/vars gave no memstats ("" if it was not there) */
    http_req_t h;            /* the step's request; its on_done ends or chains */
} hp_t;

static void hp_finish(hp_t *hp, int status, const char *err);
static int hp_step(hp_t *hp, int step);

static int hp_data(http_req_t *h, const char *buf, size_t len, char *err)
{
    hp_t *hp = h->data;
    request_t *r = hp->r;
    size_t keep;

    switch (hp->body) {
    case BODY_STREAM:
        r->received = h->received;
        return r->on_data(r, buf, len, err);
    case BODY_DISCARD:
        return 0;
    case BODY_HOLD:
        if (hp->len + len > HTTP_PPROF_VARS_MAX) {
            /* http.c puts the target before err. */
            cg_seterr(err, "/debug/vars larger than %u MiB", HTTP_PPROF_VARS_MAX >> 20);
            return -EFBIG;
        }
        /* Doubled, not grown per chunk: 16 MiB in 16 KiB chunks would
         * copy the document a thousand times. */
        if (hp->len + len + 1 > hp->cap) {
            size_t cap = hp->cap ? hp->cap : 64 * 1024;

            while (cap < hp->len + len + 1)
                cap *= 2;
            hp->buf = cg_xrealloc(hp->buf, cap);
            hp->cap = cap;
        }
        memcpy(hp->buf + hp->len, buf, len);
        hp->len += len;
        hp->buf[hp->len] = '\0';
        return 0;
    case BODY_TAIL:
        if (len >= HTTP_PPROF_TRAILER_MAX) {
            buf += len - HTTP_PPROF_TRAILER_MAX;
            len = HTTP_PPROF_TRAILER_MAX;
        }
        keep = hp->len + len > HTTP_PPROF_TRAILER_MAX ? HTTP_PPROF_TRAILER_MAX - len : hp->len;
        if (keep < hp->len) {
            memmove(hp->buf, hp->buf + hp->len - keep, keep);
            hp->len = keep;
        }
        break;
    case BODY_LINE: {
        const char *nl = memchr(buf, '\n', len);

        if (nl)
            len = (size_t)(nl - buf) + 1;
        if (hp->len + len > 256) {
            cg_seterr(err, "the first line of %s is longer than a profile's header",
                      hp->url + strlen(r->target->url));
            return -EPROTO;
        }
        hp->buf = cg_xrealloc(hp->buf, hp->len + len + 1);
        memcpy(hp->buf + hp->len, buf, len);
        hp->len += len;
        hp->buf[hp->len] = '\0';
        if (nl) {
            hp->line_done = 1;
            return -ECANCELED; /* the rest is stacks: not wanted */
        }
        return 0;
    }
    }
    hp->buf = cg_xrealloc(hp->buf, hp->len + len + 1);
    memcpy(hp->buf + hp->len, buf, len);
    hp->len += len;
    hp->buf[hp->len] = '\0';
    return 0;
}

/* The reply an agent would have sent, to the command, whole. */
static void hp_deliver(hp_t *hp, char *text)
{
    request_t *r = hp->r;
    char err[CG_ERR_LEN] = "";
    size_t len = strlen(text);
    int rc;

    r->received = len;
    rc = len ? r->on_data(r, text, len, err) : 0;
    free(text);
    hp_finish(hp, rc, rc ? err : NULL);
}

static char *stats_text(const hp_t *hp, long long gomaxprocs, long long numcpu)
{
    char text[256];
    int n = snprintf(text, sizeof text, "goroutines: %lld\nOS threads: %lld\n", hp->goroutines, hp->threads);

    if (gomaxprocs > 0)
        n += snprintf(text + n, sizeof text - (size_t)n, "GOMAXPROCS: %lld\n", gomaxprocs);
    if (numcpu > 0)
        snprintf(text + n, sizeof text - (size_t)n, "num CPU: %lld\n", numcpu);
    return cg_xstrdup(text);
}

/* msg without the "DISPLAY: " http.c put first. */
static const char *unprefixed(const hp_t *hp, const char *msg)
{
    size_t n = strlen(hp->r->target->display);

    return strncmp(msg, hp->r->target->display, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ' ? msg + n + 2 : msg;
}

static void hp_done(http_req_t *h, int status)
{
    hp_t *hp = h->data;
    request_t *r = hp->r;
    char err[CG_ERR_LEN] = "";
    char *text = NULL;
    long long gomaxprocs, numcpu;
    int rc = 0;

    if (hp->body == BODY_LINE && status == -ECANCELED && hp->line_done)
        status = 0;
    switch (hp->step) {
    case STEP_MAIN:
        if (status == 0 && r->command == PROTO_GC) {
            snprintf(r->note, sizeof r->note, "%.100s: GC run by /debug/pprof/heap?gc=1", r->target->display);
            hp_deliver(hp, cg_xstrdup("ok"));
            return;
        }
        r->received = h->received;
        hp_finish(hp, status, status ? h->err : NULL);
        return;
    case STEP_VARS:
        if (status == 0) {
            rc = http_pprof_vars_memstats(hp->buf ? hp->buf : "", hp->len, &text, err);
            if (rc == 0) {
                hp_deliver(hp, text);
                return;
            }
        }
        /* No expvar (404), or no memstats in it: the heap profile's
         * trailer has them too.  A peer that cannot be reached is not
         * asked twice.  Why a /debug/vars that was there did not do is
         * kept: if the trailer fails too, that is the likelier news. */
        if (status == 0 && rc != -ENOENT)
            cg_strlcpy(hp->vars_err, err, sizeof hp->vars_err);
        if (status == 0 || h->status_code >= 400) {
            if ((rc = hp_step(hp, STEP_TRAILER)) < 0)
                hp_finish(hp, rc, hp->h.err);
            return;
        }
        hp_finish(hp, status, h->err);
        return;
    case STEP_TRAILER:
        if (status != 0 && hp->vars_err[0]) {
            char msg[CG_ERR_LEN];

            snprintf(msg, sizeof msg, "%.100s: no memstats: %.150s; and %.150s", r->target->display, hp->vars_err,
                     unprefixed(hp, h->err));
            hp_finish(hp, status, msg);
            return;
        }
        if (status != 0) {
            hp_finish(hp, status, h->err);
            return;
        }
        rc = http_pprof_trailer_memstats(hp->buf ? hp->buf : "", hp->len, &text, err);
        if (rc < 0) {
            char msg[CG_ERR_LEN];

            snprintf(msg, sizeof msg, "%.100s: no memstats: neither /debug/vars (expvar%s%.120s) nor the heap profile's runtime.MemStats trailer (%.120s)",
                     r->target->display, hp->vars_err[0] ? ": " : "", hp->vars_err, err);
            hp_finish(hp, rc, msg);
            return;
        }
        hp_deliver(hp, text);
        return;
    case STEP_GOROUTINES:
    case STEP_THREADS:
        if (status != 0) {
            hp_finish(hp, status, h->err);
            return;
        }
        rc = http_pprof_profile_total(hp->buf ? hp->buf : "", hp->len,
                                      hp->step == STEP_GOROUTINES ? "goroutine" : "threadcreate",
                                      hp->step == STEP_GOROUTINES ? &hp->goroutines : &hp->threads);
        if (rc < 0) {
            snprintf(err, sizeof err, "%.100s: %.300s does not start as a debug=1 profile ('NAME profile: total N')",
                     r->target->display, hp->url + strlen(r->target->url));
            hp_finish(hp, rc, err);
            return;
        }
        if ((rc = hp_step(hp, hp->step == STEP_GOROUTINES ? STEP_THREADS : STEP_SCHED)) < 0)
            hp_finish(hp, rc, hp->h.err);
        return;
    case STEP_SCHED:
        /* Optional: most programs publish neither. */
        gomaxprocs = numcpu = 0;
        if (status == 0)
            http_pprof_vars_sched(hp->buf ? hp->buf : "", hp->len, &gomaxprocs, &numcpu);
        if (gomaxprocs == 0 || numcpu == 0)
            snprintf(r->note, sizeof r->note,
                     "%.100s: GOMAXPROCS and num CPU are known only when the program publishes them in /debug/vars",
                     r->target->display);
        hp_deliver(hp, stats_text(hp, gomaxprocs, numcpu));
        return;
    }
}

static void hp_finish(hp_t *hp, int status, const char *err)
{
    request_t *r = hp->r;

    if (status != 0)
        cg_strlcpy(r->err, err && err[0] ? err : "HTTP request failed", sizeof r->err);
    r->hp = NULL;
    free(hp->buf);
    free(hp);
    r->on_done(r, status);
}

/* The endpoints that help answer stats and memstats. */
static const struct {
    const char *path;
    body_t body;
} aux_steps[] = {
    [STEP_VARS] = {"/debug/vars", BODY_HOLD},
    [STEP_SCHED] = {"/debug/vars", BODY_HOLD},
    [STEP_TRAILER] = {"/debug/pprof/heap?debug=1", BODY_TAIL},
    [STEP_GOROUTINES] = {"/debug/pprof/goroutine?debug=1", BODY_LINE},
    [STEP_THREADS] = {"/debug/pprof/threadcreate?debug=1", BODY_LINE},
};

static int hp_step(hp_t *hp, int step)
{
    request_t *r = hp->r;
    uint64_t now = uv_now(hp->loop), left;
    char err[CG_ERR_LEN];
    int rc = 0;

    hp->step = step;
    free(hp->buf);
    hp->buf = NULL;
    hp->len = hp->cap = 0;
    hp->line_done = 0;
    if (step == STEP_MAIN) {
        rc = http_pprof_url(r->target->url, r->command, r->seconds, hp->url, sizeof hp->url, err);
        hp->body = r->command == PROTO_GC ? BODY_DISCARD : BODY_STREAM;
    } else {
        snprintf(hp->url, sizeof hp->url, "%s%s", r->target->url, aux_steps[step].path);
        hp->body = aux_steps[step].body;
        if (hp->body == BODY_TAIL)
            hp->buf = cg_xmalloc(HTTP_PPROF_TRAILER_MAX + 1);
    }
    if (rc < 0) {
        snprintf(hp->h.err, sizeof hp->h.err, "%.100s: %.400s", r->target->display, err);
        return rc;
    }
    left = hp->deadline > now ? hp->deadline - now : 1;
    memset(&hp->h, 0, sizeof hp->h);
    hp->h.data = hp;
    hp->h.url = hp->url;
    hp->h.opts = r->http;
    hp->h.what = r->what;
    hp->h.display = r->target->display;
    hp->h.connect_timeout_ms = r->connect_timeout_ms < left ? r->connect_timeout_ms : left;
    hp->h.idle_timeout_ms = r->idle_timeout_ms < left ? r->idle_timeout_ms : left;
    hp->h.total_timeout_ms = left;
    hp->h.on_data = hp_data;
    hp->h.on_done = hp_done;
    return http_req_start(hp->loop, &hp->h);
}

int http_pprof_start(uv_loop_t *loop, request_t *r)
{
    hp_t *hp = cg_xcalloc(1, sizeof *hp);
    int first = STEP_MAIN, rc;

    if (r->command == PROTO_MEMSTATS)
        first = STEP_VARS;
    else if (r->command == PROTO_STATS)
        first = STEP_GOROUTINES;
    hp->r = r;
    hp->loop = loop;
    hp->deadline = uv_now(loop) + r->total_timeout_ms;
    r->hp = hp;
    rc = hp_step(hp, first);
    if (rc < 0) {
        cg_strlcpy(r->err, hp->h.err, sizeof r->err);
        r->hp = NULL;
        free(hp->buf);
        free(hp);
    }
    return rc;
}

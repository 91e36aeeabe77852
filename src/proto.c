/* proto.c -- the gops wire protocol: setgc encoding and reply parsers
 *
 * No I/O here.  Text replies go to stdout unchanged in text mode; these
 * parsers turn them into typed JSON for --json.  They accept replies from
 * every agent generation: unknown keys are kept, missing keys are absent.
 */
#include "cgops/proto.h"
#include "cgops/common.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int proto_setgc_value_parse(const char *s, long long *value, char *err)
{
    int rc;

    if (strcmp(s, "off") == 0) {
        *value = -1;
        return 0;
    }
    rc = cg_parse_ll(s, INT_MIN, INT_MAX, value);
    if (rc == -ERANGE)
        cg_seterr(err, "invalid GC percent '%s': out of range %d..%d", s, INT_MIN, INT_MAX);
    else if (rc < 0)
        cg_seterr(err, "invalid GC percent '%s': want an integer or 'off'", s);
    return rc;
}

size_t proto_setgc_request(long long value, unsigned char *buf)
{
    /* Zig-zag, as Go's binary.PutVarint: small magnitudes, either sign,
     * give short varints. */
    unsigned long long ux = (unsigned long long)value << 1;
    size_t i = 1;

    if (value < 0)
        ux = ~ux;
    memset(buf, 0, 1 + PROTO_SETGC_ARG_LEN);
    buf[0] = PROTO_SETGC;
    while (ux >= 0x80) {
        buf[i++] = (unsigned char)(ux | 0x80);
        ux >>= 7;
    }
    buf[i] = (unsigned char)ux;
    return 1 + PROTO_SETGC_ARG_LEN;
}

size_t proto_varint_decode(const unsigned char *buf, size_t len, long long *value)
{
    uint64_t ux;
    size_t n = cg_uvarint_decode(buf, len, &ux);

    /* Zig-zag on top of the unsigned varint, as Go's binary.Varint. */
    if (n > 0)
        *value = (long long)(ux >> 1) ^ -(long long)(ux & 1);
    return n;
}

int proto_binary_head_ok(int byte, const unsigned char *head, size_t n, const char **what)
{
    static const struct {
        int byte;
        const char *magic;
        size_t len;
        const char *what;
    } kinds[] = {
        {PROTO_HEAP, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_CPU, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_TRACE, "go 1.", 5, "a Go execution trace"},
        {PROTO_BINARY_DUMP, "\x7f" "ELF", 4, "an ELF executable"},
    };

    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i].byte != byte)
            continue;
        *what = kinds[i].what;
        return n >= kinds[i].len && memcmp(head, kinds[i].magic, kinds[i].len) == 0;
    }
    *what = "";
    return 1;
}

int proto_is_text(const char *buf, size_t len)
{
    /* Printable ASCII, tab, CR, LF and well-formed UTF-8 (Go prints "µs"
     * in durations and paths may hold any UTF-8); the UTF-8 rule is the
     * one the JSON writer uses. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f)
            return 0;
    }
    return cg_utf8_valid(buf, len);
}

/* Copy text[0..len) into a NUL-terminated heap string. */
static char *dupn(const char *text, size_t len)
{
    char *s = cg_xmalloc(len + 1);
    memcpy(s, text, len);
    s[len] = '\0';
    return s;
}

/* ---- exact integers ------------------------------------------------- */

/* Leading decimal digits of s as a uint64: returns the digits used (0 when
 * s does not start with a digit) and sets *v, or -1 when the value does
 * not fit in 64 bits.  No sign, no white space: the agent prints neither. */
static int lead_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    int i;

    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return i;
}

/* The whole of s as a uint64 (digits only).  0, -EINVAL or -ERANGE. */
static int parse_u64(const char *s, uint64_t *v)
{
    int n = lead_u64(s, v);

    if (n < 0)
        return -ERANGE;
    return n > 0 && s[n] == '\0' ? 0 : -EINVAL;
}

/* The whole of s as an int64 (optional '-', digits).  0, -EINVAL, -ERANGE. */
static int parse_i64(const char *s, int64_t *v)
{
    uint64_t u;
    int neg = *s == '-', rc = parse_u64(s + neg, &u);

    if (rc < 0)
        return rc;
    if (u > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return -ERANGE;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

/* Exact integers as JSON.  cJSON keeps numbers as doubles, which would
 * round values above 2^53; a raw item prints the digits we format from
 * the validated value (so never a leading zero or a sign JSON forbids). */
static cJSON *json_u64(uint64_t v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(digits);
}

static cJSON *json_i64(int64_t v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%lld", (long long)v);
    return cJSON_CreateRaw(digits);
}

/* 1 when s is a JSON number (RFC 8259 grammar) that strtod reads as a
 * finite value: then the text itself can be emitted and keeps every digit
 * the agent printed.  Go's %v of a float64 ("0.0005043404273249305",
 * "4.1e-05", "0") always has this form; "NaN", "+Inf", "1e999" do not. */
static int json_number_text(const char *s)
{
    const char *p = s;
    char *end;
    double d;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p != '\0')
        return 0;
    d = strtod(s, &end);
    return isfinite(d);
}

/* ---- setgc, version ------------------------------------------------- */

cJSON *proto_setgc_reply_json(const char *text, size_t len, char *err)
{
    /* The agent prints fmt's %v of two Go ints:
     * "New GC percent set to N. Previous value was M.\n".  Each is parsed
     * whole and must fit in 64 bits; printed back exactly (no doubles). */
    static const char pre[] = "New GC percent set to ", mid[] = ". Previous value was ";
    char *s = dupn(text, len), *a, *b, *dot;
    int64_t nv, pv;
    cJSON *o = NULL;

    if (memchr(text, '\0', len) != NULL || strncmp(s, pre, sizeof pre - 1) != 0)
        goto bad;
    a = s + sizeof pre - 1;
    b = strstr(a, mid);
    if (b == NULL)
        goto bad;
    *b = '\0';
    b += sizeof mid - 1;
    dot = strchr(b, '.');
    if (dot == NULL || (strcmp(dot, ".") != 0 && strcmp(dot, ".\n") != 0))
        goto bad;
    *dot = '\0';
    if (parse_i64(a, &nv) < 0 || parse_i64(b, &pv) < 0)
        goto bad;
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "new", json_i64(nv));
    cJSON_AddItemToObject(o, "previous", json_i64(pv));
    free(s);
    return o;
bad:
    cg_seterr(err, "unexpected setgc reply");
    free(s);
    return NULL;
}

cJSON *proto_version_json(const char *text, size_t len, char *err)
{
    char *s;
    cJSON *v;

    if (len > 0 && text[len - 1] == '\n')
        len--;
    /* runtime.Version(): "go1.19.8", "go1.21.0 X:boringcrypto",
     * "devel go1.22-abc123 ...", gccgo's "go1.18 gccgo ...".  One line of
     * printable text starting "go" and a digit, or "devel": an SSH or HTTP banner, or
     * another command's reply ("goroutines: 7"), is not a version. */
    if (len == 0 || len > PROTO_VERSION_MAX || !proto_is_text(text, len) ||
        memchr(text, '\n', len) || memchr(text, '\r', len) || memchr(text, '\t', len) ||
        !((len >= 3 && memcmp(text, "go", 2) == 0 && isdigit((unsigned char)text[2])) ||
          (len >= 5 && memcmp(text, "devel", 5) == 0))) {
        cg_seterr(err, "malformed version reply");
        return NULL;
    }
    s = dupn(text, len);
    v = cJSON_CreateString(s);
    free(s);
    return v;
}

/* ---- durations ------------------------------------------------------ */

int proto_go_duration_ns(const char *s, long long *ns)
{
    /* Go's time.ParseDuration, in integers as Go does it, so a duration
     * the agent printed from an integer count of ns comes back exact. */
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
        {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000ull}, {"h", 3600000000000ull},
    };
    const uint64_t lim = (uint64_t)1 << 63;
    uint64_t d = 0;
    int neg = 0;

    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (*s == '\0')
        return -EINVAL;
    while (*s) {
        uint64_t v = 0, f = 0, mult = 0;
        double scale = 1;
        int pre = 0, post = 0, overflow = 0;
        size_t ulen = 0;

        if (*s != '.' && !isdigit((unsigned char)*s))
            return -EINVAL;
        for (; isdigit((unsigned char)*s); s++, pre = 1) {
            if (v > lim / 10)
                return -ERANGE;
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > lim)
                return -ERANGE;
        }
        if (*s == '.') {
            /* Fraction digits past what 63 bits hold are ignored. */
            for (s++; isdigit((unsigned char)*s); s++, post = 1) {
                if (overflow || f > (lim - 1) / 10 || f * 10 + (uint64_t)(*s - '0') > lim) {
                    overflow = 1;
                    continue;
                }
                f = f * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            }
        }
        if (!pre && !post)
            return -EINVAL;
        while (s[ulen] && s[ulen] != '.' && !isdigit((unsigned char)s[ulen]))
            ulen++;
        for (size_t i = 0; i < CG_ARRAY_SIZE(units); i++)
            if (strlen(units[i].unit) == ulen && memcmp(s, units[i].unit, ulen) == 0)
                mult = units[i].mult;
        if (mult == 0)
            return -EINVAL;
        s += ulen;
        if (v > lim / mult)
            return -ERANGE;
        v *= mult;
        if (f > 0) {
            /* Go uses a double here too: f*mult/scale is below 3.6e12. */
            v += (uint64_t)((double)f * ((double)mult / scale));
            if (v > lim)
                return -ERANGE;
        }
        d += v;
        if (d > lim)
            return -ERANGE;
    }
    if (!neg && d > lim - 1)
        return -ERANGE;
    *ns = neg ? (long long)(0 - d) : (long long)d;
    return 0;
}

/* ---- memstats and stats --------------------------------------------- */

/* "heap-in-use" -> "heap_in_use"; "OS threads" -> "os_threads". */
static void json_name(const char *key, char *out, size_t size)
{
    size_t i;

    for (i = 0; key[i] && i + 1 < size; i++) {
        char c = key[i];
        out[i] = (c == '-' || c == ' ') ? '_' : (char)tolower((unsigned char)c);
    }
    out[i] = '\0';
}

/* "N", "N bytes" or "1.23KB (N bytes)": the exact count N is always
 * there (Go's formatBytes in the agent). */
static int parse_size(const char *s, uint64_t *v)
{
    const char *p = strrchr(s, '(');
    char num[32];
    size_t n;

    if (parse_u64(s, v) == 0)
        return 0;
    if (p == NULL)
        p = s;
    else
        p++;
    n = strspn(p, "0123456789");
    if (n == 0 || n >= sizeof num)
        return n >= sizeof num ? -ERANGE : -EINVAL;
    if (strcmp(p + n, p == s ? " bytes" : " bytes)") != 0)
        return -EINVAL;
    memcpy(num, p, n);
    num[n] = '\0';
    return parse_u64(num, v);
}

/* How the value of each key gops prints is typed (gops agent.go and
 * runtime.MemStats: every count and size is a uint64 but NumGC and
 * NumForcedGC, which are uint32; GCCPUFraction a float64). */
enum kind { K_SIZE, K_U64, K_U32, K_NEXT_GC, K_LAST_GC, K_DURATION, K_FLOAT, K_BOOL, K_INT, K_INT1 };

static const struct key_type {
    const char *key, *name; /* name: the JSON member when not just json_name(key) */
    enum kind kind;
} memstats_keys[] = {
    {"alloc", NULL, K_SIZE}, {"total-alloc", NULL, K_SIZE}, {"sys", NULL, K_SIZE},
    {"lookups", NULL, K_U64}, {"mallocs", NULL, K_U64}, {"frees", NULL, K_U64},
    {"heap-alloc", NULL, K_SIZE}, {"heap-sys", NULL, K_SIZE}, {"heap-idle", NULL, K_SIZE},
    {"heap-in-use", NULL, K_SIZE}, {"heap-released", NULL, K_SIZE},
    {"heap-objects", NULL, K_U64}, {"stack-in-use", NULL, K_SIZE}, {"stack-sys", NULL, K_SIZE},
    {"mspan-in-use", NULL, K_SIZE}, {"mspan-sys", NULL, K_SIZE},
    {"mcache-in-use", NULL, K_SIZE}, {"mcache-sys", NULL, K_SIZE},
    {"stack-mspan-inuse", NULL, K_SIZE}, {"stack-mspan-sys", NULL, K_SIZE},
    {"stack-mcache-inuse", NULL, K_SIZE}, {"stack-mcache-sys", NULL, K_SIZE},
    {"buck-hash-sys", NULL, K_SIZE}, {"other-sys", NULL, K_SIZE}, {"gc-sys", NULL, K_SIZE},
    {"next-gc", "next_gc", K_NEXT_GC}, {"last-gc", NULL, K_LAST_GC},
    {"gc-pause-total", "gc_pause_total_ns", K_DURATION},
    {"gc-pause", "gc_pause_ns", K_U64}, {"gc-pause-end", "gc_pause_end_ns", K_U64},
    {"num-gc", NULL, K_U32}, {"num-forced-gc", NULL, K_U32},
    {"gc-cpu-fraction", NULL, K_FLOAT}, {"enable-gc", NULL, K_BOOL}, {"debug-gc", NULL, K_BOOL},
    {NULL, NULL, K_SIZE},
}, stats_keys[] = {
    /* Go ints: NumGoroutine, the threadcreate profile's count, GOMAXPROCS
     * and NumCPU; the last two are at least 1. */
    {"goroutines", NULL, K_INT}, {"OS threads", NULL, K_INT},
    {"GOMAXPROCS", NULL, K_INT1}, {"num CPU", NULL, K_INT1},
    {NULL, NULL, K_SIZE},
};

typedef struct {
    const struct key_type *keys;
    const char *what;     /* "memstats" */
    int unknown_scalars;  /* unknown keys may be booleans and numbers too */
} kv_spec_t;

/* A key this parser does not know: an integer when the value is one (it
 * must then fit in 64 bits), a byte size as an integer, true/false (and a
 * finite number) where the schema allows them, else the string as sent. */
static cJSON *unknown_value(const kv_spec_t *spec, const char *key, const char *val, char *err)
{
    const char *digits = val + (*val == '-');
    uint64_t u;
    int64_t i;

    if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
        if (*val != '-' && parse_u64(val, &u) == 0)
            return json_u64(u);
        if (parse_i64(val, &i) == 0)
            return json_i64(i);
        cg_seterr(err, "malformed %s reply: %s: integer out of range: '%.40s'", spec->what, key, val);
        return NULL;
    }
    if (spec->unknown_scalars) {
        if (parse_size(val, &u) == 0)
            return json_u64(u);
        if (strcmp(val, "true") == 0)
            return cJSON_CreateTrue();
        if (strcmp(val, "false") == 0)
            return cJSON_CreateFalse();
        if (json_number_text(val))
            return cJSON_CreateRaw(val);
    }
    return cJSON_CreateString(val);
}

/* Typed value for a "key: value" line; NULL + err when a known key's value
 * is not of its type or out of its range: a wrong number is never passed
 * on as a string or a null. */
static cJSON *kv_value(const kv_spec_t *spec, const char *key, const char *val,
                       char *name, size_t nsize, char *err)
{
    const struct key_type *k;
    uint64_t u;
    int64_t i;
    long long ns;
    const char *want;

    json_name(key, name, nsize);
    for (k = spec->keys; k->key; k++)
        if (strcmp(k->key, key) == 0)
            break;
    if (k->key == NULL)
        return unknown_value(spec, key, val, err);
    if (k->name)
        cg_strlcpy(name, k->name, nsize);
    switch (k->kind) {
    case K_SIZE:
        if (parse_size(val, &u) == 0)
            return json_u64(u);
        want = "a byte size 0..2^64-1";
        break;
    case K_U64:
        if (parse_u64(val, &u) == 0)
            return json_u64(u);
        want = "an integer 0..2^64-1";
        break;
    case K_U32:
        if (parse_u64(val, &u) == 0 && u <= UINT32_MAX)
            return json_u64(u);
        want = "an integer 0..4294967295";
        break;
    case K_INT:
    case K_INT1:
        if (parse_i64(val, &i) == 0 && i >= (k->kind == K_INT1 ? 1 : 0))
            return json_i64(i);
        want = k->kind == K_INT1 ? "an integer >= 1" : "an integer >= 0";
        break;
    case K_NEXT_GC:
        if (strncmp(val, "when heap-alloc >= ", 19) == 0 && parse_size(val + 19, &u) == 0)
            return json_u64(u);
        want = "'when heap-alloc >= SIZE'";
        break;
    case K_LAST_GC:
        /* Go's time.Time string, or "-" before the first GC. */
        if (strcmp(val, "-") == 0)
            return cJSON_CreateNull();
        if (*val)
            return cJSON_CreateString(val);
        want = "a time or '-'";
        break;
    case K_DURATION:
        if (proto_go_duration_ns(val, &ns) == 0 && ns >= 0)
            return json_i64(ns);
        want = "a Go duration >= 0";
        break;
    case K_FLOAT:
        if (*val != '-' && json_number_text(val))
            return cJSON_CreateRaw(val);
        want = "a finite number >= 0";
        break;
    case K_BOOL:
        if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0)
            return cJSON_CreateBool(val[0] == 't');
        want = "true or false";
        break;
    default:
        want = "?";
        break;
    }
    cg_seterr(err, "malformed %s reply: %s: want %s, got '%.40s'", spec->what, key, want, val);
    return NULL;
}

/* Parse "key: value" lines into an object.  NULL when no line parses, a
 * non-empty line lacks the ": " separator (not a reply of this kind) or a
 * known key's value is wrong. */
static cJSON *parse_kv(const char *text, size_t len, const kv_spec_t *spec, char *err)
{
    char *s = dupn(text, len), *line, *save = NULL;
    cJSON *o = cJSON_CreateObject();
    int count = 0;

    if (!proto_is_text(text, len)) {
        cg_seterr(err, "malformed %s reply: not text", spec->what);
        goto bad;
    }
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sep = strstr(line, ": "), name[128];
        cJSON *v;

        if (sep == NULL || sep == line) {
            cg_seterr(err, "malformed %s reply: unexpected line '%.60s'", spec->what, line);
            goto bad;
        }
        *sep = '\0';
        v = kv_value(spec, line, sep + 2, name, sizeof name, err);
        if (v == NULL)
            goto bad;
        cJSON_DeleteItemFromObjectCaseSensitive(o, name);
        cJSON_AddItemToObject(o, name, v);
        count++;
    }
    if (count == 0) {
        cg_seterr(err, "empty %s reply", spec->what);
        goto bad;
    }
    free(s);
    return o;
bad:
    free(s);
    cJSON_Delete(o);
    return NULL;
}

cJSON *proto_memstats_json(const char *text, size_t len, char *err)
{
    static const kv_spec_t spec = {memstats_keys, "memstats", 1};

    return parse_kv(text, len, &spec, err);
}

cJSON *proto_stats_json(const char *text, size_t len, char *err)
{
    static const kv_spec_t spec = {stats_keys, "stats", 0};

    return parse_kv(text, len, &spec, err);
}

/* ---- goroutine dump ------------------------------------------------- */

struct proto_stack_parser {
    proto_goroutine_cb cb;
    void *ctx;
    char *line;         /* the line being read: at most PROTO_STACK_LINE_MAX */
    size_t len, cap;
    cJSON *cur;         /* goroutine being built */
    cJSON *frames;
    cJSON *pending;     /* frame (or created_by) waiting for its file:line */
    int pending_is_creator;
    int has_creator;    /* "created by" seen: the goroutine's last entry */
    size_t nframes;     /* frames of cur, pending one included */
    size_t gbytes;      /* bytes of text of cur so far */
    int seen_header;
    int failed;         /* -EINVAL once the input was refused: sticky */
    char err[CG_ERR_LEN];
    unsigned long long lines;
};

proto_stack_parser_t *proto_stack_parser_new(proto_goroutine_cb cb, void *ctx)
{
    proto_stack_parser_t *p = cg_xcalloc(1, sizeof *p);

    p->cb = cb;
    p->ctx = ctx;
    return p;
}

/* Attach the pending frame or creator to cur.  Always clears pending:
 * cur owns it from here on, and only cur is freed. */
static void flush_pending(proto_stack_parser_t *p)
{
    if (p->pending == NULL)
        return;
    if (p->pending_is_creator)
        cJSON_AddItemToObject(p->cur, "created_by", p->pending);
    else
        cJSON_AddItemToArray(p->frames, p->pending);
    p->pending = NULL;
}

static void emit(proto_stack_parser_t *p)
{
    if (p->cur == NULL)
        return;
    flush_pending(p); /* a function line without its location (truncated) */
    if (!p->has_creator)
        cJSON_AddNullToObject(p->cur, "created_by");
    p->cb(p->cur, p->ctx);
    p->cur = NULL;
    p->frames = NULL;
    p->nframes = 0;
    p->gbytes = 0;
    p->has_creator = 0;
}

/* "goroutine 1 [chan receive, 5 minutes, locked to thread]:", or with
 * GOTRACEBACK=system "goroutine 1 gp=0xc000002380 m=0 mp=0x... [running]:". */
static int parse_header(proto_stack_parser_t *p, const char *line)
{
    const char *lb, *rb, *s = line + 10;
    char state[256];
    uint64_t id, minutes = 0;
    int locked = 0, n;
    size_t sn;

    /* 20 digits at most, as proto_stack_head_check wants (no leading
     * zeros from the runtime). */
    n = lead_u64(s, &id);
    if (n <= 0 || n > 20 || s[n] != ' ')
        return -EINVAL;
    s += n;
    if (s[1] != '[' && strncmp(s, " gp=", 4) != 0)
        return -EINVAL;
    lb = strstr(s, " [");
    if (lb == NULL)
        return -EINVAL;
    lb++;
    rb = strrchr(lb, ']');
    if (rb == NULL || strcmp(rb, "]:") != 0)
        return -EINVAL;
    sn = (size_t)(rb - lb - 1);
    if (sn >= sizeof state)
        sn = sizeof state - 1;
    memcpy(state, lb + 1, sn);
    state[sn] = '\0';
    /* Optional trailing ", N minutes" and ", locked to thread". */
    for (;;) {
        char *comma = strrchr(state, ',');
        const char *t;
        uint64_t m;

        if (comma == NULL)
            break;
        t = comma + 1;
        while (*t == ' ')
            t++;
        if (strcmp(t, "locked to thread") == 0) {
            locked = 1;
        } else if ((n = lead_u64(t, &m)) > 0 &&
                   (strcmp(t + n, " minutes") == 0 || strcmp(t + n, " minute") == 0)) {
            minutes = m;
        } else {
            break;
        }
        *comma = '\0';
    }
    p->cur = cJSON_CreateObject();
    cJSON_AddItemToObject(p->cur, "id", json_u64(id));
    cJSON_AddStringToObject(p->cur, "state", state);
    cJSON_AddItemToObject(p->cur, "wait_minutes", json_u64(minutes));
    cJSON_AddBoolToObject(p->cur, "locked_to_thread", locked);
    p->frames = cJSON_AddArrayToObject(p->cur, "frames");
    return 0;
}

/* "\t/path/file.go:42 +0x1d" completes the pending frame (GOTRACEBACK=
 * system appends " fp=... sp=... pc=...", which is skipped). */
static int parse_location(proto_stack_parser_t *p, const char *line)
{
    const char *s = line + 1, *colon = NULL, *rest;
    char file[4096];
    size_t n;
    uint64_t lineno;
    int d;

    if (p->pending == NULL)
        return -EINVAL;
    /* The line number follows the last ':' that is followed by digits
     * (a path may hold ':' itself). */
    for (const char *c = strchr(s, ':'); c; c = strchr(c + 1, ':'))
        if (isdigit((unsigned char)c[1]))
            colon = c;
    if (colon == NULL || colon == s)
        return -EINVAL;
    d = lead_u64(colon + 1, &lineno);
    if (d <= 0)
        return -EINVAL;
    rest = colon + 1 + d;
    if (*rest != '\0' && *rest != ' ')
        return -EINVAL;
    n = (size_t)(colon - s);
    if (n >= sizeof file)
        n = sizeof file - 1;
    memcpy(file, s, n);
    file[n] = '\0';
    cJSON_AddStringToObject(p->pending, "file", file);
    cJSON_AddItemToObject(p->pending, "line", json_u64(lineno));
    if (strncmp(rest, " +", 2) == 0) {
        size_t on = strcspn(rest + 1, " ");
        char off[64];

        if (on >= sizeof off)
            on = sizeof off - 1;
        memcpy(off, rest + 1, on);
        off[on] = '\0';
        cJSON_AddStringToObject(p->pending, "pc_offset", off);
    } else if (!p->pending_is_creator) {
        cJSON_AddNullToObject(p->pending, "pc_offset");
    }
    flush_pending(p);
    return 0;
}

/* "main.f(0x1, 0x2)" or "created by main.main in goroutine 1". */
static int parse_function(proto_stack_parser_t *p, const char *line, char *err)
{
    cJSON *f;

    /* "created by" is the last entry of a goroutine: nothing follows its
     * location but the blank line. */
    if (p->has_creator)
        return -EINVAL;
    if (strncmp(line, "created by ", 11) == 0) {
        const char *fn = line + 11, *in = strstr(fn, " in goroutine ");
        char name[4096];
        size_t n = in ? (size_t)(in - fn) : strlen(fn);
        uint64_t g = 0;

        if (in) {
            int d = lead_u64(in + 14, &g);
            if (d <= 0 || in[14 + d] != '\0')
                return -EINVAL;
        }
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, fn, n);
        name[n] = '\0';
        flush_pending(p);
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "function", name);
        cJSON_AddItemToObject(f, "goroutine", in ? json_u64(g) : cJSON_CreateNull());
        p->pending_is_creator = 1;
        p->has_creator = 1;
    } else {
        /* The argument list is the last "(...)"; function names may hold
         * parentheses themselves: "main.(*T).Method(...)". */
        const char *open = NULL, *q = line + strlen(line);
        char *name;

        if (q > line && q[-1] == ')') {
            int depth = 0;
            for (const char *r = q - 1; r >= line; r--) {
                if (*r == ')')
                    depth++;
                else if (*r == '(' && --depth == 0) {
                    open = r;
                    break;
                }
            }
        }
        if (open == NULL || open == line)
            return -EINVAL;
        /* Frames without a location line count too: a reply of endless
         * function lines must not grow the goroutine without bound. */
        if (p->nframes >= PROTO_STACK_FRAMES_MAX) {
            cg_seterr(err, "malformed goroutine dump at line %llu: more than %u frames in one goroutine",
                      p->lines, PROTO_STACK_FRAMES_MAX);
            return -E2BIG;
        }
        flush_pending(p);
        f = cJSON_CreateObject();
        name = dupn(line, (size_t)(open - line));
        cJSON_AddStringToObject(f, "function", name);
        free(name);
        name = dupn(open + 1, (size_t)(q - open - 2));
        cJSON_AddStringToObject(f, "args", name);
        free(name);
        p->pending_is_creator = 0;
        p->nframes++;
    }
    p->pending = f;
    return 0;
}

static int parse_line(proto_stack_parser_t *p, char *line, size_t n, char *err)
{
    int rc = -EINVAL;

    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    p->lines++;
    if (n == 0 && p->seen_header) {
        emit(p);
        return 0;
    }
    if (n >= 10 && strncmp(line, "goroutine ", 10) == 0) {
        emit(p);
        if (parse_header(p, line) == 0) {
            p->seen_header = 1;
            p->gbytes = n + 1;
            return 0;
        }
    } else if (p->cur && n > 0) {
        /* What one goroutine may hold, pending state included, is bounded
         * in bytes as well as in frames. */
        p->gbytes += n + 1;
        if (p->gbytes > PROTO_STACK_GOROUTINE_MAX) {
            cg_seterr(err, "malformed goroutine dump at line %llu: goroutine larger than %u bytes",
                      p->lines, PROTO_STACK_GOROUTINE_MAX);
            return -E2BIG;
        }
        if (line[0] == '\t')
            rc = parse_location(p, line);
        else if (strncmp(line, "...", 3) == 0)
            rc = 0; /* "...additional frames elided...", "...N frames elided..." */
        else
            rc = parse_function(p, line, err);
        if (rc != -EINVAL)
            return rc;
    }
    if (proto_is_text(line, n))
        cg_seterr(err, "malformed goroutine dump at line %llu: '%.60s'", p->lines, line);
    else
        cg_seterr(err, "malformed goroutine dump at line %llu: not text", p->lines);
    return -EINVAL;
}

/* Refuse the rest of the input: every later call gives the same answer,
 * and nothing built so far is emitted. */
static int fail(proto_stack_parser_t *p, const char *why, char *err)
{
    p->failed = -EINVAL;
    if (why != p->err)
        cg_strlcpy(p->err, why, sizeof p->err);
    cg_seterr(err, "%s", p->err);
    return p->failed;
}

static int line_done(proto_stack_parser_t *p, char *err)
{
    /* Not initialised whole: this runs for every line of dumps of
     * millions of lines, and parse_line sets it whenever it fails. */
    char why[CG_ERR_LEN];

    if (p->cap == 0) {
        p->cap = 256;
        p->line = cg_xmalloc(p->cap);
    }
    p->line[p->len] = '\0';
    why[0] = '\0';
    if (parse_line(p, p->line, p->len, why) < 0)
        return fail(p, why[0] ? why : "malformed goroutine dump", err);
    p->len = 0;
    return 0;
}

int proto_stack_parser_feed(proto_stack_parser_t *p, const char *buf, size_t len, char *err)
{
    if (p->failed)
        return fail(p, p->err, err);
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\0')
            return fail(p, "malformed goroutine dump: binary data", err);
        if (c == '\n') {
            if (line_done(p, err) < 0)
                return p->failed;
            continue;
        }
        if (p->len + 1 >= p->cap) {
            char why[CG_ERR_LEN];

            if (p->cap > PROTO_STACK_LINE_MAX) {
                snprintf(why, sizeof why, "malformed goroutine dump at line %llu: line longer than %u bytes",
                         p->lines + 1, PROTO_STACK_LINE_MAX);
                return fail(p, why, err);
            }
            p->cap = p->cap ? p->cap * 2 : 256;
            if (p->cap > PROTO_STACK_LINE_MAX)
                p->cap = PROTO_STACK_LINE_MAX + 2; /* the line, its '\r', the NUL */
            p->line = cg_xrealloc(p->line, p->cap);
        }
        p->line[p->len++] = c;
    }
    return 0;
}

int proto_stack_parser_finish(proto_stack_parser_t *p, char *err)
{
    if (p->failed)
        return fail(p, p->err, err);
    if (p->len > 0 && line_done(p, err) < 0)
        return p->failed;
    if (!p->seen_header)
        return fail(p, "empty goroutine dump", err);
    emit(p);
    return 0;
}

void proto_stack_parser_drop_partial_line(proto_stack_parser_t *p)
{
    p->len = 0;
}

void proto_stack_parser_free(proto_stack_parser_t *p)
{
    if (p == NULL)
        return;
    cJSON_Delete(p->pending);
    cJSON_Delete(p->cur);
    free(p->line);
    free(p);
}

/* ---- reply checks --------------------------------------------------- */

const char *proto_command_name(int byte)
{
    switch (byte) {
    case PROTO_STACK: return "stack";
    case PROTO_GC: return "gc";
    case PROTO_MEMSTATS: return "memstats";
    case PROTO_VERSION: return "version";
    case PROTO_HEAP: return "pprof-heap";
    case PROTO_CPU: return "pprof-cpu";
    case PROTO_STATS: return "stats";
    case PROTO_TRACE: return "trace";
    case PROTO_BINARY_DUMP: return "binary dump";
    case PROTO_SETGC: return "setgc";
    default: return "unknown";
    }
}

int proto_stack_head_check(const char *head, size_t n, char *err)
{
    static const char word[] = "goroutine ";
    const char *rest;
    size_t i, digits, m;

    /* "goroutine " N " [" or, with GOTRACEBACK=system, N " gp=".  Each byte
     * is checked as it comes, so a wrong start is refused at once. */
    for (i = 0; i < n && i < sizeof word - 1; i++)
        if (head[i] != word[i])
            goto bad;
    if (i < sizeof word - 1)
        return 0;
    for (digits = 0; i < n && isdigit((unsigned char)head[i]); i++)
        if (++digits > 20)
            goto bad;
    if (i == n)
        return 0;
    if (digits == 0)
        goto bad;
    rest = head + i;
    m = n - i;
    if ((m >= 2 && memcmp(rest, " [", 2) == 0) || (m >= 4 && memcmp(rest, " gp=", 4) == 0))
        return 1;
    if ((m < 2 && memcmp(rest, " [", m) == 0) || (m < 4 && memcmp(rest, " gp=", m) == 0))
        return 0;
bad:
    cg_seterr(err, "malformed goroutine dump: the reply does not start with 'goroutine N ['");
    return -EINVAL;
}

cJSON *proto_reply_json(int byte, const char *buf, size_t len, char *err)
{
    cJSON *v;

    switch (byte) {
    case PROTO_GC:
        if (len != 2 || memcmp(buf, "ok", 2) != 0) {
            cg_seterr(err, "unexpected gc reply (%zu bytes)", len);
            return NULL;
        }
        v = cJSON_CreateObject();
        cJSON_AddTrueToObject(v, "ok");
        return v;
    case PROTO_MEMSTATS:
        return proto_memstats_json(buf, len, err);
    case PROTO_STATS:
        return proto_stats_json(buf, len, err);
    case PROTO_VERSION:
        return proto_version_json(buf, len, err);
    case PROTO_SETGC:
        return proto_setgc_reply_json(buf, len, err);
    default:
        cg_seterr(err, "no whole-reply parser for the %s command", proto_command_name(byte));
        return NULL;
    }
}

int proto_reply_check(int byte, const char *buf, size_t len, uint64_t received,
                      int last_byte, int *cut, char *err)
{
    const char *name = proto_command_name(byte), *what;
    char why[CG_ERR_LEN] = "";
    cJSON *v;

    if (cut)
        *cut = 0;
    if (received == 0) {
        cg_seterr(err, "the agent closed the connection without a %s reply", name);
        return -EPROTO;
    }
    switch (byte) {
    case PROTO_GC:
        /* Exactly "ok": the agent writes it once runtime.GC() returned. */
        if (received != 2 || len != 2 || memcmp(buf, "ok", 2) != 0) {
            cg_seterr(err, "unexpected gc reply (%llu bytes)", (unsigned long long)received);
            return -EPROTO;
        }
        return 0;
    case PROTO_HEAP:
    case PROTO_CPU:
    case PROTO_TRACE:
    case PROTO_BINARY_DUMP:
        if (!proto_binary_head_ok(byte, (const unsigned char *)buf, len, &what)) {
            cg_seterr(err, "the %s reply is not %s (%llu bytes)", name, what,
                      (unsigned long long)received);
            return -EPROTO;
        }
        return 0;
    case PROTO_STACK:
        /* Garbage deserves "malformed", not "truncated": the start first.
         * A reply shorter than the check needs is all in buf. */
        if (proto_stack_head_check(buf, len, err) != 1) {
            cg_seterr(err, "malformed goroutine dump: the reply does not start with 'goroutine N ['");
            return -EPROTO;
        }
        if (last_byte != '\n' && received == PROTO_STACK_RUNTIME_CAP) {
            /* Go's pprof stops formatting a goroutine dump once it fills
             * its 64 MiB buffer (writeGoroutineStacks) and sends what it
             * has: complete as the runtime sent it. */
            if (cut)
                *cut = 1;
            return 0;
        }
        break;
    case PROTO_MEMSTATS:
    case PROTO_STATS:
    case PROTO_VERSION:
    case PROTO_SETGC:
        if (len > PROTO_REPLY_MAX || received > PROTO_REPLY_MAX) {
            cg_seterr(err, "%s reply larger than %u bytes", name, PROTO_REPLY_MAX);
            return -EFBIG;
        }
        /* The same parse --json does, so text output is checked as much. */
        v = proto_reply_json(byte, buf, len, why);
        if (v == NULL) {
            cg_seterr(err, "%s", why[0] ? why : "malformed reply");
            return -EPROTO;
        }
        cJSON_Delete(v);
        break;
    default:
        cg_seterr(err, "unknown command byte 0x%02x", (unsigned)byte & 0xff);
        return -EINVAL;
    }
    /* Every text reply ends with a newline; a connection closed before it
     * cut the reply short. */
    if (last_byte != '\n') {
        cg_seterr(err, "%s reply truncated: connection closed after %llu bytes", name,
                  (unsigned long long)received);
        return -EPROTO;
    }
    return 0;
}

/* proto_values.c -- the gops replies that are key: value text (memstats,
 * stats), setgc's and version's one line, and Go's duration syntax
 *
 * Pure parsers from reply text to typed cJSON for --json (and, through
 * proto_reply_check, the test every reply passes in text mode too).
 * Integers stay exact (proto_int.h); a value out of its key's range or not
 * a number makes the whole reply an error, never a guess.
 */
#include "cgops/proto.h"
#include "cgops/common.h"
#include "proto_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- setgc, version ------------------------------------------------- */

cJSON *proto_setgc_reply_json(const char *text, size_t len, char *err)
{
    /* The agent prints fmt's %v of two Go ints:
     * "New GC percent set to N. Previous value was M.\n".  Each is parsed
     * whole and must fit in 64 bits; printed back exactly (no doubles). */
    static const char pre[] = "New GC percent set to ", mid[] = ". Previous value was ";
    char *s = proto__dupn(text, len), *a, *b, *dot;
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
    if (proto__parse_i64(a, &nv) < 0 || proto__parse_i64(b, &pv) < 0)
        goto bad;
    o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "new", proto__json_i64(nv));
    cJSON_AddItemToObject(o, "previous", proto__json_i64(pv));
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
    s = proto__dupn(text, len);
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

    if (proto__parse_u64(s, v) == 0)
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
    return proto__parse_u64(num, v);
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
    static const char *const envelope[] = {"target", "pid", "error", "result"};
    const char *digits = val + (*val == '-');
    char name[128];
    uint64_t u;
    int64_t i;

    /* The members cgops frames a target's result with: a reply that
     * brought them would forge an error object for a script that tests
     * .error. */
    json_name(key, name, sizeof name);
    for (size_t k = 0; k < sizeof envelope / sizeof envelope[0]; k++)
        if (strcmp(name, envelope[k]) == 0) {
            cg_seterr(err, "malformed %s reply: key '%s' is not one an agent sends", spec->what, key);
            return NULL;
        }

    if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
        if (*val != '-' && proto__parse_u64(val, &u) == 0)
            return proto__json_u64(u);
        if (proto__parse_i64(val, &i) == 0)
            return proto__json_i64(i);
        cg_seterr(err, "malformed %s reply: %s: integer out of range: '%.40s'", spec->what, key, val);
        return NULL;
    }
    if (spec->unknown_scalars) {
        if (parse_size(val, &u) == 0)
            return proto__json_u64(u);
        if (strcmp(val, "true") == 0)
            return cJSON_CreateTrue();
        if (strcmp(val, "false") == 0)
            return cJSON_CreateFalse();
        if (proto__json_number_text(val))
            return cJSON_CreateRaw(val);
    }
    return cJSON_CreateString(val);
}

/* Typed value for a "key: value" line; NULL + err when a known key's value
 * is not of its type or out of its range: a wrong number is never passed
 * on as a string or a null. */
static cJSON *kv_value(const kv_spec_t *spec, const char *key, const char *val,
                       char *name, size_t nsize, int *known, char *err)
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
    *known = 1;
    if (k->name)
        cg_strlcpy(name, k->name, nsize);
    switch (k->kind) {
    case K_SIZE:
        if (parse_size(val, &u) == 0)
            return proto__json_u64(u);
        want = "a byte size 0..2^64-1";
        break;
    case K_U64:
        if (proto__parse_u64(val, &u) == 0)
            return proto__json_u64(u);
        want = "an integer 0..2^64-1";
        break;
    case K_U32:
        if (proto__parse_u64(val, &u) == 0 && u <= UINT32_MAX)
            return proto__json_u64(u);
        want = "an integer 0..4294967295";
        break;
    case K_INT:
    case K_INT1:
        if (proto__parse_i64(val, &i) == 0 && i >= (k->kind == K_INT1 ? 1 : 0))
            return proto__json_i64(i);
        want = k->kind == K_INT1 ? "an integer >= 1" : "an integer >= 0";
        break;
    case K_NEXT_GC:
        if (strncmp(val, "when heap-alloc >= ", 19) == 0 && parse_size(val + 19, &u) == 0)
            return proto__json_u64(u);
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
            return proto__json_i64(ns);
        want = "a Go duration >= 0";
        break;
    case K_FLOAT:
        if (*val != '-' && proto__json_number_text(val))
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
    char *s = proto__dupn(text, len), *line, *save = NULL;
    cJSON *o = cJSON_CreateObject();
    int count = 0, known = 0;

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
        v = kv_value(spec, line, sep + 2, name, sizeof name, &known, err);
        if (v == NULL)
            goto bad;
        /* Two keys for one member ("alloc" and "Alloc", "heap-alloc" and
         * "heap_alloc"): one would replace the other, perhaps a typed
         * value by a string.  No agent prints a key twice. */
        if (cJSON_GetObjectItemCaseSensitive(o, name)) {
            cJSON_Delete(v);
            cg_seterr(err, "malformed %s reply: '%.60s' repeats the member %s", spec->what, line, name);
            goto bad;
        }
        cJSON_AddItemToObject(o, name, v);
        count++;
    }
    if (count == 0) {
        cg_seterr(err, "empty %s reply", spec->what);
        goto bad;
    }
    /* Unknown keys are kept (other agent generations), but a reply with
     * none of the command's own keys is another command's (a stats reply
     * from a wrong port is not memstats). */
    if (!known) {
        cg_seterr(err, "not a %s reply: none of its keys", spec->what);
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


/* proto.c -- the gops wire protocol: command bytes, setgc encoding, reply
 * checks, and the exact-integer helpers the parsers share
 *
 * No I/O here.  The module's other files: proto_values.c (memstats, stats,
 * version, setgc replies, Go durations) and proto_stack.c (the streaming
 * goroutine-dump parser).  They accept replies from every agent
 * generation: unknown keys are kept, missing keys are absent.
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
        {PROTO_ALLOCS, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_BLOCK, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_MUTEX, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_GOROUTINE, "\x1f\x8b", 2, "a gzip-compressed profile"},
        {PROTO_THREADCREATE, "\x1f\x8b", 2, "a gzip-compressed profile"},
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

int proto_text_stream_check(proto_text_state_t *st, const char *buf, size_t len, char *err)
{
    const unsigned char *p = (const unsigned char *)buf, *end = p + len;
    unsigned char seq[4];

    /* A sequence split by the previous chunk: complete it first. */
    while (st->n && p < end) {
        size_t n;

        memcpy(seq, st->carry, st->n);
        n = st->n;
        while (n < sizeof seq && p < end && n < (size_t)(st->want))
            seq[n++] = *p++;
        if (n < (size_t)st->want) {
            memcpy(st->carry, seq, n);
            st->n = n;
            return 0;
        }
        st->n = 0;
        if (cg_utf8_seq_len(seq, n) != n || cg_utf8_is_control(seq, n))
            goto bad;
    }
    while (p < end) {
        unsigned c = *p;
        size_t n;

        if (c < 0x80) {
            /* Tab and newline are all the control characters a Go agent
             * prints; CR or an escape would act on the terminal. */
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
                goto bad;
            p++;
            continue;
        }
        n = cg_utf8_seq_len(p, (size_t)(end - p));
        if (n == 0) {
            /* Perhaps only cut by the chunk's end: keep it for the next. */
            size_t want = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                        : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
            if (want && (size_t)(end - p) < want) {
                /* Checked whole once the next chunk completes it. */
                st->n = (size_t)(end - p);
                memcpy(st->carry, p, st->n);
                st->want = (int)want;
                return 0;
            }
            goto bad;
        }
        /* C1 controls (such as the 8-bit CSI) and bidirectional
         * overrides act on terminals too. */
        if (cg_utf8_is_control(p, n))
            goto bad;
        p += n;
    }
    return 0;
bad:
    cg_seterr(err, "not text: a control character or bytes that are not UTF-8");
    return -EPROTO;
}

int proto_text_stream_end(const proto_text_state_t *st, char *err)
{
    if (st->n) {
        cg_seterr(err, "not text: it ends inside a UTF-8 sequence");
        return -EPROTO;
    }
    return 0;
}

int proto_is_text(const char *buf, size_t len)
{
    proto_text_state_t st = {{0}, 0, 0};

    return proto_text_stream_check(&st, buf, len, NULL) == 0 && proto_text_stream_end(&st, NULL) == 0;
}

/* Copy text[0..len) into a NUL-terminated heap string. */
char *proto__dupn(const char *text, size_t len)
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
int proto__lead_u64(const char *s, uint64_t *v)
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
int proto__parse_u64(const char *s, uint64_t *v)
{
    int n = proto__lead_u64(s, v);

    if (n < 0)
        return -ERANGE;
    return n > 0 && s[n] == '\0' ? 0 : -EINVAL;
}

/* The whole of s as an int64 (optional '-', digits).  0, -EINVAL, -ERANGE. */
int proto__parse_i64(const char *s, int64_t *v)
{
    uint64_t u;
    int neg = *s == '-', rc = proto__parse_u64(s + neg, &u);

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
cJSON *proto__json_u64(uint64_t v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    return cJSON_CreateRaw(digits);
}

cJSON *proto__json_i64(int64_t v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%lld", (long long)v);
    return cJSON_CreateRaw(digits);
}

/* 1 when s is a JSON number (RFC 8259 grammar) that strtod reads as a
 * finite value: then the text itself can be emitted and keeps every digit
 * the agent printed.  Go's %v of a float64 ("0.0005043404273249305",
 * "4.1e-05", "0") always has this form; "NaN", "+Inf", "1e999" do not. */
int proto__json_number_text(const char *s)
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
    case PROTO_ALLOCS: return "pprof-allocs";
    case PROTO_BLOCK: return "pprof-block";
    case PROTO_MUTEX: return "pprof-mutex";
    case PROTO_GOROUTINE: return "pprof-goroutine";
    case PROTO_THREADCREATE: return "pprof-threadcreate";
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
    case PROTO_ALLOCS:
    case PROTO_BLOCK:
    case PROTO_MUTEX:
    case PROTO_GOROUTINE:
    case PROTO_THREADCREATE:
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

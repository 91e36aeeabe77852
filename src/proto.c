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

cJSON *proto_setgc_reply_json(const char *text, size_t len, char *err)
{
    char *s = dupn(text, len);
    long long nv, pv;
    int used = 0;
    cJSON *o = NULL;

    if (sscanf(s, "New GC percent set to %lld. Previous value was %lld.%n", &nv, &pv, &used) == 2 &&
        used > 0 && (s[used] == '\0' || strcmp(s + used, "\n") == 0)) {
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "new", (double)nv);
        cJSON_AddNumberToObject(o, "previous", (double)pv);
    } else {
        cg_seterr(err, "unexpected setgc reply");
    }
    free(s);
    return o;
}

/* An exact unsigned integer as JSON.  cJSON keeps numbers as doubles,
 * which would round values above 2^53; a raw item prints the digits as
 * they came. */
static cJSON *json_uint(unsigned long long v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%llu", v);
    return cJSON_CreateRaw(digits);
}

static int parse_ull(const char *s, unsigned long long *v)
{
    char *end;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    *v = strtoull(s, &end, 10);
    if (errno || *end != '\0')
        return -EINVAL;
    return 0;
}

/* "N bytes" or "1.23KB (N bytes)": the exact count is always given. */
static int parse_size(const char *s, unsigned long long *v)
{
    const char *p = strchr(s, '(');
    char num[32];
    size_t n;

    if (p) {
        const char *sp = strchr(p, ' ');
        if (sp == NULL || strcmp(sp, " bytes)") != 0)
            return -EINVAL;
        n = (size_t)(sp - (p + 1));
        s = p + 1;
    } else {
        const char *sp = strchr(s, ' ');
        if (sp == NULL || strcmp(sp, " bytes") != 0)
            return -EINVAL;
        n = (size_t)(sp - s);
    }
    if (n == 0 || n >= sizeof num)
        return -EINVAL;
    memcpy(num, s, n);
    num[n] = '\0';
    return parse_ull(num, v);
}

int proto_go_duration_ns(const char *s, long long *ns)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
        {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    double total = 0;
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
        char *end;
        double v;
        size_t best = 0, bi = 0;

        if (!isdigit((unsigned char)*s) && *s != '.')
            return -EINVAL;
        v = strtod(s, &end);
        if (end == s)
            return -EINVAL;
        s = end;
        /* Longest unit that matches, so "ms" wins over "m". */
        for (size_t i = 0; i < CG_ARRAY_SIZE(units); i++) {
            size_t l = strlen(units[i].unit);
            if (l > best && strncmp(s, units[i].unit, l) == 0) {
                best = l;
                bi = i;
            }
        }
        if (best == 0)
            return -EINVAL;
        total += v * units[bi].mult;
        s += best;
    }
    if (total > 9.2e18)
        return -ERANGE;
    *ns = (long long)(total + 0.5) * (neg ? -1 : 1);
    return 0;
}

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

/* Typed value for a memstats key.  Known keys get their documented type;
 * unknown ones become an integer, a byte size, or the string as sent. */
static cJSON *memstats_value(const char *key, const char *val, char *name, size_t nsize)
{
    unsigned long long u;
    long long ns;

    json_name(key, name, nsize);
    if (strcmp(key, "next-gc") == 0) {
        cg_strlcpy(name, "next_gc", nsize);
        if (strncmp(val, "when heap-alloc >= ", 19) == 0 && parse_size(val + 19, &u) == 0)
            return json_uint(u);
        return cJSON_CreateString(val);
    }
    if (strcmp(key, "last-gc") == 0)
        return strcmp(val, "-") == 0 ? cJSON_CreateNull() : cJSON_CreateString(val);
    if (strcmp(key, "gc-pause-total") == 0) {
        cg_strlcpy(name, "gc_pause_total_ns", nsize);
        if (proto_go_duration_ns(val, &ns) == 0)
            return cJSON_CreateNumber((double)ns);
        return cJSON_CreateString(val);
    }
    if (strcmp(key, "gc-pause") == 0 || strcmp(key, "gc-pause-end") == 0) {
        snprintf(name, nsize, "%s_ns", strcmp(key, "gc-pause") == 0 ? "gc_pause" : "gc_pause_end");
        if (parse_ull(val, &u) == 0)
            return json_uint(u);
        return cJSON_CreateString(val);
    }
    if (strcmp(val, "true") == 0)
        return cJSON_CreateTrue();
    if (strcmp(val, "false") == 0)
        return cJSON_CreateFalse();
    if (parse_ull(val, &u) == 0)
        return json_uint(u);
    if (parse_size(val, &u) == 0)
        return json_uint(u);
    if (strcmp(key, "gc-cpu-fraction") == 0) {
        char *end;
        double d = strtod(val, &end);
        if (*end == '\0' && end != val)
            return cJSON_CreateNumber(d);
    }
    return cJSON_CreateString(val);
}

typedef cJSON *(*value_fn)(const char *key, const char *val, char *name, size_t nsize);

/* Parse "key: value" lines into an object.  NULL when no line parses or a
 * non-empty line lacks the ": " separator (not a reply of this kind). */
static cJSON *parse_kv(const char *text, size_t len, value_fn fn, const char *what, char *err)
{
    char *s = dupn(text, len), *line, *save = NULL;
    cJSON *o = cJSON_CreateObject();
    int count = 0;

    if (!proto_is_text(text, len)) {
        cg_seterr(err, "malformed %s reply: not text", what);
        goto bad;
    }
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sep = strstr(line, ": "), name[128];
        cJSON *v;

        if (sep == NULL || sep == line) {
            cg_seterr(err, "malformed %s reply: unexpected line '%.60s'", what, line);
            goto bad;
        }
        *sep = '\0';
        v = fn(line, sep + 2, name, sizeof name);
        cJSON_DeleteItemFromObjectCaseSensitive(o, name);
        cJSON_AddItemToObject(o, name, v);
        count++;
    }
    if (count == 0) {
        cg_seterr(err, "empty %s reply", what);
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
    return parse_kv(text, len, memstats_value, "memstats", err);
}

static cJSON *stats_value(const char *key, const char *val, char *name, size_t nsize)
{
    unsigned long long u;

    json_name(key, name, nsize);
    if (parse_ull(val, &u) == 0)
        return json_uint(u);
    return cJSON_CreateString(val);
}

cJSON *proto_stats_json(const char *text, size_t len, char *err)
{
    return parse_kv(text, len, stats_value, "stats", err);
}

cJSON *proto_version_json(const char *text, size_t len, char *err)
{
    char *s;
    cJSON *v;

    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len == 0 || memchr(text, '\n', len) || !proto_is_text(text, len)) {
        cg_seterr(err, "malformed version reply");
        return NULL;
    }
    s = dupn(text, len);
    v = cJSON_CreateString(s);
    free(s);
    return v;
}

/* ---- goroutine dump ------------------------------------------------- */

/* One line may be long (a frame with many arguments, a path); a line over
 * this size is not a goroutine dump. */
#define STACK_LINE_MAX (1u << 20)
/* Frames kept per goroutine; the runtime itself elides past 100. */
#define STACK_FRAMES_MAX 10000

struct proto_stack_parser {
    proto_goroutine_cb cb;
    void *ctx;
    char *line;
    size_t len, cap;
    cJSON *cur;         /* goroutine being built */
    cJSON *frames;
    cJSON *pending;     /* frame (or created_by) waiting for its file:line */
    int pending_is_creator;
    int seen_header;
    unsigned long long lines;
};

proto_stack_parser_t *proto_stack_parser_new(proto_goroutine_cb cb, void *ctx)
{
    proto_stack_parser_t *p = cg_xcalloc(1, sizeof *p);

    p->cb = cb;
    p->ctx = ctx;
    return p;
}

static void emit(proto_stack_parser_t *p)
{
    if (p->cur == NULL)
        return;
    if (p->pending) { /* a function line without its location (truncated) */
        if (p->pending_is_creator)
            cJSON_AddItemToObject(p->cur, "created_by", p->pending);
        else
            cJSON_AddItemToArray(p->frames, p->pending);
        p->pending = NULL;
    }
    if (!cJSON_HasObjectItem(p->cur, "created_by"))
        cJSON_AddNullToObject(p->cur, "created_by");
    p->cb(p->cur, p->ctx);
    p->cur = NULL;
    p->frames = NULL;
}

/* "goroutine 1 [chan receive, 5 minutes, locked to thread]:" */
static int parse_header(proto_stack_parser_t *p, const char *line)
{
    const char *lb, *rb;
    char *end, state[256];
    unsigned long long id;
    long long minutes = 0;
    int locked = 0;
    size_t n;

    id = strtoull(line + 10, &end, 10);
    if (end == line + 10 || *end != ' ' || end[1] != '[')
        return -EINVAL;
    lb = end + 1;
    rb = strrchr(lb, ']');
    if (rb == NULL || strcmp(rb, "]:") != 0)
        return -EINVAL;
    n = (size_t)(rb - lb - 1);
    if (n >= sizeof state)
        n = sizeof state - 1;
    memcpy(state, lb + 1, n);
    state[n] = '\0';
    /* Optional trailing ", N minutes" and ", locked to thread". */
    for (;;) {
        char *comma = strrchr(state, ',');
        const char *t;

        if (comma == NULL)
            break;
        t = comma + 1;
        while (*t == ' ')
            t++;
        if (strcmp(t, "locked to thread") == 0) {
            locked = 1;
        } else if (isdigit((unsigned char)*t) && (strstr(t, " minutes") || strstr(t, " minute"))) {
            minutes = strtoll(t, NULL, 10);
        } else {
            break;
        }
        *comma = '\0';
    }
    p->cur = cJSON_CreateObject();
    cJSON_AddItemToObject(p->cur, "id", json_uint(id));
    cJSON_AddStringToObject(p->cur, "state", state);
    cJSON_AddNumberToObject(p->cur, "wait_minutes", (double)minutes);
    cJSON_AddBoolToObject(p->cur, "locked_to_thread", locked);
    p->frames = cJSON_AddArrayToObject(p->cur, "frames");
    return 0;
}

/* "\t/path/file.go:42 +0x1d" completes the pending frame. */
static int parse_location(proto_stack_parser_t *p, const char *line)
{
    const char *s = line + 1, *colon, *sp;
    char file[4096];
    size_t n;
    long long lineno;

    if (p->pending == NULL)
        return -EINVAL;
    sp = strrchr(s, ' ');
    colon = strrchr(s, ':');
    if (sp && sp > colon && sp[1] == '+') {
        cJSON_AddStringToObject(p->pending, "pc_offset", sp + 1);
    } else {
        sp = s + strlen(s);
        if (!p->pending_is_creator)
            cJSON_AddNullToObject(p->pending, "pc_offset");
    }
    if (colon == NULL || colon > sp)
        return -EINVAL;
    n = (size_t)(colon - s);
    if (n >= sizeof file)
        n = sizeof file - 1;
    memcpy(file, s, n);
    file[n] = '\0';
    lineno = strtoll(colon + 1, NULL, 10);
    cJSON_AddStringToObject(p->pending, "file", file);
    cJSON_AddNumberToObject(p->pending, "line", (double)lineno);
    if (p->pending_is_creator)
        cJSON_AddItemToObject(p->cur, "created_by", p->pending);
    else if (cJSON_GetArraySize(p->frames) < STACK_FRAMES_MAX)
        cJSON_AddItemToArray(p->frames, p->pending);
    else
        cJSON_Delete(p->pending);
    p->pending = NULL;
    return 0;
}

/* "main.f(0x1, 0x2)" or "created by main.main in goroutine 1". */
static int parse_function(proto_stack_parser_t *p, const char *line)
{
    cJSON *f = cJSON_CreateObject();

    if (p->pending)
        cJSON_AddItemToArray(p->frames, p->pending);
    if (strncmp(line, "created by ", 11) == 0) {
        const char *fn = line + 11, *in = strstr(fn, " in goroutine ");
        char name[4096];
        size_t n = in ? (size_t)(in - fn) : strlen(fn);

        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, fn, n);
        name[n] = '\0';
        cJSON_AddStringToObject(f, "function", name);
        if (in)
            cJSON_AddItemToObject(f, "goroutine", json_uint(strtoull(in + 14, NULL, 10)));
        else
            cJSON_AddNullToObject(f, "goroutine");
        p->pending_is_creator = 1;
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
        if (open == NULL || open == line) {
            cJSON_Delete(f);
            return -EINVAL;
        }
        name = dupn(line, (size_t)(open - line));
        cJSON_AddStringToObject(f, "function", name);
        free(name);
        name = dupn(open + 1, (size_t)(q - open - 2));
        cJSON_AddStringToObject(f, "args", name);
        free(name);
        p->pending_is_creator = 0;
    }
    p->pending = f;
    return 0;
}

static int parse_line(proto_stack_parser_t *p, char *line, char *err)
{
    size_t n = strlen(line);

    if (n && line[n - 1] == '\r')
        line[--n] = '\0';
    p->lines++;
    if (n == 0) {
        emit(p);
        return 0;
    }
    if (strncmp(line, "goroutine ", 10) == 0) {
        emit(p);
        if (parse_header(p, line) == 0) {
            p->seen_header = 1;
            return 0;
        }
    } else if (p->cur) {
        int rc;

        if (line[0] == '\t')
            rc = parse_location(p, line);
        else if (strncmp(line, "...", 3) == 0)
            rc = 0; /* "...additional frames elided..." */
        else
            rc = parse_function(p, line);
        if (rc == 0)
            return 0;
    }
    if (proto_is_text(line, n))
        cg_seterr(err, "malformed goroutine dump at line %llu: '%.60s'", p->lines, line);
    else
        cg_seterr(err, "malformed goroutine dump at line %llu: not text", p->lines);
    return -EINVAL;
}

int proto_stack_parser_feed(proto_stack_parser_t *p, const char *buf, size_t len, char *err)
{
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];

        if (c == '\0') {
            cg_seterr(err, "malformed goroutine dump: binary data");
            return -EINVAL;
        }
        if (c == '\n') {
            int rc;

            if (p->cap == 0) {
                p->cap = 256;
                p->line = cg_xmalloc(p->cap);
            }
            p->line[p->len] = '\0';
            p->len = 0;
            rc = parse_line(p, p->line, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (p->len + 1 >= p->cap) {
            if (p->cap >= STACK_LINE_MAX) {
                cg_seterr(err, "malformed goroutine dump: line longer than %u bytes", STACK_LINE_MAX);
                return -EINVAL;
            }
            p->cap = p->cap ? p->cap * 2 : 256;
            p->line = cg_xrealloc(p->line, p->cap);
        }
        p->line[p->len++] = c;
    }
    return 0;
}

int proto_stack_parser_finish(proto_stack_parser_t *p, char *err)
{
    if (p->len > 0) {
        int rc;
        p->line[p->len] = '\0';
        p->len = 0;
        rc = parse_line(p, p->line, err);
        if (rc < 0)
            return rc;
    }
    emit(p);
    if (!p->seen_header) {
        cg_seterr(err, "empty goroutine dump");
        return -EINVAL;
    }
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

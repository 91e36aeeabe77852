/* proto_stack.c -- the streaming parser of a goroutine dump (debug=2)
 *
 * Fed the reply in chunks of any size, it hands each goroutine on as soon
 * as it is complete, so memory is bounded by the caps in proto.h, never by
 * the dump.  A refusal is final.
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
    n = proto__lead_u64(s, &id);
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
        } else if ((n = proto__lead_u64(t, &m)) > 0 &&
                   (strcmp(t + n, " minutes") == 0 || strcmp(t + n, " minute") == 0)) {
            minutes = m;
        } else {
            break;
        }
        *comma = '\0';
    }
    p->cur = cJSON_CreateObject();
    cJSON_AddItemToObject(p->cur, "id", proto__json_u64(id));
    cJSON_AddStringToObject(p->cur, "state", state);
    cJSON_AddItemToObject(p->cur, "wait_minutes", proto__json_u64(minutes));
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
    d = proto__lead_u64(colon + 1, &lineno);
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
    cJSON_AddItemToObject(p->pending, "line", proto__json_u64(lineno));
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
            int d = proto__lead_u64(in + 14, &g);
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
        cJSON_AddItemToObject(f, "goroutine", in ? proto__json_u64(g) : cJSON_CreateNull());
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
        name = proto__dupn(line, (size_t)(open - line));
        cJSON_AddStringToObject(f, "function", name);
        free(name);
        name = proto__dupn(open + 1, (size_t)(q - open - 2));
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


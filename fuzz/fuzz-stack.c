/* fuzz-stack.c -- libFuzzer target for the streaming goroutine-dump parser
 *
 * Input: one seed byte, then the reply.  The reply is parsed twice: whole,
 * and in chunks whose sizes (1..64 bytes) come from the seed, so every
 * split point is tried.  Both runs must give the same goroutines and the
 * same verdict (splitting must never matter), every goroutine must print
 * as valid JSON through the writer --json uses, and the start check
 * (proto_stack_head_check, proto_reply_check) must agree with itself as
 * bytes are added.  A seed byte with the high bit set also drops the last
 * partial line, as the command layer does for a dump the runtime cut.
 */
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/proto.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *out;   /* every goroutine's JSON, one per line */
    size_t len;
    size_t count;
} sink_t;

static void goroutine_cb(cJSON *g, void *ctx)
{
    sink_t *s = ctx;
    char *t = out_json_print(g, 0);
    cJSON *back;
    size_t n;

    if (t == NULL)
        abort();
    /* Raw items (exact integers) must still make valid JSON. */
    back = cJSON_Parse(t);
    if (back == NULL)
        abort();
    cJSON_Delete(back);
    n = strlen(t);
    s->out = cg_xrealloc(s->out, s->len + n + 2);
    memcpy(s->out + s->len, t, n);
    s->len += n;
    s->out[s->len++] = '\n';
    s->out[s->len] = '\0';
    s->count++;
    free(t);
    cJSON_Delete(g);
}

static int run(const char *d, size_t n, unsigned seed, int chunked, sink_t *s, char *err)
{
    proto_stack_parser_t *p = proto_stack_parser_new(goroutine_cb, s);
    unsigned x = seed * 2654435761u + 1;
    size_t off = 0;
    int rc = 0;

    while (off < n && rc == 0) {
        size_t k = n - off;

        if (chunked) {
            x = x * 1103515245u + 12345u;
            if (k > 1 + (x >> 16) % 64)
                k = 1 + (x >> 16) % 64;
        }
        rc = proto_stack_parser_feed(p, d + off, k, err);
        off += k;
    }
    if (rc == 0) {
        if (seed & 0x80)
            proto_stack_parser_drop_partial_line(p);
        rc = proto_stack_parser_finish(p, err);
    } else if (proto_stack_parser_finish(p, NULL) != rc) {
        abort(); /* a refusal is final */
    }
    proto_stack_parser_free(p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sink_t whole = {0}, parts = {0};
    char e1[CG_ERR_LEN] = "", e2[CG_ERR_LEN] = "";
    const char *d;
    size_t n;
    unsigned seed;
    int r1, r2, prev = 0, cut;

    if (size < 1)
        return 0;
    seed = data[0];
    d = (const char *)data + 1;
    n = size - 1;
    r1 = run(d, n, seed, 0, &whole, e1);
    r2 = run(d, n, seed, 1, &parts, e2);
    if (r1 != r2 || whole.count != parts.count || whole.len != parts.len ||
        (whole.len && memcmp(whole.out, parts.out, whole.len) != 0) || strcmp(e1, e2) != 0)
        abort();
    if (r1 != 0 && (r1 != -EINVAL || strstr(e1, "goroutine dump") == NULL))
        abort();
    /* The start check: once it decides, more bytes do not change it. */
    for (size_t k = 0; k <= n && k <= PROTO_STACK_HEAD_MAX; k++) {
        int h = proto_stack_head_check(d, k, NULL);
        if (h < -EINVAL || h > 1 || (prev != 0 && h != prev))
            abort();
        if (k == PROTO_STACK_HEAD_MAX && h == 0)
            abort();
        prev = h;
    }
    /* A dump the parser took whole starts as the check wants. */
    if (r1 == 0 && prev == -EINVAL)
        abort();
    (void)proto_reply_check(PROTO_STACK, d, n < PROTO_STACK_HEAD_MAX ? n : PROTO_STACK_HEAD_MAX, n,
                            n ? (unsigned char)d[n - 1] : -1, &cut, NULL);
    free(whole.out);
    free(parts.out);
    return 0;
}

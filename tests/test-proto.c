/* test-proto.c -- setgc encoding and the reply parsers, fed strings and the
 * recorded replies in protocol/vectors/ */
#include "test.h"
#include "cgops/common.h"
#include "cgops/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>

static long long num(cJSON *o, const char *k)
{
    cJSON *v = cJSON_GetObjectItem(o, k);
    if (v == NULL)
        TEST_FAIL("missing %s", k);
    if (cJSON_IsRaw(v))
        return strtoll(v->valuestring, NULL, 10);
    if (!cJSON_IsNumber(v))
        TEST_FAIL("%s is not a number", k);
    return (long long)v->valuedouble;
}

TEST(proto_setgc_request_bytes)
{
    unsigned char b[1 + PROTO_SETGC_ARG_LEN];
    /* zig-zag: 200 -> 400 = 0x190 -> 0x90 0x03; -1 -> 1; 0 -> 0 */
    static const unsigned char want200[11] = {0x10, 0x90, 0x03};
    static const unsigned char wantm1[11] = {0x10, 0x01};
    static const unsigned char want0[11] = {0x10};
    static const unsigned char wantmax[11] = {0x10, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    static const unsigned char wantmin[11] = {0x10, 0xff, 0xff, 0xff, 0xff, 0x0f};

    ASSERT_EQ(proto_setgc_request(200, b), 11);
    ASSERT(memcmp(b, want200, 11) == 0);
    proto_setgc_request(-1, b);
    ASSERT(memcmp(b, wantm1, 11) == 0);
    proto_setgc_request(0, b);
    ASSERT(memcmp(b, want0, 11) == 0);
    proto_setgc_request(INT_MAX, b);
    ASSERT(memcmp(b, wantmax, 11) == 0);
    proto_setgc_request(INT_MIN, b);
    ASSERT(memcmp(b, wantmin, 11) == 0);
}

TEST(proto_varint_round_trip)
{
    static const long long vals[] = {0, 1, -1, 63, -64, 64, 100, 200, -200, INT_MAX, INT_MIN,
                                     LLONG_MAX, LLONG_MIN};
    unsigned char b[1 + PROTO_SETGC_ARG_LEN];
    long long v;

    for (size_t i = 0; i < CG_ARRAY_SIZE(vals); i++) {
        proto_setgc_request(vals[i], b);
        ASSERT(proto_varint_decode(b + 1, PROTO_SETGC_ARG_LEN, &v) > 0);
        ASSERT_EQ(v, vals[i]);
    }
    memset(b, 0xff, sizeof b);
    ASSERT_EQ(proto_varint_decode(b, sizeof b, &v), 0); /* never terminates */
    ASSERT_EQ(proto_varint_decode(b, 0, &v), 0);
}

TEST(proto_setgc_value_parse_rules)
{
    long long v;
    char err[CG_ERR_LEN];

    ASSERT_EQ(proto_setgc_value_parse("off", &v, err), 0);
    ASSERT_EQ(v, -1);
    ASSERT_EQ(proto_setgc_value_parse("150", &v, err), 0);
    ASSERT_EQ(v, 150);
    ASSERT_EQ(proto_setgc_value_parse("-20", &v, err), 0);
    ASSERT_EQ(v, -20);
    ASSERT_EQ(proto_setgc_value_parse("2147483647", &v, err), 0);
    ASSERT_EQ(proto_setgc_value_parse("2147483648", &v, err), -ERANGE);
    ASSERT_CONTAINS(err, "out of range");
    ASSERT_EQ(proto_setgc_value_parse("1e3", &v, err), -EINVAL);
    ASSERT_STR_EQ(err, "invalid GC percent '1e3': want an integer or 'off'");
    ASSERT_EQ(proto_setgc_value_parse("", &v, err), -EINVAL);
    ASSERT_EQ(proto_setgc_value_parse("OFF", &v, err), -EINVAL);
    ASSERT_EQ(proto_setgc_value_parse(" 5", &v, err), -EINVAL);
}

TEST(proto_setgc_reply)
{
    static const char r[] = "New GC percent set to 200. Previous value was 100.\n";
    char err[CG_ERR_LEN];
    cJSON *o = proto_setgc_reply_json(r, sizeof r - 1, err);

    ASSERT(o != NULL);
    ASSERT_EQ(num(o, "new"), 200);
    ASSERT_EQ(num(o, "previous"), 100);
    cJSON_Delete(o);
    ASSERT(proto_setgc_reply_json("ok", 2, err) == NULL);
}

TEST(proto_go_durations)
{
    long long ns;

    ASSERT_EQ(proto_go_duration_ns("0s", &ns), 0);
    ASSERT_EQ(ns, 0);
    ASSERT_EQ(proto_go_duration_ns("1.234ms", &ns), 0);
    ASSERT_EQ(ns, 1234000);
    ASSERT_EQ(proto_go_duration_ns("2m3.5s", &ns), 0);
    ASSERT_EQ(ns, 123500000000LL);
    ASSERT_EQ(proto_go_duration_ns("1h2m3s", &ns), 0);
    ASSERT_EQ(ns, 3723000000000LL);
    ASSERT_EQ(proto_go_duration_ns("345\xc2\xb5s", &ns), 0);
    ASSERT_EQ(ns, 345000);
    ASSERT_EQ(proto_go_duration_ns("12ns", &ns), 0);
    ASSERT_EQ(ns, 12);
    ASSERT_EQ(proto_go_duration_ns("12", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("abc", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("5x", &ns), -EINVAL);
}

TEST(proto_memstats_recorded_vector)
{
    size_t len;
    char *t = test_vector("memstats.txt", &len), err[CG_ERR_LEN];
    cJSON *o = proto_memstats_json(t, len, err);

    ASSERT(o != NULL);
    /* The vector's first line is "alloc: ... (N bytes)": N must come back. */
    {
        const char *p = strchr(t, '(');
        ASSERT(p != NULL);
        ASSERT_EQ(num(o, "alloc"), strtoll(p + 1, NULL, 10));
    }
    ASSERT(num(o, "next_gc") > 0);
    ASSERT(cJSON_IsBool(cJSON_GetObjectItem(o, "enable_gc")));
    ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(o, "enable_gc")));
    /* The fraction keeps the agent's digits (no round trip through a double). */
    {
        const char *p = strstr(t, "gc-cpu-fraction: ");
        cJSON *f = cJSON_GetObjectItem(o, "gc_cpu_fraction");
        ASSERT(p != NULL && f != NULL && cJSON_IsRaw(f));
        p += 17;
        ASSERT(strncmp(f->valuestring, p, strcspn(p, "\n")) == 0);
        ASSERT_EQ(strlen(f->valuestring), strcspn(p, "\n"));
    }
    ASSERT(cJSON_GetObjectItem(o, "gc_pause_total_ns") != NULL);
    ASSERT(cJSON_GetObjectItem(o, "num_forced_gc") != NULL);
    cJSON_Delete(o);
    free(t);
}

TEST(proto_memstats_sizes_and_other_agent_generations)
{
    static const char v328[] =
        "alloc: 1023 bytes\n"
        "total-alloc: 1.00KB (1024 bytes)\n"
        "sys: 1023.90KB (1048476 bytes)\n"
        "stack-mspan-inuse: 16.00KB (16384 bytes)\n"
        "stack-mcache-sys: 15.23KB (15600 bytes)\n"
        "next-gc: when heap-alloc >= 4.00MB (4194304 bytes)\n"
        "last-gc: -\n"
        "gc-pause-total: 1.5ms\n"
        "future-key: 42\n"
        "odd-key: hello world\n"
        "enable-gc: true\n"
        "debug-gc: false\n";
    static const char big[] = "frees: 18446744073709551615\n";
    char err[CG_ERR_LEN];
    cJSON *o = proto_memstats_json(v328, sizeof v328 - 1, err);
    char *s;

    ASSERT(o != NULL);
    ASSERT_EQ(num(o, "alloc"), 1023);
    ASSERT_EQ(num(o, "total_alloc"), 1024);
    ASSERT_EQ(num(o, "sys"), 1048476);
    ASSERT_EQ(num(o, "stack_mspan_inuse"), 16384);
    ASSERT_EQ(num(o, "next_gc"), 4194304);
    ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "last_gc")));
    ASSERT_EQ(num(o, "gc_pause_total_ns"), 1500000);
    ASSERT_EQ(num(o, "future_key"), 42);
    ASSERT_STR_EQ(cJSON_GetObjectItem(o, "odd_key")->valuestring, "hello world");
    ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(o, "debug_gc")));
    ASSERT(cJSON_GetObjectItem(o, "buck_hash_sys") == NULL); /* missing stays missing */
    cJSON_Delete(o);
    /* Counts above 2^53 print exactly. */
    o = proto_memstats_json(big, sizeof big - 1, err);
    s = cJSON_PrintUnformatted(o);
    ASSERT_STR_EQ(s, "{\"frees\":18446744073709551615}");
    free(s);
    cJSON_Delete(o);
    ASSERT(proto_memstats_json("", 0, err) == NULL);
    ASSERT(proto_memstats_json("garbage without separator\n", 26, err) == NULL);
    ASSERT_CONTAINS(err, "malformed memstats reply");
    ASSERT(proto_memstats_json("a: \x01\n", 5, err) == NULL);
    ASSERT_STR_EQ(err, "malformed memstats reply: not text");
}

TEST(proto_stats_and_version)
{
    size_t len;
    char *t = test_vector("stats.txt", &len), err[CG_ERR_LEN];
    cJSON *o = proto_stats_json(t, len, err), *v;

    ASSERT(o != NULL);
    ASSERT(num(o, "goroutines") >= 1);
    ASSERT(num(o, "os_threads") >= 1);
    ASSERT(num(o, "gomaxprocs") >= 1);
    ASSERT(num(o, "num_cpu") >= 1);
    cJSON_Delete(o);
    free(t);
    t = test_vector("version.txt", &len);
    v = proto_version_json(t, len, err);
    ASSERT(v != NULL && cJSON_IsString(v));
    ASSERT(strncmp(v->valuestring, "go1.", 4) == 0);
    ASSERT(strchr(v->valuestring, '\n') == NULL);
    cJSON_Delete(v);
    free(t);
    ASSERT(proto_version_json("", 0, err) == NULL);
    ASSERT(proto_version_json("a\nb\n", 4, err) == NULL);
}

typedef struct {
    cJSON *all;
} collect_t;

static void collect(cJSON *g, void *ctx)
{
    cJSON_AddItemToArray(((collect_t *)ctx)->all, g);
}

static char *parse_chunks(const char *t, size_t len, size_t chunk, int *count)
{
    collect_t c = {cJSON_CreateArray()};
    proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);
    char err[CG_ERR_LEN], *s;

    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (proto_stack_parser_feed(p, t + off, n, err) != 0)
            TEST_FAIL("feed: %s", err);
    }
    if (proto_stack_parser_finish(p, err) != 0)
        TEST_FAIL("finish: %s", err);
    proto_stack_parser_free(p);
    *count = cJSON_GetArraySize(c.all);
    s = cJSON_PrintUnformatted(c.all);
    cJSON_Delete(c.all);
    return s;
}

TEST(proto_stack_chunking_does_not_matter)
{
    size_t len;
    char *t = test_vector("stack.txt", &len);
    int n1, n2, n3;
    char *whole = parse_chunks(t, len, len, &n1);
    char *bytes = parse_chunks(t, len, 1, &n2);
    char *odd = parse_chunks(t, len, 7, &n3);

    ASSERT(n1 >= 3);
    ASSERT_EQ(n1, n2);
    ASSERT_EQ(n1, n3);
    ASSERT_STR_EQ(whole, bytes);
    ASSERT_STR_EQ(whole, odd);
    ASSERT_CONTAINS(whole, "\"function\":\"main.blockForever\"");
    free(whole);
    free(bytes);
    free(odd);
    free(t);
}

TEST(proto_stack_fields)
{
    static const char dump[] =
        "goroutine 7 [chan receive, 12 minutes, locked to thread]:\n"
        "main.(*T).Method(0xc000012345, {0x1, 0x2})\n"
        "\t/src/main.go:42 +0x1d\n"
        "main.worker[...](...)\n"
        "\t/src/w.go:9\n"
        "...additional frames elided...\n"
        "created by main.main in goroutine 1\n"
        "\t/src/main.go:30 +0x3f\n"
        "\n"
        "goroutine 1 [running]:\n"
        "main.main()\n"
        "\t/src/main.go:50 +0x10\n";
    collect_t c = {cJSON_CreateArray()};
    proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);
    char err[CG_ERR_LEN];
    cJSON *g, *f, *cb;

    ASSERT_EQ(proto_stack_parser_feed(p, dump, sizeof dump - 1, err), 0);
    ASSERT_EQ(proto_stack_parser_finish(p, err), 0);
    proto_stack_parser_free(p);
    ASSERT_EQ(cJSON_GetArraySize(c.all), 2);
    g = cJSON_GetArrayItem(c.all, 0);
    ASSERT_EQ(num(g, "id"), 7);
    ASSERT_STR_EQ(cJSON_GetObjectItem(g, "state")->valuestring, "chan receive");
    ASSERT_EQ(num(g, "wait_minutes"), 12);
    ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(g, "locked_to_thread")));
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "frames"), 0);
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "function")->valuestring, "main.(*T).Method");
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "args")->valuestring, "0xc000012345, {0x1, 0x2}");
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "file")->valuestring, "/src/main.go");
    ASSERT_EQ(num(f, "line"), 42);
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "pc_offset")->valuestring, "+0x1d");
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "frames"), 1);
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "function")->valuestring, "main.worker[...]");
    ASSERT(cJSON_IsNull(cJSON_GetObjectItem(f, "pc_offset")));
    cb = cJSON_GetObjectItem(g, "created_by");
    ASSERT_STR_EQ(cJSON_GetObjectItem(cb, "function")->valuestring, "main.main");
    ASSERT_EQ(num(cb, "goroutine"), 1);
    ASSERT_EQ(num(cb, "line"), 30);
    g = cJSON_GetArrayItem(c.all, 1);
    ASSERT_STR_EQ(cJSON_GetObjectItem(g, "state")->valuestring, "running");
    ASSERT(cJSON_IsNull(cJSON_GetObjectItem(g, "created_by")));
    cJSON_Delete(c.all);
}

TEST(proto_stack_rejects_garbage_and_empty)
{
    collect_t c = {cJSON_CreateArray()};
    proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);
    char err[CG_ERR_LEN];

    ASSERT_EQ(proto_stack_parser_feed(p, "hello\n", 6, err), -EINVAL);
    ASSERT_STR_EQ(err, "malformed goroutine dump at line 1: 'hello'");
    proto_stack_parser_free(p);
    p = proto_stack_parser_new(collect, &c);
    ASSERT_EQ(proto_stack_parser_feed(p, "\xff\xfe\n", 3, err), -EINVAL);
    ASSERT_STR_EQ(err, "malformed goroutine dump at line 1: not text");
    proto_stack_parser_free(p);
    p = proto_stack_parser_new(collect, &c);
    ASSERT_EQ(proto_stack_parser_finish(p, err), -EINVAL);
    ASSERT_STR_EQ(err, "empty goroutine dump");
    proto_stack_parser_free(p);
    ASSERT_EQ(cJSON_GetArraySize(c.all), 0);
    cJSON_Delete(c.all);
}

TEST(proto_stack_line_limit)
{
    collect_t c = {cJSON_CreateArray()};
    proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);
    char err[CG_ERR_LEN], *big = cg_xmalloc(2u << 20);
    int rc;

    memset(big, 'a', 2u << 20);
    rc = proto_stack_parser_feed(p, big, 2u << 20, err);
    ASSERT_EQ(rc, -EINVAL);
    ASSERT_CONTAINS(err, "line longer than");
    proto_stack_parser_free(p);
    cJSON_Delete(c.all);
    free(big);
}

/* Each binary command's reply must start as its format does. */
TEST(proto_binary_head_checks_each_format)
{
    const char *what = NULL;

    ASSERT_EQ(proto_binary_head_ok(PROTO_HEAP, (const unsigned char *)"\x1f\x8b\x08\x00", 4, &what), 1);
    ASSERT_STR_EQ(what, "a gzip-compressed profile");
    ASSERT_EQ(proto_binary_head_ok(PROTO_CPU, (const unsigned char *)"\x1f\x8b", 2, &what), 1);
    ASSERT_EQ(proto_binary_head_ok(PROTO_HEAP, (const unsigned char *)"goroutines: 4\n", 14, &what), 0);
    ASSERT_EQ(proto_binary_head_ok(PROTO_HEAP, (const unsigned char *)"\x1f", 1, &what), 0);
    ASSERT_EQ(proto_binary_head_ok(PROTO_TRACE, (const unsigned char *)"go 1.19 trace\0\0\0", 16, &what), 1);
    ASSERT_EQ(proto_binary_head_ok(PROTO_TRACE, (const unsigned char *)"\x1f\x8b\x08", 3, &what), 0);
    ASSERT_STR_EQ(what, "a Go execution trace");
    ASSERT_EQ(proto_binary_head_ok(PROTO_BINARY_DUMP, (const unsigned char *)"\x7f" "ELF\x02", 5, &what), 1);
    ASSERT_EQ(proto_binary_head_ok(PROTO_BINARY_DUMP, (const unsigned char *)"#!/bin/sh", 9, &what), 0);
    ASSERT_STR_EQ(what, "an ELF executable");
    /* Text commands have no such check. */
    ASSERT_EQ(proto_binary_head_ok(PROTO_STATS, (const unsigned char *)"x", 1, &what), 1);
}

/* proto_is_text and the JSON writer share one UTF-8 rule: what JSON output
 * would turn into U+FFFD is not text an agent sends. */
TEST(proto_is_text_utf8_is_strict)
{
    static const char *bad[] = {"\xed\xa0\x80", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
                                "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc0\xaf"};
    char err[CG_ERR_LEN], line[64];

    ASSERT_EQ(proto_is_text("38.837\xc2\xb5s\n", 10), 1);
    ASSERT_EQ(proto_is_text("a\x01", 2), 0);
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        ASSERT_EQ(proto_is_text(bad[i], strlen(bad[i])), 0);
        snprintf(line, sizeof line, "odd-key: %s\n", bad[i]);
        ASSERT(proto_memstats_json(line, strlen(line), err) == NULL);
        ASSERT_STR_EQ(err, "malformed memstats reply: not text");
    }
}

/* ---- defects found by trying to break the parsers (issue 8) ---------- */

static int stack_feed_all(const char *t, size_t len, char *err, collect_t *c)
{
    proto_stack_parser_t *p = proto_stack_parser_new(collect, c);
    int rc = proto_stack_parser_feed(p, t, len, err);

    if (rc == 0)
        rc = proto_stack_parser_finish(p, err);
    proto_stack_parser_free(p);
    return rc;
}

/* A function line followed by a line that is neither a location nor a
 * frame: the pending frame was added to the goroutine and then freed again
 * with it (double free).  The dump is refused, nothing is emitted; so are
 * the other shapes a dump never has (last two: its first line). */
TEST(proto_stack_bad_line_after_function_is_refused)
{
    static const char *dumps[] = {
        "goroutine 1 [running]:\nmain.f()\nbogus\n",
        "goroutine 1 [running]:\nmain.f()\nmain.g()\nbogus\n",
        "goroutine 1 [running]:\nmain.f()\ncreated by main.main\nbogus\n",
        "goroutine 1 [running]:\ncreated by main.main\n\t/a.go:1\nmain.f()\n",
        "goroutine 1 [running]:\nmain.f()\n\t/a.go:1\ncreated by a\ncreated by b\n",
        "goroutine 1 [running]:\nmain.f()\n\tno line number\n",
        "\ngoroutine 1 [running]:\n",                    /* not how a dump starts */
        "goroutine 000000000000000000001 [running]:\n", /* more digits than a uint64 has */
    };
    char err[CG_ERR_LEN];

    for (size_t i = 0; i < CG_ARRAY_SIZE(dumps); i++) {
        collect_t c = {cJSON_CreateArray()};
        proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);

        err[0] = '\0';
        ASSERT_EQ(proto_stack_parser_feed(p, dumps[i], strlen(dumps[i]), err), -EINVAL);
        ASSERT_CONTAINS(err, "malformed goroutine dump");
        proto_stack_parser_free(p); /* crashed here: double free */
        ASSERT_EQ(cJSON_GetArraySize(c.all), 0);
        cJSON_Delete(c.all);
    }
}

/* A refusal sticks: finishing after it emits nothing half-built. */
TEST(proto_stack_refusal_is_final)
{
    static const char dump[] = "goroutine 1 [running]:\nmain.f()\n\t/a.go:1\n\ngoroutine 2 [x]:\nbogus\n";
    collect_t c = {cJSON_CreateArray()};
    proto_stack_parser_t *p = proto_stack_parser_new(collect, &c);
    char err[CG_ERR_LEN];

    ASSERT_EQ(proto_stack_parser_feed(p, dump, sizeof dump - 1, err), -EINVAL);
    ASSERT_STR_EQ(err, "malformed goroutine dump at line 6: 'bogus'");
    err[0] = '\0';
    ASSERT_EQ(proto_stack_parser_feed(p, "\n", 1, err), -EINVAL);
    ASSERT_STR_EQ(err, "malformed goroutine dump at line 6: 'bogus'");
    err[0] = '\0';
    ASSERT_EQ(proto_stack_parser_finish(p, err), -EINVAL);
    ASSERT_STR_EQ(err, "malformed goroutine dump at line 6: 'bogus'");
    proto_stack_parser_free(p);
    ASSERT_EQ(cJSON_GetArraySize(c.all), 1); /* goroutine 1, complete before */
    cJSON_Delete(c.all);
}

/* A frame line without its location (a dump the runtime cut) still counts
 * and is kept; the goroutine before a bad one is emitted. */
TEST(proto_stack_function_without_location_is_kept)
{
    static const char dump[] = "goroutine 1 [running]:\nmain.f()\nmain.g(0x1)\n\t/a.go:7 +0x1\nmain.h()";
    collect_t c = {cJSON_CreateArray()};
    char err[CG_ERR_LEN];
    cJSON *fr;

    ASSERT_EQ(stack_feed_all(dump, sizeof dump - 1, err, &c), 0);
    ASSERT_EQ(cJSON_GetArraySize(c.all), 1);
    fr = cJSON_GetObjectItem(cJSON_GetArrayItem(c.all, 0), "frames");
    ASSERT_EQ(cJSON_GetArraySize(fr), 3);
    ASSERT_STR_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(fr, 0), "function")->valuestring, "main.f");
    ASSERT(cJSON_GetObjectItem(cJSON_GetArrayItem(fr, 0), "file") == NULL);
    ASSERT_EQ(num(cJSON_GetArrayItem(fr, 1), "line"), 7);
    ASSERT_STR_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(fr, 2), "function")->valuestring, "main.h");
    cJSON_Delete(c.all);
}

static void drop(cJSON *g, void *ctx)
{
    (*(size_t *)ctx)++;
    cJSON_Delete(g);
}

/* Feed `unit` repeated up to `total` bytes after one header, in 1 MiB
 * chunks; returns the bytes fed when the parser refused, 0 if it never did. */
static size_t feed_endless(const char *unit, size_t total, char *err)
{
    size_t ulen = strlen(unit), chunk = (1u << 20) / ulen * ulen, fed = 0, n = 0;
    char *buf = cg_xmalloc(chunk);
    proto_stack_parser_t *p = proto_stack_parser_new(drop, &n);
    static const char head[] = "goroutine 1 [running]:\n";

    for (size_t off = 0; off < chunk; off += ulen)
        memcpy(buf + off, unit, ulen);
    ASSERT_EQ(proto_stack_parser_feed(p, head, sizeof head - 1, err), 0);
    while (fed < total) {
        int rc = proto_stack_parser_feed(p, buf, chunk, err);
        fed += chunk;
        if (rc != 0) {
            ASSERT_EQ(rc, -EINVAL);
            break;
        }
    }
    proto_stack_parser_free(p);
    free(buf);
    ASSERT_EQ(n, 0);
    return fed < total ? fed : 0;
}

/* An agent streaming endless function lines (no location lines, so the
 * old frame cap never applied) grew the parser without bound: 200 MB of
 * them took gigabytes.  Every line of a goroutine now counts against the
 * frame and byte caps, so the reply is refused within the first MiBs. */
TEST(proto_stack_endless_frames_are_refused_early)
{
    char err[CG_ERR_LEN];
    size_t at;

    at = feed_endless("main.f(0x1)\n", 200u << 20, err);
    ASSERT(at > 0 && at <= (8u << 20));
    ASSERT_CONTAINS(err, "malformed goroutine dump");
    ASSERT_CONTAINS(err, "frames in one goroutine");
    at = feed_endless("main.f(0x1)\n\t/src/a.go:1 +0x1\n", 200u << 20, err);
    ASSERT(at > 0 && at <= (8u << 20));
    ASSERT_CONTAINS(err, "frames in one goroutine");
    /* Lines that are no frame at all count in bytes. */
    at = feed_endless("...additional frames elided...\n", 200u << 20, err);
    ASSERT(at > 0 && at <= (8u << 20));
    ASSERT_CONTAINS(err, "goroutine larger than");
}

/* The caps leave room for any real goroutine: the runtime prints at most
 * 100 frames; long generic names and paths are a few hundred bytes. */
TEST(proto_stack_caps_fit_real_dumps)
{
    char line[2048], *dump = cg_xmalloc(4u << 20);
    size_t len = 0, n = 0;
    proto_stack_parser_t *p = proto_stack_parser_new(drop, &n);
    char err[CG_ERR_LEN];

    for (int g = 0; g < 3; g++) {
        len += (size_t)sprintf(dump + len, "goroutine %d [select, 3 minutes]:\n", g + 1);
        for (int f = 0; f < 100; f++) {
            memset(line, 'x', 900);
            line[900] = '\0';
            len += (size_t)sprintf(dump + len, "pkg.%s[...](0x1, {0x2, 0x3}, ...)\n\t/src/%s.go:%d +0x1d\n",
                                   line, line, f + 1);
        }
        len += (size_t)sprintf(dump + len, "...additional frames elided...\ncreated by main.main in goroutine 1\n"
                                           "\t/src/main.go:9 +0x3f\n\n");
    }
    ASSERT_EQ(proto_stack_parser_feed(p, dump, len, err), 0);
    ASSERT_EQ(proto_stack_parser_finish(p, err), 0);
    ASSERT_EQ(n, 3);
    proto_stack_parser_free(p);
    free(dump);
}

/* memstats: every known key has its Go type; a value out of that type's
 * range or not a number where one is expected fails the reply (it was
 * passed on as a string or null, breaking the schema). */
TEST(proto_memstats_values_out_of_type_are_errors)
{
    static const char *bad[] = {
        "num-gc: -3\n",
        "num-gc: 4294967296\n",            /* uint32 in runtime.MemStats */
        "num-forced-gc: 1.5\n",
        "frees: 18446744073709551616\n",   /* 2^64 */
        "frees: -1\n",
        "mallocs: 0x10\n",
        "alloc: -5 bytes\n",
        "alloc: 1.00KB (18446744073709551616 bytes)\n",
        "heap-sys: lots\n",
        "next-gc: when heap-alloc >= -1 bytes\n",
        "next-gc: soon\n",
        "gc-cpu-fraction: nan\n",
        "gc-cpu-fraction: NaN\n",
        "gc-cpu-fraction: +Inf\n",
        "gc-cpu-fraction: 1e999\n",
        "gc-cpu-fraction: -0.5\n",
        "gc-cpu-fraction: .5\n",
        "gc-pause-total: -1.5ms\n",
        "gc-pause-total: 1.5\n",
        "gc-pause-total: 2562047h47m16.854775808s\n", /* 2^63 ns */
        "gc-pause: 1e3\n",
        "enable-gc: yes\n",
        "debug-gc: 1\n",
        "future-key: 99999999999999999999\n", /* an integer, but none Go has */
    };
    char err[CG_ERR_LEN];

    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        cJSON *o = proto_memstats_json(bad[i], strlen(bad[i]), err);
        if (o != NULL)
            TEST_FAIL("accepted '%s'", bad[i]);
        ASSERT_CONTAINS(err, "malformed memstats reply");
    }
}

/* Integers print digit for digit, at the ends of their ranges too. */
TEST(proto_memstats_integers_are_exact)
{
    static const char r[] =
        "alloc: 16.00EB (18446744073709551615 bytes)\n"
        "heap-objects: 9007199254740993\n"
        "num-gc: 4294967295\n"
        "gc-pause-total: 2562047h47m16.854775807s\n"
        "gc-pause-end: 1795563619163395994\n"
        "gc-cpu-fraction: 4.1e-05\n"
        "future-signed: -9223372036854775808\n"
        "future-float: 0.25\n"
        "future-word: -\n";
    char err[CG_ERR_LEN], *s;
    cJSON *o = proto_memstats_json(r, sizeof r - 1, err);

    ASSERT(o != NULL);
    s = cJSON_PrintUnformatted(o);
    ASSERT_STR_EQ(s, "{\"alloc\":18446744073709551615,\"heap_objects\":9007199254740993,"
                     "\"num_gc\":4294967295,\"gc_pause_total_ns\":9223372036854775807,"
                     "\"gc_pause_end_ns\":1795563619163395994,\"gc_cpu_fraction\":4.1e-05,"
                     "\"future_signed\":-9223372036854775808,\"future_float\":0.25,"
                     "\"future_word\":\"-\"}");
    free(s);
    cJSON_Delete(o);
}

TEST(proto_stats_values_out_of_type_are_errors)
{
    static const char *bad[] = {
        "goroutines: -3\n", "goroutines: nan\n", "OS threads: 1.5\n", "GOMAXPROCS: 0\n",
        "num CPU: -1\n", "goroutines: 9223372036854775808\n", "goroutines: \n",
        "goroutines: 7\r\n", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
        "future: 18446744073709551616\n",
    };
    static const char good[] = "goroutines: 9223372036854775807\nOS threads: 0\nGOMAXPROCS: 1\n"
                               "num CPU: 64\nfuture: text\n";
    char err[CG_ERR_LEN], *s;
    cJSON *o;

    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        o = proto_stats_json(bad[i], strlen(bad[i]), err);
        if (o != NULL)
            TEST_FAIL("accepted '%s'", bad[i]);
        ASSERT_CONTAINS(err, "stats reply");
    }
    o = proto_stats_json(good, sizeof good - 1, err);
    ASSERT(o != NULL);
    s = cJSON_PrintUnformatted(o);
    ASSERT_STR_EQ(s, "{\"goroutines\":9223372036854775807,\"os_threads\":0,\"gomaxprocs\":1,"
                     "\"num_cpu\":64,\"future\":\"text\"}");
    free(s);
    cJSON_Delete(o);
}

/* setgc's values are Go ints: beyond 2^53 they were rounded by doubles. */
TEST(proto_setgc_reply_exact_and_strict)
{
    static const char big[] = "New GC percent set to 9007199254740993. Previous value was -9223372036854775808.\n";
    static const char *bad[] = {
        "New GC percent set to 9223372036854775808. Previous value was 1.\n",
        "New GC percent set to +5. Previous value was 1.\n",
        "New GC percent set to  5. Previous value was 1.\n",
        "New GC percent set to nan. Previous value was 1.\n",
        "New GC percent set to 5. Previous value was 1.5.\n",
        "New GC percent set to 5. Previous value was 1.\nmore\n",
        "New GC percent set to 5. Previous value was .\n",
        "SSH-2.0-OpenSSH_9.2p1\r\n",
    };
    char err[CG_ERR_LEN], *s;
    cJSON *o = proto_setgc_reply_json(big, sizeof big - 1, err);

    ASSERT(o != NULL);
    s = cJSON_PrintUnformatted(o);
    ASSERT_STR_EQ(s, "{\"new\":9007199254740993,\"previous\":-9223372036854775808}");
    free(s);
    cJSON_Delete(o);
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        o = proto_setgc_reply_json(bad[i], strlen(bad[i]), err);
        if (o != NULL)
            TEST_FAIL("accepted '%s'", bad[i]);
        ASSERT_STR_EQ(err, "unexpected setgc reply");
    }
}

/* Durations are parsed as Go does, in integers: exact to the ns. */
TEST(proto_go_durations_exact)
{
    long long ns;

    ASSERT_EQ(proto_go_duration_ns("2562047h47m16.854775807s", &ns), 0);
    ASSERT(ns == LLONG_MAX);
    ASSERT_EQ(proto_go_duration_ns("-2562047h47m16.854775808s", &ns), 0);
    ASSERT(ns == LLONG_MIN);
    ASSERT_EQ(proto_go_duration_ns("2562047h47m16.854775808s", &ns), -ERANGE);
    ASSERT_EQ(proto_go_duration_ns("9999999999999999999ns", &ns), -ERANGE);
    ASSERT_EQ(proto_go_duration_ns("1h0m0.000000001s", &ns), 0);
    ASSERT_EQ(ns, 3600000000001LL);
    ASSERT_EQ(proto_go_duration_ns(".5s", &ns), 0);
    ASSERT_EQ(ns, 500000000);
    ASSERT_EQ(proto_go_duration_ns("1.5\xce\xbcs", &ns), 0);
    ASSERT_EQ(ns, 1500);
    ASSERT_EQ(proto_go_duration_ns(".", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("1e3s", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("1 s", &ns), -EINVAL);
    ASSERT_EQ(proto_go_duration_ns("-", &ns), -EINVAL);
}

TEST(proto_version_must_look_like_one)
{
    static const char *good[] = {"go1.19.8\n", "go1.21.0 X:boringcrypto\n", "devel go1.22-abc Tue\n",
                                 "go1.26.5"};
    static const char *bad[] = {"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "HTTP/1.1 400 Bad Request\r\n",
                                "goroutines: 7\n", "go1.19\r\n", "\n", "go1\tx\n"};
    char err[CG_ERR_LEN];

    for (size_t i = 0; i < CG_ARRAY_SIZE(good); i++) {
        cJSON *v = proto_version_json(good[i], strlen(good[i]), err);
        if (v == NULL)
            TEST_FAIL("refused '%s': %s", good[i], err);
        cJSON_Delete(v);
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        if (proto_version_json(bad[i], strlen(bad[i]), err) != NULL)
            TEST_FAIL("accepted '%s'", bad[i]);
        ASSERT_STR_EQ(err, "malformed version reply");
    }
}

/* ---- reply checks ---------------------------------------------------- */

static int check(int byte, const char *reply, int *cut, char *err)
{
    size_t len = strlen(reply);

    return proto_reply_check(byte, reply, len, len, len ? (unsigned char)reply[len - 1] : -1, cut, err);
}

/* Text mode refuses what --json refuses: an SSH banner is no stats reply. */
TEST(proto_reply_check_text_replies)
{
    static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    static const int bytes[] = {PROTO_STATS, PROTO_MEMSTATS, PROTO_VERSION, PROTO_SETGC, PROTO_STACK, PROTO_GC};
    char err[CG_ERR_LEN];
    int cut = 7;

    ASSERT_EQ(check(PROTO_STATS, "goroutines: 7\nOS threads: 8\nGOMAXPROCS: 2\nnum CPU: 2\n", &cut, err), 0);
    ASSERT_EQ(cut, 0);
    ASSERT_EQ(check(PROTO_VERSION, "go1.19.8\n", NULL, err), 0);
    ASSERT_EQ(check(PROTO_SETGC, "New GC percent set to 200. Previous value was 100.\n", NULL, err), 0);
    ASSERT_EQ(check(PROTO_MEMSTATS, "alloc: 1023 bytes\nnum-gc: 1\n", NULL, err), 0);
    for (size_t i = 0; i < CG_ARRAY_SIZE(bytes); i++) {
        err[0] = '\0';
        ASSERT_EQ(check(bytes[i], ssh, NULL, err), -EPROTO);
        ASSERT(err[0] != '\0');
    }
    ASSERT_EQ(check(PROTO_STATS, ssh, NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "malformed stats reply: not text"); /* its CR */
    ASSERT_EQ(check(PROTO_MEMSTATS, "num-gc: -3\n", NULL, err), -EPROTO);
    ASSERT_CONTAINS(err, "malformed memstats reply: num-gc");
    /* Right content without the final newline: cut short. */
    ASSERT_EQ(check(PROTO_STATS, "goroutines: 7", NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "stats reply truncated: connection closed after 13 bytes");
    ASSERT_EQ(check(PROTO_VERSION, "go1.19.8", NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "version reply truncated: connection closed after 8 bytes");
    ASSERT_EQ(check(PROTO_STATS, "", NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "the agent closed the connection without a stats reply");
    ASSERT_EQ(proto_reply_check(PROTO_STATS, "goroutines: 7\n", 14, PROTO_REPLY_MAX + 1, '\n', NULL, err),
              -EFBIG);
    ASSERT_EQ(check(0x7e, "x\n", NULL, err), -EINVAL);
}

TEST(proto_reply_check_gc_and_binary)
{
    char err[CG_ERR_LEN];

    ASSERT_EQ(check(PROTO_GC, "ok", NULL, err), 0);
    ASSERT_EQ(check(PROTO_GC, "ok\n", NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "unexpected gc reply (3 bytes)");
    ASSERT_EQ(check(PROTO_GC, "o", NULL, err), -EPROTO);
    ASSERT_EQ(proto_reply_check(PROTO_HEAP, "\x1f\x8b\x08", 3, 5000, 0x42, NULL, err), 0);
    ASSERT_EQ(proto_reply_check(PROTO_HEAP, "goroutines: 4\n", 14, 14, '\n', NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "the pprof-heap reply is not a gzip-compressed profile (14 bytes)");
    ASSERT_EQ(proto_reply_check(PROTO_TRACE, "go 1.19 trace\0\0\0", 16, 100, 0, NULL, err), 0);
    ASSERT_EQ(proto_reply_check(PROTO_BINARY_DUMP, "#!/bin/sh", 9, 9, 'h', NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "the binary dump reply is not an ELF executable (9 bytes)");
    ASSERT_EQ(proto_reply_check(PROTO_CPU, NULL, 0, 0, -1, NULL, err), -EPROTO);
    ASSERT_STR_EQ(err, "the agent closed the connection without a pprof-cpu reply");
}

TEST(proto_reply_check_stack)
{
    static const char head[] = "goroutine 20 [running]:\nruntime/pprof.writeGor";
    char err[CG_ERR_LEN];
    int cut = 7;

    /* buf is the reply's start; the rest is counted in received. */
    ASSERT_EQ(proto_reply_check(PROTO_STACK, head, PROTO_STACK_HEAD_MAX, 5000, '\n', &cut, err), 0);
    ASSERT_EQ(cut, 0);
    ASSERT_EQ(proto_reply_check(PROTO_STACK, head, PROTO_STACK_HEAD_MAX, 5000, ')', &cut, err), -EPROTO);
    ASSERT_STR_EQ(err, "stack reply truncated: connection closed after 5000 bytes");
    /* Cut by the runtime at exactly 64 MiB: complete as sent. */
    ASSERT_EQ(proto_reply_check(PROTO_STACK, head, PROTO_STACK_HEAD_MAX, PROTO_STACK_RUNTIME_CAP, ')', &cut,
                                err), 0);
    ASSERT_EQ(cut, 1);
    ASSERT_EQ(proto_reply_check(PROTO_STACK, head, PROTO_STACK_HEAD_MAX, PROTO_STACK_RUNTIME_CAP - 1, ')',
                                &cut, err), -EPROTO);
    ASSERT_EQ(cut, 0);
    ASSERT_EQ(check(PROTO_STACK, "SSH-2.0-OpenSSH_9.2p1\r\n", &cut, err), -EPROTO);
    ASSERT_CONTAINS(err, "malformed goroutine dump");
    /* A reply too short to show its start is not a dump either. */
    ASSERT_EQ(check(PROTO_STACK, "goroutine 1", &cut, err), -EPROTO);
    ASSERT_CONTAINS(err, "malformed goroutine dump");
}

/* The streaming start check decides on the first wrong byte, and never
 * needs more than PROTO_STACK_HEAD_MAX bytes. */
TEST(proto_stack_head_check_streams)
{
    static const char good[] = "goroutine 12345 [chan receive]:\n";
    static const char sys[] = "goroutine 1 gp=0xc000002380 m=0 mp=0x5a2f40 [running]:\n";
    static const char *bad[] = {"SSH-2.0-OpenSSH\r\n", "Goroutine 1 [", "goroutine  [", "goroutine x",
                                "goroutine 1[", "goroutine 1 x", "goroutine 123456789012345678901 [",
                                "\ngoroutine 1 [", "goroutine 1 gp:"};
    char err[CG_ERR_LEN];

    for (size_t n = 0; n < 17; n++)
        ASSERT_EQ(proto_stack_head_check(good, n, err), 0);
    ASSERT_EQ(proto_stack_head_check(good, 17, err), 1);
    ASSERT_EQ(proto_stack_head_check(good, sizeof good - 1, err), 1);
    ASSERT_EQ(proto_stack_head_check(sys, 15, err), 1);
    ASSERT_EQ(proto_stack_head_check(sys, 14, err), 0);
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        size_t len = strlen(bad[i]);
        err[0] = '\0';
        if (proto_stack_head_check(bad[i], len < PROTO_STACK_HEAD_MAX ? len : PROTO_STACK_HEAD_MAX, err) !=
            -EINVAL)
            TEST_FAIL("accepted '%s'", bad[i]);
        ASSERT_CONTAINS(err, "malformed goroutine dump");
    }
    /* "SSH" is refused at its first byte. */
    ASSERT_EQ(proto_stack_head_check("S", 1, err), -EINVAL);
    /* The longest start that still decides fits in the constant. */
    ASSERT_EQ(proto_stack_head_check("goroutine 18446744073709551615 gp=", PROTO_STACK_HEAD_MAX, err), 1);
}

/* GOTRACEBACK=system headers and location lines parse too. */
TEST(proto_stack_gotraceback_system)
{
    static const char dump[] = "goroutine 1 gp=0xc000002380 m=0 mp=0x5a2f40 [running, locked to thread]:\n"
                               "main.main()\n"
                               "\t/src/main.go:50 +0x10 fp=0xc000 sp=0xc000 pc=0x4a3\n";
    collect_t c = {cJSON_CreateArray()};
    char err[CG_ERR_LEN];
    cJSON *g, *f;

    ASSERT_EQ(stack_feed_all(dump, sizeof dump - 1, err, &c), 0);
    g = cJSON_GetArrayItem(c.all, 0);
    ASSERT_EQ(num(g, "id"), 1);
    ASSERT_STR_EQ(cJSON_GetObjectItem(g, "state")->valuestring, "running");
    ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(g, "locked_to_thread")));
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "frames"), 0);
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "file")->valuestring, "/src/main.go");
    ASSERT_EQ(num(f, "line"), 50);
    ASSERT_STR_EQ(cJSON_GetObjectItem(f, "pc_offset")->valuestring, "+0x10");
    cJSON_Delete(c.all);
}

/* Each reply-json by command byte; stack has none. */
TEST(proto_reply_json_by_byte)
{
    char err[CG_ERR_LEN], *s;
    cJSON *v = proto_reply_json(PROTO_GC, "ok", 2, err);

    s = cJSON_PrintUnformatted(v);
    ASSERT_STR_EQ(s, "{\"ok\":true}");
    free(s);
    cJSON_Delete(v);
    v = proto_reply_json(PROTO_VERSION, "go1.19.8\n", 9, err);
    ASSERT(cJSON_IsString(v));
    cJSON_Delete(v);
    ASSERT(proto_reply_json(PROTO_STACK, "goroutine 1 [x]:\n", 17, err) == NULL);
    ASSERT_STR_EQ(proto_command_name(PROTO_BINARY_DUMP), "binary dump");
    ASSERT_STR_EQ(proto_command_name(PROTO_SETGC), "setgc");
}

/* A reply that would act on a terminal is not text: the stack dump is
 * printed as it arrives, so the check runs chunk by chunk and a UTF-8
 * sequence split between chunks is still judged whole. */
TEST(proto_text_stream_refuses_what_acts_on_a_terminal)
{
    static const char *bad[] = {
        "a\x1b[2J\n", "a\rb\n", ("csi\xc2\x9b" "2J\n"), "raw\x9b\n", "nul\0x", "del\x7f",
        "\xed\xa0\x80", "\xff", "bidi\xe2\x80\xae\n",
    };
    static const size_t badlen[] = {6, 5, 8, 5, 5, 4, 3, 1, 8};
    const char good[] = "goroutine 1 [running]:\n\t/src/\xc2\xb5s/\xe2\x94\x80.go:1 +0x1\n";
    char err[CG_ERR_LEN];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proto_text_state_t st = {{0}, 0, 0};
        ASSERT_EQ(proto_is_text(bad[i], badlen[i]), 0);
        /* Byte by byte too: the split never hides a bad byte. */
        int rc = 0;
        for (size_t j = 0; j < badlen[i] && rc == 0; j++)
            rc = proto_text_stream_check(&st, bad[i] + j, 1, err);
        if (rc == 0)
            rc = proto_text_stream_end(&st, err);
        ASSERT_EQ(rc, -EPROTO);
    }
    /* Every split of a good dump passes. */
    for (size_t cut = 0; cut <= sizeof good - 1; cut++) {
        proto_text_state_t st = {{0}, 0, 0};
        ASSERT_EQ(proto_text_stream_check(&st, good, cut, err), 0);
        ASSERT_EQ(proto_text_stream_check(&st, good + cut, sizeof good - 1 - cut, err), 0);
        ASSERT_EQ(proto_text_stream_end(&st, err), 0);
    }
    /* A dump that ends inside a sequence. */
    {
        proto_text_state_t st = {{0}, 0, 0};
        ASSERT_EQ(proto_text_stream_check(&st, "ab\xe2\x94", 4, err), 0);
        ASSERT_EQ(proto_text_stream_end(&st, err), -EPROTO);
    }
}

TEST(proto_kv_replies_refuse_collisions_and_other_commands)
{
    static const char *bad[] = {
        "alloc: 5\nAlloc: bogus\n",            /* two keys, one member */
        "heap-alloc: 5\nheap_alloc: bogus\n",
        "alloc: 5\nalloc: 6\n",
        "goroutines: 1\nOS threads: 2\nGOMAXPROCS: 1\nnum CPU: 1\n", /* a stats reply */
        "gc_pause_total_ns: bogus\n",           /* no memstats key at all */
        "alloc: 5\ntarget: x\nerror: y\n",      /* would forge an error object */
    };
    char err[CG_ERR_LEN];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *v = proto_memstats_json(bad[i], strlen(bad[i]), err);
        if (v != NULL)
            TEST_FAIL("memstats accepted: %s", bad[i]);
    }
    ASSERT(proto_stats_json("alloc: 5\n", 9, err) == NULL); /* memstats is not stats */
    {
        cJSON *v = proto_memstats_json("alloc: 5\nnew-key: 7\n", 20, err);
        ASSERT(v != NULL); /* unknown keys beside known ones are kept */
        cJSON_Delete(v);
    }
}

/* test-proto.c -- setgc encoding and the reply parsers, fed strings and the
 * recorded replies in protocol/vectors/ */
#include "test.h"
#include "cgops/common.h"
#include "cgops/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>

static char *vector(const char *name, size_t *len)
{
    char path[1024], *buf = NULL;
    const char *src = getenv("CGOPS_SRC");

    snprintf(path, sizeof path, "%s/protocol/vectors/%s", src ? src : "..", name);
    if (cg_read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL) != 0)
        TEST_FAIL("cannot read vector %s", path);
    return buf;
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
    ASSERT_EQ(cJSON_GetObjectItem(o, "new")->valuedouble, 200);
    ASSERT_EQ(cJSON_GetObjectItem(o, "previous")->valuedouble, 100);
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

TEST(proto_memstats_recorded_vector)
{
    size_t len;
    char *t = vector("memstats.txt", &len), err[CG_ERR_LEN];
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
    ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(o, "gc_cpu_fraction")));
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
    char *t = vector("stats.txt", &len), err[CG_ERR_LEN];
    cJSON *o = proto_stats_json(t, len, err), *v;

    ASSERT(o != NULL);
    ASSERT(num(o, "goroutines") >= 1);
    ASSERT(num(o, "os_threads") >= 1);
    ASSERT(num(o, "gomaxprocs") >= 1);
    ASSERT(num(o, "num_cpu") >= 1);
    cJSON_Delete(o);
    free(t);
    t = vector("version.txt", &len);
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
    char *t = vector("stack.txt", &len);
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

/* test-http-pprof.c -- the pure parsers of src/http_pprof.c (expvar memstats,
 * expvar GOMAXPROCS/NumCPU, the heap profile's runtime.MemStats trailer,
 * "NAME profile: total N") and the endpoint URLs, fed the real Go output
 * recorded in protocol/vectors/http/ (README.md there) and edge cases.
 * The expected memstats text of each vector was computed from the vector
 * by an independent implementation of protocol/PROTOCOL.md 4.1 (README). */
#include "test.h"
#include "cgops/common.h"
#include "cgops/http_pprof.h"
#include "cgops/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

/* The memstats text of a small expvar document whose memstats members are
 * body; rc the parser's. */
static char *vars_text(const char *body, int *rc)
{
    char doc[16384], err[CG_ERR_LEN] = "", *text = NULL;

    snprintf(doc, sizeof doc, "{\"cmdline\": [\"x\"],\n\"memstats\": {%s}\n}\n", body);
    *rc = http_pprof_vars_memstats(doc, strlen(doc), &text, err);
    if (*rc == 0 && text == NULL)
        TEST_FAIL("0 without text");
    if (*rc != 0 && (text != NULL || err[0] == '\0'))
        TEST_FAIL("error %d without a message or with text", *rc);
    return text;
}

#define SMALL "\"Alloc\":1,\"Sys\":2048"

TEST(http_pprof_vars_memstats_real)
{
    size_t len, wlen;
    char *doc = test_vector("http/vars.json", &len), *want = test_vector("http/vars.memstats.txt", &wlen), *text = NULL;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(http_pprof_vars_memstats(doc, len, &text, err), 0);
    ASSERT_STR_EQ(text, want);
    free(text);
    free(doc);
    free(want);
}

TEST(http_pprof_vars_sched_real)
{
    size_t len;
    char *doc = test_vector("http/vars.json", &len);
    long long gmp = -1, ncpu = -1;

    http_pprof_vars_sched(doc, len, &gmp, &ncpu);
    ASSERT_EQ(gmp, 2); /* "GOMAXPROCS": 2 in the recording */
    ASSERT_EQ(ncpu, 2);
    free(doc);
}

TEST(http_pprof_trailer_real)
{
    size_t len, wlen;
    char *buf = test_vector("http/heap-debug1-tail.txt", &len), *want = test_vector("http/heap-debug1-tail.memstats.txt", &wlen);
    char *text = NULL, err[CG_ERR_LEN] = "";

    ASSERT_EQ(http_pprof_trailer_memstats(buf, len, &text, err), 0);
    ASSERT_STR_EQ(text, want);
    /* The trailer has neither PauseTotalNs nor EnableGC. */
    ASSERT(strstr(text, "gc-pause-total") == NULL);
    ASSERT(strstr(text, "enable-gc") == NULL);
    free(text);
    free(buf);
    free(want);
}

TEST(http_pprof_profile_total_real)
{
    size_t len;
    char *g = test_vector("http/goroutine-debug1.txt", &len), *t;
    long long n = -1;

    ASSERT_EQ(http_pprof_profile_total(g, (size_t)(strchr(g, '\n') - g + 1), "goroutine", &n), 0);
    ASSERT_EQ(n, 64); /* "goroutine profile: total 64" */
    t = test_vector("http/threadcreate-debug1.txt", &len);
    ASSERT_EQ(http_pprof_profile_total(t, (size_t)(strchr(t, '\n') - t), "threadcreate", &n), 0);
    ASSERT_EQ(n, 8);
    /* The goroutine line is not a threadcreate one. */
    ASSERT_EQ(http_pprof_profile_total(g, (size_t)(strchr(g, '\n') - g), "threadcreate", &n), -EPROTO);
    free(g);
    free(t);
}

TEST(http_pprof_profile_total_edges)
{
    long long n = -1;
    static const char *bad[] = {
        "goroutine profile: total ", "goroutine profile: total -1", "goroutine profile: total 1x",
        "goroutine profile: total 99999999999999999999", "goroutine profile: total 9223372036854775808",
        "goroutine profile:total 1", "goroutine  profile: total 1", "goroutine", "", "heap profile: total 3",
        "goroutine profile: total 1 2", "goroutine profile: total +1",
    };

#define TOTAL(s, rc) http_pprof_profile_total(s, strlen(s), "goroutine", &n)
    ASSERT_EQ(TOTAL("goroutine profile: total 0", 0), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(TOTAL("goroutine profile: total 12\r\n", 0), 0);
    ASSERT_EQ(n, 12);
    ASSERT_EQ(TOTAL("goroutine profile: total 9223372036854775807", 0), 0);
    ASSERT_EQ(n, INT64_MAX);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 77;
        if (TOTAL(bad[i], 0) != -EPROTO)
            TEST_FAIL("'%s' taken", bad[i]);
        ASSERT_EQ(n, 77);
    }
    /* len, not the NUL, ends the line: a prefix of a good line is not one. */
    ASSERT_EQ(http_pprof_profile_total("goroutine profile: total 12", 20, "goroutine", &n), -EPROTO);
#undef TOTAL
}

#define VARS(lit) http_pprof_vars_memstats(lit, sizeof lit - 1, &text, err)

TEST(http_pprof_vars_edges)
{
    char *text, err[CG_ERR_LEN] = "";
    int rc;

    /* Not expvar. */
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":1}}"), 0); /* the control */
    free(text);
    ASSERT_EQ(VARS(""), -EPROTO);
    ASSERT_EQ(VARS("[1]"), -EPROTO);
    ASSERT_EQ(VARS("<html>"), -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":1}} x"), -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":1}"), -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":1},}"), -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":01}}"), -EPROTO);
    ASSERT_EQ(VARS("{\"a\": \"\x01\", \"memstats\": {\"Alloc\":1}}"), -EPROTO);
    ASSERT_EQ(VARS("{\"a\": \"\\x\", \"memstats\": {\"Alloc\":1}}"), -EPROTO);
    /* A NUL inside: len, not strlen, is the document. */
    ASSERT_EQ(VARS("{\"memstats\": {\"Alloc\":1}}\0"), -EPROTO);
    ASSERT_CONTAINS(err, "not a JSON object");
    /* No memstats member. */
    ASSERT_EQ(VARS("{\"cmdline\": []}"), -ENOENT);
    ASSERT_EQ(VARS("{\"x\": {\"memstats\": {\"Alloc\":1}}}"), -ENOENT);
    /* White space, escapes and other members around it are fine. */
    {
        static const char doc[] = " \r\n\t{ \"a\\\"memstats\" : \"\\u00e9\\n\" , \"b\": [true, false, null, -1.5e+3, {}],"
                                  " \"memstats\" : { \"Sys\" : 5 , \"Alloc\" : 1 } } \n";

        ASSERT_EQ(http_pprof_vars_memstats(doc, sizeof doc - 1, &text, err), 0);
        ASSERT_STR_EQ(text, "alloc: 1 bytes\nsys: 5 bytes\n");
        free(text);
    }
    /* Values that runtime.MemStats cannot hold. */
    static const char *badms[] = {
        "\"Alloc\":\"1\"", "\"Alloc\":-1", "\"Alloc\":18446744073709551616", "\"Alloc\":1.0", "\"Alloc\":1e3",
        "\"Alloc\":null", "\"Alloc\":true", "\"Alloc\":[1]", "\"Alloc\":{}", "\"NumGC\":4294967296,\"Alloc\":1",
        "\"NumForcedGC\":4294967296,\"Alloc\":1", "\"GCCPUFraction\":-0.5,\"Alloc\":1",
        "\"GCCPUFraction\":1e999,\"Alloc\":1", "\"GCCPUFraction\":\"NaN\",\"Alloc\":1", "\"EnableGC\":1,\"Alloc\":1",
        "\"PauseNs\":5,\"Alloc\":1", "\"PauseNs\":[-1],\"Alloc\":1", "\"PauseNs\":[\"1\"],\"Alloc\":1",
    };
    for (size_t i = 0; i < sizeof badms / sizeof badms[0]; i++) {
        text = vars_text(badms[i], &rc);
        if (rc != -EPROTO)
            TEST_FAIL("memstats {%s}: %d", badms[i], rc);
    }
    /* Neither Alloc nor Sys: not runtime.MemStats. */
    text = vars_text("\"Foo\":1", &rc);
    ASSERT_EQ(rc, -EPROTO);
    text = vars_text("", &rc);
    ASSERT_EQ(rc, -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": null}"), -EPROTO);
    ASSERT_EQ(VARS("{\"memstats\": 5}"), -EPROTO);
    /* The largest values. */
    text = vars_text("\"Alloc\":18446744073709551615,\"NumGC\":4294967295,\"LastGC\":18446744073709551615,"
                     "\"PauseTotalNs\":18446744073709551615,\"GCCPUFraction\":1e-05",
                     &rc);
    ASSERT_EQ(rc, 0);
    /* PB is the largest unit: 2^64-1 bytes are 16384.00 of them. */
    ASSERT_CONTAINS(text, "alloc: 16384.00PB (18446744073709551615 bytes)\n");
    ASSERT_CONTAINS(text, "num-gc: 4294967295\n");
    ASSERT_CONTAINS(text, "gc-cpu-fraction: 1e-05\n");
    free(text);
}

TEST(http_pprof_vars_pause)
{
    char body[8192];
    size_t n;
    char *text;
    int rc;

    /* 256 elements: gc-pause is PauseNs[(NumGC+255)%256]. */
    n = (size_t)snprintf(body, sizeof body, "\"Alloc\":1,\"NumGC\":3,\"PauseNs\":[");
    for (int i = 0; i < 256; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s%d", i ? "," : "", 1000 + i);
    snprintf(body + n, sizeof body - n, "],\"PauseEnd\":[7,8,9]");
    text = vars_text(body, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_CONTAINS(text, "gc-pause: 1002\n");
    ASSERT_CONTAINS(text, "gc-pause-end: 9\n");
    free(text);
    /* NumGC 0: element 255; NumGC 256: element 255 too. */
    memcpy(body + strlen("\"Alloc\":1,\"NumGC\":"), "0,", 2);
    text = vars_text(body, &rc);
    ASSERT_EQ(rc, 0);
    ASSERT_CONTAINS(text, "gc-pause: 1255\n");
    free(text);
    /* 257 elements: not a [256]uint64. */
    n = (size_t)snprintf(body, sizeof body, "\"Alloc\":1,\"PauseNs\":[");
    for (int i = 0; i < 257; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s%d", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "]");
    text = vars_text(body, &rc);
    ASSERT_EQ(rc, -EPROTO);
}

TEST(http_pprof_vars_depth)
{
    /* cJSON's nesting bound (1000), checked without recursion: the
     * checker keeps an explicit stack. */
    size_t depth[] = {999, 1000, 1001, 200000};

    for (size_t k = 0; k < sizeof depth / sizeof depth[0]; k++) {
        size_t d = depth[k] - 1; /* the top-level object is one level */
        size_t cap = 2 * d + 64, n = 0;
        char *doc = malloc(cap), *text = NULL, err[CG_ERR_LEN];
        int rc;

        n += (size_t)sprintf(doc, "{\"a\":");
        memset(doc + n, '[', d);
        n += d;
        memset(doc + n, ']', d);
        n += d;
        n += (size_t)sprintf(doc + n, ",\"memstats\":{\"Alloc\":1}}");
        rc = http_pprof_vars_memstats(doc, n, &text, err);
        if (depth[k] <= 1000) {
            ASSERT_EQ(rc, 0);
            free(text);
        } else {
            ASSERT_EQ(rc, -EPROTO);
        }
        free(doc);
    }
}

TEST(http_pprof_vars_sched_edges)
{
    long long g, c;

#define SCHED(s) http_pprof_vars_sched(s, strlen(s), &g, &c)
    SCHED("{\"GOMAXPROCS\": 4, \"NumCPU\": 8}");
    ASSERT_EQ(g, 4);
    ASSERT_EQ(c, 8);
    SCHED("{\"GOMAXPROCS\": 0, \"NumCPU\": -8}");
    ASSERT_EQ(g, 0);
    ASSERT_EQ(c, 0);
    SCHED("{\"GOMAXPROCS\": \"4\", \"NumCPU\": 9223372036854775808}");
    ASSERT_EQ(g, 0);
    ASSERT_EQ(c, 0);
    SCHED("{\"GOMAXPROCS\": 4, \"NumCPU\": 8"); /* cut: not JSON */
    ASSERT_EQ(g, 0);
    ASSERT_EQ(c, 0);
    SCHED("{\"x\": {\"GOMAXPROCS\": 4}}");
    ASSERT_EQ(g, 0);
    SCHED("");
    ASSERT_EQ(g, 0);
#undef SCHED
}

/* A trailer of the runtime's shape with line what replaced (or added). */
static int trailer(const char *extra, char **text)
{
    char buf[8192], err[CG_ERR_LEN] = "";
    int rc;

    snprintf(buf, sizeof buf,
             "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1\n\n# runtime.MemStats\n# Alloc = 100\n"
             "# Sys = 2000\n%s",
             extra);
    rc = http_pprof_trailer_memstats(buf, strlen(buf), text, err);
    if (rc != 0 && (*text != NULL || err[0] == '\0'))
        TEST_FAIL("error %d without a message or with text", rc);
    return rc;
}

#define TRAILER(lit) http_pprof_trailer_memstats(lit, sizeof lit - 1, &text, err)

TEST(http_pprof_trailer_edges)
{
    char *text = NULL, err[CG_ERR_LEN] = "";
    static const char *bad[] = {
        "# Alloc = x\n", "# Alloc = -1\n", "# Alloc = 18446744073709551616\n", "# Stack = 1 /\n",
        "# Stack = 1 / 2 / 3\n", "# Stack = 1\n", "# MSpan = a / 2\n", "# MCache = 1 / \n",
        "# PauseNs = [1 2 3]\n", "# PauseNs = 1\n", "# NumGC = 4294967296\n", "# DebugGC = yes\n",
        "# GCCPUFraction = -1\n", "garbage\n", "#Alloc = 1\n", "# Alloc 1\n", "# Alloc =\n",
    };

    ASSERT_EQ(trailer("# Stack = 1 / 2\n# MSpan = 3 / 4\n# MCache = 5 / 6\n# MaxRSS = 99\n\n", &text), 0);
    ASSERT_STR_EQ(text, "alloc: 100 bytes\nsys: 1.95KB (2000 bytes)\nstack-in-use: 1 bytes\nstack-sys: 2 bytes\n"
                        "mspan-in-use: 3 bytes\nmspan-sys: 4 bytes\nmcache-in-use: 5 bytes\nmcache-sys: 6 bytes\n");
    free(text);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (trailer(bad[i], &text) != -EPROTO)
            TEST_FAIL("trailer line '%s' taken", bad[i]);
    /* No trailer, or one without Alloc. */
    ASSERT_EQ(TRAILER("\n# runtime.MemStats\n# Sys = 1\n# Alloc = 2\n"), 0); /* the control */
    free(text);
    ASSERT_EQ(TRAILER("heap profile: 1: 2\n"), -ENOENT);
    ASSERT_EQ(TRAILER(""), -ENOENT);
    ASSERT_EQ(TRAILER("\n# runtime.MemStats\n# Sys = 1\n"), -EPROTO);
    ASSERT_EQ(TRAILER("\n# runtime.MemStats\n"), -EPROTO);
    /* The mark at the very end, and cut short of its newline. */
    ASSERT_EQ(TRAILER("x\n# runtime.MemStats"), -ENOENT);
    /* The last trailer counts (a symbol's text cannot hold one, but a
     * peer's body can). */
    {
        static const char two[] = "\n# runtime.MemStats\n# Alloc = x\n\n# runtime.MemStats\n# Alloc = 1\n# Sys = 2\n";

        ASSERT_EQ(http_pprof_trailer_memstats(two, sizeof two - 1, &text, err), 0);
        ASSERT_STR_EQ(text, "alloc: 1 bytes\nsys: 2 bytes\n");
        free(text);
    }
    /* The full [256] arrays. */
    {
        char extra[8192];
        size_t n = (size_t)snprintf(extra, sizeof extra, "# NumGC = 1\n# PauseNs = [");

        for (int i = 0; i < 256; i++)
            n += (size_t)snprintf(extra + n, sizeof extra - n, "%s%d", i ? " " : "", 500 + i);
        snprintf(extra + n, sizeof extra - n, "]\n");
        ASSERT_EQ(trailer(extra, &text), 0);
        ASSERT_CONTAINS(text, "gc-pause: 500\n");
        ASSERT_CONTAINS(text, "num-gc: 1\n");
        free(text);
    }
}

TEST(http_pprof_url_endpoints)
{
    char url[256], err[CG_ERR_LEN];
    static const struct {
        int command;
        unsigned seconds;
        const char *want;
    } cases[] = {
        {PROTO_STACK, 0, "http://h:1/p/debug/pprof/goroutine?debug=2"},
        {PROTO_GC, 0, "http://h:1/p/debug/pprof/heap?gc=1"},
        {PROTO_HEAP, 0, "http://h:1/p/debug/pprof/heap"},
        {PROTO_CPU, 0, "http://h:1/p/debug/pprof/profile?seconds=30"},
        {PROTO_CPU, 7, "http://h:1/p/debug/pprof/profile?seconds=7"},
        {PROTO_TRACE, 0, "http://h:1/p/debug/pprof/trace?seconds=5"},
        {PROTO_TRACE, 2, "http://h:1/p/debug/pprof/trace?seconds=2"},
        {PROTO_ALLOCS, 0, "http://h:1/p/debug/pprof/allocs"},
        {PROTO_BLOCK, 0, "http://h:1/p/debug/pprof/block"},
        {PROTO_MUTEX, 0, "http://h:1/p/debug/pprof/mutex"},
        {PROTO_GOROUTINE, 0, "http://h:1/p/debug/pprof/goroutine"},
        {PROTO_THREADCREATE, 0, "http://h:1/p/debug/pprof/threadcreate"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ASSERT_EQ(http_pprof_url("http://h:1/p", cases[i].command, cases[i].seconds, url, sizeof url, err), 0);
        ASSERT_STR_EQ(url, cases[i].want);
    }
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_VERSION, 0, url, sizeof url, err), -ENOTSUP);
    ASSERT_CONTAINS(err, "version is not available over HTTP");
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_SETGC, 0, url, sizeof url, err), -ENOTSUP);
    ASSERT_CONTAINS(err, "setgc is not available over HTTP");
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_BINARY_DUMP, 0, url, sizeof url, err), -ENOTSUP);
    /* memstats and stats take several requests: no one endpoint. */
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_MEMSTATS, 0, url, sizeof url, err), -ENOTSUP);
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_STATS, 0, url, sizeof url, err), -ENOTSUP);
    /* Too small a buffer: refused, not cut. */
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_HEAP, 0, url, 30, err), 0); /* 29 bytes and the NUL */
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_HEAP, 0, url, 29, err), -ENAMETOOLONG);
    ASSERT_EQ(http_pprof_url("http://h:1/p", PROTO_CPU, 4294967295u, url, sizeof url, err), 0);
    ASSERT_STR_EQ(url, "http://h:1/p/debug/pprof/profile?seconds=4294967295");
}

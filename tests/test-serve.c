/* test-serve.c -- the pure parts of cgops serve: routes, listen addresses,
 * the token file and its check, the status of a failed command, and the
 * count of what each client address holds */
#include "cgops/serve.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int route(const char *method, const char *path, serve_route_t *r)
{
    char err[CG_ERR_LEN] = "";
    int code = serve_route_parse(method, path, r, err);

    if (code != 0 && err[0] == '\0')
        TEST_FAIL("%s %s: status %d without a message", method, path, code);
    return code;
}

TEST(serve_route_known)
{
    serve_route_t r;

    ASSERT_EQ(route("GET", "/healthz", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_HEALTH);
    ASSERT_EQ(route("GET", "/metrics", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_METRICS);
    ASSERT_EQ(route("HEAD", "/metrics", &r), 0);
    ASSERT_EQ(route("GET", "/api/v1/processes", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_PROCESSES);
    ASSERT_EQ(route("GET", "/api/v1/processes/1", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_PROCESS);
    ASSERT_EQ(r.pid, 1);
    ASSERT_EQ(route("GET", "/api/v1/processes/4194304/goroutines", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_GOROUTINES);
    ASSERT_EQ(r.pid, 4194304);
    ASSERT_EQ(route("GET", "/api/v1/processes/42/summary", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_SUMMARY);
    ASSERT_EQ(route("GET", "/api/v1/processes/42/stats", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_STATS);
    ASSERT_EQ(route("GET", "/api/v1/processes/42/memstats", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_MEMSTATS);
    ASSERT_EQ(route("GET", "/api/v1/processes/42/stack", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_STACK);
    ASSERT_EQ(route("POST", "/api/v1/processes/42/gc", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_GC);
    ASSERT(serve_route_writes(&r));
    ASSERT_EQ(route("POST", "/api/v1/processes/42/setgc", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_SETGC);
    ASSERT(serve_route_writes(&r));
    ASSERT_EQ(route("GET", "/api/v1/processes/42/profile/heap", &r), 0);
    ASSERT_EQ(r.kind, SERVE_R_PROFILE);
    ASSERT_STR_EQ(r.profile, "heap");
    ASSERT(!serve_route_writes(&r));
    ASSERT_EQ(route("GET", "/api/v1/processes/42/profile/cpu", &r), 0);
    ASSERT(serve_route_writes(&r));
    ASSERT_EQ(route("GET", "/api/v1/processes/42/profile/trace", &r), 0);
    ASSERT(serve_route_writes(&r));
}

TEST(serve_route_rejects)
{
    serve_route_t r;
    static const char *const bad_pid[] = {
        "/api/v1/processes/0", "/api/v1/processes/4194305", "/api/v1/processes/01",
        "/api/v1/processes/-1", "/api/v1/processes/+1", "/api/v1/processes/1x",
        "/api/v1/processes/..", "/api/v1/processes/.", "/api/v1/processes/",
        "/api/v1/processes//stats", "/api/v1/processes/../../etc/passwd",
        "/api/v1/processes/99999999999999999999", "/api/v1/processes/ 1",
    };
    static const char *const not_found[] = {
        "", "/", "/healthz/", "/metrics/", "/api", "/api/v1", "/api/v1/processes/1/",
        "/api/v1/processes/1/stats/", "/api/v1/processes/1/..", "/api/v1/processes/1/../2",
        "/api/v1/processes/1/profile", "/api/v1/processes/1/profile/", "/api/v1/processes/1/profile/allocs",
        "/api/v1/processes/1/profile/heap/x", "/api/v2/processes", "/API/v1/processes",
        "/api/v1/processes/1/stats/../../../../etc/passwd", "//api/v1/processes", "/etc/passwd",
        "/api/v1/processesX", "/api/v1/processes/1/Stats",
    };

    for (size_t i = 0; i < sizeof bad_pid / sizeof bad_pid[0]; i++)
        if (route("GET", bad_pid[i], &r) != 400)
            TEST_FAIL("%s: want 400", bad_pid[i]);
    for (size_t i = 0; i < sizeof not_found / sizeof not_found[0]; i++)
        if (route("GET", not_found[i], &r) != 404)
            TEST_FAIL("'%s': want 404", not_found[i]);
    ASSERT_EQ(route("POST", "/metrics", &r), 405);
    ASSERT_STR_EQ(r.method, "GET");
    ASSERT_EQ(route("GET", "/api/v1/processes/1/gc", &r), 405);
    ASSERT_STR_EQ(r.method, "POST");
    ASSERT_EQ(route("DELETE", "/api/v1/processes/1", &r), 405);
    ASSERT_EQ(route("HEAD", "/api/v1/processes/1/setgc", &r), 405);
}

TEST(serve_query_values)
{
    char err[CG_ERR_LEN];

    ASSERT_EQ(serve_check_group_by("location", err), 0);
    ASSERT_EQ(serve_check_group_by("wait", err), 0);
    ASSERT_EQ(serve_check_group_by("Wait", err), -EINVAL);
    ASSERT_EQ(serve_check_group_by("", err), -EINVAL);
    ASSERT_EQ(serve_check_percent("100", err), 0);
    ASSERT_EQ(serve_check_percent("-1", err), 0);
    ASSERT_EQ(serve_check_percent("off", err), 0);
    ASSERT_EQ(serve_check_percent("2147483647", err), 0);
    ASSERT_EQ(serve_check_percent("2147483648", err), -EINVAL);
    ASSERT_EQ(serve_check_percent("-2", err), -EINVAL);
    ASSERT_EQ(serve_check_percent("+5", err), -EINVAL);
    ASSERT_EQ(serve_check_percent(" 5", err), -EINVAL);
    ASSERT_EQ(serve_check_percent("", err), -EINVAL);
    ASSERT_EQ(serve_check_percent("-", err), -EINVAL);
    ASSERT_EQ(serve_check_format("top", err), 0);
    ASSERT_EQ(serve_check_format("raw", err), 0);
    ASSERT_EQ(serve_check_format("svg", err), -EINVAL);
}

TEST(serve_listen_addresses)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int lo;
    char err[CG_ERR_LEN];
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

    ASSERT_EQ(serve_listen_parse("127.0.0.1:9465", &ss, &len, &lo, err), 0);
    ASSERT_EQ(ss.ss_family, AF_INET);
    ASSERT_EQ(ntohs(in->sin_port), 9465);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(serve_listen_parse("127.1.2.3:0", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(serve_listen_parse("0.0.0.0:80", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(serve_listen_parse("10.1.2.3:65535", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(serve_listen_parse("localhost:1", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(serve_listen_parse("[::1]:9465", &ss, &len, &lo, err), 0);
    ASSERT_EQ(ss.ss_family, AF_INET6);
    ASSERT_EQ(ntohs(in6->sin6_port), 9465);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(serve_listen_parse("[::]:9465", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 0);
    ASSERT_EQ(serve_listen_parse("[::ffff:127.0.0.1]:9", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 1);
    ASSERT_EQ(serve_listen_parse("[::ffff:10.0.0.1]:9", &ss, &len, &lo, err), 0);
    ASSERT_EQ(lo, 0);
    static const char *const bad[] = {
        "", "9465", ":9465", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:+80", "::1:9465", "[::1]", "[::1]9465", "[::1]:", "example.com:80",
        "127.0.0.1:80x", "[127.0.0.1]:80", "1.2.3.4.5:80", "127.0.0.1: 80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (serve_listen_parse(bad[i], &ss, &len, &lo, err) != -EINVAL)
            TEST_FAIL("'%s' should be refused", bad[i]);
}

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
    int fd;

    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, len), (long long)len);
    fchmod(fd, mode);
    close(fd);
}

TEST(serve_token_file)
{
    char path[512], tok[SERVE_TOKEN_MAX + 1], err[CG_ERR_LEN];
    static char big[SERVE_TOKEN_MAX + 2];

    snprintf(path, sizeof path, "%s/serve-token.%d", test_tmpdir(), (int)getpid());
    write_file(path, "  s3cret-Token_1\n", 17, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), 0);
    ASSERT_STR_EQ(tok, "s3cret-Token_1");
    write_file(path, "abc", 3, 0640);
    ASSERT_EQ(serve_token_read(path, tok, err), 0);
    write_file(path, "abc", 3, 0604);
    ASSERT_EQ(serve_token_read(path, tok, err), -EPERM);
    ASSERT_CONTAINS(err, "readable by every user");
    write_file(path, " \n\t", 3, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), -EINVAL);
    write_file(path, "a b", 3, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), -EINVAL);
    write_file(path, "a\0b", 3, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), -EINVAL);
    memset(big, 'x', sizeof big);
    write_file(path, big, SERVE_TOKEN_MAX, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), 0);
    ASSERT_EQ(strlen(tok), SERVE_TOKEN_MAX);
    write_file(path, big, SERVE_TOKEN_MAX + 1, 0600);
    ASSERT_EQ(serve_token_read(path, tok, err), -EFBIG);
    unlink(path);
    ASSERT_EQ(serve_token_read(path, tok, err), -ENOENT);
    ASSERT_EQ(serve_token_read(test_tmpdir(), tok, err), -EINVAL);
}

TEST(serve_token_check)
{
    static char longtok[SERVE_TOKEN_MAX + 1], hdr[SERVE_TOKEN_MAX + 64];

    ASSERT(serve_token_ok("Bearer abc", "abc"));
    ASSERT(!serve_token_ok("Bearer abd", "abc"));
    ASSERT(!serve_token_ok("Bearer ab", "abc"));
    ASSERT(!serve_token_ok("Bearer abcd", "abc"));
    ASSERT(!serve_token_ok("Bearer ", "abc"));
    ASSERT(!serve_token_ok("bearer abc", "abc"));
    ASSERT(!serve_token_ok("Basic abc", "abc"));
    ASSERT(!serve_token_ok("abc", "abc"));
    ASSERT(!serve_token_ok(NULL, "abc"));
    ASSERT(!serve_token_ok("Bearer abc ", "abc"));
    memset(longtok, 'k', SERVE_TOKEN_MAX);
    snprintf(hdr, sizeof hdr, "Bearer %s", longtok);
    ASSERT(serve_token_ok(hdr, longtok));
    /* One byte more than the window: not the same token. */
    strcat(hdr, "k");
    ASSERT(!serve_token_ok(hdr, longtok));
}

TEST(serve_child_status)
{
    ASSERT_EQ(serve_status_of(-ETIMEDOUT, 0, ""), 504);
    ASSERT_EQ(serve_status_of(-EFBIG, 0, ""), 500);
    ASSERT_EQ(serve_status_of(-ENOMEM, 0, ""), 500);
    ASSERT_EQ(serve_status_of(0, 2, "cgops: bad option\n"), 400);
    ASSERT_EQ(serve_status_of(0, 1, "cgops: pid 999999: no such process\n"), 404);
    ASSERT_EQ(serve_status_of(0, 1, "cgops: pid 12 is not a Go program\n"), 404);
    ASSERT_EQ(serve_status_of(0, 1, "cgops: 127.0.0.1:5: timed out after 5s waiting for the stats reply\n"), 504);
    ASSERT_EQ(serve_status_of(0, 1, "cgops: couldn't resolve addr or pid 1 to TCPAddress: no port file\n"), 502);
    ASSERT_EQ(serve_status_of(0, 1, "cgops: something else\n"), 500);
}

TEST(serve_accept_header)
{
    ASSERT(serve_wants_openmetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    ASSERT(serve_wants_openmetrics("application/openmetrics-text"));
    ASSERT(!serve_wants_openmetrics("text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.1"));
    ASSERT(!serve_wants_openmetrics("*/*"));
    ASSERT(!serve_wants_openmetrics(NULL));
}

static void key4(const char *ip, unsigned char key[16])
{
    struct sockaddr_in in = {.sin_family = AF_INET};

    inet_pton(AF_INET, ip, &in.sin_addr);
    if (serve_fair_key((struct sockaddr *)&in, key) != 0)
        TEST_FAIL("%s: no key", ip);
}

TEST(serve_fair_counts)
{
    serve_client_t v[3] = {{{0}, 0}};
    serve_fair_t f = {v, 3, 2};
    unsigned char a[16], b[16], c[16], d[16], mapped[16];
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int ia, ib;

    key4("10.0.0.1", a);
    key4("10.0.0.2", b);
    key4("10.0.0.3", c);
    inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
    ASSERT_EQ(serve_fair_key((struct sockaddr *)&in6, d), 0);
    /* A dual-stack listener sees an IPv4 client as ::ffff:a.b.c.d: the
     * same client, the same count. */
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr);
    ASSERT_EQ(serve_fair_key((struct sockaddr *)&in6, mapped), 0);
    ASSERT(memcmp(mapped, a, 16) == 0);
    ASSERT_EQ(serve_fair_key((struct sockaddr *)&un, mapped), -EAFNOSUPPORT);

    ia = serve_fair_take(&f, a);
    ASSERT(ia >= 0);
    ASSERT_EQ(serve_fair_take(&f, a), ia);
    /* Past the limit for a; others still get theirs. */
    ASSERT_EQ(serve_fair_take(&f, a), -EAGAIN);
    ib = serve_fair_take(&f, b);
    ASSERT(ib >= 0 && ib != ia);
    ASSERT(serve_fair_take(&f, c) >= 0);
    /* Every entry in use: a fourth address finds no room. */
    ASSERT_EQ(serve_fair_take(&f, d), -ENOSPC);
    /* One of a's commands ends: a may start one more. */
    serve_fair_release(&f, ia);
    ASSERT_EQ(serve_fair_take(&f, a), ia);
    ASSERT_EQ(serve_fair_take(&f, a), -EAGAIN);
    /* b's only command ends: its entry is free for another address. */
    serve_fair_release(&f, ib);
    ASSERT_EQ(serve_fair_take(&f, d), ib);
    ASSERT_EQ(serve_fair_take(&f, b), -ENOSPC);
    /* Releases beyond what was taken, or of no entry, change nothing. */
    serve_fair_release(&f, ia);
    serve_fair_release(&f, ia);
    serve_fair_release(&f, ia);
    serve_fair_release(&f, -1);
    serve_fair_release(&f, 3);
    ASSERT_EQ(serve_fair_take(&f, b), ia);
    ASSERT_EQ(v[ib].n, 1u);
}

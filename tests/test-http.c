/* test-http.c -- the HTTP transport (src/http.c) against a real server
 *
 * tests/helpers/httpsrv.py serves plain HTTP and HTTPS (self-signed) on
 * 127.0.0.1 and plain HTTP on 127.0.0.2, with a behaviour chosen by the
 * path (see its top comment).  Each test starts its own server; it ends
 * when the test closes its stdin, or dies with the test.
 */
#include "test.h"

#include "cgops/http.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

typedef struct {
    pid_t pid;
    int in; /* the server's stdin: closing it stops the server */
    int http, https, other;
} srv_t;

static srv_t srv_start(void)
{
    const char *src = getenv("CGOPS_SRC");
    char path[4096], line[256];
    int in[2], out[2];
    size_t got = 0;
    ssize_t n;
    srv_t s;

    if (src == NULL)
        SKIP("CGOPS_SRC not set (run through ctest)");
    if (access("/usr/bin/python3", X_OK) != 0)
        SKIP("python3 not installed");
    snprintf(path, sizeof path, "%s/tests/helpers/httpsrv.py", src);
    ASSERT(pipe(in) == 0 && pipe(out) == 0);
    fflush(NULL);
    s.pid = fork();
    ASSERT(s.pid >= 0);
    if (s.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/usr/bin/python3", "python3", path, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    while (got < sizeof line - 1 && (n = read(out[0], line + got, sizeof line - 1 - got)) > 0) {
        got += (size_t)n;
        if (memchr(line, '\n', got))
            break;
    }
    line[got] = '\0';
    close(out[0]);
    if (sscanf(line, "http=%d https=%d other=%d", &s.http, &s.https, &s.other) != 3)
        TEST_FAIL("httpsrv.py said \"%s\"", line);
    s.in = in[1];
    return s;
}

static void srv_stop(srv_t *s)
{
    close(s->in);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
}

/* One request and what it saw. */
typedef struct {
    http_req_t r;
    char url[512];
    char body[65536];     /* the first bytes of the body */
    size_t body_len;
    uint64_t sum;         /* bytes given to on_data */
    int pattern_ok;       /* /big bytes are 'a'..'z' repeating */
    int done;             /* on_done calls */
    int status;
    int fail_after;       /* on_data fails once this many bytes came (0: never) */
    int *ndone;           /* counter shared by many requests */
    int free_in_done;
    int chain;            /* start another request on this loop from on_done, this many times */
    int stop_loop;        /* uv_stop in on_done, as the commands do */
} treq_t;

static int on_data(http_req_t *r, const char *buf, size_t len, char *err)
{
    treq_t *t = r->data;

    for (size_t i = 0; i < len; i++)
        if (buf[i] != (char)('a' + (t->sum + i) % 26))
            t->pattern_ok = 0;
    if (t->body_len < sizeof t->body - 1) {
        size_t k = len < sizeof t->body - 1 - t->body_len ? len : sizeof t->body - 1 - t->body_len;
        memcpy(t->body + t->body_len, buf, k);
        t->body_len += k;
        t->body[t->body_len] = '\0';
    }
    t->sum += len;
    if (t->fail_after && t->sum >= (uint64_t)t->fail_after) {
        cg_seterr(err, "stopped by the test");
        return -ECANCELED;
    }
    return 0;
}

static void on_done(http_req_t *r, int status);

static void treq_init(treq_t *t, const char *url, const http_opts_t *o)
{
    memset(t, 0, sizeof *t);
    cg_strlcpy(t->url, url, sizeof t->url);
    t->pattern_ok = 1;
    t->r.data = t;
    t->r.url = t->url;
    t->r.opts = o;
    t->r.what = "test";
    t->r.display = "srv";
    t->r.connect_timeout_ms = 5000;
    t->r.idle_timeout_ms = 10000;
    t->r.total_timeout_ms = 30000;
    t->r.on_data = on_data;
    t->r.on_done = on_done;
}

static void on_done(http_req_t *r, int status)
{
    treq_t *t = r->data;

    t->done++;
    t->status = status;
    if (t->stop_loop)
        uv_stop(r->loop);
    if (t->ndone)
        (*t->ndone)++;
    if (t->chain > 0) {
        /* Restart the same struct: on_done is the end of every use of it. */
        uv_loop_t *loop = r->loop;
        int left = t->chain - 1, *nd = t->ndone;
        char url[512];

        cg_strlcpy(url, t->url, sizeof url);
        treq_init(t, url, NULL);
        t->chain = left;
        t->ndone = nd;
        ASSERT_EQ(http_req_start(loop, &t->r), 0);
        return;
    }
    if (t->free_in_done) {
        memset(t, 0x5a, sizeof *t); /* poison: a later use shows under ASan or in the checks */
        free(t);
    }
}

/* Run one request to the end; the loop must then have no handle left. */
static void run1(treq_t *t)
{
    uv_loop_t loop;

    ASSERT_EQ(uv_loop_init(&loop), 0);
    ASSERT_EQ(http_req_start(&loop, &t->r), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(t->done, 1);
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

static void get(treq_t *t, const srv_t *s, const char *path, const http_opts_t *o)
{
    char url[512];

    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->http, path);
    treq_init(t, url, o);
}

/* get, then run1: one GET of PATH on s run to its end. */
static void fetch(treq_t *t, const srv_t *s, const char *path, const http_opts_t *o)
{
    get(t, s, path, o);
    run1(t);
}

/* A TCP socket on 127.0.0.1 and a port the kernel picks (in *sa),
 * listening with a backlog of 0 if listening, else only bound (a port
 * nobody will listen on once it is closed).  The fd, or -1. */
static int loopback_socket(struct sockaddr_in *sa, int listening)
{
    socklen_t salen = sizeof *sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof *sa) != 0 || (listening && listen(fd, 0) != 0) ||
        getsockname(fd, (struct sockaddr *)sa, &salen) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

TEST(http_body_streamed)
{
    srv_t s = srv_start();
    static treq_t t;

    fetch(&t, &s, "/ok", NULL);
    ASSERT_EQ(t.status, 0);
    ASSERT_STR_EQ(t.body, "hello from httpsrv\n");
    ASSERT_EQ(t.r.status_code, 200);
    ASSERT_EQ(t.r.received, strlen("hello from httpsrv\n"));

    /* 20 MB through a 64 KiB chunked stream: every byte, in order. */
    fetch(&t, &s, "/big?n=20000000", NULL);
    ASSERT_EQ(t.status, 0);
    ASSERT_EQ(t.sum, 20000000);
    ASSERT_EQ(t.r.received, 20000000);
    ASSERT(t.pattern_ok);

    fetch(&t, &s, "/big?n=0", NULL);
    ASSERT_EQ(t.status, 0);
    ASSERT_EQ(t.sum, 0);
    srv_stop(&s);
}

TEST(http_concurrent_100)
{
    srv_t s = srv_start();
    enum { N = 100 };
    treq_t *t = cg_xcalloc(N, sizeof *t);
    uv_loop_t loop;
    int ndone = 0;

    ASSERT_EQ(uv_loop_init(&loop), 0);
    for (int i = 0; i < N; i++) {
        char path[64];
        snprintf(path, sizeof path, "/big?n=%d", 100000 + i);
        get(&t[i], &s, path, NULL);
        t[i].ndone = &ndone;
        ASSERT_EQ(http_req_start(&loop, &t[i].r), 0);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(ndone, N);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(t[i].done, 1);
        ASSERT_EQ(t[i].status, 0);
        ASSERT_EQ(t[i].sum, 100000 + i);
        ASSERT(t[i].pattern_ok);
    }
    ASSERT_EQ(uv_loop_close(&loop), 0);
    free(t);
    srv_stop(&s);
}

/* A request started from on_done shares the loop's multi handle; the last
 * one lets it go and the loop ends with nothing open. */
TEST(http_restart_from_on_done)
{
    srv_t s = srv_start();
    static treq_t t;
    int ndone = 0;

    get(&t, &s, "/ok", NULL);
    t.chain = 3;
    t.ndone = &ndone;
    run1(&t);
    ASSERT_EQ(ndone, 4);
    ASSERT_EQ(t.status, 0);
    ASSERT_STR_EQ(t.body, "hello from httpsrv\n");
    srv_stop(&s);
}

/* Two loops, each with its own multi handle, requests on both. */
TEST(http_two_loops)
{
    srv_t s = srv_start();
    static treq_t a[3], b[3];
    uv_loop_t la, lb;

    ASSERT_EQ(uv_loop_init(&la), 0);
    ASSERT_EQ(uv_loop_init(&lb), 0);
    for (int i = 0; i < 3; i++) {
        get(&a[i], &s, "/ok", NULL);
        get(&b[i], &s, "/big?n=70000", NULL);
        ASSERT_EQ(http_req_start(&la, &a[i].r), 0);
        ASSERT_EQ(http_req_start(&lb, &b[i].r), 0);
    }
    uv_run(&lb, UV_RUN_DEFAULT);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(b[i].done, 1);
        ASSERT_EQ(b[i].status, 0);
        ASSERT_EQ(b[i].sum, 70000);
        ASSERT_EQ(a[i].done, 0); /* its loop has not run */
    }
    ASSERT_EQ(uv_loop_close(&lb), 0);
    uv_run(&la, UV_RUN_DEFAULT);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(a[i].done, 1);
        ASSERT_EQ(a[i].status, 0);
        ASSERT_STR_EQ(a[i].body, "hello from httpsrv\n");
    }
    ASSERT_EQ(uv_loop_close(&la), 0);
    srv_stop(&s);
}

/* The commands stop their loop in the last on_done and close it: nothing
 * of the transport may still be open then (its connections included). */
TEST(http_nothing_open_after_last_on_done)
{
    srv_t s = srv_start();
    static treq_t t[3];
    uv_loop_t loop;
    int ndone = 0;

    ASSERT_EQ(uv_loop_init(&loop), 0);
    get(&t[0], &s, "/ok", NULL);
    t[0].stop_loop = 1;
    ASSERT_EQ(http_req_start(&loop, &t[0].r), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(t[0].done, 1);
    ASSERT_EQ(uv_loop_close(&loop), 0);

    /* several: stopped by the last to end */
    ASSERT_EQ(uv_loop_init(&loop), 0);
    for (int i = 0; i < 3; i++) {
        get(&t[i], &s, i == 1 ? "/404" : "/big?n=200000", NULL);
        t[i].ndone = &ndone;
        ASSERT_EQ(http_req_start(&loop, &t[i].r), 0);
    }
    while (ndone < 3)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    srv_stop(&s);
}

TEST(http_status_errors)
{
    srv_t s = srv_start();
    static treq_t t;
    char path[8192], want[256];

    fetch(&t, &s, "/404", NULL);
    ASSERT_EQ(t.status, -ENOENT);
    ASSERT_EQ(t.r.status_code, 404);
    ASSERT_EQ(t.sum, 0); /* an error body is not passed on */
    ASSERT_STR_EQ(t.r.err, "srv: HTTP 404 Not Found from /404: Not here");

    fetch(&t, &s, "/500", NULL);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_EQ(t.r.status_code, 500);
    ASSERT_STR_EQ(t.r.err, "srv: HTTP 500 Internal Server Error from /500: first line: database ?[31mdown? ??");

    fetch(&t, &s, "/status?code=403&body=go+away", NULL);
    ASSERT_EQ(t.status, -EACCES);
    ASSERT_STR_EQ(t.r.err, "srv: HTTP 403 Forbidden from /status?code=403&body=go+away: go away");

    fetch(&t, &s, "/status?code=503", NULL);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_STR_EQ(t.r.err, "srv: HTTP 503 Service Unavailable from /status?code=503");

    /* A 6000-byte line: 200 bytes of it quoted. */
    snprintf(path, sizeof path, "/status?code=502&body=");
    memset(path + strlen(path), 'x', 6000);
    path[22 + 6000] = '\0';
    fetch(&t, &s, path, NULL);
    ASSERT_EQ(t.status, -EPROTO);
    memset(want, 'x', 200);
    want[200] = '\0';
    ASSERT_CONTAINS(t.r.err, "HTTP 502 Bad Gateway from /status?code=502&body=xxxx");
    ASSERT(strlen(t.r.err) < CG_ERR_LEN);
    /* the message is cut by CG_ERR_LEN before the line here: the line
     * itself is checked by http_error_line_cases */
    srv_stop(&s);
}

TEST(http_error_line_cases)
{
    char out[HTTP_ERROR_LINE_MAX + 1], big[600];
    const char *html = "<!DOCTYPE html>\n<html><head>\n<title>Oops</title></head><body><h1>Bad <i>thing</i></h1>";

    http_error_line("", 0, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "");
    http_error_line(" \n\t\r\n  \n", 8, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "");
    http_error_line("404 page not found\n", 19, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "404 page not found");
    http_error_line("\r\n  two  \r\nthree", 16, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "two");
    http_error_line(html, strlen(html), 1, out, sizeof out);
    ASSERT_STR_EQ(out, "Oops");
    http_error_line("<p>a <b>bold</b> word</p><p>next", 32, 1, out, sizeof out);
    ASSERT_STR_EQ(out, "a bold word");
    http_error_line("<p>unfinished <a href=", 22, 1, out, sizeof out);
    ASSERT_STR_EQ(out, "unfinished");
    /* not HTML: the tags stay */
    http_error_line("<b>x</b>", 8, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "<b>x</b>");
    /* UTF-8 kept, broken sequences and controls replaced */
    http_error_line("caf\xc3\xa9 \xc3 \x1b[0m\x7f", 13, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "caf\xc3\xa9 ? ?[0m?");
    /* a NUL is a control character too */
    http_error_line("a\0b", 3, 0, out, sizeof out);
    ASSERT_STR_EQ(out, "a?b");
    /* cut at 200 bytes, never inside a character */
    memset(big, 'y', sizeof big);
    http_error_line(big, sizeof big, 0, out, sizeof out);
    ASSERT_EQ(strlen(out), HTTP_ERROR_LINE_MAX);
    big[0] = 'y';
    for (int i = 1; i + 1 < (int)sizeof big; i += 2)
        big[i] = '\xc3', big[i + 1] = '\xa9';
    http_error_line(big, sizeof big - 1, 0, out, sizeof out);
    ASSERT_EQ(strlen(out), HTTP_ERROR_LINE_MAX - 1);
}

TEST(http_redirects)
{
    srv_t s = srv_start();
    static treq_t t;
    static http_opts_t o;

    fetch(&t, &s, "/redirect-to?url=/ok", NULL);
    ASSERT_EQ(t.status, 0);
    ASSERT_STR_EQ(t.body, "hello from httpsrv\n");
    ASSERT_EQ(t.r.status_code, 200);

    fetch(&t, &s, "/redirect-loop", NULL);
    ASSERT_EQ(t.status, -ELOOP);
    ASSERT_STR_EQ(t.r.err, "srv: more than 5 redirects from /redirect-loop");

    o.max_redirects = 2;
    fetch(&t, &s, "/redirect-loop", &o);
    ASSERT_EQ(t.status, -ELOOP);
    ASSERT_STR_EQ(t.r.err, "srv: more than 2 redirects from /redirect-loop");

    /* only http and https */
    fetch(&t, &s, "/redirect-to?url=file:///etc/passwd", NULL);
    ASSERT_EQ(t.status, -EPROTONOSUPPORT);
    ASSERT_CONTAINS(t.r.err, "not http or https");
    ASSERT_EQ(t.sum, 0);
    fetch(&t, &s, "/redirect-to?url=ftp://127.0.0.1/x", NULL);
    ASSERT_EQ(t.status, -EPROTONOSUPPORT);
    srv_stop(&s);
}

TEST(http_headers_sent_and_kept_from_other_hosts)
{
    srv_t s = srv_start();
    static treq_t t;
    http_opts_t o = {0};
    char err[CG_ERR_LEN];

    ASSERT_EQ(http_opts_add_header(&o, "X-Token: s3cret", err), 0);
    ASSERT_EQ(http_opts_add_header(&o, "Authorization: Bearer abc", err), 0);
    fetch(&t, &s, "/echo-headers", &o);
    ASSERT_EQ(t.status, 0);
    ASSERT_CONTAINS(t.body, "X-Token: s3cret\n");
    ASSERT_CONTAINS(t.body, "Authorization: Bearer abc\n");
    ASSERT_CONTAINS(t.body, "User-Agent: cgops/");
    ASSERT(strstr(t.body, "Accept-Encoding") == NULL);

    /* Same host: headers go along. */
    fetch(&t, &s, "/redirect-to?url=/echo-headers", &o);
    ASSERT_EQ(t.status, 0);
    ASSERT_CONTAINS(t.body, "X-Token: s3cret\n");

    /* Another host: refused before anything is sent there (curl 7.88
     * would send X-Token on). */
    fetch(&t, &s, "/redirect-other-host", &o);
    ASSERT_EQ(t.status, -EPERM);
    ASSERT_CONTAINS(t.r.err, "to another host refused");
    ASSERT_EQ(t.sum, 0);

    /* Another port of the same host is another origin too. */
    {
        char path[256];
        snprintf(path, sizeof path, "/redirect-to?url=http://127.0.0.1:%d/echo-headers", s.https);
        fetch(&t, &s, path, &o);
        ASSERT_EQ(t.status, -EPERM);
    }

    /* Without headers the redirect is followed. */
    fetch(&t, &s, "/redirect-other-host", NULL);
    ASSERT_EQ(t.status, 0);
    ASSERT_CONTAINS(t.body, "Host: 127.0.0.2:");
    http_opts_free(&o);
    srv_stop(&s);
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, len), (ssize_t)len);
    close(fd);
}

TEST(http_header_args)
{
    http_opts_t o = {0};
    char err[CG_ERR_LEN], path[4096], arg[4200], *big;
    const char *text = "# a comment\r\n\r\nAuthorization: Bearer t0k\r\n  \nX-A:b\n#X-Skipped: 1\nX-Last: v";

    snprintf(path, sizeof path, "%s/http-hdr.%d", test_tmpdir(), (int)getpid());
    snprintf(arg, sizeof arg, "@%s", path);

    write_file(path, text, strlen(text));
    ASSERT_EQ(http_opts_add_header(&o, arg, err), 0);
    ASSERT_EQ(o.nheaders, 3);
    ASSERT_STR_EQ(o.headers[0], "Authorization: Bearer t0k");
    ASSERT_STR_EQ(o.headers[1], "X-A:b");
    ASSERT_STR_EQ(o.headers[2], "X-Last: v");

    /* Every failure leaves o as it was. */
    write_file(path, "X-Ok: 1\nX-Bad: a\rb\n", 19);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    ASSERT_CONTAINS(err, ":2:");
    ASSERT_EQ(o.nheaders, 3);
    write_file(path, "X-Ok: 1\0\n", 9);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    ASSERT_CONTAINS(err, "NUL");
    write_file(path, "# only comments\n\n", 17);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    ASSERT_CONTAINS(err, "no header");
    write_file(path, "X-Ok: 1\n continued\n", 20);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    write_file(path, "no colon here\n", 14);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);

    big = cg_xmalloc(HTTP_HEADER_FILE_MAX + 2);
    memset(big, 'a', HTTP_HEADER_FILE_MAX + 1);
    memcpy(big, "X-Big: ", 7);
    write_file(path, big, HTTP_HEADER_FILE_MAX + 1);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EFBIG);
    ASSERT_CONTAINS(err, "64 KiB");
    write_file(path, big, HTTP_HEADER_FILE_MAX); /* exactly the limit: read */
    ASSERT_EQ(http_opts_add_header(&o, arg, err), 0);
    ASSERT_EQ(o.nheaders, 4);
    free(big);
    ASSERT_EQ(unlink(path), 0);

    /* A FIFO without a writer: refused at once, not waited on. */
    ASSERT_EQ(mkfifo(path, 0600), 0);
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    ASSERT_CONTAINS(err, "not a regular file");
    ASSERT_EQ(unlink(path), 0);
    snprintf(arg, sizeof arg, "@%s", test_tmpdir());
    ASSERT_EQ(http_opts_add_header(&o, arg, err), -EINVAL);
    ASSERT_CONTAINS(err, "not a regular file");
    ASSERT_EQ(http_opts_add_header(&o, "@/nonexistent/cgops-headers", err), -ENOENT);

    /* Single -H values. */
    ASSERT_EQ(http_opts_add_header(&o, "X-Cr: a\rb", err), -EINVAL);
    ASSERT_CONTAINS(err, "CR");
    ASSERT_EQ(http_opts_add_header(&o, "X-Lf: a\nInjected: 1", err), -EINVAL);
    ASSERT_EQ(http_opts_add_header(&o, "X Space: a", err), -EINVAL);
    ASSERT_EQ(http_opts_add_header(&o, ": a", err), -EINVAL);
    ASSERT_EQ(http_opts_add_header(&o, "X-Empty:", err), -EINVAL);
    ASSERT_EQ(http_opts_add_header(&o, "X-Empty:   ", err), -EINVAL);
    ASSERT_EQ(http_opts_add_header(&o, "NoColon", err), -EINVAL);
    ASSERT_EQ(o.nheaders, 4);
    ASSERT_EQ(http_opts_add_header(&o, "X-Tab:\tv\tw", err), 0);
    ASSERT_EQ(o.nheaders, 5);
    http_opts_free(&o);
    ASSERT_EQ(o.nheaders, 0);
}

TEST(http_tls)
{
    srv_t s = srv_start();
    static treq_t t;
    http_opts_t o = {0};
    char url[256];

    snprintf(url, sizeof url, "https://127.0.0.1:%d/ok", s.https);
    treq_init(&t, url, NULL);
    run1(&t);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_CONTAINS(t.r.err, "certificate not trusted (--cacert FILE to trust its CA, --insecure to skip the check)");
    ASSERT_EQ(t.sum, 0);

    o.insecure = 1;
    treq_init(&t, url, &o);
    run1(&t);
    ASSERT_EQ(t.status, 0);
    ASSERT_STR_EQ(t.body, "hello from httpsrv\n");

    /* plain HTTP spoken to the TLS port */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", s.https);
    treq_init(&t, url, NULL);
    t.r.total_timeout_ms = 20000;
    run1(&t);
    ASSERT(t.status < 0);
    srv_stop(&s);
}

TEST(http_timeouts)
{
    srv_t s = srv_start();
    static treq_t t;
    struct sockaddr_in sa;
    int lfd, fill[4];
    char url[256];

    /* headers, then silence */
    get(&t, &s, "/hang-body", NULL);
    t.r.idle_timeout_ms = 500;
    run1(&t);
    ASSERT_EQ(t.status, -ETIMEDOUT);
    ASSERT_STR_EQ(t.r.err, "srv: no data for 500ms from /hang-body");
    ASSERT_EQ(t.sum, strlen("partial"));

    /* no reply at all */
    get(&t, &s, "/hang", NULL);
    t.r.idle_timeout_ms = 300;
    run1(&t);
    ASSERT_EQ(t.status, -ETIMEDOUT);
    ASSERT_STR_EQ(t.r.err, "srv: no data for 300ms from /hang");

    /* a byte every 0.5 s: never idle, but over the total */
    get(&t, &s, "/trickle?n=100", NULL);
    t.r.idle_timeout_ms = 5000;
    t.r.total_timeout_ms = 1500;
    run1(&t);
    ASSERT_EQ(t.status, -ETIMEDOUT);
    ASSERT_CONTAINS(t.r.err, "srv: no complete reply within 1.5s");
    ASSERT(t.sum > 0 && t.sum < 100);

    /* connect: a listener whose backlog is full drops the SYN */
    lfd = loopback_socket(&sa, 1);
    ASSERT(lfd >= 0);
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    usleep(100000);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", ntohs(sa.sin_port));
    treq_init(&t, url, NULL);
    t.r.connect_timeout_ms = 400;
    run1(&t);
    ASSERT_EQ(t.status, -ETIMEDOUT);
    ASSERT_STR_EQ(t.r.err, "srv: timed out after 400ms waiting to connect");
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(lfd);
    srv_stop(&s);
}

TEST(http_transport_errors)
{
    srv_t s = srv_start();
    static treq_t t;
    struct sockaddr_in sa;
    int fd;
    char url[256];

    fetch(&t, &s, "/garbage", NULL);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_CONTAINS(t.r.err, "not an HTTP reply from /garbage");

    fetch(&t, &s, "/short", NULL);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_CONTAINS(t.r.err, "cut short after 7 bytes");
    ASSERT_STR_EQ(t.body, "partial");

    fetch(&t, &s, "/close", NULL);
    ASSERT_EQ(t.status, -EPROTO);
    ASSERT_CONTAINS(t.r.err, "closed the connection without replying");

    /* A port nobody listens on: take one, then close it. */
    fd = loopback_socket(&sa, 0);
    ASSERT(fd >= 0);
    close(fd);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", ntohs(sa.sin_port));
    treq_init(&t, url, NULL);
    run1(&t);
    ASSERT_EQ(t.status, -ECONNREFUSED);
    ASSERT_CONTAINS(t.r.err, "cannot connect");

    treq_init(&t, "http://no-such-host.invalid/x", NULL);
    run1(&t);
    ASSERT_EQ(t.status, -EHOSTUNREACH);
    srv_stop(&s);
}

TEST(http_max_body_and_stop)
{
    srv_t s = srv_start();
    static treq_t t;

    get(&t, &s, "/big?n=100000", NULL);
    t.r.max_body = 1000;
    run1(&t);
    ASSERT_EQ(t.status, -EFBIG);
    ASSERT_CONTAINS(t.r.err, "larger than 1000 bytes");
    ASSERT(t.sum <= 1000);

    get(&t, &s, "/big?n=100000", NULL);
    t.r.max_body = 100000; /* exactly: fine */
    run1(&t);
    ASSERT_EQ(t.status, 0);
    ASSERT_EQ(t.sum, 100000);

    /* on_data says stop: the transfer of 1 GB ends there */
    get(&t, &s, "/big?n=1000000000", NULL);
    t.fail_after = 1;
    run1(&t);
    ASSERT_EQ(t.status, -ECANCELED);
    ASSERT_STR_EQ(t.r.err, "srv: stopped by the test");
    ASSERT(t.sum < 10000000);
    srv_stop(&s);
}

/* Requests freed in their on_done, some failing, some not: ASan checks
 * that nothing touches them after. */
TEST(http_free_in_on_done)
{
    srv_t s = srv_start();
    const char *paths[] = {"/ok", "/404", "/big?n=300000", "/hang", "/redirect-loop", "/close"};
    uv_loop_t loop;
    int ndone = 0, n = 0;

    ASSERT_EQ(uv_loop_init(&loop), 0);
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < CG_ARRAY_SIZE(paths); i++) {
            treq_t *t = cg_xmalloc(sizeof *t);
            get(t, &s, paths[i], NULL);
            t->r.idle_timeout_ms = 200;
            t->ndone = &ndone;
            t->free_in_done = 1;
            ASSERT_EQ(http_req_start(&loop, &t->r), 0);
            n++;
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(ndone, n);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    srv_stop(&s);
}

TEST(http_base_parse_cases)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        {"http://127.0.0.1:6060", "http://127.0.0.1:6060"},
        {"http://127.0.0.1:6060/", "http://127.0.0.1:6060"},
        {"HTTPS://Example.COM/debug/", "https://example.com/debug"},
        {"https://example.com:443/a/b//", "https://example.com:443/a/b"},
        {"http://[::1]:8080/x/", "http://[::1]:8080/x"},
        {"http://svc.internal/pre%20fix", "http://svc.internal/pre%20fix"},
    };
    static const char *bad[] = {
        "http://user:pw@host:1/", "http://user@host/", "http://h:1/?q=1", "http://h:1/#frag",
        "ftp://h/", "http://", "http://h:0/", "http://h:99999/", "http://h:1/a b",
        "http://h\xc3\xa9/", "http://a%84b/", "http://a%2fb/", "http://[fe80::1%25eth0]:1/",
        "localhost:8080", "http://h:1/\n", "http://h:x/", "",
    };
    char out[256], err[CG_ERR_LEN], tiny[16], longurl[600];

    for (size_t i = 0; i < CG_ARRAY_SIZE(good); i++) {
        if (http_base_parse(good[i].in, out, sizeof out, err) != 0)
            TEST_FAIL("%s refused: %s", good[i].in, err);
        ASSERT_STR_EQ(out, good[i].out);
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++)
        if (http_base_parse(bad[i], out, sizeof out, err) != -EINVAL)
            TEST_FAIL("'%s' accepted as %s", bad[i], out);
    ASSERT_EQ(http_base_parse("http://user:pw@host:1/", out, sizeof out, err), -EINVAL);
    ASSERT_CONTAINS(err, "credentials in the URL would show in ps; use -H 'Authorization: ...' or -H @FILE");
    ASSERT_EQ(http_base_parse("http://example.com:1234/x", tiny, sizeof tiny, err), -ENAMETOOLONG);
    snprintf(longurl, sizeof longurl, "http://h/%0500d", 0);
    ASSERT_EQ(http_base_parse(longurl, out, sizeof out, err), -ENAMETOOLONG);

    ASSERT(http_is_url("http://x"));
    ASSERT(http_is_url("HTTPS://x"));
    ASSERT(!http_is_url("httpx://x"));
    ASSERT(!http_is_url("127.0.0.1:6060"));
    ASSERT(!http_is_url("http:/x"));
}

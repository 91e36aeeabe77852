/* http.c -- one HTTP(S) GET on a libuv loop, through libcurl
 *
 * libcurl's multi interface is driven by the loop (the "multi_socket"
 * API): curl says which sockets to watch (socket_cb -> a uv_poll_t each)
 * and when to call it back (multi_timer_cb -> one uv_timer_t); libuv says
 * when a socket is ready and we pass that on with
 * curl_multi_socket_action, then collect finished transfers with
 * curl_multi_info_read.  One multi handle per loop, so requests to one
 * server share connections; it lives while requests run on that loop,
 * which also closes its cached connections once the last request ends and
 * leaves nothing to keep the loop alive.
 *
 * Each request has its own uv timer for what curl does not measure the
 * way cgops reports it: silence once connected (idle) and the total
 * deadline.  A curl callback may not remove its own transfer, so a
 * callback that must stop one (on_data failed, body too large, a refused
 * redirect) records why and returns an error to curl; the transfer then
 * ends through curl_multi_info_read like any other.
 */
#include "cgops/http.h"
#include "cgops/agent.h"
#include "cgops/cmd.h" /* CGOPS_VERSION */

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(CURL_ERROR_SIZE <= sizeof(((http_req_t *)0)->curl_err), "curl_err too small");

/* ---- options ------------------------------------------------------------ */

/* RFC 9110 token characters: what a header name may be made of. */
static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int http_header_check(const char *line, size_t len, char *err)
{
    size_t i, name_len;
    int has_value = 0;

    for (i = 0; i < len && line[i] != ':'; i++) {
        if (!is_tchar((unsigned char)line[i])) {
            /* Only the name so far is quoted: the rest of a line of a
             * -H @FILE may be its secret ("Authorization Bearer ..."
             * without the colon), which must not reach stderr or logs. */
            cg_seterr(err, "bad header '%.*s...': the name before ':' must be letters, digits or !#$%%&'*+-.^_`|~ "
                           "(byte %zu is not)",
                      (int)(i > 32 ? 32 : i), line, i + 1);
            return -EINVAL;
        }
    }
    name_len = i;
    if (i == len) {
        /* Nothing quoted: a line without ':' may be a bare token. */
        cg_seterr(err, "bad header (%zu bytes): no ':', expected 'Name: value'", len);
        return -EINVAL;
    }
    if (name_len == 0) {
        cg_seterr(err, "bad header: no name before ':'");
        return -EINVAL;
    }
    for (i = name_len + 1; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            cg_seterr(err, "bad header '%.*s': its value holds a control character (%s)", (int)name_len, line,
                      c == '\r' ? "CR" : c == '\n' ? "LF" : c == 0 ? "NUL" : "not tab");
            return -EINVAL;
        }
        if (c != ' ' && c != '\t')
            has_value = 1;
    }
    if (!has_value) {
        /* curl reads "Name:" as "remove the header curl would send". */
        cg_seterr(err, "bad header '%.*s': no value", (int)name_len, line);
        return -EINVAL;
    }
    return 0;
}

static void opts_append(http_opts_t *o, char **add, size_t n)
{
    o->headers = cg_xrealloc(o->headers, (o->nheaders + n) * sizeof *o->headers);
    memcpy(o->headers + o->nheaders, add, n * sizeof *add);
    o->nheaders += n;
}

int http_opts_add_lines(http_opts_t *o, const char *text, size_t len, const char *src, char *err)
{
    char **add = NULL;
    size_t nadd = 0, lineno = 0, pos = 0;
    char why[CG_ERR_LEN];
    int rc = 0;

    if (memchr(text, '\0', len)) {
        cg_seterr(err, "%s: holds a NUL byte: not a header file", src);
        return -EINVAL;
    }
    while (pos < len) {
        const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos, start = 0;

        pos += n + (nl != NULL);
        lineno++;
        if (n > 0 && line[n - 1] == '\r') /* CRLF files from Windows editors */
            n--;
        while (start < n && (line[start] == ' ' || line[start] == '\t'))
            start++;
        while (n > start && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (start == n || line[start] == '#')
            continue;
        if (start > 0) {
            /* An indented line was once a header continuation: refused. */
            cg_seterr(err, "%s:%zu: a header line may not start with white space", src, lineno);
            rc = -EINVAL;
            break;
        }
        rc = http_header_check(line, n, why);
        if (rc < 0) {
            cg_seterr(err, "%s:%zu: %s", src, lineno, why);
            break;
        }
        add = cg_xrealloc(add, (nadd + 1) * sizeof *add);
        add[nadd] = cg_xmalloc(n + 1);
        memcpy(add[nadd], line, n);
        add[nadd][n] = '\0';
        nadd++;
    }
    if (rc == 0 && nadd == 0) {
        cg_seterr(err, "%s: no header in it (one 'Name: value' per line)", src);
        rc = -EINVAL;
    }
    if (rc == 0)
        opts_append(o, add, nadd);
    else
        for (size_t i = 0; i < nadd; i++)
            free(add[i]);
    free(add);
    return rc;
}

int http_opts_add_header(http_opts_t *o, const char *arg, char *err)
{
    char why[CG_ERR_LEN], *text, *copy;
    struct stat st;
    size_t len;
    int fd, rc, truncated = 0;

    if (arg[0] != '@') {
        rc = http_header_check(arg, strlen(arg), why);
        if (rc < 0) {
            cg_seterr(err, "-H: %s", why);
            return rc;
        }
        copy = cg_xstrdup(arg);
        opts_append(o, &copy, 1);
        return 0;
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * below anyway, as is anything but a regular file. */
    fd = open(arg + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        rc = -errno;
        cg_seterr(err, "-H %s: %s", arg, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        cg_seterr(err, "-H %s: %s", arg, strerror(errno));
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        cg_seterr(err, "-H %s: not a regular file", arg);
        close(fd);
        return -EINVAL;
    }
    if (st.st_size > HTTP_HEADER_FILE_MAX) {
        cg_seterr(err, "-H %s: larger than %d KiB", arg, HTTP_HEADER_FILE_MAX / 1024);
        close(fd);
        return -EFBIG;
    }
    /* One byte over the limit, to tell a file that grew since fstat. */
    rc = cg_read_fd(fd, HTTP_HEADER_FILE_MAX + 1, &text, &len, &truncated);
    close(fd);
    if (rc < 0) {
        cg_seterr(err, "-H %s: %s", arg, strerror(-rc));
        return rc;
    }
    if (truncated || len > HTTP_HEADER_FILE_MAX) {
        free(text);
        cg_seterr(err, "-H %s: larger than %d KiB", arg, HTTP_HEADER_FILE_MAX / 1024);
        return -EFBIG;
    }
    rc = http_opts_add_lines(o, text, len, arg + 1, why);
    if (rc < 0)
        cg_seterr(err, "-H @%s", why);
    free(text);
    return rc;
}

void http_opts_free(http_opts_t *o)
{
    for (size_t i = 0; i < o->nheaders; i++)
        free(o->headers[i]);
    free(o->headers);
    o->headers = NULL;
    o->nheaders = 0;
}

/* ---- URLs --------------------------------------------------------------- */

int http_is_url(const char *arg)
{
    return strncasecmp(arg, "http://", 7) == 0 || strncasecmp(arg, "https://", 8) == 0;
}

static void global_init(void)
{
    static int done;

    if (!done) {
        /* Once, before any other curl call; the program has one thread
         * when it gets here. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "cgops: cannot initialise libcurl\n");
            abort();
        }
        done = 1;
    }
}

/* Get one part of u; NULL when the URL has none. */
static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
    char *s = NULL;

    if (curl_url_get(u, what, &s, flags) != CURLUE_OK)
        return NULL;
    return s;
}

/* A host name (letters, digits, '-', '_', '.') or a bracketed IPv6
 * address. */
static int host_ok(const char *h)
{
    size_t n = strlen(h);

    if (h[0] == '[')
        return n > 2 && h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

int http_base_parse(const char *arg, char *out, size_t outsize, char *err)
{
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *s;
    CURLU *u;
    CURLUcode uc;
    size_t plen, n;
    long long portnum = 0;
    int rc = -EINVAL;

    for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            cg_seterr(err, "bad URL: it holds a space, a control character or a byte outside ASCII "
                      "(percent-encode it)");
            return -EINVAL;
        }
    }
    if (!http_is_url(arg)) {
        cg_seterr(err, "bad URL '%.200s': it must start with http:// or https://", arg);
        return -EINVAL;
    }
    global_init();
    u = curl_url();
    if (u == NULL)
        abort();
    uc = curl_url_set(u, CURLUPART_URL, arg, 0);
    if (uc != CURLUE_OK) {
        cg_seterr(err, "bad URL '%.200s': %s", arg, curl_url_strerror(uc));
        goto out;
    }
    if ((s = url_part(u, CURLUPART_USER, 0)) != NULL || (s = url_part(u, CURLUPART_PASSWORD, 0)) != NULL ||
        (s = url_part(u, CURLUPART_OPTIONS, 0)) != NULL) {
        curl_free(s);
        cg_seterr(err, "bad URL: credentials in the URL would show in ps; "
                  "use -H 'Authorization: ...' or -H @FILE");
        goto out;
    }
    if ((s = url_part(u, CURLUPART_QUERY, 0)) != NULL) {
        curl_free(s);
        cg_seterr(err, "bad URL '%.200s': a target is a base URL, without a query ('?...')", arg);
        goto out;
    }
    if ((s = url_part(u, CURLUPART_FRAGMENT, 0)) != NULL || strchr(arg, '#') != NULL) {
        curl_free(s);
        cg_seterr(err, "bad URL '%.200s': a target is a base URL, without a fragment ('#...')", arg);
        goto out;
    }
    scheme = url_part(u, CURLUPART_SCHEME, 0);
    host = url_part(u, CURLUPART_HOST, 0);
    port = url_part(u, CURLUPART_PORT, 0);
    path = url_part(u, CURLUPART_PATH, 0);
    if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        cg_seterr(err, "bad URL '%.200s': the scheme must be http or https", arg);
        goto out;
    }
    if (host == NULL || host[0] == '\0') {
        cg_seterr(err, "bad URL '%.200s': no host", arg);
        goto out;
    }
    {
        /* Nor any %XX in the host as typed: "12%30" decodes to "120",
         * which curl reads as the address 0.0.0.120 only when it parses
         * the normalised URL again (found by fuzz-http-base). */
        const char *auth = strchr(arg, ':'), *end;

        /* curl takes "http:///h" and "http:\\h" for "http://h". */
        auth = auth ? auth + 1 : arg;
        auth += strspn(auth, "/\\");
        end = auth + strcspn(auth, "/\\?#");
        if (memchr(auth, '%', (size_t)(end - auth)) != NULL) {
            cg_seterr(err, "bad URL '%.200s': bad host name (percent-encoded)", arg);
            goto out;
        }
    }
    if (!host_ok(host)) {
        /* curl decodes %XX in a host name: what is left must be a name or
         * an address, not bytes to put in a Host: header. */
        cg_seterr(err, "bad URL '%.200s': bad host name", arg);
        goto out;
    }
    if ((s = url_part(u, CURLUPART_ZONEID, 0)) != NULL) {
        curl_free(s);
        cg_seterr(err, "bad URL '%.200s': IPv6 zone ids are not supported", arg);
        goto out;
    }
    if (port && cg_parse_ll(port, 1, 65535, &portnum) != 0) {
        cg_seterr(err, "bad URL '%.200s': the port must be 1 to 65535", arg);
        goto out;
    }
    for (char *p = scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    plen = path ? strlen(path) : 0;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    if (port)
        n = (size_t)snprintf(out, outsize, "%s://%s:%lld%.*s", scheme, host, portnum, (int)plen, path ? path : "");
    else
        n = (size_t)snprintf(out, outsize, "%s://%s%.*s", scheme, host, (int)plen, path ? path : "");
    if (n >= outsize) {
        cg_seterr(err, "bad URL '%.100s...': too long", arg);
        rc = -ENAMETOOLONG;
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    if (rc < 0 && outsize > 0)
        out[0] = '\0';
    return rc;
}

/* The part of url that messages quote: its path and query (DISPLAY, before
 * every message, names the host). */
static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");

    if (p == NULL)
        return url;
    p = strchr(p + 3, '/');
    return p ? p : "/";
}

/* ---- error bodies ------------------------------------------------------- */

static int is_block_tag(const char *name)
{
    static const char *const tags[] = {"html", "head", "body", "title", "h1", "h2", "h3", "h4", "h5", "h6",
                                       "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "pre",
                                       "hr", "header", "footer", "main", "section", "article"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(tags); i++)
        if (strcmp(name, tags[i]) == 0)
            return 1;
    return 0;
}

void http_error_line(const char *body, size_t len, int html, char *out, size_t outsize)
{
    char text[HTTP_ERROR_BODY_MAX];
    size_t n = 0, i, o = 0, start, end;

    if (len > sizeof text)
        len = sizeof text;
    for (i = 0; i < len; i++) {
        char c = body[i];
        if (html && c == '<') {
            /* A tag goes; one that ends a block of text ends the line, so
             * "<title>Oops</title><h1>..." gives "Oops". */
            const char *e = memchr(body + i, '>', len - i);
            size_t j = i + 1, k = 0;
            char name[8];

            if (j < len && body[j] == '/')
                j++;
            while (j < len && k < sizeof name - 1 && isalnum((unsigned char)body[j]))
                name[k++] = (char)tolower((unsigned char)body[j++]);
            name[k] = '\0';
            if (k > 0 && is_block_tag(name))
                text[n++] = '\n';
            if (e == NULL)
                break; /* an unfinished tag: the rest is inside it */
            i = (size_t)(e - body);
            continue;
        }
        text[n++] = c;
    }
    /* The first line with something besides white space. */
    for (start = 0; start < n; start = end + 1) {
        size_t a, b;

        for (end = start; end < n && text[end] != '\n'; end++)
            ;
        a = start;
        b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a < b) {
            start = a;
            end = b;
            break;
        }
    }
    if (start >= n) {
        out[0] = '\0';
        return;
    }
    for (i = start; i < end;) {
        size_t k = cg_utf8_seq_len((const unsigned char *)text + i, end - i);
        int bad = k == 0 || cg_utf8_is_control((const unsigned char *)text + i, k);
        size_t w = bad ? 1 : k;

        if (o + w > HTTP_ERROR_LINE_MAX || o + w >= outsize)
            break;
        if (bad)
            out[o++] = '?';
        else
            memcpy(out + o, text + i, k), o += k;
        i += bad ? (k ? k : 1) : k;
    }
    out[o] = '\0';
}

/* ---- the multi handle of a loop ----------------------------------------- */

typedef struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http_multi *m;
    struct http_sock *prev, *next;
} http_sock_t;

struct http_multi {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    int nreqs;               /* requests started and not yet done */
    int handles;             /* our uv handles open: the timer and the polls */
    int dying;               /* being cleaned up: curl's calls ignored */
    http_sock_t *socks;
    http_req_t *last;        /* the request whose on_done waits for m to close */
    struct http_multi *next;
};

/* One per loop that has requests running; few loops, a list will do. */
static struct http_multi *multis;

static void finish(http_req_t *r, int status);

/* One of m's handles is closed; with the last, m goes, then the on_done
 * of the request that was waiting for it runs. */
static void multi_unref(struct http_multi *m)
{
    http_req_t *last;

    if (--m->handles > 0)
        return;
    last = m->last;
    free(m);
    if (last)
        last->on_done(last, last->status);
}

static void multi_handle_closed(uv_handle_t *h)
{
    multi_unref(h->data);
}

static void sock_closed(uv_handle_t *h)
{
    http_sock_t *s = (http_sock_t *)h;
    struct http_multi *m = s->m;

    free(s);
    multi_unref(m);
}

static void sock_close(http_sock_t *s)
{
    struct http_multi *m = s->m;

    if (s->prev)
        s->prev->next = s->next;
    else
        m->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_close((uv_handle_t *)&s->poll, sock_closed);
}

/* Transfers curl has finished: end their requests. */
static void check_multi_info(struct http_multi *m)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        char *priv = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        if (priv != NULL)
            finish((http_req_t *)(void *)priv, (int)msg->data.result); /* a CURLcode, mapped there */
    }
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
    http_sock_t *s = (http_sock_t *)p;
    struct http_multi *m = s->m;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(m->multi, s->fd, flags, &running);
    check_multi_info(m);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http_multi *m = userp;
    http_sock_t *s = socketp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            curl_multi_assign(m->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (m->dying)
        return 0;
    if (s == NULL) {
        s = cg_xcalloc(1, sizeof *s);
        if (uv_poll_init_socket(m->loop, &s->poll, fd) != 0) {
            free(s);
            return -1; /* curl fails the transfer */
        }
        s->fd = fd;
        s->m = m;
        s->next = m->socks;
        if (m->socks)
            m->socks->prev = s;
        m->socks = s;
        m->handles++;
        curl_multi_assign(m->multi, fd, s);
    }
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, poll_cb);
    return 0;
}

static void multi_timer_fired(uv_timer_t *t)
{
    struct http_multi *m = t->data;
    int running;

    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(m);
}

static int multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_multi *m = userp;

    (void)multi;
    if (m->dying)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&m->timer);
    else /* 0 too: curl may not be called back from inside its own call */
        uv_timer_start(&m->timer, multi_timer_fired, (uint64_t)timeout_ms, 0);
    return 0;
}

static struct http_multi *multi_get(uv_loop_t *loop)
{
    struct http_multi *m;

    for (m = multis; m; m = m->next)
        if (m->loop == loop)
            return m;
    m = cg_xcalloc(1, sizeof *m);
    m->loop = loop;
    m->multi = curl_multi_init();
    if (m->multi == NULL)
        abort();
    if (uv_timer_init(loop, &m->timer) != 0)
        abort();
    m->timer.data = m;
    m->handles = 1;
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    m->next = multis;
    multis = m;
    return m;
}

/* The last request on m ended: close its connections and handles; the
 * on_done of that request (last) waits until they are closed, so a caller
 * that stops its loop there leaves nothing of ours open in it. */
static void multi_put(struct http_multi *m, http_req_t *last)
{
    struct http_multi **pp;

    for (pp = &multis; *pp != m; pp = &(*pp)->next)
        ;
    *pp = m->next;
    m->dying = 1;
    m->last = last;
    curl_multi_cleanup(m->multi); /* calls socket_cb(REMOVE) for its sockets */
    m->multi = NULL;
    while (m->socks) {
        uv_poll_stop(&m->socks->poll);
        sock_close(m->socks);
    }
    uv_close((uv_handle_t *)&m->timer, multi_handle_closed);
}

/* ---- one request -------------------------------------------------------- */

static void req_closed(uv_handle_t *h)
{
    http_req_t *r = h->data;
    struct http_multi *m = r->multi;

    /* Not from inside a curl call (a close callback), so m may go. */
    if (--m->nreqs == 0) {
        multi_put(m, r);
        return;
    }
    /* on_done may free r, and may start another request on this loop,
     * which then shares m and its connections. */
    r->on_done(r, r->status);
}

/* The prefix of every message: the target as the user wrote it. */
static const char *req_name(const http_req_t *r)
{
    return r->display ? r->display : r->url;
}

static void fail(http_req_t *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(http_req_t *r, int status, const char *fmt, ...)
{
    char msg[CG_ERR_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%.100s: %.400s", req_name(r), msg);
    finish(r, status);
}

/* Stop from inside a curl callback: why goes to r->err, the callback then
 * returns an error to curl and finish() reports stop_status. */
static void stop(http_req_t *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void stop(http_req_t *r, int status, const char *fmt, ...)
{
    char msg[CG_ERR_LEN];
    va_list ap;

    if (r->stop_status)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof r->err, "%.100s: %.400s", req_name(r), msg);
    r->stop_status = status;
}

static const char *std_reason(long code)
{
    static const struct {
        long code;
        const char *text;
    } tab[] = {
        {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"},
        {304, "Not Modified"}, {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {408, "Request Timeout"},
        {410, "Gone"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
        {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(tab); i++)
        if (tab[i].code == code)
            return tab[i].text;
    return "";
}

/* A body that starts like an HTML document, whatever its Content-Type. */
static int looks_html(const char *b, size_t len)
{
    size_t i = 0;

    while (i < len && isspace((unsigned char)b[i]))
        i++;
    return (len - i >= 5 && strncasecmp(b + i, "<html", 5) == 0) ||
           (len - i >= 9 && strncasecmp(b + i, "<!doctype", 9) == 0);
}

/* The reply was not 2xx: the message with the status and a line of the body. */
static int status_error(http_req_t *r)
{
    char line[HTTP_ERROR_LINE_MAX + 1], reason[sizeof r->reason];
    char *ctype = NULL;
    int html = 0, rc;

    curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ctype);
    if (ctype && strcasestr(ctype, "html"))
        html = 1;
    else if (looks_html(r->ebody, r->ebody_len))
        html = 1;
    http_error_line(r->ebody ? r->ebody : "", r->ebody_len, html, line, sizeof line);
    cg_strlcpy(reason, r->reason[0] ? r->reason : std_reason(r->status_code), sizeof reason);
    rc = r->status_code == 404 ? -ENOENT : (r->status_code == 401 || r->status_code == 403) ? -EACCES : -EPROTO;
    fail(r, rc, "HTTP %ld%s%s from %s%s%s", r->status_code, reason[0] ? " " : "", reason, url_path(r->url),
         line[0] ? ": " : "", line);
    return rc;
}

static int is_2xx(long code)
{
    return code >= 200 && code <= 299;
}

/* A curl failure as -errno and a message. */
static void curl_failed(http_req_t *r, CURLcode cc)
{
    char d[32];
    long oserr = 0, nredir = 0;
    const char *detail = r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc);

    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_COUNT, &nredir);
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        fail(r, -EHOSTUNREACH, "cannot resolve the host name: %s", detail);
        break;
    case CURLE_COULDNT_CONNECT:
        if (oserr > 0)
            fail(r, -(int)oserr, "cannot connect: %s", strerror((int)oserr));
        else
            fail(r, -ECONNREFUSED, "cannot connect: %s", detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        /* Only the connect timeout is curl's; idle and total are ours. */
        agent_format_ms(r->connect_timeout_ms, d, sizeof d);
        fail(r, -ETIMEDOUT, "timed out after %s waiting to connect", d);
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        fail(r, -ELOOP, "more than %d redirects from %s",
             r->opts && r->opts->max_redirects > 0 ? r->opts->max_redirects : HTTP_MAX_REDIRECTS,
             url_path(r->url));
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        if (nredir > 0)
            fail(r, -EPROTONOSUPPORT, "redirected to a URL that is not http or https (refused): %s", detail);
        else
            fail(r, -EPROTO, "not an HTTP reply from %s: %s", url_path(r->url), detail);
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        fail(r, -EPROTO, "TLS certificate not trusted (--cacert FILE to trust its CA, --insecure to skip the check): %s", detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        fail(r, -EPROTO, "TLS handshake failed: %s", detail);
        break;
    case CURLE_GOT_NOTHING:
        fail(r, -EPROTO, "the server closed the connection without replying to %s", url_path(r->url));
        break;
    case CURLE_WEIRD_SERVER_REPLY:
        fail(r, -EPROTO, "not an HTTP reply from %s: %s", url_path(r->url), detail);
        break;
    case CURLE_PARTIAL_FILE:
        fail(r, -EPROTO, "reply from %s cut short after %llu bytes: %s", url_path(r->url),
             (unsigned long long)r->received, detail);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (oserr == ECONNRESET)
            fail(r, -ECONNRESET, "connection reset by the server after %llu bytes from %s",
                 (unsigned long long)r->received, url_path(r->url));
        else
            fail(r, oserr > 0 ? -(int)oserr : -EIO, "%s %s: %s", cc == CURLE_RECV_ERROR ? "reading" : "sending",
                 url_path(r->url), detail);
        break;
    case CURLE_URL_MALFORMAT:
        fail(r, -EINVAL, "bad URL '%.200s': %s", r->url, detail);
        break;
    case CURLE_OUT_OF_MEMORY:
        fail(r, -ENOMEM, "%s", detail);
        break;
    default:
        fail(r, -EIO, "fetching %s: %s", url_path(r->url), detail);
        break;
    }
}

/* curl is done with the transfer (cc is a CURLcode), or it is stopped
 * (cc < 0: -errno, r->err set): report, then close the timer; on_done
 * comes from its close callback. */
static void finish(http_req_t *r, int cc)
{
    if (r->closing)
        return;
    if (cc >= 0) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status_code);
        if (r->stop_status) {
            cc = r->stop_status; /* r->err says why */
        } else if ((cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && r->ebody_len > 0)) &&
                   !is_2xx(r->status_code)) {
            /* (a write error here: the error body was cut once enough of
             * it was held) */
            status_error(r); /* -> fail -> finish again, with -errno */
            return;
        } else if (cc != CURLE_OK) {
            curl_failed(r, (CURLcode)cc);
            return;
        }
    }
    r->closing = 1;
    r->status = cc;
    curl_multi_remove_handle(r->multi->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    free(r->ebody);
    r->ebody = NULL;
    uv_close((uv_handle_t *)&r->timer, req_closed);
}

static void req_timer_cb(uv_timer_t *t)
{
    http_req_t *r = t->data;
    char d[32];

    if (r->closing)
        return;
    if (uv_now(r->loop) >= r->deadline) {
        agent_format_ms(r->total_timeout_ms, d, sizeof d);
        fail(r, -ETIMEDOUT, "no complete reply within %s (%llu bytes received from %s)", d,
             (unsigned long long)r->received, url_path(r->url));
        return;
    }
    agent_format_ms(r->idle_timeout_ms, d, sizeof d);
    fail(r, -ETIMEDOUT, "no data for %s from %s", d, url_path(r->url));
}

/* Arm the timer: the idle timeout once connected, never past the total
 * deadline. */
static void arm(http_req_t *r)
{
    uint64_t now = uv_now(r->loop), left, t;

    if (r->closing)
        return;
    left = r->deadline > now ? r->deadline - now : 0;
    t = left;
    if (r->connected && r->idle_timeout_ms && r->idle_timeout_ms < t)
        t = r->idle_timeout_ms;
    uv_timer_start(&r->timer, req_timer_cb, t, 0);
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *userp)
{
    http_req_t *r = userp;
    size_t len = size * nmemb;
    long code = 0;
    char err[CG_ERR_LEN] = "";
    int rc;

    if (r->stop_status)
        return 0;
    arm(r);
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (!is_2xx(code)) {
        /* Held to quote its first line; the rest is not needed. */
        size_t room = HTTP_ERROR_BODY_MAX - r->ebody_len, k = len < room ? len : room;
        if (r->ebody == NULL)
            r->ebody = cg_xmalloc(HTTP_ERROR_BODY_MAX);
        memcpy(r->ebody + r->ebody_len, p, k);
        r->ebody_len += k;
        return r->ebody_len < HTTP_ERROR_BODY_MAX ? len : 0;
    }
    if (r->max_body && (len > r->max_body || r->received > r->max_body - len)) {
        stop(r, -EFBIG, "the reply from %s is larger than %llu bytes", url_path(r->url),
             (unsigned long long)r->max_body);
        return 0;
    }
    r->received += len;
    rc = r->on_data(r, p, len, err);
    if (rc < 0) {
        stop(r, rc, "%s", err[0] ? err : strerror(-rc));
        return 0;
    }
    return len;
}

/* Where a Location header points, resolved against the current URL:
 * refused when it leaves http/https, or the origin while -H headers are
 * set (curl would carry most of them there). */
static int check_location(http_req_t *r, const char *val, size_t len)
{
    char *cur = NULL, *loc, *s1 = NULL, *h1 = NULL, *p1 = NULL, *s2 = NULL, *h2 = NULL, *p2 = NULL;
    CURLU *a = curl_url(), *b = curl_url();
    int rc = 0;

    if (a == NULL || b == NULL)
        abort();
    loc = cg_xmalloc(len + 1);
    memcpy(loc, val, len);
    loc[len] = '\0';
    curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &cur);
    if (cur == NULL || curl_url_set(a, CURLUPART_URL, cur, 0) != CURLUE_OK ||
        curl_url_set(b, CURLUPART_URL, cur, 0) != CURLUE_OK)
        goto out; /* curl will judge */
    if (curl_url_set(b, CURLUPART_URL, loc, 0) != CURLUE_OK) {
        stop(r, -EPROTO, "bad redirect from %s", url_path(r->url));
        rc = -1;
        goto out;
    }
    s2 = url_part(b, CURLUPART_SCHEME, 0);
    if (s2 == NULL || (strcasecmp(s2, "http") != 0 && strcasecmp(s2, "https") != 0)) {
        stop(r, -EPROTONOSUPPORT, "redirected to a URL that is not http or https (refused)");
        rc = -1;
        goto out;
    }
    if (r->opts && r->opts->nheaders > 0) {
        s1 = url_part(a, CURLUPART_SCHEME, 0);
        h1 = url_part(a, CURLUPART_HOST, 0);
        p1 = url_part(a, CURLUPART_PORT, CURLU_DEFAULT_PORT);
        h2 = url_part(b, CURLUPART_HOST, 0);
        p2 = url_part(b, CURLUPART_PORT, CURLU_DEFAULT_PORT);
        if (!s1 || !h1 || !p1 || !h2 || !p2 || strcasecmp(s1, s2) != 0 || strcasecmp(h1, h2) != 0 ||
            strcmp(p1, p2) != 0) {
            char *safe = cg_text_safe(loc);
            stop(r, -EPERM, "redirect from %s to another host refused (%.200s): the -H headers would be sent there",
                 url_path(r->url), safe);
            free(safe);
            rc = -1;
        }
    }
out:
    curl_free(s1);
    curl_free(h1);
    curl_free(p1);
    curl_free(s2);
    curl_free(h2);
    curl_free(p2);
    free(loc);
    curl_url_cleanup(a);
    curl_url_cleanup(b);
    return rc;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *userp)
{
    http_req_t *r = userp;
    size_t len = size * nmemb;

    if (r->stop_status)
        return 0;
    arm(r);
    if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (after a redirect, or a 1xx): its status line. */
        const char *sp = memchr(p, ' ', len), *end = p + len;
        size_t n = 0;

        r->ebody_len = 0;
        r->reason[0] = '\0';
        /* The code is curl's, which has parsed this line (three digits):
         * a header line of the peer's that starts with "HTTP/" is passed
         * here too, and its digits must neither overflow a long nor pass
         * for the status (a 302 turned 200 would skip check_location). */
        r->status_code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status_code);
        if (sp) {
            sp++;
            while (sp < end && isdigit((unsigned char)*sp))
                sp++;
            if (sp < end && *sp == ' ')
                sp++;
            while (sp < end && n < sizeof r->reason - 1 && *sp != '\r' && *sp != '\n') {
                unsigned char c = (unsigned char)*sp++;
                r->reason[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
            }
            r->reason[n] = '\0';
        }
        return len;
    }
    if (r->status_code >= 300 && r->status_code <= 399 && len > 9 && strncasecmp(p, "location:", 9) == 0) {
        const char *v = p + 9, *e = p + len;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > v && check_location(r, v, (size_t)(e - v)) < 0)
            return 0;
    }
    return len;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/* Connected (or a connection reused), the request about to go: from now
 * on silence counts. */
static int prereq_cb(void *userp, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
    http_req_t *r = userp;

    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    r->connected = 1;
    arm(r);
    return CURL_PREREQFUNC_OK;
}
#endif

#define SETOPT(opt, val)                                                  \
    do {                                                                  \
        if ((cc = curl_easy_setopt(easy, opt, val)) != CURLE_OK)          \
            goto setopt_failed;                                           \
    } while (0)

int http_req_start(uv_loop_t *loop, http_req_t *r)
{
    const http_opts_t *o = r->opts;
    struct curl_slist *hdrs = NULL;
    CURL *easy;
    CURLcode cc;
    CURLMcode mc;
    int rc;

    global_init();
    r->loop = loop;
    r->status_code = 0;
    r->received = 0;
    r->err[0] = '\0';
    r->curl_err[0] = '\0';
    r->reason[0] = '\0';
    r->ebody = NULL;
    r->ebody_len = 0;
    r->connected = 0;
    r->closing = 0;
    r->status = 0;
    r->stop_status = 0;
    r->easy = NULL;
    r->hdrs = NULL;
    r->multi = NULL;
    easy = curl_easy_init();
    if (easy == NULL) {
        snprintf(r->err, sizeof r->err, "%.100s: cannot set up libcurl", req_name(r));
        return -ENOMEM;
    }
    for (size_t i = 0; o && i < o->nheaders; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, o->headers[i]);
        if (n == NULL)
            abort();
        hdrs = n;
    }
    SETOPT(CURLOPT_URL, r->url);
    SETOPT(CURLOPT_PRIVATE, (char *)r);
    SETOPT(CURLOPT_ERRORBUFFER, r->curl_err);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, r);
    SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
    SETOPT(CURLOPT_HEADERDATA, r);
#if LIBCURL_VERSION_NUM >= 0x075000
    SETOPT(CURLOPT_PREREQFUNCTION, prereq_cb);
    SETOPT(CURLOPT_PREREQDATA, r);
#else
    r->connected = 1; /* no way to tell: silence counts from the start */
#endif
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
    SETOPT(CURLOPT_MAXREDIRS, (long)(o && o->max_redirects > 0 ? o->max_redirects : HTTP_MAX_REDIRECTS));
    SETOPT(CURLOPT_USERAGENT, "cgops/" CGOPS_VERSION);
    SETOPT(CURLOPT_PROXY, ""); /* not from the environment: see http.h */
    SETOPT(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* A transfer given up during its name lookup must not wait for the
     * resolver thread (curl would join it, stalling the whole loop). */
    SETOPT(CURLOPT_QUICK_EXIT, 1L);
#endif
    if (hdrs)
        SETOPT(CURLOPT_HTTPHEADER, hdrs);
    if (o && o->cacert)
        SETOPT(CURLOPT_CAINFO, o->cacert);
    if (o && o->insecure) {
        SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
        SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (r->connect_timeout_ms)
        SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
    rc = uv_timer_init(loop, &r->timer);
    if (rc < 0) {
        snprintf(r->err, sizeof r->err, "%.100s: %s", req_name(r), uv_strerror(rc));
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(easy);
        return rc;
    }
    r->timer.data = r;
    r->easy = easy;
    r->hdrs = hdrs;
    r->multi = multi_get(loop);
    r->multi->nreqs++;
    r->deadline = uv_now(loop) + (r->total_timeout_ms ? r->total_timeout_ms : UINT64_C(1) << 40);
    arm(r);
    mc = curl_multi_add_handle(r->multi->multi, easy);
    if (mc != CURLM_OK) {
        /* Already counted on m and the timer is open: end as usual. */
        fail(r, -ENOMEM, "cannot start the transfer: %s", curl_multi_strerror(mc));
    }
    return 0;

setopt_failed:
    snprintf(r->err, sizeof r->err, "%.100s: libcurl refused an option: %s", req_name(r),
             curl_easy_strerror(cc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(easy);
    return cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

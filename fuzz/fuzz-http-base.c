/* fuzz-http-base.c -- libFuzzer target for the parsers of what the user
 * gives an HTTP target: the base URL (http_base_parse), -H lines and
 * -H @FILE text (http_header_check, http_opts_add_lines), and the line
 * quoted from a server's error body (http_error_line).
 *
 * Input: a selector byte, then the text.  Oracles beyond "no crash": an
 * accepted base URL is NUL-terminated within its buffer, starts with
 * http:// or https://, holds no '?', '#', user info, byte outside
 * printable ASCII or trailing '/', and parses again to itself; every header kept passes
 * http_header_check again and holds no CR, LF or NUL; a failed
 * http_opts_add_lines leaves the options unchanged; the quoted error line
 * is at most HTTP_ERROR_LINE_MAX bytes of well-formed UTF-8 without
 * control characters.
 */
#include "cgops/common.h"
#include "cgops/http.h"
#include "fuzz-util.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_base(const char *s)
{
    char out[512], again[512], err[CG_ERR_LEN];
    size_t n;

    if (http_base_parse(s, out, sizeof out, err) != 0)
        return;
    n = strnlen(out, sizeof out);
    const char *auth, *slash;

    if (n == sizeof out || !http_is_url(out) || strpbrk(out, "?#") != NULL || out[n - 1] == '/')
        abort();
    /* no user info: no '@' before the path */
    auth = strstr(out, "://") + 3;
    slash = strchr(auth, '/');
    if (memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth)) != NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >= 0x7f)
            abort();
    if (http_base_parse(out, again, sizeof again, err) != 0 || strcmp(out, again) != 0)
        abort();
}

static void check_headers(const char *s, size_t n)
{
    http_opts_t o = {0};
    char err[CG_ERR_LEN];
    int rc;

    if (http_header_check(s, n, err) == 0 && (memchr(s, '\r', n) || memchr(s, '\n', n) || memchr(s, '\0', n)))
        abort();
    rc = http_opts_add_lines(&o, s, n, "FILE", err);
    if (rc != 0 && (o.nheaders != 0 || o.headers != NULL))
        abort();
    for (size_t i = 0; i < o.nheaders; i++) {
        const char *h = o.headers[i];
        if (strpbrk(h, "\r\n") || http_header_check(h, strlen(h), err) != 0)
            abort();
    }
    http_opts_free(&o);
}

static void check_error_line(const char *s, size_t n, int html)
{
    char out[HTTP_ERROR_LINE_MAX + 1];
    size_t len, i, k;

    http_error_line(s, n, html, out, sizeof out);
    len = strlen(out);
    if (len > HTTP_ERROR_LINE_MAX || !cg_utf8_valid(out, len))
        abort();
    for (i = 0; i < len; i += k) {
        k = cg_utf8_seq_len((const unsigned char *)out + i, len - i);
        if (k == 0 || cg_utf8_is_control((const unsigned char *)out + i, k))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    size_t n;

    s = fuzz_text(data, size, &n);
    if (s == NULL)
        return 0;
    switch (data[0] % 4) {
    case 0:
        check_base(s);
        break;
    case 1:
        check_headers(s, n);
        break;
    case 2:
        check_error_line(s, n, 0);
        break;
    default:
        check_error_line(s, n, 1);
        break;
    }
    free(s);
    return 0;
}

/* out_json.c -- writing cJSON documents to a stream */
#include "cgops/out_json.h"
#include "cgops/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 when the bytes
 * there are not one (overlong forms, surrogates and values past U+10FFFF
 * included, as Go's utf8 package decides). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

char *out_json_print(const cJSON *doc, int formatted)
{
    char *s = formatted ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
    const unsigned char *p, *end;
    char *out, *o;

    if (s == NULL)
        return NULL;
    end = (const unsigned char *)s + strlen(s);
    for (p = (const unsigned char *)s; p < end;) {
        size_t n = utf8_seq(p, end);
        if (n == 0)
            break;
        p += n;
    }
    if (p == end)
        return s;
    /* Names, paths and arguments are bytes, not always UTF-8: replace each
     * bad byte with U+FFFD, as Go's encoding/json does, so the document
     * stays valid JSON.  JSON's own syntax is ASCII, so only string
     * contents change. */
    out = o = cg_xmalloc((size_t)(end - (const unsigned char *)s) * 3 + 1);
    for (p = (const unsigned char *)s; p < end;) {
        size_t n = utf8_seq(p, end);
        if (n == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            p++;
        } else {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o = '\0';
    free(s);
    return out;
}

int out_json_write(FILE *f, const cJSON *doc)
{
    char *s = out_json_print(doc, 1);
    int rc;

    if (s == NULL)
        return -ENOMEM;
    rc = fputs(s, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
    free(s);
    return rc;
}

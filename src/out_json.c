/* out_json.c -- writing cJSON documents to a stream */
#include "cgops/out_json.h"
#include "cgops/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 when the bytes
 * there are not one.  The length comes from the lead byte; whether the
 * sequence is well-formed is cg_utf8_valid's rule (overlong forms,
 * surrogates and values past U+10FFFF are not), so JSON output and the
 * reply parsers cannot disagree on what UTF-8 is. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : c >= 0xc0 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf7 ? 4 : 0;

    if (n == 0 || (size_t)(end - p) < n || !cg_utf8_valid((const char *)p, n))
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
    if (cg_utf8_valid(s, (size_t)(end - (const unsigned char *)s)))
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

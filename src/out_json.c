/* out_json.c -- writing cJSON documents to a stream */
#include "cgops/out_json.h"
#include "cgops/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
        /* cg_utf8_seq_len is the one rule: JSON output, the reply
         * parsers and the text escaping cannot disagree on UTF-8. */
        size_t n = cg_utf8_seq_len(p, (size_t)(end - p));
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

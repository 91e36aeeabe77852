/* fuzz-flame.c -- libFuzzer target for the folded-stack parser and the SVG
 * writer behind it: the stacks and their frame names come from profiles,
 * that is from other programs.
 *
 * Oracles beyond "no crash": a parse that fails sets a message naming a
 * line; the SVG written for whatever was parsed holds no raw control byte
 * and no invalid UTF-8 (checked here, not with flame.c's own code), and
 * ends with </svg>.
 */
#include "cgops/common.h"
#include "cgops/flame.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict UTF-8 check, independent of flame.c's own. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            if (c < 0x20 && c != '\n')
                return 0;
            i++;
            continue;
        }
        need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 9;
        if (need == 9 || c > 0xf4 || n - i <= need)
            return 0;
        cp = c & (0x3f >> need);
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CG_ERR_LEN] = "", *buf = NULL;
    size_t len = 0;
    flame_t *f = flame_new();
    FILE *m;
    int rc;

    rc = flame_parse_folded(f, (const char *)data, size, err);
    if (rc != 0 && strncmp(err, "line ", 5) != 0)
        abort();
    m = open_memstream(&buf, &len);
    if (m == NULL)
        abort();
    if (flame_write_svg(f, m, "fuzz", "samples") != 0)
        abort();
    fclose(m);
    if (!utf8_ok((const unsigned char *)buf, len) || len < 7 ||
        strcmp(buf + len - 7, "</svg>\n") != 0)
        abort();
    free(buf);
    flame_free(f);
    return 0;
}

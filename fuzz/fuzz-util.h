/* fuzz-util.h -- what the selector-byte fuzz targets share: their input is
 * one byte that picks the case, then the text for it.
 *
 * Header-only (static inline) so that every target stays one .c file that
 * CMake's fuzz/fuzz-*.c glob builds on its own.
 */
#ifndef CGOPS_FUZZ_UTIL_H
#define CGOPS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The bytes after the selector byte as a malloc'd NUL-terminated string
 * (an exact-size copy plus the NUL, so ASan sees a read past it); *n is
 * their count (the string may hold NULs of its own).  NULL when there is
 * no selector byte: nothing to do.  The caller frees it. */
static inline char *fuzz_text(const uint8_t *data, size_t size, size_t *n)
{
    char *s;

    if (size < 1)
        return NULL;
    *n = size - 1;
    s = malloc(*n + 1);
    if (s == NULL)
        abort();
    memcpy(s, data + 1, *n);
    s[*n] = '\0';
    return s;
}

#endif

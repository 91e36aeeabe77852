/* common.c -- error buffers, aborting allocators, file and string helpers */
#include "cgops/common.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cg_seterr(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, CG_ERR_LEN, fmt, ap);
    va_end(ap);
}

static void oom(size_t n)
{
    fprintf(stderr, "cgops: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *cg_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        oom(nmemb * size);
    return p;
}

void *cg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *cg_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = cg_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

/* short_is_end: the caller knows a short read means end of file, which
 * saves the final read() that would return 0. */
static int read_fd(int fd, size_t max, int short_is_end, char **buf, size_t *len,
                   int *truncated)
{
    /* 16 KiB holds nearly every /proc file and port file in one read. */
    size_t cap = 16384, used = 0;
    char *b;

    if (truncated)
        *truncated = 0;
    if (cap > max)
        cap = max;
    b = cg_xmalloc(cap + 1);
    for (;;) {
        ssize_t r;

        if (used == cap) {
            if (cap >= max) {
                if (truncated)
                    *truncated = 1;
                break;
            }
            cap = cap * 2 > max ? max : cap * 2;
            b = cg_xrealloc(b, cap + 1);
        }
        r = read(fd, b + used, cap - used);
        if (r < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            free(b);
            return -e;
        }
        if (r == 0)
            break;
        used += (size_t)r;
        if (short_is_end && used < cap)
            break;
    }
    b[used] = '\0';
    *buf = b;
    if (len)
        *len = used;
    return 0;
}

static int read_file_at(int dirfd, const char *path, size_t max, int short_is_end,
                        char **buf, size_t *len, int *truncated)
{
    int fd, rc;

    fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (truncated)
            *truncated = 0;
        return -errno;
    }
    rc = read_fd(fd, max, short_is_end, buf, len, truncated);
    close(fd);
    return rc;
}

int cg_read_file_at(int dirfd, const char *path, size_t max, char **buf,
                    size_t *len, int *truncated)
{
    return read_file_at(dirfd, path, max, 0, buf, len, truncated);
}

int cg_read_fd(int fd, size_t max, char **buf, size_t *len, int *truncated)
{
    return read_fd(fd, max, 0, buf, len, truncated);
}

int cg_read_proc_mem_at(int dirfd, const char *path, size_t max, char **buf,
                        size_t *len, int *truncated)
{
    return read_file_at(dirfd, path, max, 1, buf, len, truncated);
}

int cg_parse_ll(const char *s, long long min, long long max, long long *out)
{
    const char *p = s;
    char *end;
    long long v;

    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

size_t cg_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

char *cg_trim(char *s)
{
    char *start = s, *end;

    while (*start == ' ' || *start == '\t' || *start == '\n' ||
           *start == '\r' || *start == '\v' || *start == '\f')
        start++;
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
                           end[-1] == '\n' || end[-1] == '\r' ||
                           end[-1] == '\v' || end[-1] == '\f'))
        end--;
    *end = '\0';
    if (start != s)
        memmove(s, start, (size_t)(end - start) + 1);
    return s;
}

uint64_t cg_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

DIR *cg_opendir_at(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return d;
}

size_t cg_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return SIZE_MAX;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t cur = rl.rlim_cur;

        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = cur;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX ? SIZE_MAX : (size_t)rl.rlim_cur;
}

size_t cg_utf8_seq_len(const unsigned char *p, size_t avail)
{
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t n;

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
    if (avail < n)
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

int cg_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        size_t n = cg_utf8_seq_len(p, (size_t)(end - p));

        if (n == 0)
            return 0;
        p += n;
    }
    return 1;
}

size_t cg_uvarint_decode(const unsigned char *p, size_t avail, uint64_t *v)
{
    uint64_t x = 0;

    for (size_t i = 0; i < avail && i < 10; i++) {
        /* The 10th byte holds bit 63 only: more would overflow. */
        if (i == 9 && p[i] > 1)
            return 0;
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

int cg_utf8_is_control(const unsigned char *p, size_t n)
{
    if (n == 1)
        return *p < 0x20 || *p == 0x7f;
    /* C1 controls, U+0080..U+009F (the 8-bit CSI among them). */
    if (n == 2)
        return p[0] == 0xc2 && p[1] < 0xa0;
    /* Bidirectional overrides and isolates, U+202A..U+202E and
     * U+2066..U+2069: they reorder what the terminal shows after them. */
    if (n == 3 && p[0] == 0xe2)
        return (p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
               (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
    return 0;
}

char *cg_text_safe(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    char *out = cg_xmalloc(strlen(s) + 1), *o = out;

    while (p < end) {
        size_t n = cg_utf8_seq_len(p, (size_t)(end - p));

        if (n == 0 || cg_utf8_is_control(p, n)) {
            *o++ = '?';
            p += n ? n : 1;
            continue;
        }
        memcpy(o, p, n);
        o += n;
        p += n;
    }
    *o = '\0';
    return out;
}

const char *cg_tmp_dir(void)
{
    const char *dir = getenv("TMPDIR");

    return dir && *dir ? dir : "/tmp";
}

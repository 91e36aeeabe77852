/* spool.c -- bytes held back for later: in memory, then in a temp file */
#include "cgops/spool.h"
#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void spool_init(spool_t *s, uint64_t max, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->max = max;
    s->dir = dir;
}

int spool_anon_file(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        /* A file system without O_TMPFILE: a named file, unlinked at once. */
        char path[PATH_MAX];

        if ((size_t)snprintf(path, sizeof path, "%s/cgops-spoolXXXXXX", dir) >= sizeof path)
            return -ENAMETOOLONG;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            unlink(path);
    }
    return fd < 0 ? -errno : fd;
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

int spool_write(spool_t *s, const void *buf, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if (n > s->max || s->size > s->max - n)
        return -EFBIG;
    if (s->fd < 0 && s->len + n > SPOOL_MEM_MAX) {
        int fd = spool_anon_file(s->dir);

        if (fd < 0)
            return fd;
        rc = write_all(fd, s->mem ? s->mem : "", s->len);
        if (rc < 0) {
            close(fd);
            return rc;
        }
        s->fd = fd;
        free(s->mem);
        s->mem = NULL;
        s->len = 0;
    }
    if (s->fd >= 0) {
        rc = write_all(s->fd, buf, n);
        if (rc < 0) {
            /* All or nothing: a write cut by a full disk would leave half
             * a JSON object to be drained.  Back to where it stood. */
            if (ftruncate(s->fd, (off_t)s->size) != 0 || lseek(s->fd, (off_t)s->size, SEEK_SET) < 0) {
                /* Cannot take it back: drain nothing rather than half. */
                close(s->fd);
                s->fd = -1;
                s->size = 0;
                return -EIO;
            }
            return rc;
        }
    } else {
        if (s->mem == NULL)
            s->mem = cg_xmalloc(SPOOL_MEM_MAX);
        memcpy(s->mem + s->len, buf, n);
        s->len += n;
    }
    s->size += n;
    return 0;
}

int spool_spilled(const spool_t *s)
{
    return s->fd >= 0;
}

int spool_drain(spool_t *s, FILE *out)
{
    int rc = 0;

    if (s->fd < 0) {
        if (s->len && fwrite(s->mem, 1, s->len, out) != s->len)
            rc = -(errno ? errno : EIO);
    } else {
        char buf[65536];
        off_t off = 0;

        while (rc == 0) {
            ssize_t n = pread(s->fd, buf, sizeof buf, off);

            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = -errno;
                break;
            }
            if (n == 0)
                break;
            if (fwrite(buf, 1, (size_t)n, out) != (size_t)n)
                rc = -(errno ? errno : EIO);
            off += n;
        }
        /* A file that ends before what was counted was cut under us. */
        if (rc == 0 && (uint64_t)off != s->size)
            rc = -EIO;
    }
    spool_free(s);
    return rc;
}

void spool_free(spool_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->mem);
    s->mem = NULL;
    s->len = 0;
    s->size = 0;
}

/* spool.h -- bytes held back for later: in memory, then in a temp file
 *
 * A target that answers before its turn in the output keeps its reply in a
 * spool: the first SPOOL_MEM_MAX bytes in memory (stats, memstats and
 * version replies never need more), the rest, once it grows past that, in
 * an anonymous temp file, so memory stays flat whatever the replies' size.
 * A spool never holds more than the max given to spool_init: a target over
 * it fails instead of filling $TMPDIR.  No FILE streams: glibc keeps every
 * open FILE on one list that fclose walks, so one FILE per waiting target
 * made many targets quadratic.
 */
#ifndef CGOPS_SPOOL_H
#define CGOPS_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SPOOL_MEM_MAX (64u << 10)

typedef struct {
    char *mem;       /* the bytes while they fit in memory */
    size_t len;
    int fd;          /* the temp file once spilled, else -1 */
    uint64_t size;   /* bytes held in all */
    uint64_t max;    /* most bytes it may hold */
    const char *dir; /* where a temp file goes */
} spool_t;

/* An empty spool holding at most max bytes, spilling into dir (not copied:
 * it must outlive the spool). */
void spool_init(spool_t *s, uint64_t max, const char *dir);

/* Append n bytes, all or nothing.  Returns 0; -EFBIG when the spool would
 * exceed its max; -errno when the temp file cannot be made or written
 * (ENOSPC, EMFILE...).  On failure the spool holds what it held before
 * (a partial write is cut off again) and still drains it. */
int spool_write(spool_t *s, const void *buf, size_t n);

/* 1 once the spool holds a temp file (a descriptor). */
int spool_spilled(const spool_t *s);

/* Write everything held to out, in order, and empty the spool (the temp
 * file, if any, is closed).  Returns 0, or -errno of the failing read or
 * write; the spool is emptied either way. */
int spool_drain(spool_t *s, FILE *out);

/* Free what the spool holds without writing it (idempotent). */
void spool_free(spool_t *s);

/* An anonymous temp file in dir, O_TMPFILE where the file system has it,
 * else a named file unlinked at once.  Returns the fd or -errno. */
int spool_anon_file(const char *dir);

#endif

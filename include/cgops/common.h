/* common.h -- error buffers, allocation that aborts on failure, small helpers
 *
 * Conventions shared by every module: functions return 0 or a negative
 * errno and, on failure, describe what went wrong in an optional
 * caller-owned buffer of CG_ERR_LEN bytes.  Modules never print and never
 * exit; only the cmd_* layer does (include/cgops/cmd.h).
 */
#ifndef CGOPS_COMMON_H
#define CGOPS_COMMON_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CG_ERR_LEN 512

#define CG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Format a message into err (CG_ERR_LEN bytes).  err may be NULL, then nothing
 * happens, so callers that do not care about the reason pass NULL. */
void cg_seterr(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocators that abort with a message on out-of-memory: a diagnostic tool
 * that cannot allocate a few KiB has nothing useful left to do. */
void *cg_xmalloc(size_t n);
void *cg_xcalloc(size_t nmemb, size_t size);
void *cg_xrealloc(void *p, size_t n);
char *cg_xstrdup(const char *s);

/* Read the whole of a small file (a /proc entry, a port file) relative to
 * dirfd (AT_FDCWD for a plain path) into a NUL-terminated heap buffer.
 * At most max bytes are read; a longer file is truncated to max bytes and
 * *truncated (if not NULL) is set to 1.  /proc files report size 0, so the
 * buffer grows as needed.  Returns 0 or -errno; on success *buf is owned by
 * the caller (free()), *len excludes the terminating NUL. */
int cg_read_file_at(int dirfd, const char *path, size_t max, char **buf,
                    size_t *len, int *truncated);

/* The same on an open fd, read from its current offset (not closed). */
int cg_read_fd(int fd, size_t max, char **buf, size_t *len, int *truncated);

/* cg_read_file_at for /proc/PID/environ and /proc/PID/cmdline.  The kernel
 * fills those reads from the process's memory until the buffer is full or
 * the area ends, so a short read is the end and the read() that would
 * return 0 is skipped: discovery reads environ for every Go process. */
int cg_read_proc_mem_at(int dirfd, const char *path, size_t max, char **buf,
                        size_t *len, int *truncated);

/* Strict decimal integer parse: optional sign, digits only, whole string,
 * value in [min, max].  Returns 0, -EINVAL (not a number) or -ERANGE. */
int cg_parse_ll(const char *s, long long min, long long max, long long *out);

/* Copy at most size-1 bytes of src and always NUL-terminate (size > 0).
 * Returns strlen(src), so a result >= size means it was cut. */
size_t cg_strlcpy(char *dst, const char *src, size_t size);

/* Trim ASCII white space at both ends, in place; returns s. */
char *cg_trim(char *s);

/* opendir(3) for path relative to dirfd ("." for dirfd itself).  Like
 * opendir it follows symbolic links (a config dir may be one); callers
 * that must not follow them check with fstatat first.  Returns NULL with
 * errno set. */
DIR *cg_opendir_at(int dirfd, const char *path);

/* Raise the soft limit on open files to the hard limit (a run over many
 * agents needs one socket each); returns the limit now in force, SIZE_MAX
 * for none. */
size_t cg_raise_nofile(void);

/* Where temporary files go: $TMPDIR when set and not empty, else /tmp. */
const char *cg_tmp_dir(void);

/* Monotonic clock in nanoseconds. */
uint64_t cg_now_ns(void);

/* Length of the well-formed UTF-8 sequence at p (1-4 bytes, at most avail),
 * or 0 when the bytes there are not one: overlong forms, surrogates and
 * values past U+10FFFF are not, as Go's utf8 package decides. */
size_t cg_utf8_seq_len(const unsigned char *p, size_t avail);

/* 1 when the well-formed sequence p[0..n) (n from cg_utf8_seq_len) acts on
 * a terminal instead of showing: C0 controls and DEL, C1 controls, and the
 * bidirectional overrides and isolates. */
int cg_utf8_is_control(const unsigned char *p, size_t n);
/* 1 when s[0..len) is well-formed UTF-8 as Go's utf8.Valid decides: no
 * overlong forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF,
 * no sequence cut at the end; 0 otherwise.  NUL bytes count as valid (they
 * are U+0000); callers that want text reject control bytes themselves.
 * The one rule for UTF-8 in cgops: the reply parsers and the JSON writer
 * both use it. */
int cg_utf8_valid(const char *s, size_t len);

/* Decode an unsigned LEB128 varint as Go's binary.Uvarint reads it from
 * p[0..avail).  Returns the bytes used (1-10) and sets *v, or 0 when the
 * input ends before the last byte or the value overflows 64 bits (a 10th
 * byte above 1, or more than 10 bytes); *v is then untouched. */
size_t cg_uvarint_decode(const unsigned char *p, size_t avail, uint64_t *v);

/* s made safe to print on a terminal, as ps(1) does: each control
 * character (cg_utf8_is_control: C0, DEL, C1 such as the 8-bit CSI, the
 * bidirectional overrides) and each byte that is not
 * part of well-formed UTF-8 becomes '?', so a process name or argument
 * cannot move the cursor, recolour or retitle the user's terminal.
 * Returns a heap copy (free it). */
char *cg_text_safe(const char *s);

#endif

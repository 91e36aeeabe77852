/* outfile.h -- where a binary reply (profile, trace, executable) is saved
 *
 * An outfile is opened, written through its fd, and then either committed
 * (kept) or abandoned (what it created is removed).  Three kinds:
 *
 *  - no path: a new file in $TMPDIR (else /tmp) named tmpl + six random
 *    characters, mode 0600, as gops does; that file is the result.
 *  - path names an existing FIFO or device (/dev/null), or ends in a link
 *    of /proc/PID/fd (/dev/stdout, which the kernel resolves, pipe or file):
 *    it is written in place, opened without O_CREAT, never removed or
 *    renamed.
 *  - path names a regular file or nothing yet: a temp file ".cgops-XXXXXX"
 *    is written in the same directory and renamed over path only on commit,
 *    so a failed fetch leaves an existing file exactly as it was.  The
 *    replacement keeps the old file's permission bits (not set-user-ID,
 *    set-group-ID or sticky: a write clears those too); a new file gets
 *    0666 & ~umask.
 *
 * Symbolic links in path are followed, each one component at a time from a
 * directory fd, except the kernel's fs.protected_symlinks rule, applied here
 * whatever the sysctl says: a link inside a sticky world-writable directory
 * (/tmp) is followed only if the caller's euid or the directory's owner owns
 * it.  Otherwise -EACCES: a user who plants /tmp/out.prof -> /etc/shadow
 * cannot make root's `-o /tmp/out.prof` replace /etc/shadow.  For the same
 * reason (fs.protected_fifos) a FIFO in such a directory is written only if
 * the caller or the directory's owner owns it.
 *
 * Files created and not yet committed are listed in a small static registry
 * so that outfile_install_signal_cleanup()'s handler can remove them when
 * SIGINT, SIGTERM or SIGHUP ends the process.  The module is meant for one
 * thread (the command's); it never prints or exits.
 */
#ifndef CGOPS_OUTFILE_H
#define CGOPS_OUTFILE_H

#include <limits.h>
#include <stddef.h>

/* How many outfiles may be open (created, not committed) at once. */
#define OUTFILE_MAX_OPEN 8

/* The caller holds the struct; all-zero bytes (OUTFILE_INIT, or memset) is
 * the idle state, in which outfile_abandon() does nothing.  Read fd and path;
 * the other fields are the module's. */
typedef struct outfile {
    int fd;                 /* open for writing while open */
    char path[PATH_MAX];    /* the name to show the user */
    int state;              /* 0 idle, else one of the kinds above */
    int dirfd;              /* O_PATH fd of the directory holding tmp */
    int slot;               /* registry slot of tmp, or -1 */
    char tmp[NAME_MAX + 1]; /* what we created, relative to dirfd */
    char final[NAME_MAX + 1]; /* name to rename tmp to, "" to keep tmp */
} outfile_t;

#define OUTFILE_INIT {0}

/* Open where a reply goes.  path NULL: a new file in $TMPDIR (else /tmp)
 * named tmpl + "XXXXXX" (tmpl must not contain '/').  Otherwise the rules in
 * the file comment.  err may be NULL.
 * Returns 0 with of->fd open for writing (O_CLOEXEC) and of->path set (for
 * path NULL, the full name created), or a negative errno with of idle:
 *   -EINVAL        path is "" ("empty file name"), or tmpl contains '/'
 *   -EACCES        a symlink or FIFO the protected_* rule refuses, or a
 *                  permission denied by the kernel
 *   -EPERM         a regular file of another user in a sticky directory,
 *                  which the rename on commit could not replace
 *   -EISDIR        path is a directory, or ends in '/'
 *   -ENOENT, -ENOTDIR  a directory on the way is missing or not one
 *   -ELOOP         more than 40 symlinks
 *   -EAGAIN        the file changed between being looked at and opened
 *   -EMFILE        OUTFILE_MAX_OPEN outfiles already open
 *   -ENAMETOOLONG, and whatever open(2) returns.
 * What of held before is ignored: commit or abandon an open outfile first.
 * On success the caller must end with outfile_commit() or outfile_abandon().
 * Blocks in open(2) on a FIFO until it has a reader, as a shell would. */
int outfile_open(outfile_t *of, const char *path, const char *tmpl, char *err);

/* Write all n bytes to of->fd, retrying short writes and EINTR.  Returns 0
 * or -errno (-EIO for a write that wrote nothing) with err "writing PATH:
 * ...".  On failure of stays open: the caller abandons it. */
int outfile_write_all(outfile_t *of, const void *buf, size_t n, char *err);

/* Keep what was written: close the fd (its error counts: NFS and full disks
 * report there), then rename the temp file over the final name.  Returns 0,
 * or -errno with err set, in which case the outfile was abandoned (an
 * existing file is as it was).  Either way of is idle afterwards, except
 * of->path, kept for messages.  -EBADF if of is not open. */
int outfile_commit(outfile_t *of, char *err);

/* Give up: close the fd and remove only what outfile_open created (the temp
 * file or the $TMPDIR file); a FIFO or device, or an existing file, stays.
 * Idempotent, and a no-op on an idle outfile; of->path is kept. */
void outfile_abandon(outfile_t *of);

/* Install handlers for SIGINT, SIGTERM and SIGHUP (not for one that is
 * ignored, as under nohup) that remove every file outfile_open created and
 * nobody committed or abandoned yet, then restore the default action and
 * re-raise the signal, so the exit status still shows it.  They replace any
 * other handler of those signals.  Call once, before outfile_open; safe to
 * call again.  Returns 0 or -errno from sigaction(2). */
int outfile_install_signal_cleanup(void);

#endif

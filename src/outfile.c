/* outfile.c -- where a binary reply is saved: temp file and rename, in place,
 * or a new file in $TMPDIR, with symlinks followed safely and cleanup on
 * SIGINT/SIGTERM/SIGHUP (rules in include/cgops/outfile.h)
 *
 * The path is walked one component at a time from an O_PATH directory fd,
 * like the kernel's own lookup, so that every symlink met on the way can be
 * checked against the protected_symlinks rule before it is followed, and so
 * that the temp file, the rename and the cleanup all happen relative to one
 * directory fd: once the directory is open, no component above it can be
 * swapped for a symlink.
 */
#include "cgops/outfile.h"
#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

/* The kernel's limit on symlinks in one lookup (MAXSYMLINKS). */
#define MAX_LINKS 40

enum { KIND_IDLE, KIND_TMPDIR, KIND_INPLACE, KIND_REPLACE };

/* ---- registry of created files, read by the signal handler ------------- */

/* A slot is claimed (in_use) by the main thread, filled, and armed only once
 * the file exists, all with the cleanup signals blocked, so the handler sees
 * either no file or a whole entry and never removes a name that someone
 * else's file took first (O_EXCL failed).  Blocking covers the calling
 * thread only: if another thread (libuv's pool, during a host-name lookup)
 * takes the signal in the few instructions between openat() and slot_arm(),
 * that one file stays behind; every other interleaving unlinks a name we
 * created or one that is already gone (ENOENT). */
static struct {
    volatile sig_atomic_t armed;
    int dirfd;
    char name[NAME_MAX + 1];
} reg[OUTFILE_MAX_OPEN];
static int reg_in_use[OUTFILE_MAX_OPEN];

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void block_cleanup_signals(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    for (size_t i = 0; i < CG_ARRAY_SIZE(cleanup_signals); i++)
        sigaddset(&set, cleanup_signals[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int slot_claim(void)
{
    for (int i = 0; i < OUTFILE_MAX_OPEN; i++)
        if (!reg_in_use[i]) {
            reg_in_use[i] = 1;
            reg[i].armed = 0;
            return i;
        }
    return -1;
}

/* Called with the cleanup signals blocked. */
static void slot_arm(int slot)
{
    atomic_signal_fence(memory_order_seq_cst);
    reg[slot].armed = 1;
}

static void slot_release(int slot)
{
    reg[slot].armed = 0;
    atomic_signal_fence(memory_order_seq_cst);
    reg_in_use[slot] = 0;
}

/* Only async-signal-safe calls here: unlinkat, sigaction, raise. */
static void cleanup_handler(int sig)
{
    int saved = errno;
    struct sigaction sa;

    for (int i = 0; i < OUTFILE_MAX_OPEN; i++)
        if (reg[i].armed) {
            unlinkat(reg[i].dirfd, reg[i].name, 0);
            reg[i].armed = 0;
        }
    /* The signal is blocked while its handler runs, so raise() only makes it
     * pending; on return it is delivered with the default action and the
     * process dies of it, as the caller's shell expects. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
    errno = saved;
}

int outfile_install_signal_cleanup(void)
{
    struct sigaction sa, old;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cleanup_handler;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < CG_ARRAY_SIZE(cleanup_signals); i++)
        sigaddset(&sa.sa_mask, cleanup_signals[i]);
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < CG_ARRAY_SIZE(cleanup_signals); i++) {
        if (sigaction(cleanup_signals[i], NULL, &old) != 0)
            return -errno;
        /* nohup and the like ignore SIGHUP for us on purpose. */
        if (old.sa_handler == SIG_IGN)
            continue;
        if (sigaction(cleanup_signals[i], &sa, NULL) != 0)
            return -errno;
    }
    return 0;
}

/* ---- creating a new file under a random name --------------------------- */

static void random_suffix(char out[6])
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static uint64_t counter;
    unsigned char b[6];

    if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
        /* Early boot or seccomp: O_EXCL still makes the name ours, the
         * mix only has to make collisions rare. */
        uint64_t x = cg_now_ns() ^ ((uint64_t)getpid() << 32) ^
                     (++counter * 0x9E3779B97F4A7C15ull);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (unsigned char)(x >> (8 * i));
    }
    for (size_t i = 0; i < sizeof b; i++)
        out[i] = chars[b[i] % (sizeof chars - 1)];
}

/* Create prefix + six random characters in dirfd with O_EXCL|O_NOFOLLOW
 * (mkostemp relative to a directory fd), registered for the signal
 * handler.  Fills of->fd, of->tmp, of->slot; returns 0 or -errno. */
static int create_registered(outfile_t *of, int dirfd, const char *prefix, mode_t mode)
{
    size_t plen = strlen(prefix);
    sigset_t old;
    int slot, fd = -1, e = EEXIST;

    if (plen + 6 > NAME_MAX)
        return -ENAMETOOLONG;
    slot = slot_claim();
    if (slot < 0)
        return -EMFILE;
    for (int tries = 0; tries < 100 && fd < 0 && e == EEXIST; tries++) {
        memcpy(of->tmp, prefix, plen);
        random_suffix(of->tmp + plen);
        of->tmp[plen + 6] = '\0';
        block_cleanup_signals(&old);
        memcpy(reg[slot].name, of->tmp, plen + 7);
        reg[slot].dirfd = dirfd;
        fd = openat(dirfd, of->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        e = errno;
        if (fd >= 0)
            slot_arm(slot);
        restore_signals(&old);
    }
    if (fd < 0) {
        slot_release(slot);
        of->tmp[0] = '\0';
        return -e;
    }
    of->fd = fd;
    of->slot = slot;
    return 0;
}

/* ---- walking the path --------------------------------------------------- */

/* /tmp and the like: anyone may add a name, only its owner may remove it. */
static int sticky_world_writable(const struct stat *dir)
{
    return (dir->st_mode & (S_ISVTX | S_IWOTH)) == (S_ISVTX | S_IWOTH);
}

/* The test of the kernel's may_follow_link() (fs.protected_symlinks) and
 * may_create_in_sticky() (fs.protected_fifos = 1): inside a sticky
 * world-writable directory, only what the caller or the directory's owner
 * owns is trusted. */
static int trusted_in(const struct stat *dir, const struct stat *st)
{
    return !sticky_world_writable(dir) || st->st_uid == geteuid() ||
           st->st_uid == dir->st_uid;
}

/* Where the walk ended: dirfd (O_PATH) holds base; st is what base is, if
 * exists; fd >= 0 when a procfs link was opened by the kernel instead. */
typedef struct {
    int dirfd;
    struct stat dirst;
    char base[NAME_MAX + 1];
    int exists;
    struct stat st;
    int fd;
} walk_t;

static int open_dir(const char *path, int *fd, struct stat *st)
{
    *fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return -errno;
    if (fstat(*fd, st) != 0) {
        int rc = -errno;
        close(*fd);
        *fd = -1;
        return rc;
    }
    return 0;
}

/* Walk path to its last component, following symlinks under the
 * protected_symlinks rule.  On success w->dirfd is the caller's to close
 * (and w->fd, if >= 0). */
static int walk(const char *path, walk_t *w, char *err)
{
    char rem[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
    char *p = rem;
    int links = 0, rc;

    w->fd = -1;
    w->exists = 0;
    cg_strlcpy(rem, path, sizeof rem);
    rc = open_dir(rem[0] == '/' ? "/" : ".", &w->dirfd, &w->dirst);
    if (rc < 0) {
        cg_seterr(err, "cannot create '%.400s': %s", path, strerror(-rc));
        return rc;
    }
    for (;;) {
        const char *comp, *rest;
        size_t clen;
        int fd, last;

        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* "/" or a link to a directory with a trailing slash. */
            cg_seterr(err, "cannot create '%.400s': is a directory", path);
            rc = -EISDIR;
            goto fail;
        }
        comp = p;
        clen = strcspn(p, "/");
        rest = p + clen;
        while (*rest == '/')
            rest++;
        last = *rest == '\0';
        if (clen > NAME_MAX) {
            cg_seterr(err, "cannot create '%.400s': %s", path, strerror(ENAMETOOLONG));
            rc = -ENAMETOOLONG;
            goto fail;
        }
        memcpy(w->base, comp, clen);
        w->base[clen] = '\0';
        fd = openat(w->dirfd, w->base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && last)
            return 0; /* a new file in w->dirfd */
        if (fd < 0) {
            rc = -errno;
            if (rc == -ENOENT)
                cg_seterr(err, "cannot create '%.400s': directory '%.*s' does not exist", path,
                          (int)(comp + clen - rem), rem);
            else
                cg_seterr(err, "cannot create '%.400s': '%.*s': %s", path,
                          (int)(comp + clen - rem), rem, strerror(-rc));
            goto fail;
        }
        if (fstat(fd, &w->st) != 0) {
            rc = -errno;
            close(fd);
            cg_seterr(err, "cannot create '%.400s': %s", path, strerror(-rc));
            goto fail;
        }
        if (S_ISLNK(w->st.st_mode)) {
            struct statfs fs;
            ssize_t n;

            if (last && fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) {
                /* /proc/PID/fd/N, what /dev/stdout names: the kernel's own
                 * link, nobody can plant it, and what it reads ("pipe:[123]",
                 * "/x (deleted)") is no path to follow, so the kernel opens
                 * it, and the file behind it is written in place, as a shell
                 * redirect would. */
                close(fd);
                w->fd = openat(w->dirfd, w->base, O_WRONLY | O_NOCTTY | O_CLOEXEC);
                if (w->fd < 0) {
                    rc = -errno;
                    cg_seterr(err, "cannot open '%.400s': %s", path, strerror(-rc));
                    goto fail;
                }
                return 0;
            }
            if (!trusted_in(&w->dirst, &w->st)) {
                close(fd);
                cg_seterr(err, "refusing to follow symlink '%.*s' (owner uid %u) in the sticky "
                          "world-writable directory of '%.300s': only links owned by you or by "
                          "the directory's owner are followed there",
                          (int)(comp + clen - rem), rem, (unsigned)w->st.st_uid, path);
                rc = -EACCES;
                goto fail;
            }
            if (++links > MAX_LINKS) {
                close(fd);
                cg_seterr(err, "cannot create '%.400s': %s", path, strerror(ELOOP));
                rc = -ELOOP;
                goto fail;
            }
            /* The same inode that was checked above: no swap in between. */
            n = readlinkat(fd, "", target, sizeof target);
            rc = n < 0 ? -errno : n == (ssize_t)sizeof target ? -ENAMETOOLONG : 0;
            close(fd);
            if (rc < 0) {
                cg_seterr(err, "cannot read symlink '%.*s': %s", (int)(comp + clen - rem), rem,
                          strerror(-rc));
                goto fail;
            }
            target[n] = '\0';
            if ((size_t)snprintf(next, sizeof next, "%s%s%s", target, last ? "" : "/", rest) >=
                sizeof next) {
                cg_seterr(err, "cannot create '%.400s': %s", path, strerror(ENAMETOOLONG));
                rc = -ENAMETOOLONG;
                goto fail;
            }
            memcpy(rem, next, sizeof rem);
            p = rem;
            if (rem[0] == '/') {
                close(w->dirfd);
                rc = open_dir("/", &w->dirfd, &w->dirst);
                if (rc < 0) {
                    cg_seterr(err, "cannot create '%.400s': %s", path, strerror(-rc));
                    return rc;
                }
            }
            continue;
        }
        if (last) {
            close(fd);
            w->exists = 1;
            return 0;
        }
        if (!S_ISDIR(w->st.st_mode)) {
            close(fd);
            cg_seterr(err, "cannot create '%.400s': '%.*s' is not a directory", path,
                      (int)(comp + clen - rem), rem);
            rc = -ENOTDIR;
            goto fail;
        }
        close(w->dirfd);
        w->dirfd = fd;
        w->dirst = w->st;
        p = (char *)rest;
    }
fail:
    close(w->dirfd);
    w->dirfd = -1;
    return rc;
}

/* ---- the API ------------------------------------------------------------ */

static void reset(outfile_t *of)
{
    of->fd = -1;
    of->state = KIND_IDLE;
    of->dirfd = -1;
    of->slot = -1;
    of->tmp[0] = of->final[0] = '\0';
}

static int open_tmpdir(outfile_t *of, const char *tmpl, char *err)
{
    const char *dir = cg_tmp_dir();
    size_t dlen;
    struct stat st;
    int rc;

    dlen = strlen(dir);
    if (strchr(tmpl, '/') != NULL) {
        cg_seterr(err, "invalid file name template '%.400s'", tmpl);
        return -EINVAL;
    }
    if (dlen + 1 + strlen(tmpl) + 6 >= sizeof of->path)
        rc = -ENAMETOOLONG;
    else
        rc = open_dir(dir, &of->dirfd, &st);
    if (rc == 0) {
        /* gops makes these with 0600 (os.CreateTemp), so do we. */
        rc = create_registered(of, of->dirfd, tmpl, 0600);
        if (rc < 0) {
            close(of->dirfd);
            of->dirfd = -1;
        }
    }
    if (rc < 0) {
        cg_seterr(err, "cannot create a file in '%.400s': %s", dir, strerror(-rc));
        reset(of);
        return rc;
    }
    snprintf(of->path, sizeof of->path, "%s%s%s", dir, dir[dlen - 1] == '/' ? "" : "/", of->tmp);
    of->state = KIND_TMPDIR;
    return 0;
}

int outfile_open(outfile_t *of, const char *path, const char *tmpl, char *err)
{
    walk_t w;
    size_t len;
    int rc;

    reset(of);
    of->path[0] = '\0';
    if (path == NULL)
        return open_tmpdir(of, tmpl, err);
    len = strlen(path);
    if (len == 0) {
        cg_seterr(err, "empty file name");
        return -EINVAL;
    }
    if (len >= sizeof of->path) {
        cg_seterr(err, "cannot create '%.400s': %s", path, strerror(ENAMETOOLONG));
        return -ENAMETOOLONG;
    }
    memcpy(of->path, path, len + 1);
    if (path[len - 1] == '/') {
        cg_seterr(err, "cannot create '%.400s': is a directory", path);
        return -EISDIR;
    }
    rc = walk(path, &w, err);
    if (rc < 0)
        return rc;
    of->dirfd = w.dirfd;
    if (w.fd >= 0) {
        of->fd = w.fd;
        of->state = KIND_INPLACE;
        return 0;
    }
    if (w.exists && S_ISDIR(w.st.st_mode)) {
        cg_seterr(err, "cannot create '%.400s': is a directory", path);
        rc = -EISDIR;
        goto fail;
    }
    if (w.exists && !S_ISREG(w.st.st_mode)) {
        struct stat now;

        /* A FIFO or device: written in place, as a shell redirect would. */
        if (S_ISFIFO(w.st.st_mode) && !trusted_in(&w.dirst, &w.st)) {
            cg_seterr(err, "refusing to write to FIFO '%.400s' (owner uid %u) in a sticky "
                      "world-writable directory: only FIFOs owned by you or by the directory's "
                      "owner are written there", path, (unsigned)w.st.st_uid);
            rc = -EACCES;
            goto fail;
        }
        of->fd = openat(w.dirfd, w.base, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (of->fd < 0) {
            rc = -errno;
            cg_seterr(err, "cannot open '%.400s': %s", path, strerror(-rc));
            goto fail;
        }
        if (fstat(of->fd, &now) != 0 || now.st_dev != w.st.st_dev || now.st_ino != w.st.st_ino ||
            (now.st_mode & S_IFMT) != (w.st.st_mode & S_IFMT)) {
            cg_seterr(err, "cannot open '%.400s': it changed while being opened", path);
            rc = -EAGAIN;
            goto fail;
        }
        of->state = KIND_INPLACE;
        return 0;
    }
    /* In a sticky directory only the file's owner, the directory's owner or
     * a process with CAP_FOWNER (root, here) may rename over a name: say so
     * now rather than after a 30 s CPU profile. */
    if (w.exists && (w.dirst.st_mode & S_ISVTX) && geteuid() != 0 && w.st.st_uid != geteuid() &&
        w.dirst.st_uid != geteuid()) {
        cg_seterr(err, "cannot replace '%.400s': it belongs to another user (uid %u) in a "
                  "sticky directory", path, (unsigned)w.st.st_uid);
        rc = -EPERM;
        goto fail;
    }
    /* A regular file or a new name: a temp file beside it, renamed over it on
     * commit.  A new file gets 0666 & ~umask from openat itself; an existing
     * one's bits are copied once the temp file is made private (0600). */
    rc = create_registered(of, w.dirfd, ".cgops-", w.exists ? 0600 : 0666);
    if (rc < 0) {
        cg_seterr(err, "cannot create '%.400s': %s", path, strerror(-rc));
        goto fail;
    }
    /* The mode is cosmetic: a failure to set it leaves the file private. */
    if (w.exists)
        (void)!fchmod(of->fd, w.st.st_mode & 0777);
    memcpy(of->final, w.base, sizeof of->final);
    of->state = KIND_REPLACE;
    return 0;
fail:
    if (of->fd >= 0)
        close(of->fd);
    if (of->dirfd >= 0)
        close(of->dirfd);
    reset(of);
    return rc;
}

int outfile_write_all(outfile_t *of, const void *buf, size_t n, char *err)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(of->fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int rc = w < 0 ? -errno : -EIO;
            cg_seterr(err, "writing '%.400s': %s", of->path, strerror(-rc));
            return rc;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Close what is left and go idle; the registry slot must be released. */
static void finish(outfile_t *of)
{
    if (of->fd >= 0)
        close(of->fd);
    if (of->dirfd >= 0)
        close(of->dirfd);
    reset(of);
}

int outfile_commit(outfile_t *of, char *err)
{
    sigset_t old;
    int rc = 0;

    if (of->state == KIND_IDLE) {
        cg_seterr(err, "'%.400s' is not open", of->path);
        return -EBADF;
    }
    /* Linux closes the fd even when close() fails; EINTR loses no data. */
    if (close(of->fd) != 0 && errno != EINTR)
        rc = -errno;
    of->fd = -1;
    if (rc < 0) {
        cg_seterr(err, "writing '%.400s': %s", of->path, strerror(-rc));
        outfile_abandon(of);
        return rc;
    }
    if (of->slot >= 0) {
        /* Renamed and released as one step for the signal handler, which
         * must not remove the name once it is the user's file. */
        block_cleanup_signals(&old);
        if (of->state == KIND_REPLACE && renameat(of->dirfd, of->tmp, of->dirfd, of->final) != 0)
            rc = -errno;
        else
            slot_release(of->slot);
        restore_signals(&old);
        if (rc < 0) {
            cg_seterr(err, "cannot save '%.400s': %s", of->path, strerror(-rc));
            outfile_abandon(of);
            return rc;
        }
        of->slot = -1;
    }
    finish(of);
    return 0;
}

void outfile_abandon(outfile_t *of)
{
    sigset_t old;

    if (of == NULL || of->state == KIND_IDLE)
        return;
    if (of->fd >= 0) {
        close(of->fd);
        of->fd = -1;
    }
    if (of->slot >= 0) {
        block_cleanup_signals(&old);
        unlinkat(of->dirfd, of->tmp, 0);
        slot_release(of->slot);
        restore_signals(&old);
        of->slot = -1;
    }
    finish(of);
}

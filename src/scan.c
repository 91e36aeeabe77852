/* scan.c -- the Go processes of a host, joined from proc, gobin and portfile
 *
 * Cost model: the floor for any discoverer is readdir(/proc) plus one
 * look at /proc/PID/exe per pid.  scan_run does exactly that for a process
 * whose executable is already known not to be Go (a stat, then a hash
 * lookup on device/inode/size/mtime).  Any other process is read through
 * its pid directory, so a row comes from one process; the ELF is parsed
 * only the first time an executable is seen, and the per-process files
 * (stat, cmdline, port file, the agent's socket) are read only for Go
 * processes.
 */
#include "cgops/scan.h"
#include "cgops/common.h"
#include "cgops/portfile.h"
#include "cgops/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Identity of an executable file.  mtime and size are part of the key so a
 * binary replaced in place (same inode, new content) is parsed again. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    long long mtime_ns;
} exe_key_t;

typedef struct {
    exe_key_t key;
    int used;
    int status;         /* 0 examined, else -errno from gobin */
    gobin_info_t *info; /* NULL unless the file is Go */
} cache_slot_t;

struct scan_cache {
    cache_slot_t *slots;
    size_t cap, used;
};

static uint64_t key_hash(const exe_key_t *k)
{
    uint64_t h = 1469598103934665603ull;
    uint64_t parts[4] = {(uint64_t)k->dev, (uint64_t)k->ino, (uint64_t)k->size,
                         (uint64_t)k->mtime_ns};

    for (int i = 0; i < 4; i++) {
        h ^= parts[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static int key_eq(const exe_key_t *a, const exe_key_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns;
}

static cache_slot_t *cache_slot(scan_cache_t *c, const exe_key_t *k)
{
    size_t i = (size_t)key_hash(k) & (c->cap - 1);

    while (c->slots[i].used && !key_eq(&c->slots[i].key, k))
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

static void cache_grow(scan_cache_t *c)
{
    cache_slot_t *old = c->slots;
    size_t oldcap = c->cap;

    c->cap = oldcap ? oldcap * 2 : 64;
    c->slots = cg_xcalloc(c->cap, sizeof *c->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].used)
            *cache_slot(c, &old[i].key) = old[i];
    free(old);
}

static void logf_(scan_log_fn log, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(scan_log_fn log, void *ctx, const char *fmt, ...)
{
    char msg[CG_ERR_LEN + 128];
    va_list ap;

    if (log == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log(msg, ctx);
}

static exe_key_t key_of(const struct stat *st)
{
    exe_key_t k = {st->st_dev, st->st_ino, st->st_size,
                   (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec};
    return k;
}

/* Classify the executable of the process whose /proc directory is dirfd,
 * from the cache or by parsing it.  st is the stat of dirfd/exe; the file
 * actually parsed is keyed by its own fstat, since the process may exec
 * another binary between the two.  Returns 0 with *out set, or -errno with
 * err set (nothing is cached then: another process of the same file may be
 * readable). */
static int classify_exe(scan_cache_t *c, int dirfd, const struct stat *st,
                        const cache_slot_t **out, char *err)
{
    exe_key_t k = key_of(st);
    cache_slot_t *s;
    int fd, rc;
    gobin_info_t info;
    struct stat opened;

    if (c->cap == 0 || (c->used + 1) * 2 > c->cap)
        cache_grow(c);
    s = cache_slot(c, &k);
    if (s->used) {
        *out = s;
        return 0;
    }
    fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        cg_seterr(err, "cannot open executable: %s", strerror(-rc));
        return rc;
    }
    if (fstat(fd, &opened) != 0) {
        rc = -errno;
        cg_seterr(err, "cannot stat executable: %s", strerror(-rc));
        close(fd);
        return rc;
    }
    k = key_of(&opened);
    s = cache_slot(c, &k);
    if (s->used) { /* exec'd into a binary already known */
        close(fd);
        *out = s;
        return 0;
    }
    s->key = k;
    s->used = 1;
    c->used++;
    s->status = gobin_read_fd(fd, &info, err);
    close(fd);
    if (s->status == 0 && info.is_go) {
        s->info = cg_xmalloc(sizeof *s->info);
        *s->info = info;
    }
    *out = s;
    return 0;
}

/* Fill the per-process fields of a Go process from its /proc directory.
 * Returns 0 or -errno. */
static int read_go_process(int dirfd, pid_t pid, const proc_stat_t *ps, scan_proc_t *p,
                           int *fallback_logged, scan_log_fn log, void *ctx)
{
    char err[CG_ERR_LEN];
    int rc;
    ssize_t n;
    portfile_t pf;
    char path[PATH_MAX];

    p->pid = pid;
    p->ppid = ps->ppid;
    if (strlen(ps->comm) == 15) {
        char *cmdline = NULL;
        size_t len = 0;

        if (cg_read_proc_mem_at(dirfd, "cmdline", 4096, &cmdline, &len, NULL) == 0) {
            proc_name_from(ps->comm, cmdline, len, p->name, sizeof p->name);
            free(cmdline);
        } else {
            proc_name_from(ps->comm, NULL, 0, p->name, sizeof p->name);
        }
    } else {
        proc_name_from(ps->comm, NULL, 0, p->name, sizeof p->name);
    }
    n = readlinkat(dirfd, "exe", path, sizeof path - 1);
    if (n < 0)
        return -errno;
    path[n] = '\0';
    p->deleted = n > 10 && strcmp(path + n - 10, " (deleted)") == 0;

    rc = portfile_find_at(dirfd, pid, &pf, err);
    /* The same for every process: said once. */
    if (pf.fallback[0] && !*fallback_logged) {
        logf_(log, ctx, "%s", pf.fallback);
        *fallback_logged = 1;
    }
    if (rc == 0) {
        p->agent = 1;
        p->agent_port = pf.port;
        p->agent_verified = pf.verified;
        if (!pf.verified && pf.note[0])
            logf_(log, ctx, "pid %d: %s", (int)pid, pf.note);
    } else if (rc == -ESRCH) {
        return rc;
    } else if (rc != -ENOENT) {
        logf_(log, ctx, "pid %d: not marked as running an agent: %s", (int)pid, err);
    }
    p->path = cg_xstrdup(path);
    return 0;
}

/* Clock ticks since boot, as /proc/PID/stat counts a process's start. */
static unsigned long long boot_ticks_now(void)
{
    static long hz;
    struct timespec ts;

    if (hz <= 0)
        hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return 0; /* unknown: every process gets the full check */
    return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
           (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

/* Look at one pid: 1 and *p filled for a Go process, 0 to skip it (not Go,
 * gone, unreadable: logged when worth saying).
 *
 * Most processes run an executable already known not to be Go, and one
 * stat of PID/exe by path, the floor's cost, is enough to skip them.
 * Everything else is read relative to one open pid directory, as htop
 * does, so a row comes from one process: if it exits the reads fail
 * (ESRCH) instead of mixing two processes.  The stat by path and the
 * directory could still be of two processes if the pid was reused between
 * them; the process that reused it started after the stat, which its
 * start time in the directory's stat file shows, and then the executable
 * is looked at again through the directory. */
static int scan_pid(int procfd, pid_t pid, scan_cache_t *cache, scan_proc_t *p,
                    int *fallback_logged, scan_log_fn log, void *ctx)
{
    char err[CG_ERR_LEN] = "", path[32];
    struct stat st;
    const cache_slot_t *slot = NULL;
    const gobin_info_t *info = NULL;
    unsigned long long t0 = boot_ticks_now();
    proc_stat_t ps;
    exe_key_t k;
    int dirfd, rc;

    snprintf(path, sizeof path, "%d/exe", (int)pid);
    if (fstatat(procfd, path, &st, 0) != 0) {
        /* Kernel threads have no exe (ENOENT), like exited processes;
         * other users' processes give EACCES to non-root callers. */
        if (errno != ENOENT && errno != ESRCH)
            logf_(log, ctx, "pid %d: skipped: cannot read executable: %s", (int)pid,
                  strerror(errno));
        return 0;
    }
    if (cache->cap == 0)
        cache_grow(cache);
    k = key_of(&st);
    slot = cache_slot(cache, &k);
    if (slot->used && slot->info == NULL)
        return 0;
    info = slot->info; /* NULL: not seen yet */
    dirfd = proc_pid_open(procfd, pid);
    if (dirfd < 0)
        return 0;
    rc = proc_read_stat(dirfd, &ps, err);
    if (rc < 0)
        goto out;
    if (info == NULL || t0 == 0 || ps.starttime >= t0) {
        if (fstatat(dirfd, "exe", &st, 0) != 0) {
            rc = -errno;
            cg_seterr(err, "cannot read executable: %s", strerror(-rc));
            goto out;
        }
        rc = classify_exe(cache, dirfd, &st, &slot, err);
        if (rc < 0)
            goto out;
        info = slot->info;
        if (info == NULL) {
            if (slot->status != 0 && slot->status != -ENOEXEC && err[0])
                logf_(log, ctx, "pid %d: skipped: %s", (int)pid, err);
            goto out;
        }
    }
    memset(p, 0, sizeof *p);
    p->bin = info;
    rc = read_go_process(dirfd, pid, &ps, p, fallback_logged, log, ctx);
    if (rc == 0)
        rc = 1;
    else
        cg_seterr(err, "%s", strerror(-rc));
out:
    if (rc < 0 && rc != -ENOENT && rc != -ESRCH)
        logf_(log, ctx, "pid %d: skipped: %s", (int)pid, err);
    close(dirfd);
    return rc == 1;
}

int scan_run(int procfd, scan_result_t *out, scan_log_fn log, void *ctx)
{
    return scan_run_each(procfd, out, log, ctx, NULL, NULL);
}

int scan_run_each(int procfd, scan_result_t *out, scan_log_fn log, void *ctx,
                  scan_found_fn found, void *found_ctx)
{
    pid_t *pids;
    size_t npids, cap = 64;
    int rc, fallback_logged = 0;

    memset(out, 0, sizeof *out);
    rc = proc_list_pids(procfd, &pids, &npids);
    if (rc < 0)
        return rc;
    portfile_prepare();
    out->cache = cg_xcalloc(1, sizeof *out->cache);
    out->procs = cg_xmalloc(cap * sizeof *out->procs);
    for (size_t i = 0; i < npids; i++) {
        if (out->n == cap) {
            cap *= 2;
            out->procs = cg_xrealloc(out->procs, cap * sizeof *out->procs);
        }
        if (scan_pid(procfd, pids[i], out->cache, &out->procs[out->n], &fallback_logged, log,
                     ctx) != 1)
            continue;
        out->n++;
        if (found)
            found(&out->procs[out->n - 1], found_ctx);
    }
    free(pids);
    out->nexes = out->cache->used;
    return 0;
}

void scan_free(scan_result_t *res)
{
    if (res->cache) {
        for (size_t i = 0; i < res->cache->cap; i++)
            free(res->cache->slots[i].info);
        free(res->cache->slots);
        free(res->cache);
    }
    for (size_t i = 0; i < res->n; i++)
        free((char *)res->procs[i].path);
    free(res->procs);
    memset(res, 0, sizeof *res);
}

/* agentless.c -- what the agentless commands share: grouping keys, a small
 * counting map, and the target's threads from /proc/PID/task
 */
#include "cgops/agentless.h"

#include "cgops/common.h"
#include "cgops/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const group_names[] = {"location", "start", "creator", "wait"};

int agentless_group_parse(const char *s, group_by_t *by)
{
    for (size_t i = 0; i < CG_ARRAY_SIZE(group_names); i++) {
        if (strcmp(s, group_names[i]) == 0) {
            *by = (group_by_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *agentless_group_name(group_by_t by)
{
    return group_names[by];
}

/* The runtime's entry points in other packages (sync.runtime_Semacquire,
 * internal/poll.runtime_pollWait): part of the wait, not the place. */
static int is_runtime_shim(const char *f)
{
    const char *dot = strrchr(f, '.');

    return dot && strncmp(dot + 1, "runtime_", 8) == 0;
}

const char *agentless_group_key(gort_t *r, const gort_g_t *g, group_by_t by)
{
    switch (by) {
    case GROUP_LOCATION:
        /* A parked goroutine's pc is always in gopark: the first frame
         * outside the runtime says where it waits. */
        for (int i = 0; i < g->nframes; i++)
            if (!gort_is_runtime_frame(g->frames[i].function) && !is_runtime_shim(g->frames[i].function))
                return g->frames[i].function;
        /* A runtime goroutine waits in the runtime: name it by what it
         * runs (runtime.bgsweep, runtime.forcegchelper). */
        if (g->start_function)
            return g->start_function;
        return g->running_unavailable ? "(running)" : "(no stack)";
    case GROUP_START:
        return g->start_function ? g->start_function : "?";
    case GROUP_CREATOR:
        return g->created_by.function ? g->created_by.function : "(runtime)";
    case GROUP_WAIT:
        return gort_state(r, g);
    }
    return "?";
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

group_t *groups_get(groups_t *gs, const char *key)
{
    size_t h, i;

    if (gs->n * 2 >= gs->nslots) {
        size_t ns = gs->nslots ? gs->nslots * 2 : 64;

        free(gs->slots);
        gs->slots = cg_xcalloc(ns, sizeof *gs->slots);
        gs->nslots = ns;
        for (size_t k = 0; k < gs->n; k++) {
            i = hash_str(gs->v[k].key) & (ns - 1);
            while (gs->slots[i])
                i = (i + 1) & (ns - 1);
            gs->slots[i] = k + 1;
        }
    }
    h = hash_str(key);
    for (i = h & (gs->nslots - 1); gs->slots[i]; i = (i + 1) & (gs->nslots - 1)) {
        group_t *g = &gs->v[gs->slots[i] - 1];

        if (g->key == key || strcmp(g->key, key) == 0)
            return g;
    }
    if (gs->n == gs->cap) {
        gs->cap = gs->cap ? gs->cap * 2 : 32;
        gs->v = cg_xrealloc(gs->v, gs->cap * sizeof *gs->v);
    }
    gs->slots[i] = gs->n + 1;
    memset(&gs->v[gs->n], 0, sizeof gs->v[0]);
    gs->v[gs->n].key = key;
    return &gs->v[gs->n++];
}

void groups_free(groups_t *gs)
{
    free(gs->v);
    free(gs->slots);
    memset(gs, 0, sizeof *gs);
}

int agentless_threads(pid_t pid, thread_t **out, size_t *n)
{
    char path[64];
    int dfd;
    DIR *dir;
    struct dirent *de;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    dir = fdopendir(dfd);
    if (dir == NULL) {
        int rc = -errno;

        close(dfd);
        return rc;
    }
    while ((de = readdir(dir)) != NULL) {
        long long tid;
        int tfd;
        proc_stat_t st;

        if (cg_parse_ll(de->d_name, 1, 0x7fffffff, &tid) != 0)
            continue;
        tfd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0)
            continue;
        if (proc_read_stat(tfd, &st, NULL) == 0) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 32;
                *out = cg_xrealloc(*out, cap * sizeof **out);
            }
            (*out)[*n].tid = (pid_t)tid;
            (*out)[*n].state = st.state;
            (*out)[*n].ticks = st.utime + st.stime;
            (*n)++;
        }
        close(tfd);
    }
    closedir(dir);
    return 0;
}

static int count_cb(void *ctx, const gort_g_t *g)
{
    (void)g;
    (*(uint64_t *)ctx)++;
    return 0;
}

int agentless_count(pid_t pid, uint64_t *n, char *err)
{
    gort_t *r;
    int rc = gort_open(pid, 0, &r, err);

    *n = 0;
    if (rc != 0)
        return rc;
    rc = gort_walk(r, 0, count_cb, n, err);
    gort_close(r);
    return rc;
}

typedef struct {
    agentless_counts_t *c;
    uint64_t deadline;
    int timed_out;
} counts_ctx_t;

static int counts_cb(void *ctx, const gort_g_t *g)
{
    counts_ctx_t *x = ctx;

    if (g->status < GORT_NSTATUS)
        x->c->by_status[g->status]++;
    x->c->total++;
    x->c->user += !g->system;
    /* The clock every 4096 goroutines: a million of them is a walk of
     * seconds, and the caller's bound must hold. */
    if (x->deadline && (x->c->total & 4095) == 0 && cg_now_ns() > x->deadline) {
        x->timed_out = 1;
        return 1;
    }
    return 0;
}

/* Count through an open reader, and close it. */
static int count_states(gort_t *r, pid_t pid, uint64_t deadline, agentless_counts_t *c, char *err)
{
    counts_ctx_t x = {c, deadline, 0};
    int rc;

    c->have_gomaxprocs = gort_gomaxprocs(r, &c->gomaxprocs) == 0 && c->gomaxprocs > 0;
    rc = gort_walk(r, 0, counts_cb, &x, err);
    gort_close(r);
    if (rc == 0 && x.timed_out) {
        cg_seterr(err, "pid %d: its goroutines took longer than the time allowed", (int)pid);
        rc = -ETIMEDOUT;
    }
    return rc;
}

int agentless_counts(pid_t pid, uint64_t deadline, agentless_counts_t *c, char *err)
{
    gort_t *r;
    int rc;

    memset(c, 0, sizeof *c);
    if ((rc = gort_open(pid, 0, &r, err)) != 0)
        return rc;
    return count_states(r, pid, deadline, c, err);
}

typedef struct {
    agentless_fileid_t id;
    int rc; /* why gort_exe_open failed, kept: the binary is not read again */
    char err[CG_ERR_LEN];
    gort_exe_t *x;
} exe_entry_t;

struct agentless_execache {
    exe_entry_t *v;
    size_t n;
};

void agentless_fileid_set(agentless_fileid_t *id, const struct stat *st)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
}

int agentless_fileid_is(const agentless_fileid_t *id, const struct stat *st)
{
    return id->dev == st->st_dev && id->ino == st->st_ino && id->size == st->st_size &&
           id->mtime.tv_sec == st->st_mtim.tv_sec && id->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

agentless_execache_t *agentless_execache_new(void)
{
    return cg_xcalloc(1, sizeof(agentless_execache_t));
}

void agentless_execache_free(agentless_execache_t *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->n; i++)
        gort_exe_close(cache->v[i].x);
    free(cache->v);
    free(cache);
}

int agentless_counts_cached(agentless_execache_t *cache, pid_t pid, uint64_t deadline, agentless_counts_t *c,
                            char *err)
{
    exe_entry_t *e = NULL;
    struct stat st;
    gort_t *r;
    int fd, rc;

    memset(c, 0, sizeof *c);
    if ((fd = gort_open_exe(pid, err)) < 0)
        return fd;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        close(fd);
        cg_seterr(err, "cannot stat the executable of pid %d: %s", (int)pid, strerror(-rc));
        return rc;
    }
    for (size_t i = 0; i < cache->n && !e; i++)
        if (agentless_fileid_is(&cache->v[i].id, &st))
            e = &cache->v[i];
    if (e == NULL) {
        cache->v = cg_xrealloc(cache->v, (cache->n + 1) * sizeof *cache->v);
        e = &cache->v[cache->n++];
        memset(e, 0, sizeof *e);
        agentless_fileid_set(&e->id, &st);
        e->rc = gort_exe_open(fd, &e->x, e->err);
    }
    close(fd);
    if (e->rc != 0) {
        cg_seterr(err, "pid %d: %s", (int)pid, e->err);
        return e->rc;
    }
    if ((rc = gort_open_shared(pid, e->x, 0, &r, err)) != 0)
        return rc;
    return count_states(r, pid, deadline, c, err);
}

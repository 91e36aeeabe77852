/* gort.c -- the Go runtime's own view of a live process, read from its memory
 * (layouts and globals are found by gort_layout.c)
 *
 * Order of work in gort_open: the executable through /proc/PID/exe (its
 * version, pclntab, moduledata, type descriptors), the load bias from
 * auxv, then the globals: symbols when the binary has them, else the
 * validated scans of agentless-notes.md section 3 over the target's data
 * and bss.  gort_walk then reads goroutines a batch at a time: one batched
 * read of the g structs, one of the top of their stacks, frame-pointer-free
 * unwinding with the pcsp table (as the runtime itself unwinds), and a
 * re-read of each g's status and saved registers to catch the ones that
 * moved while we read.
 */
#include "cgops/gort.h"

#include "gort_int.h"

#include "cgops/common.h"
#include "cgops/gobin.h"
#include "cgops/goexe.h"
#include "cgops/gomem.h"
#include "cgops/gotype.h"
#include "cgops/pclntab.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const status_names[GORT_NSTATUS] = {
    "idle", "runnable", "running", "syscall", "waiting", "moribund_unused",
    "dead", "enqueue_unused", "copystack", "preempted", "leaked", "dead",
};

const char *gort_status_name(unsigned status)
{
    return status < GORT_NSTATUS ? status_names[status] : "unknown";
}

const char *gort_wait_reason(const gort_t *r, uint8_t reason)
{
    return reason < r->nwaitreasons && r->waitreasons[reason] ? r->waitreasons[reason] : "";
}

const char *gort_state(const gort_t *r, const gort_g_t *g)
{
    if (g->status == GORT_WAITING && g->waitreason != 0 && gort_wait_reason(r, g->waitreason)[0])
        return gort_wait_reason(r, g->waitreason);
    return gort_status_name(g->status);
}

int64_t gort_wait_minutes(const gort_g_t *g)
{
    return g->wait_minutes;
}

/* The runtime's nanotime is CLOCK_MONOTONIC, the same clock here. */
static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Whole minutes a waiting goroutine has waited at now, 0 if not known. */
static int64_t wait_minutes(const gort_g_t *g, int64_t now)
{
    if (g->status != GORT_WAITING || g->waitsince <= 0 || now <= g->waitsince)
        return 0;
    return (now - g->waitsince) / 60000000000LL;
}

int gort_is_runtime_frame(const char *f)
{
    /* The runtime's showframe: runtime.* is hidden unless exported
     * (runtime.Gosched, runtime.GC); internal/ and runtime/internal too. */
    if (strncmp(f, "runtime.", 8) == 0)
        return !(f[8] >= 'A' && f[8] <= 'Z');
    return strncmp(f, "internal/", 9) == 0 || strncmp(f, "runtime/internal/", 17) == 0;
}

/* ---- opening -------------------------------------------------------------- */

int gort_go_minor(const char *v)
{
    int major, minor;

    if (sscanf(v, "go%d.%d", &major, &minor) == 2 && major == 1)
        return minor;
    return 0;
}

/* From /proc/PID/status: the thread group (a TID given as a pid is
 * refused) and the pid as the target's own pid namespace sees it (the last
 * NSpid field: in a container the runtime records thread ids that way). */
static int proc_ids(pid_t pid, pid_t *tgid, pid_t *nspid)
{
    char path[64], *text = NULL, *line;
    size_t len;
    long long v;
    int rc;

    *tgid = *nspid = pid;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if ((rc = cg_read_file_at(AT_FDCWD, path, 1 << 16, &text, &len, NULL)) != 0)
        return rc;
    if ((line = strstr(text, "\nTgid:")) != NULL && sscanf(line + 6, "%lld", &v) == 1)
        *tgid = (pid_t)v;
    line = strstr(text, "\nNSpid:");
    if (line) {
        char *end = strchr(line + 1, '\n'), *last;

        if (end)
            *end = '\0';
        last = strrchr(line, '\t');
        if (last && cg_parse_ll(cg_trim(last), 1, 0x7fffffff, &v) == 0)
            *nspid = (pid_t)v;
    }
    free(text);
    return 0;
}

/* Everything after the executable and the memory are open: layouts,
 * tables, globals. */
static int setup_exe(gort_t *r, const gobin_info_t *info, char *err)
{
    int rc;

    if (!info->is_go) {
        cg_seterr(err, "pid %d is not a Go program", (int)r->pid);
        return -ENOEXEC;
    }
    cg_strlcpy(r->version, info->version, sizeof r->version);
    r->minor = gort_go_minor(r->version);
    if (r->minor && r->minor < 16) {
        cg_seterr(err, "pid %d runs %s: Go 1.16 or newer is needed to read it without an agent",
                  (int)r->pid, r->version);
        return -ENOTSUP;
    }
    if ((rc = pcln_open(r->exe, &r->pcln, err)) != 0 ||
        (rc = gomod_find(r->exe, pcln_addr(r->pcln), r->minor, &r->mod, err)) != 0)
        return rc;
    if (r->mod.text)
        pcln_set_text(r->pcln, r->mod.text);
    if (r->mod.gofunc)
        pcln_set_gofunc(r->pcln, r->mod.gofunc);
    if ((rc = gotypes_open(r->exe, &r->mod, &r->types, err)) != 0 || (rc = gort__load_layouts(r, err)) != 0)
        return rc;
    return 0;
}

/* What needs the process: the load bias, the stop, the globals. */
static int setup_proc(gort_t *r, unsigned flags, char *err)
{
    uint64_t entry;
    int rc;

    entry = gomem_auxv_entry(r->mem);
    r->bias = entry ? (int64_t)(entry - goexe_entry(r->exe)) : 0;
    if ((flags & GORT_STOP) && gomem_pid(r->mem) > 0 && (rc = gostop_seize(r->pid, &r->stop, err)) != 0)
        return rc;
    if (flags & GORT_RECORD)
        gomem_set_recording(r->mem, 1);
    if ((rc = gort__find_globals(r, err)) != 0)
        return rc;
    return 0;
}

int gort_open_exe(pid_t pid, char *err)
{
    char path[64];
    int fd, rc;

    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    rc = -errno;
    if (rc == -ENOENT)
        cg_seterr(err, "no such process: %d", (int)pid);
    else if (rc == -EACCES || rc == -EPERM)
        gomem_describe_error(pid, -EPERM, "open the executable of", err);
    else
        cg_seterr(err, "cannot open the executable of pid %d: %s", (int)pid, strerror(-rc));
    return rc;
}

int gort_open(pid_t pid, unsigned flags, gort_t **out, char *err)
{
    gort_t *r = cg_xcalloc(1, sizeof *r);
    gobin_info_t info;
    int rc;

    r->pid = pid;
    r->exefd = -1;
    if ((rc = r->exefd = gort_open_exe(pid, err)) < 0)
        goto fail;
    {
        pid_t tgid;

        if (proc_ids(pid, &tgid, &r->nspid) == 0 && tgid != pid) {
            cg_seterr(err, "%d is a thread of process %d, not a process: give %d", (int)pid, (int)tgid,
                      (int)tgid);
            rc = -EINVAL;
            goto fail;
        }
    }
    if ((rc = gobin_read_fd(r->exefd, &info, err)) != 0 ||
        (rc = goexe_open_fd(r->exefd, &r->exe, err)) != 0 ||
        (rc = gomem_open_pid(pid, &r->mem, err)) != 0 || (rc = setup_exe(r, &info, err)) != 0 ||
        (rc = setup_proc(r, flags, err)) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    gort_close(r);
    return rc;
}

/* An executable's part of a gort_t, parsed once: a gort_t whose process
 * part is empty, lent to the gort_t of each process running it. */
struct gort_exe {
    gort_t *r;
};

int gort_exe_open(int fd, gort_exe_t **out, char *err)
{
    gort_exe_t *x = cg_xcalloc(1, sizeof *x);
    gobin_info_t info;
    int rc;

    x->r = cg_xcalloc(1, sizeof *x->r);
    x->r->exefd = -1;
    if ((rc = gobin_read_fd(fd, &info, err)) != 0 || (rc = goexe_open_fd(fd, &x->r->exe, err)) != 0 ||
        (rc = setup_exe(x->r, &info, err)) != 0) {
        gort_exe_close(x);
        return rc;
    }
    *out = x;
    return 0;
}

void gort_exe_close(gort_exe_t *x)
{
    if (x == NULL)
        return;
    gort_close(x->r);
    free(x);
}

int gort_open_shared(pid_t pid, gort_exe_t *x, unsigned flags, gort_t **out, char *err)
{
    gort_t *r = cg_xcalloc(1, sizeof *r);
    pid_t tgid;
    int rc;

    /* The executable's tables and layouts by value or lent (borrowed: not
     * freed by gort_close); the rest is this process's own. */
    *r = *x->r;
    r->borrowed = 1;
    r->pid = pid;
    r->exefd = -1;
    r->mem = NULL;
    r->stop = NULL;
    r->allgs = r->allglen = r->allm = r->allp = r->gomaxprocs = r->m0 = 0;
    r->nwaitreasons = 0;
    r->cache = NULL;
    r->owned = NULL;
    r->nowned = 0;
    r->ms = NULL;
    r->nms = 0;
    r->ps = NULL;
    r->nps = 0;
    r->bias = 0;
    if (proc_ids(pid, &tgid, &r->nspid) == 0 && tgid != pid) {
        cg_seterr(err, "%d is a thread of process %d, not a process: give %d", (int)pid, (int)tgid, (int)tgid);
        rc = -EINVAL;
        goto fail;
    }
    if ((rc = gomem_open_pid(pid, &r->mem, err)) != 0 || (rc = setup_proc(r, flags, err)) != 0)
        goto fail;
    *out = r;
    return 0;
fail:
    gort_close(r);
    return rc;
}

int gort_open_image(const void *exe, size_t exesize, const void *mem, size_t memsize, pid_t pid,
                    gort_t **out, char *err)
{
    gort_t *r = cg_xcalloc(1, sizeof *r);
    gobin_info_t info;
    int rc;

    r->pid = r->nspid = pid;
    r->exefd = -1;
    if ((rc = gobin_read_mem(exe, exesize, &info, err)) != 0 ||
        (rc = goexe_open_mem(exe, exesize, &r->exe, err)) != 0 ||
        (rc = gomem_open_image(mem, memsize, &r->mem, err)) != 0 || (rc = setup_exe(r, &info, err)) != 0 ||
        (rc = setup_proc(r, 0, err)) != 0) {
        gort_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int gort_save_image(const gort_t *r, int fd, char *err)
{
    return gomem_save_image(r->mem, fd, err);
}

void gort_close(gort_t *r)
{
    if (r == NULL)
        return;
    if (r->stop)
        gostop_release(r->stop);
    for (int i = 0; i < r->nwaitreasons; i++)
        free((char *)r->waitreasons[i]);
    free(r->cache);
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->owned);
    free(r->ms);
    free(r->ps);
    gomem_close(r->mem);
    if (!r->borrowed) {
        gotypes_close(r->types);
        pcln_close(r->pcln);
        goexe_close(r->exe);
    }
    if (r->exefd >= 0)
        close(r->exefd);
    free(r);
}

const char *gort_go_version(const gort_t *r)
{
    return r->version;
}

/* ---- symbolization -------------------------------------------------------- */

/* Where unwinding stops: 2 at the bottom of a goroutine's stack (every
 * goroutine starts in goexit's frame; the main and bootstrap stacks in
 * mstart or rt0_go; a C thread's call into Go in cgocallback), 1 at a
 * function that switches stacks (systemstack, mcall, ...), which a
 * goroutine's own stack never ends in: reaching one means the stack
 * changed under us.  0 otherwise. */
static int stop_kind(const char *name)
{
    static const char *const bottoms[] = {
        "runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.rt0_go", "runtime.cgocallback",
    };
    static const char *const switches[] = {
        "runtime.mcall", "runtime.morestack", "runtime.systemstack", "runtime.asmcgocall",
        "runtime.sigreturn", "runtime.sigreturn__sigaction",
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(bottoms); i++)
        if (strcmp(name, bottoms[i]) == 0)
            return 2;
    for (size_t i = 0; i < CG_ARRAY_SIZE(switches); i++)
        if (strcmp(name, switches[i]) == 0)
            return 1;
    return 0;
}

/* A name or path from the executable as it may be printed: a hostile
 * binary can name a function with terminal escapes.  Clean names (nearly
 * all) are returned as they are; others are replaced once and kept. */
static const char *safe_str(gort_t *r, const char *s)
{
    char *safe;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            goto unclean;
    return s;
unclean:
    safe = cg_text_safe(s);
    if (strcmp(safe, s) == 0) { /* printable UTF-8 */
        free(safe);
        return s;
    }
    r->owned = cg_xrealloc(r->owned, (r->nowned + 1) * sizeof *r->owned);
    r->owned[r->nowned++] = safe;
    return safe;
}

/* Everything we need to know about one pc (a file address), cached: the
 * frame size at it, whether unwinding stops there, and its logical frames
 * (looked up at pc-1 for a return address, as the runtime does). */
static const pccache_t *pc_info(gort_t *r, uint64_t pc, int top)
{
    uint64_t key = pc * 2 + (top ? 1 : 0);
    size_t mask = ((size_t)1 << PCCACHE_BITS) - 1;
    size_t h = (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - PCCACHE_BITS));
    pccache_t *c = NULL;
    static pccache_t scratch;
    pcln_func_t f;
    pcln_frame_t fr[PCCACHE_LOGICAL_MAX];
    int n;

    /* Made on first use: a count (the listing's --goroutines) needs none. */
    if (r->cache == NULL)
        r->cache = cg_xcalloc((size_t)1 << PCCACHE_BITS, sizeof *r->cache);
    for (size_t i = 0; i < 8; i++) {
        pccache_t *e = &r->cache[(h + i) & mask];

        if (e->pc == key)
            return e;
        if (e->pc == 0) {
            c = e;
            break;
        }
    }
    if (c == NULL) /* a crowded neighbourhood: compute without keeping */
        c = &scratch;
    memset(c, 0, sizeof *c);
    c->pc = key;
    if (pcln_find(r->pcln, pc, &f) != 0)
        return c;
    c->found = 1;
    if (pcln_spdelta(r->pcln, &f, pc, &c->spdelta) != 0)
        c->found = 0;
    c->stop = (uint8_t)stop_kind(pcln_name(r->pcln, &f));
    n = pcln_frames(r->pcln, (top || pc <= f.entry) ? pc : pc - 1, fr, PCCACHE_LOGICAL_MAX);
    if (n < 1) {
        c->nlog = 1;
        c->log[0].function = pcln_name(r->pcln, &f);
        c->log[0].file = "?";
    } else {
        c->nlog = (uint8_t)n;
        for (int i = 0; i < n; i++) {
            c->log[i].function = fr[i].function;
            c->log[i].file = fr[i].file;
            c->log[i].line = fr[i].line;
            c->log[i].inlined = fr[i].inlined;
        }
    }
    for (int i = 0; i < c->nlog; i++) {
        c->log[i].function = safe_str(r, c->log[i].function);
        c->log[i].file = safe_str(r, c->log[i].file);
        c->log[i].pc = pc + (uint64_t)r->bias;
        c->log[i].entry = f.entry + (uint64_t)r->bias;
    }
    return c;
}

/* The function whose entry is pc (a g's startpc), through the cache. */
static const char *func_name_at(gort_t *r, uint64_t pc)
{
    const pccache_t *c;

    if (pc == 0)
        return NULL;
    c = pc_info(r, pc - (uint64_t)r->bias, 1);
    return c->found && c->nlog ? c->log[c->nlog - 1].function : NULL;
}

/* ---- the walk ------------------------------------------------------------- */

/* Requests in address order: gomem_readv reads neighbours as one range
 * (one page walk for many g structs), and allgs is not in address order. */
static const gomem_req_t *sort_reqs;

static int by_addr(const void *a, const void *b)
{
    uint64_t x = sort_reqs[*(const size_t *)a].addr, y = sort_reqs[*(const size_t *)b].addr;

    return x < y ? -1 : x > y;
}

static long readv_sorted(gort_t *r, gomem_req_t *reqs, size_t n, gomem_req_t *tmp, size_t *order)
{
    long rc;
    int sorted = 1;

    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        if (i && reqs[i].addr < reqs[i - 1].addr)
            sorted = 0;
    }
    if (sorted)
        return gomem_readv(r->mem, reqs, n);
    sort_reqs = reqs;
    qsort(order, n, sizeof *order, by_addr);
    for (size_t i = 0; i < n; i++)
        tmp[i] = reqs[order[i]];
    rc = gomem_readv(r->mem, tmp, n);
    for (size_t i = 0; i < n; i++)
        reqs[order[i]].ok = tmp[i].ok;
    return rc;
}

typedef struct {
    uint64_t addr;
    uint8_t *raw; /* g bytes (span) */
    gort_g_t g;   /* fields; frames filled at callback time */
    uint64_t pcs[GORT_DEPTH_MAX + 1];
    int npcs;
    int top_is_trap; /* pcs[0] came from a thread's registers */
    int incomplete;  /* the unwind ended short of a stop function and the depth */
    uint64_t sp0, pc0;
    uint8_t *win;
    uint64_t win_lo, win_len;
} slot_t;

static void decode_g(gort_t *r, slot_t *s)
{
    const uint8_t *b = s->raw;
    gort_g_t *g = &s->g;
    uint64_t gs = r->g.goid_size > 8 ? 8 : r->g.goid_size;

    memset(g, 0, offsetof(gort_g_t, frames));
    g->created_by.function = NULL;
    g->start_function = NULL;
    g->addr = s->addr;
    g->status = (unsigned)le(b + r->g.atomicstatus, 4) & ~(unsigned)GORT_SCAN;
    g->goid = le(b + r->g.goid, gs);
    g->waitreason = b[r->g.waitreason];
    g->waitsince = (int64_t)le(b + r->g.waitsince, 8);
    g->gopc = le(b + r->g.gopc, 8);
    g->startpc = le(b + r->g.startpc, 8);
    g->m = le(b + r->g.m, 8);
    g->locked = le(b + r->g.lockedm, 8) != 0;
    g->parent_goid = r->g.parent_goid ? le(b + r->g.parent_goid, 8) : 0;
}

/* Where unwinding starts, or 0 when the goroutine has no usable stack. */
static int start_regs(gort_t *r, slot_t *s)
{
    const uint8_t *b = s->raw;
    gort_g_t *g = &s->g;
    uint64_t lo = le(b + r->g.stack_lo, 8), hi = le(b + r->g.stack_hi, 8);

    s->top_is_trap = 0;
    switch (g->status) {
    case GORT_SYSCALL:
        s->pc0 = le(b + r->g.syscallpc, 8);
        s->sp0 = le(b + r->g.syscallsp, 8);
        break;
    case GORT_RUNNING:
        if (r->stop && g->tid) {
            uint64_t bp;

            if (gostop_regs(r->stop, g->tid, &s->pc0, &s->sp0, &bp) == 0 && s->sp0 >= lo &&
                s->sp0 < hi) {
                s->top_is_trap = 1;
                break;
            }
        }
        g->running_unavailable = 1;
        return 0;
    case GORT_RUNNABLE:
    case GORT_WAITING:
    case GORT_PREEMPTED:
    case GORT_COPYSTACK:
    case GORT_LEAKED:
        s->pc0 = le(b + r->g.sched_pc, 8);
        s->sp0 = le(b + r->g.sched_sp, 8);
        break;
    default:
        return 0;
    }
    if (s->pc0 == 0 || lo >= hi || hi - lo > (1ull << 30) || s->sp0 < lo || s->sp0 >= hi)
        return 0;
    s->win_lo = s->sp0;
    s->win_len = hi - s->sp0 < STACK_WINDOW ? hi - s->sp0 : STACK_WINDOW;
    return 1;
}

/* A word of the goroutine's stack: from the batch's window when there,
 * else one more read. */
static int stack_word(gort_t *r, slot_t *s, uint64_t addr, uint64_t *v)
{

    if (s->win && addr >= s->win_lo && addr - s->win_lo + 8 <= s->win_len) {
        *v = le(s->win + (addr - s->win_lo), 8);
        return 0;
    }
    return read_word(r, addr, v);
}

static void unwind(gort_t *r, slot_t *s, int depth)
{
    const uint8_t *b = s->raw;
    uint64_t hi = le(b + r->g.stack_hi, 8);
    uint64_t pc = s->pc0, sp = s->sp0;

    s->npcs = 0;
    /* Every goroutine's stack ends in a stop function (runtime.goexit at
     * the bottom of each): a walk that ends anywhere else read a stack
     * that changed under it (the goroutine ran and parked again at the
     * same place, so its g looks the same), and is read again. */
    s->incomplete = 1;
    for (int i = 0; i <= depth && i <= GORT_DEPTH_MAX; i++) {
        const pccache_t *c = pc_info(r, pc - (uint64_t)r->bias, i == 0 && s->top_is_trap);
        uint64_t fp, ret;

        if (!c->found)
            return;
        s->pcs[s->npcs++] = pc;
        if (c->stop == 1)
            return; /* incomplete: see stop_kind */
        if (c->stop || c->spdelta < 0)
            break;
        fp = sp + (uint64_t)c->spdelta + 8;
        if (fp > hi || fp < sp || stack_word(r, s, fp - 8, &ret) != 0)
            return;
        pc = ret;
        sp = fp;
    }
    s->incomplete = 0;
}

/* Fill the logical frames of a slot's g (at callback time). */
static void symbolize(gort_t *r, slot_t *s, int depth)
{
    gort_g_t *g = &s->g;

    g->nframes = 0;
    for (int i = 0; i < s->npcs; i++) {
        const pccache_t *c = pc_info(r, s->pcs[i] - (uint64_t)r->bias, i == 0 && s->top_is_trap);

        for (int k = 0; k < c->nlog; k++) {
            if (g->nframes >= depth) {
                g->truncated = 1;
                return;
            }
            g->frames[g->nframes++] = c->log[k];
        }
    }
    if (s->npcs > depth)
        g->truncated = 1;
}

static void creator(gort_t *r, gort_g_t *g)
{
    const char *start = func_name_at(r, g->startpc);

    g->start_function = start;
    g->system = start != NULL && strncmp(start, "runtime.", 8) == 0 && strcmp(start, "runtime.main") != 0;
    /* The runtime prints no creator for the main goroutine. */
    if (g->gopc && g->goid != 1) {
        const pccache_t *c = pc_info(r, g->gopc - (uint64_t)r->bias, 0);

        if (c->found && c->nlog > 0) {
            g->created_by = c->log[0];
            /* The go statement's function when not the runtime's own
             * bootstrap (goroutine 1 has gopc in rt0_go). */
            if (strcmp(g->created_by.function, "runtime.rt0_go") == 0)
                g->created_by.function = NULL;
        }
    }
}

static void set_tids(gort_t *r, slot_t *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gort_g_t *g = &slots[i].g;

        g->tid = 0;
        if (g->m == 0)
            continue;
        for (size_t k = 0; k < r->nms; k++) {
            if (r->ms[k].addr == g->m) {
                g->tid = r->ms[k].tid;
                break;
            }
        }
    }
}

int gort_walk(gort_t *r, int depth, gort_cb_t cb, void *ctx, char *err)
{
    uint64_t n = 0, arr = 0, len = 0;
    slot_t *slots = cg_xcalloc(BATCH, sizeof *slots);
    uint8_t *raw = cg_xmalloc((size_t)BATCH * r->g.span);
    uint8_t *win = depth > 0 ? cg_xmalloc((size_t)BATCH * STACK_WINDOW) : NULL;
    uint8_t *recheck = depth > 0 ? cg_xmalloc((size_t)BATCH * r->g.recheck_len) : NULL;
    uint64_t *ptrs = cg_xmalloc(BATCH * sizeof *ptrs);
    gomem_req_t *reqs = cg_xmalloc(BATCH * sizeof *reqs), *tmp = cg_xmalloc(BATCH * sizeof *tmp);
    size_t *order = cg_xmalloc(BATCH * sizeof *order);
    int rc = 0, stop = 0;

    if (depth > GORT_DEPTH_MAX)
        depth = GORT_DEPTH_MAX;
    /* Ms first, so each goroutine on a thread is given its TID. */
    {
        const gort_m_t *ms;
        size_t nms;

        if (gort_ms(r, &ms, &nms, NULL) != 0)
            r->nms = 0;
    }
    /* The runtime's reader rule: allglen first, then the array. */
    if (r->allglen && (rc = read_word(r, r->allglen, &len)) != 0)
        goto gone;
    {
        uint8_t hdr[24];

        if ((rc = gomem_read(r->mem, r->allgs, hdr, 24)) != 0)
            goto gone;
        arr = le(hdr, 8);
        n = le(hdr + 8, 8);
        if (!r->allglen || len > n)
            len = n;
    }
    if (len > ALLGS_MAX || (len && !gomem_valid(r->mem, arr, 8 * len))) {
        cg_seterr(err, "runtime.allgs looks corrupt (%llu entries at 0x%llx)",
                  (unsigned long long)len, (unsigned long long)arr);
        rc = -EINVAL;
        goto out;
    }
    for (uint64_t base = 0; base < len && !stop; base += BATCH) {
        size_t nb = len - base < BATCH ? (size_t)(len - base) : BATCH, live = 0;
        int64_t now = now_ns(); /* once a batch: a call per goroutine was 2% of a dump */

        if ((rc = gomem_read(r->mem, arr + 8 * base, ptrs, 8 * nb)) != 0)
            goto gone;
        for (size_t i = 0; i < nb; i++) {
            reqs[i].addr = ptrs[i];
            reqs[i].buf = raw + i * r->g.span;
            reqs[i].len = r->g.span;
        }
        if ((rc = (int)readv_sorted(r, reqs, nb, tmp, order)) < 0)
            goto gone;
        for (size_t i = 0; i < nb; i++) {
            slot_t *s;

            if (!reqs[i].ok)
                continue;
            s = &slots[live];
            s->addr = ptrs[i];
            s->raw = raw + i * r->g.span;
            s->win = NULL;
            s->npcs = 0;
            s->incomplete = 0;
            decode_g(r, s);
            if (s->g.status == GORT_DEAD || s->g.status == GORT_DEADEXTRA ||
                s->g.status == GORT_MORIBUND || s->g.status >= GORT_NSTATUS || s->g.goid == 0)
                continue;
            live++;
        }
        set_tids(r, slots, live);
        if (depth > 0) {
            size_t nw = 0;

            for (size_t i = 0; i < live; i++) {
                slot_t *s = &slots[i];

                if (!start_regs(r, s))
                    continue;
                reqs[nw].addr = s->win_lo;
                reqs[nw].buf = win + nw * STACK_WINDOW;
                reqs[nw].len = s->win_len;
                s->win = reqs[nw].buf;
                nw++;
            }
            if (nw && (rc = (int)readv_sorted(r, reqs, nw, tmp, order)) < 0)
                goto gone;
            for (size_t i = 0, k = 0; i < live; i++) {
                slot_t *s = &slots[i];

                if (s->win == NULL)
                    continue;
                if (!reqs[k++].ok)
                    s->win = NULL; /* read word by word instead */
                unwind(r, s, depth);
            }
            /* Re-read status and saved registers: a goroutine that ran
             * while we read is read again once, else flagged. */
            if (!r->stop) {
                for (size_t i = 0; i < live; i++) {
                    reqs[i].addr = slots[i].addr + r->g.recheck_lo;
                    reqs[i].buf = recheck + i * r->g.recheck_len;
                    reqs[i].len = r->g.recheck_len;
                }
                if (live && (rc = (int)readv_sorted(r, reqs, live, tmp, order)) < 0)
                    goto gone;
                for (size_t i = 0; i < live; i++) {
                    slot_t *s = &slots[i];

                    if (reqs[i].ok && !s->incomplete &&
                        memcmp(reqs[i].buf, s->raw + r->g.recheck_lo, r->g.recheck_len) == 0)
                        continue;
                    if (g_at(r, s->addr, s->raw) == 0) {
                        uint8_t again[512];
                        size_t cl = r->g.recheck_len < sizeof again ? r->g.recheck_len : sizeof again;

                        decode_g(r, s);
                        s->win = NULL;
                        s->npcs = 0; /* the first read's frames are of another state */
                        s->incomplete = 0;
                        if (start_regs(r, s))
                            unwind(r, s, depth);
                        if (s->incomplete ||
                            gomem_read(r->mem, s->addr + r->g.recheck_lo, again, cl) != 0 ||
                            memcmp(again, s->raw + r->g.recheck_lo, cl) != 0)
                            s->g.changed = 1;
                    } else {
                        s->g.changed = 1;
                        s->npcs = 0;
                    }
                }
            }
        }
        for (size_t i = 0; i < live && !stop; i++) {
            slot_t *s = &slots[i];

            if (s->g.status == GORT_DEAD)
                continue; /* exited while we re-read it */
            if (depth > 0)
                symbolize(r, s, depth);
            creator(r, &s->g);
            s->g.wait_minutes = wait_minutes(&s->g, now);
            stop = cb(ctx, &s->g) != 0;
        }
    }
    rc = 0;
    goto out;
gone:
    if (rc == -ESRCH)
        cg_seterr(err, "process %d exited while it was read", (int)r->pid);
    else
        cg_seterr(err, "cannot read the goroutines of pid %d: %s", (int)r->pid, strerror(-rc));
out:
    free(slots);
    free(raw);
    free(win);
    free(recheck);
    free(ptrs);
    free(reqs);
    free(tmp);
    free(order);
    return rc;
}

/* ---- Ms and Ps ------------------------------------------------------------ */

int gort_ms(gort_t *r, const gort_m_t **out, size_t *n, char *err)
{
    uint64_t m = 0;
    uint8_t *buf = cg_xmalloc(r->m.size);
    size_t cap = 0;
    int rc = 0;

    r->nms = 0;
    if (r->allm == 0 || (rc = read_word(r, r->allm, &m)) != 0) {
        if (r->allm == 0)
            cg_seterr(err, "runtime.allm not found");
        free(buf);
        *out = r->ms;
        *n = 0;
        return r->allm == 0 ? -ENOENT : rc;
    }
    while (m && r->nms < ALLM_MAX) {
        gort_m_t *e;
        uint64_t pp;
        uint8_t gb[16];

        if (!heap_ptr(r, m, r->m.size) && m != r->m0) {
            cg_seterr(err, "runtime.allm: bad pointer 0x%llx", (unsigned long long)m);
            rc = -EFAULT;
            break;
        }
        if ((rc = gomem_read(r->mem, m, buf, r->m.size)) != 0)
            break;
        if (r->nms == cap) {
            cap = cap ? 2 * cap : 16;
            r->ms = cg_xrealloc(r->ms, cap * sizeof *r->ms);
        }
        e = &r->ms[r->nms++];
        e->addr = m;
        e->id = (int64_t)le(buf + r->m.id, 8);
        e->tid = (pid_t)le(buf + r->m.procid, 8);
        e->curg = le(buf + r->m.curg, 8);
        e->spinning = buf[r->m.spinning] != 0;
        e->curg_goid = 0;
        if (e->curg && heap_ptr(r, e->curg, r->g.span) &&
            gomem_read(r->mem, e->curg + r->g.goid, gb, 8) == 0)
            e->curg_goid = le(gb, r->g.goid_size > 8 ? 8 : r->g.goid_size);
        pp = le(buf + r->m.p, 8);
        e->p_id = -1;
        if (pp && heap_ptr(r, pp, r->p.size)) {
            int32_t id;

            if (gomem_read(r->mem, pp + r->p.id, &id, 4) == 0)
                e->p_id = id;
        }
        m = le(buf + r->m.alllink, 8);
    }
    free(buf);
    *out = r->ms;
    *n = r->nms;
    return rc == -ESRCH ? rc : 0;
}

int gort_ps(gort_t *r, const gort_p_t **out, size_t *n, char *err)
{
    uint8_t hdr[24];
    uint64_t arr, np;
    uint8_t *buf;
    int rc;

    *out = NULL;
    *n = 0;
    if (r->allp == 0) {
        cg_seterr(err, "runtime.allp not found");
        return -ENOENT;
    }
    if ((rc = gomem_read(r->mem, r->allp, hdr, 24)) != 0)
        return rc;
    arr = le(hdr, 8);
    np = le(hdr + 8, 8);
    if (np > ALLP_MAX || (np && !gomem_valid(r->mem, arr, 8 * np))) {
        cg_seterr(err, "runtime.allp looks corrupt");
        return -EINVAL;
    }
    free(r->ps);
    r->ps = cg_xcalloc(np ? np : 1, sizeof *r->ps);
    r->nps = 0;
    buf = cg_xmalloc(r->p.size);
    for (uint64_t i = 0; i < np; i++) {
        uint64_t pp, mp;
        gort_p_t *e;

        if ((rc = read_word(r, arr + 8 * i, &pp)) != 0 || !heap_ptr(r, pp, r->p.size) ||
            (rc = gomem_read(r->mem, pp, buf, r->p.size)) != 0)
            continue;
        e = &r->ps[r->nps++];
        e->id = (int32_t)le(buf + r->p.id, 4);
        e->status = (unsigned)le(buf + r->p.status, 4);
        e->schedtick = (uint32_t)le(buf + r->p.schedtick, 4);
        e->syscalltick = (uint32_t)le(buf + r->p.syscalltick, 4);
        e->runq = (uint32_t)le(buf + r->p.runqtail, 4) - (uint32_t)le(buf + r->p.runqhead, 4);
        mp = le(buf + r->p.m, 8);
        e->m_id = -1;
        for (size_t k = 0; mp && k < r->nms; k++)
            if (r->ms[k].addr == mp)
                e->m_id = r->ms[k].id;
    }
    free(buf);
    *out = r->ps;
    *n = r->nps;
    return rc == -ESRCH ? rc : 0;
}

int gort_gomaxprocs(gort_t *r, int32_t *v)
{
    uint8_t hdr[24];

    if (r->gomaxprocs)
        return gomem_read(r->mem, r->gomaxprocs, v, 4);
    /* len(allp) is GOMAXPROCS (procresize keeps them equal). */
    if (r->allp && gomem_read(r->mem, r->allp, hdr, 24) == 0) {
        *v = (int32_t)le(hdr + 8, 8);
        return 0;
    }
    return -ENOENT;
}

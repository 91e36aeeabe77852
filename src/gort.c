/* gort.c -- the Go runtime's own view of a live process, read from its memory
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

/* Goroutines read per batch: big enough that process_vm_readv's 1024
 * ranges per call are full, small enough that a batch's stack windows
 * (BATCH x STACK_WINDOW) stay a few MiB. */
#define BATCH 1024
#define STACK_WINDOW 1024 /* parked goroutines use ~300 bytes (1M measured) */
#define ALLGS_MAX (1u << 24) /* far above any real program (a million is big) */
#define ALLM_MAX 100000u
#define ALLP_MAX 65536u
#define WAITREASONS_MAX 128
#define PCCACHE_BITS 16
#define PCCACHE_LOGICAL_MAX 8 /* inlined frames kept per cached pc */

/* Offsets of the runtime's structs, from its type descriptors. */
typedef struct {
    uint64_t size;
    uint64_t stack_lo, stack_hi;
    uint64_t sched_sp, sched_pc, sched_bp;
    uint64_t syscallsp, syscallpc;
    uint64_t m, atomicstatus, goid, goid_size, waitsince, waitreason;
    uint64_t gopc, startpc, lockedm;
    uint64_t parent_goid; /* 0: field absent (< Go 1.21) */
    uint64_t span;        /* bytes of a g we read: up to the last field used */
    uint64_t recheck_lo, recheck_len; /* the part re-read to see a change */
} g_layout_t;

typedef struct {
    uint64_t size, g0, curg, procid, id, alllink, p, spinning;
} m_layout_t;

typedef struct {
    uint64_t size, id, status, schedtick, syscalltick, m, runqhead, runqtail;
} p_layout_t;

typedef struct {
    uint64_t pc; /* file pc; 0 = empty slot */
    int32_t spdelta;
    uint8_t found, stop, nlog;
    gort_frame_t log[PCCACHE_LOGICAL_MAX]; /* innermost first; at pc-1 */
} pccache_t;

struct gort {
    pid_t pid;
    pid_t nspid; /* pid as the target's own pid namespace sees it */
    int exefd;
    goexe_t *exe;
    gomem_t *mem;
    pcln_t *pcln;
    gomod_t mod;
    gotypes_t *types;
    gostop_t *stop; /* when GORT_STOP */
    char version[64];
    int minor;
    int64_t bias;
    g_layout_t g;
    m_layout_t m;
    p_layout_t p;
    uint64_t allgs, allglen, allm, allp, gomaxprocs, m0; /* runtime addresses, 0 unknown */
    const char *waitreasons[WAITREASONS_MAX];
    int nwaitreasons;
    pccache_t *cache;
    char **owned; /* strings made safe for a terminal (safe_str) */
    size_t nowned;
    gort_m_t *ms;
    size_t nms;
    gort_p_t *ps;
    size_t nps;
};

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
    struct timespec ts;
    int64_t now;

    if (g->status != GORT_WAITING || g->waitsince <= 0)
        return 0;
    /* The runtime's nanotime is CLOCK_MONOTONIC, the same clock here. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return now > g->waitsince ? (now - g->waitsince) / 60000000000LL : 0;
}

int gort_is_runtime_frame(const char *f)
{
    /* The runtime's showframe: runtime.* is hidden unless exported
     * (runtime.Gosched, runtime.GC); internal/ and runtime/internal too. */
    if (strncmp(f, "runtime.", 8) == 0)
        return !(f[8] >= 'A' && f[8] <= 'Z');
    return strncmp(f, "internal/", 9) == 0 || strncmp(f, "runtime/internal/", 17) == 0;
}

/* ---- reading helpers ---------------------------------------------------- */

static uint64_t le(const uint8_t *p, uint64_t n)
{
    return goexe_le(p, (int)n);
}

static int read_word(gort_t *r, uint64_t addr, uint64_t *v)
{
    uint8_t b[8];
    int rc = gomem_read(r->mem, addr, b, 8);

    if (rc == 0)
        *v = le(b, 8);
    return rc;
}

/* A field from a struct layout; -ENOENT names what is missing. */
static int field(gort_t *r, const char *type, const char *path, uint64_t *off, uint64_t *size,
                 char *err)
{
    gofield_t f;

    if (gotypes_field(r->types, type, path, &f) != 0) {
        cg_seterr(err, "%s has no field %s in this binary (Go %s): layout unsupported", type, path,
                  r->version[0] ? r->version : "unknown");
        return -ENOENT;
    }
    *off = f.offset;
    if (size)
        *size = f.size;
    return 0;
}

/* A field read as width bytes: a patched binary may declare it narrower
 * (a bool at a struct's last byte), and reading width bytes would then run
 * past the copy of the struct. */
static int field_w(gort_t *r, const char *type, const char *path, uint64_t *off, uint64_t width,
                   char *err)
{
    uint64_t size;
    int rc = field(r, type, path, off, &size, err);

    if (rc == 0 && size < width) {
        cg_seterr(err, "%s.%s is %llu bytes in this binary, not %llu: layout unsupported", type, path,
                  (unsigned long long)size, (unsigned long long)width);
        return -EINVAL;
    }
    return rc;
}

static int optional_field(gort_t *r, const char *type, const char *path, uint64_t *off)
{
    gofield_t f;

    if (gotypes_field(r->types, type, path, &f) != 0)
        return -ENOENT;
    *off = f.offset;
    return 0;
}

static void span_max(uint64_t *span, uint64_t off, uint64_t size)
{
    if (off + size > *span)
        *span = off + size;
}

static int load_layouts(gort_t *r, char *err)
{
    g_layout_t *g = &r->g;
    m_layout_t *m = &r->m;
    p_layout_t *p = &r->p;
    uint64_t st, stsz, lo, hi, sp, pc, bp;
    int rc;

    g->size = gotypes_size(r->types, "runtime.g");
    if (g->size == 0 || g->size > 65536) {
        cg_seterr(err, "runtime.g not found among the binary's type descriptors");
        return -ENOENT;
    }
    if ((rc = field(r, "runtime.g", "stack", &st, NULL, err)) ||
        (rc = field(r, "runtime.stack", "lo", &lo, NULL, err)) ||
        (rc = field(r, "runtime.stack", "hi", &hi, NULL, err)) ||
        (rc = field(r, "runtime.g", "sched", &sp, NULL, err)))
        return rc;
    g->stack_lo = st + lo;
    g->stack_hi = st + hi;
    if ((rc = field(r, "runtime.gobuf", "sp", &st, NULL, err)) ||
        (rc = field(r, "runtime.gobuf", "pc", &pc, NULL, err)))
        return rc;
    g->sched_sp = sp + st;
    g->sched_pc = sp + pc;
    g->sched_bp = optional_field(r, "runtime.gobuf", "bp", &bp) == 0 ? sp + bp : 0;
    if ((rc = field(r, "runtime.g", "syscallsp", &g->syscallsp, NULL, err)) ||
        (rc = field(r, "runtime.g", "syscallpc", &g->syscallpc, NULL, err)) ||
        (rc = field(r, "runtime.g", "m", &g->m, NULL, err)) ||
        (rc = field(r, "runtime.g", "atomicstatus", &g->atomicstatus, &stsz, err)) ||
        (rc = field(r, "runtime.g", "goid", &g->goid, &g->goid_size, err)) ||
        (rc = field(r, "runtime.g", "waitsince", &g->waitsince, NULL, err)) ||
        (rc = field(r, "runtime.g", "waitreason", &g->waitreason, NULL, err)) ||
        (rc = field(r, "runtime.g", "gopc", &g->gopc, NULL, err)) ||
        (rc = field(r, "runtime.g", "startpc", &g->startpc, NULL, err)) ||
        (rc = field(r, "runtime.g", "lockedm", &g->lockedm, NULL, err)))
        return rc;
    if (optional_field(r, "runtime.g", "parentGoid", &g->parent_goid) != 0)
        g->parent_goid = 0;
    {
        const uint64_t offs[] = {g->stack_lo, g->stack_hi, g->sched_sp, g->sched_pc, g->syscallsp,
                                 g->syscallpc, g->m, g->atomicstatus, g->goid, g->waitsince,
                                 g->gopc, g->startpc, g->lockedm, g->parent_goid};

        g->span = 0;
        for (size_t i = 0; i < CG_ARRAY_SIZE(offs); i++)
            span_max(&g->span, offs[i], 8);
        span_max(&g->span, g->waitreason, 1);
        if (g->span > g->size || stsz < 4) {
            cg_seterr(err, "runtime.g layout is inconsistent (field past its size)");
            return -EINVAL;
        }
        /* What is re-read to see a goroutine change under us: from the
         * saved registers to the status and id. */
        lo = g->sched_sp < g->atomicstatus ? g->sched_sp : g->atomicstatus;
        hi = g->sched_pc > g->goid ? g->sched_pc : g->goid;
        if (g->syscallsp < lo)
            lo = g->syscallsp;
        if (g->syscallpc > hi)
            hi = g->syscallpc;
        g->recheck_lo = lo;
        g->recheck_len = hi + 8 - lo;
    }
    m->size = gotypes_size(r->types, "runtime.m");
    p->size = gotypes_size(r->types, "runtime.p");
    if (m->size == 0 || m->size > (1u << 20) || p->size == 0 || p->size > (1u << 20)) {
        cg_seterr(err, "runtime.m or runtime.p not found among the binary's type descriptors");
        return -ENOENT;
    }
    /* Widths as read by gort_ms, gort_ps and scan_globals. */
    if ((rc = field_w(r, "runtime.m", "g0", &m->g0, 8, err)) ||
        (rc = field_w(r, "runtime.m", "curg", &m->curg, 8, err)) ||
        (rc = field_w(r, "runtime.m", "procid", &m->procid, 8, err)) ||
        (rc = field_w(r, "runtime.m", "id", &m->id, 8, err)) ||
        (rc = field_w(r, "runtime.m", "alllink", &m->alllink, 8, err)) ||
        (rc = field_w(r, "runtime.m", "p", &m->p, 8, err)) ||
        (rc = field_w(r, "runtime.m", "spinning", &m->spinning, 1, err)) ||
        (rc = field_w(r, "runtime.p", "id", &p->id, 4, err)) ||
        (rc = field_w(r, "runtime.p", "status", &p->status, 4, err)) ||
        (rc = field_w(r, "runtime.p", "schedtick", &p->schedtick, 4, err)) ||
        (rc = field_w(r, "runtime.p", "syscalltick", &p->syscalltick, 4, err)) ||
        (rc = field_w(r, "runtime.p", "m", &p->m, 8, err)) ||
        (rc = field_w(r, "runtime.p", "runqhead", &p->runqhead, 4, err)) ||
        (rc = field_w(r, "runtime.p", "runqtail", &p->runqtail, 4, err)))
        return rc;
    return 0;
}

/* ---- globals -------------------------------------------------------------- */

/* Is addr a pointer into the target's heap-like memory (mapped, readable,
 * and not the executable's own image)? */
static int heap_ptr(gort_t *r, uint64_t addr, uint64_t len)
{
    return addr != 0 && (addr & 7) == 0 && gomem_valid(r->mem, addr, len);
}

static int g_at(gort_t *r, uint64_t gaddr, uint8_t *buf)
{
    return heap_ptr(r, gaddr, r->g.span) ? gomem_read(r->mem, gaddr, buf, r->g.span) : -EFAULT;
}

/* The data+bss ranges of the module, as the target has them. */
static size_t data_ranges(const gort_t *r, uint64_t lo[3], uint64_t hi[3])
{
    const uint64_t pairs[3][2] = {
        {r->mod.data, r->mod.edata}, {r->mod.bss, r->mod.ebss}, {r->mod.noptrbss, r->mod.enoptrbss}};
    size_t n = 0;

    for (size_t i = 0; i < 3; i++) {
        if (pairs[i][0] && pairs[i][1] > pairs[i][0] && pairs[i][1] - pairs[i][0] < (256u << 20)) {
            lo[n] = pairs[i][0] + (uint64_t)r->bias;
            hi[n] = pairs[i][1] + (uint64_t)r->bias;
            n++;
        }
    }
    return n;
}

/* Nodes of alllink chains already followed by the allm scan: each is
 * followed once, so pointers into a ring or a long chain that never
 * reaches m0 (a hostile target can lay them out in its data) cost one walk
 * in all, not one each. */
typedef struct {
    uint64_t *key; /* 0: empty */
    int64_t *dist; /* steps to m0, or -1: never reaches it (or not yet known) */
    size_t cap, n;
} nodes_t;

static int64_t *nodes_slot(nodes_t *t, uint64_t k, int insert)
{
    size_t i;

    if (insert && (t->n + 1) * 2 > t->cap) {
        nodes_t g = {0};

        g.cap = t->cap ? t->cap * 2 : 1024;
        g.key = cg_xcalloc(g.cap, sizeof *g.key);
        g.dist = cg_xcalloc(g.cap, sizeof *g.dist);
        for (size_t j = 0; j < t->cap; j++)
            if (t->key[j])
                *nodes_slot(&g, t->key[j], 1) = t->dist[j];
        free(t->key);
        free(t->dist);
        *t = g;
    }
    if (t->cap == 0)
        return NULL;
    for (i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1); t->key[i]; i = (i + 1) & (t->cap - 1))
        if (t->key[i] == k)
            return &t->dist[i];
    if (!insert)
        return NULL;
    t->key[i] = k;
    t->dist[i] = -1;
    t->n++;
    return &t->dist[i];
}

/* Steps from m along alllink to m0 (1 for m0 itself), or 0 when it never
 * gets there.  Every node walked is remembered in seen. */
static size_t allm_chain(gort_t *r, uint64_t m, nodes_t *seen, uint64_t **path, size_t *cap)
{
    size_t n = 0;
    int64_t tail = -1; /* steps from where the walk ended to m0; -1 never */

    for (;;) {
        int64_t *d;

        if (m == r->m0) {
            tail = 1;
            break;
        }
        if (m == 0 || seen->n >= 4 * ALLM_MAX)
            break;
        if ((d = nodes_slot(seen, m, 0)) != NULL) {
            tail = *d; /* known, or on this walk (a ring): -1 */
            break;
        }
        if (!gomem_valid(r->mem, m, r->m.size))
            break;
        *nodes_slot(seen, m, 1) = -1;
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *path = cg_xrealloc(*path, *cap * sizeof **path);
        }
        (*path)[n++] = m;
        if (read_word(r, m + r->m.alllink, &m) != 0)
            break;
    }
    for (size_t i = 0; i < n; i++)
        *nodes_slot(seen, (*path)[i], 0) = tail < 0 ? -1 : tail + (int64_t)(n - i);
    return tail < 0 ? 0 : (size_t)tail + n;
}

/* Scan the module's data and bss for the globals a stripped binary does not
 * name: allgs ({ptr,len,cap} whose first g has goid 1), allp (element i has
 * id i), m0 (procid is the pid, g0.m points back) and allm (a pointer whose
 * alllink chain ends at m0). */
static int scan_globals(gort_t *r, char *err)
{
    uint64_t lo[3], hi[3];
    size_t nr = data_ranges(r, lo, hi);
    uint8_t *gbuf = cg_xmalloc(r->g.span);
    int rc = 0;

    for (size_t k = 0; k < nr; k++) {
        uint64_t len = hi[k] - lo[k];
        uint8_t *d = cg_xmalloc(len + 24);

        memset(d + len, 0, 24);
        if (gomem_read(r->mem, lo[k], d, len) != 0) {
            free(d);
            continue;
        }
        for (uint64_t off = 0; off + 24 <= len; off += 8) {
            uint64_t a = le(d + off, 8), n = le(d + off + 8, 8), c = le(d + off + 16, 8);
            uint64_t first, v;

            if (r->m0 == 0 && off + r->m.size <= len && le(d + off + r->m.procid, 8) == (uint64_t)r->nspid) {
                uint64_t g0 = le(d + off + r->m.g0, 8);

                if (g_at(r, g0, gbuf) == 0 && le(gbuf + r->g.m, 8) == lo[k] + off)
                    r->m0 = lo[k] + off;
            }
            if (n == 0 || n > c || c >= ALLGS_MAX || !heap_ptr(r, a, 8 * n))
                continue;
            if (read_word(r, a, &first) != 0)
                continue;
            if (r->allgs == 0 && g_at(r, first, gbuf) == 0 &&
                le(gbuf + r->g.goid, r->g.goid_size > 8 ? 8 : r->g.goid_size) == 1 &&
                le(gbuf + r->g.stack_lo, 8) < le(gbuf + r->g.stack_hi, 8)) {
                r->allgs = lo[k] + off;
                continue;
            }
            if (r->allp == 0 && n <= ALLP_MAX && heap_ptr(r, first, r->p.size) &&
                gomem_read(r->mem, first + r->p.id, &v, 4) == 0 && (uint32_t)v == 0) {
                uint64_t last;
                int32_t id;

                if (read_word(r, a + 8 * (n - 1), &last) == 0 && heap_ptr(r, last, r->p.size) &&
                    gomem_read(r->mem, last + r->p.id, &id, 4) == 0 && id == (int32_t)(n - 1))
                    r->allp = lo[k] + off;
            }
        }
        free(d);
    }
    /* allm: the pointer in data/bss whose alllink chain is longest and
     * ends at m0. */
    if (r->m0) {
        size_t best = 0, pathcap = 0;
        nodes_t seen = {0};
        uint64_t *path = NULL;

        for (size_t k = 0; k < nr; k++) {
            uint64_t len = hi[k] - lo[k];
            uint8_t *d = cg_xmalloc(len);

            if (gomem_read(r->mem, lo[k], d, len) != 0) {
                free(d);
                continue;
            }
            for (uint64_t off = 0; off + 8 <= len; off += 8) {
                uint64_t m = le(d + off, 8);
                size_t steps;

                if (m != r->m0 && !heap_ptr(r, m, r->m.size))
                    continue;
                steps = allm_chain(r, m, &seen, &path, &pathcap);
                if (steps > best && lo[k] + off != r->m0 + r->m.alllink) {
                    best = steps;
                    r->allm = lo[k] + off;
                }
            }
            free(d);
        }
        free(seen.key);
        free(seen.dist);
        free(path);
    }
    if (r->allgs == 0) {
        cg_seterr(err, "runtime.allgs not found (no symbols, and no slice in the data whose first "
                       "goroutine has id 1)");
        rc = -ENOENT;
    }
    free(gbuf);
    return rc;
}

static void find_waitreasons(gort_t *r, uint64_t sym, uint64_t symsize)
{
    size_t nl;
    const goexe_range_t *loads = goexe_loads(r->exe, &nl);

    if (sym == 0) {
        /* Every release's table begins "", "GC assist marking", "IO wait". */
        for (size_t i = 0; i < nl && sym == 0; i++) {
            const goexe_range_t *l = &loads[i];

            if (!(l->flags & 2 /* PF_W */) || l->data == NULL)
                continue;
            for (uint64_t off = 0; off + 48 <= l->file_size; off += 8) {
                const uint8_t *p = l->data + off;
                const uint8_t *s1, *s2;

                if (le(p + 8, 8) != 0 || le(p + 24, 8) != 17 || le(p + 40, 8) != 7)
                    continue;
                s1 = goexe_bytes(r->exe, le(p + 16, 8), 17);
                s2 = goexe_bytes(r->exe, le(p + 32, 8), 7);
                if (s1 && s2 && memcmp(s1, "GC assist marking", 17) == 0 && memcmp(s2, "IO wait", 7) == 0) {
                    sym = l->addr + off;
                    break;
                }
            }
        }
        symsize = 16 * WAITREASONS_MAX;
    }
    if (sym == 0)
        return;
    for (int i = 0; i < WAITREASONS_MAX && (uint64_t)i * 16 + 16 <= symsize; i++) {
        const uint8_t *h = goexe_bytes(r->exe, sym + 16 * (uint64_t)i, 16);
        uint64_t len;
        const uint8_t *s;
        char *copy;

        if (h == NULL)
            break;
        len = le(h + 8, 8);
        if (len > 64)
            break;
        s = len ? goexe_bytes(r->exe, le(h, 8), len) : (const uint8_t *)"";
        if (s == NULL)
            break;
        for (uint64_t j = 0; j < len; j++)
            if (s[j] < 0x20 || s[j] > 0x7e)
                goto done;
        if (i > 0 && len == 0) /* past the table's end */
            break;
        copy = cg_xmalloc(len + 1);
        memcpy(copy, s, len);
        copy[len] = '\0';
        r->waitreasons[i] = copy;
        r->nwaitreasons = i + 1;
    }
done:;
}

static int find_globals(gort_t *r, char *err)
{
    static const char *const names[] = {
        "runtime.allgs", "runtime.allglen", "runtime.allm", "runtime.allp",
        "runtime.gomaxprocs", "runtime.m0", "runtime.waitReasonStrings",
    };
    uint64_t a[CG_ARRAY_SIZE(names)], sz[CG_ARRAY_SIZE(names)];

    goexe_symbols(r->exe, names, CG_ARRAY_SIZE(names), a, sz);
    find_waitreasons(r, a[6], sz[6]);
    if (a[0]) {
        r->allgs = a[0] + (uint64_t)r->bias;
        r->allglen = a[1] ? a[1] + (uint64_t)r->bias : 0;
        r->allm = a[2] ? a[2] + (uint64_t)r->bias : 0;
        r->allp = a[3] ? a[3] + (uint64_t)r->bias : 0;
        r->gomaxprocs = a[4] ? a[4] + (uint64_t)r->bias : 0;
        r->m0 = a[5] ? a[5] + (uint64_t)r->bias : 0;
        return 0;
    }
    return scan_globals(r, err);
}

/* ---- opening -------------------------------------------------------------- */

static int go_minor(const char *v)
{
    int major, minor;

    if (sscanf(v, "go%d.%d", &major, &minor) == 2 && major == 1)
        return minor;
    return 0;
}

/* The target's own pid for pid (the last NSpid field): in a container's
 * pid namespace the runtime records thread ids as the container sees them. */
static pid_t ns_pid(pid_t pid)
{
    char path[64], *text = NULL, *line;
    size_t len;
    long long v = pid;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (cg_read_file_at(AT_FDCWD, path, 1 << 16, &text, &len, NULL) != 0)
        return pid;
    line = strstr(text, "\nNSpid:");
    if (line) {
        char *end = strchr(line + 1, '\n'), *last;

        if (end)
            *end = '\0';
        last = strrchr(line, '\t');
        if (last == NULL || cg_parse_ll(cg_trim(last), 1, 0x7fffffff, &v) != 0)
            v = pid;
    }
    free(text);
    return (pid_t)v;
}

/* Everything after the executable and the memory are open: layouts,
 * tables, globals. */
static int setup(gort_t *r, const gobin_info_t *info, unsigned flags, char *err)
{
    uint64_t entry;
    int rc;

    if (!info->is_go) {
        cg_seterr(err, "pid %d is not a Go program", (int)r->pid);
        return -ENOEXEC;
    }
    cg_strlcpy(r->version, info->version, sizeof r->version);
    r->minor = go_minor(r->version);
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
    if ((rc = gotypes_open(r->exe, &r->mod, &r->types, err)) != 0 || (rc = load_layouts(r, err)) != 0)
        return rc;
    entry = gomem_auxv_entry(r->mem);
    r->bias = entry ? (int64_t)(entry - goexe_entry(r->exe)) : 0;
    if ((flags & GORT_STOP) && gomem_pid(r->mem) > 0 && (rc = gostop_seize(r->pid, &r->stop, err)) != 0)
        return rc;
    if (flags & GORT_RECORD)
        gomem_set_recording(r->mem, 1);
    if ((rc = find_globals(r, err)) != 0)
        return rc;
    r->cache = cg_xcalloc((size_t)1 << PCCACHE_BITS, sizeof *r->cache);
    return 0;
}

int gort_open(pid_t pid, unsigned flags, gort_t **out, char *err)
{
    gort_t *r = cg_xcalloc(1, sizeof *r);
    char path[64];
    gobin_info_t info;
    int rc;

    r->pid = pid;
    r->exefd = -1;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    r->exefd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->exefd < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            cg_seterr(err, "no such process: %d", (int)pid);
        else if (rc == -EACCES || rc == -EPERM)
            gomem_describe_error(pid, -EPERM, "open the executable of", err);
        else
            cg_seterr(err, "cannot open the executable of pid %d: %s", (int)pid, strerror(errno));
        goto fail;
    }
    r->nspid = ns_pid(pid);
    if ((rc = gobin_read_fd(r->exefd, &info, err)) != 0 ||
        (rc = goexe_open_fd(r->exefd, &r->exe, err)) != 0 ||
        (rc = gomem_open_pid(pid, &r->mem, err)) != 0 || (rc = setup(r, &info, flags, err)) != 0)
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
        (rc = gomem_open_image(mem, memsize, &r->mem, err)) != 0 || (rc = setup(r, &info, 0, err)) != 0) {
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
    gotypes_close(r->types);
    pcln_close(r->pcln);
    goexe_close(r->exe);
    if (r->exefd >= 0)
        close(r->exefd);
    free(r);
}

const char *gort_go_version(const gort_t *r)
{
    return r->version;
}

/* ---- symbolization -------------------------------------------------------- */

static int is_stop_function(const char *name)
{
    static const char *const stops[] = {
        "runtime.goexit", "runtime.mstart", "runtime.mstart0", "runtime.rt0_go", "runtime.mcall",
        "runtime.morestack", "runtime.systemstack", "runtime.asmcgocall", "runtime.cgocallback",
        "runtime.sigreturn", "runtime.sigreturn__sigaction",
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(stops); i++)
        if (strcmp(name, stops[i]) == 0)
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
    c->stop = is_stop_function(pcln_name(r->pcln, &f));
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

/* Requests closer than this are read as one range.  Each remote range costs
 * the kernel a page pin and a lookup (measured: ~0.45 us each, three
 * quarters of a million-goroutine read); g structs sit side by side in
 * their spans, so one range covers many. */
#define COALESCE_GAP 256
#define COALESCE_MAX (64u << 10)
#ifndef STACK_GAP
#define STACK_GAP 2048
#endif

static const gomem_req_t *sort_reqs;

static int by_addr(const void *a, const void *b)
{
    uint64_t x = sort_reqs[*(const size_t *)a].addr, y = sort_reqs[*(const size_t *)b].addr;

    return x < y ? -1 : x > y;
}

/* gomem_readv with neighbouring requests merged; a merged range that
 * fails is retried request by request, so one bad g never hides the
 * others.  Returns as gomem_readv. */
static long readv_coalesced(gort_t *r, gomem_req_t *reqs, size_t n, uint64_t gap)
{
    size_t *order = cg_xmalloc((n ? n : 1) * sizeof *order), nruns = 0;
    gomem_req_t *runs = cg_xmalloc((n ? n : 1) * sizeof *runs);
    size_t *first = cg_xmalloc((n ? n : 1) * sizeof *first), *count = cg_xmalloc((n ? n : 1) * sizeof *count);
    uint8_t *scratch;
    size_t total = 0, at = 0;
    long rc, good = 0;

    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        reqs[i].ok = 0;
    }
    sort_reqs = reqs;
    qsort(order, n, sizeof *order, by_addr);
    for (size_t k = 0; k < n; k++) {
        const gomem_req_t *q = &reqs[order[k]];
        gomem_req_t *run = nruns ? &runs[nruns - 1] : NULL;
        uint64_t end = run ? run->addr + run->len : 0;

        if (run && q->addr >= run->addr && q->addr <= end + gap &&
            q->addr + q->len - run->addr <= COALESCE_MAX && q->addr + q->len >= q->addr) {
            if (q->addr + q->len > end) {
                total += q->addr + q->len - end;
                run->len = q->addr + q->len - run->addr;
            }
            count[nruns - 1]++;
            continue;
        }
        runs[nruns].addr = q->addr;
        runs[nruns].len = q->len;
        first[nruns] = k;
        count[nruns] = 1;
        total += q->len;
        nruns++;
    }
    scratch = cg_xmalloc(total ? total : 1);
    for (size_t i = 0; i < nruns; i++) {
        runs[i].buf = scratch + at;
        at += runs[i].len;
    }
    rc = gomem_readv(r->mem, runs, nruns);
    if (rc >= 0) {
        for (size_t i = 0; i < nruns; i++) {
            for (size_t k = first[i]; k < first[i] + count[i]; k++) {
                gomem_req_t *q = &reqs[order[k]];

                if (runs[i].ok) {
                    memcpy(q->buf, (uint8_t *)runs[i].buf + (q->addr - runs[i].addr), q->len);
                    q->ok = 1;
                    good++;
                } else if (count[i] > 1 && gomem_read(r->mem, q->addr, q->buf, q->len) == 0) {
                    q->ok = 1;
                    good++;
                } else if (count[i] == 1) {
                    q->ok = 0;
                }
            }
        }
        rc = good;
    }
    free(scratch);
    free(order);
    free(runs);
    free(first);
    free(count);
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
    gomem_req_t *reqs = cg_xmalloc(BATCH * sizeof *reqs);
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

        if ((rc = gomem_read(r->mem, arr + 8 * base, ptrs, 8 * nb)) != 0)
            goto gone;
        for (size_t i = 0; i < nb; i++) {
            reqs[i].addr = ptrs[i];
            reqs[i].buf = raw + i * r->g.span;
            reqs[i].len = r->g.span;
        }
        if ((rc = (int)readv_coalesced(r, reqs, nb, COALESCE_GAP)) < 0)
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
            if (nw && (rc = (int)readv_coalesced(r, reqs, nw, STACK_GAP)) < 0)
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
                if (live && (rc = (int)readv_coalesced(r, reqs, live, COALESCE_GAP)) < 0)
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

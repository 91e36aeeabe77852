/* gort_layout.c -- where the runtime's data is: struct layouts from the
 * binary's type descriptors, globals from its symbols or, in a stripped
 * binary, from validated scans of the target's data and bss
 * (agentless-notes.md section 3)
 */
#include "gort_int.h"

#include "cgops/common.h"

#include <stdlib.h>
#include <string.h>

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

int gort__load_layouts(gort_t *r, char *err)
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

/* The largest data or bss range scanned, each read whole: real Go
 * programs have a few MiB (cmd/go 1.19: 0.3 MiB); a bigger one comes from
 * a corrupt or hostile moduledata and is not scanned. */
#define SCAN_RANGE_MAX (64u << 20)

/* The data+bss ranges of the module, as the target has them. */
static size_t data_ranges(const gort_t *r, uint64_t lo[3], uint64_t hi[3])
{
    const uint64_t pairs[3][2] = {
        {r->mod.data, r->mod.edata}, {r->mod.bss, r->mod.ebss}, {r->mod.noptrbss, r->mod.enoptrbss}};
    size_t n = 0;

    for (size_t i = 0; i < 3; i++) {
        if (pairs[i][0] && pairs[i][1] > pairs[i][0] && pairs[i][1] - pairs[i][0] <= SCAN_RANGE_MAX) {
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

int gort__find_globals(gort_t *r, char *err)
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


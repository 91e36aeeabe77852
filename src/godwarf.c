/* godwarf.c -- globals, struct layouts and constants from a Go binary's
 * DWARF (libdw), and the agent's memstats computed from a process's memory
 *
 * Go's linker puts every global, type and constant at the top level of its
 * compile unit, so open walks the top-level entries once and keeps three
 * sorted name indexes (names point into libdw's string table, which lives
 * as long as the Dwarf handle).
 */
#include "cgops/godwarf.h"

#include "cgops/common.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    Dwarf_Off off; /* the DIE */
} dent_t;

typedef struct {
    dent_t *e;
    size_t n, cap;
} dindex_t;

struct godwarf {
    Dwarf *dw;
    dindex_t vars, types, consts;
};

static void index_add(dindex_t *x, const char *name, Dwarf_Off off)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->e = cg_xrealloc(x->e, x->cap * sizeof *x->e);
    }
    x->e[x->n++] = (dent_t){name, off};
}

static int dent_cmp(const void *a, const void *b)
{
    const dent_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->off > y->off) - (x->off < y->off);
}

/* The first entry named name, or NULL. */
static const dent_t *index_find(const dindex_t *x, const char *name)
{
    size_t lo = 0, hi = x->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(x->e[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n && strcmp(x->e[lo].name, name) == 0 ? &x->e[lo] : NULL;
}

/* Does the ELF file on fd have a .debug_info section (compressed or not)? */
static int has_debug_info(int fd)
{
    Elf *e;
    Elf_Scn *scn = NULL;
    size_t shstrndx;
    int found = 0;

    if (elf_version(EV_CURRENT) == EV_NONE || (e = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL)
        return 0;
    if (elf_getshdrstrndx(e, &shstrndx) == 0) {
        while (!found && (scn = elf_nextscn(e, scn)) != NULL) {
            GElf_Shdr sh;
            const char *name;

            if (gelf_getshdr(scn, &sh) != NULL &&
                (name = elf_strptr(e, shstrndx, sh.sh_name)) != NULL)
                found = strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0;
        }
    }
    elf_end(e);
    return found;
}

int godwarf_open(int fd, godwarf_t **out, char *err)
{
    godwarf_t *d;
    Dwarf_Off off = 0, next;
    size_t hsize;

    d = cg_xcalloc(1, sizeof *d);
    d->dw = dwarf_begin(fd, DWARF_C_READ);
    if (d->dw == NULL) {
        int e = dwarf_errno();

        free(d);
        /* libdw does not export its error codes: tell "none" from
         * "unreadable" by the sections themselves. */
        if (!has_debug_info(fd)) {
            cg_seterr(err, "no DWARF (stripped with -s -w?)");
            return -ENOENT;
        }
        cg_seterr(err, "cannot read DWARF: %s", dwarf_errmsg(e));
        return -EINVAL;
    }
    while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, die;

        if (dwarf_offdie(d->dw, off + hsize, &cu) != NULL && dwarf_child(&cu, &die) == 0) {
            do {
                const char *name = dwarf_diename(&die);

                if (name == NULL)
                    continue;
                switch (dwarf_tag(&die)) {
                case DW_TAG_variable:
                    index_add(&d->vars, name, dwarf_dieoffset(&die));
                    break;
                case DW_TAG_structure_type:
                    /* A declaration without a size cannot give a layout. */
                    if (dwarf_hasattr(&die, DW_AT_byte_size))
                        index_add(&d->types, name, dwarf_dieoffset(&die));
                    break;
                case DW_TAG_constant:
                    index_add(&d->consts, name, dwarf_dieoffset(&die));
                    break;
                default:
                    break;
                }
            } while (dwarf_siblingof(&die, &die) == 0);
        }
        off = next;
    }
    qsort(d->vars.e, d->vars.n, sizeof *d->vars.e, dent_cmp);
    qsort(d->types.e, d->types.n, sizeof *d->types.e, dent_cmp);
    qsort(d->consts.e, d->consts.n, sizeof *d->consts.e, dent_cmp);
    *out = d;
    return 0;
}

void godwarf_close(godwarf_t *d)
{
    if (d == NULL)
        return;
    dwarf_end(d->dw);
    free(d->vars.e);
    free(d->types.e);
    free(d->consts.e);
    free(d);
}

/* The type a DIE's DW_AT_type names, through typedefs and qualifiers. */
static int die_type(Dwarf_Die *die, Dwarf_Die *type)
{
    Dwarf_Attribute a;
    Dwarf_Die cur;

    if (dwarf_formref_die(dwarf_attr(die, DW_AT_type, &a), &cur) == NULL)
        return -1;
    for (int hops = 0; hops < 16; hops++) {
        int tag = dwarf_tag(&cur);

        if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type) {
            *type = cur;
            return 0;
        }
        if (dwarf_formref_die(dwarf_attr(&cur, DW_AT_type, &a), &cur) == NULL)
            return -1;
    }
    return -1;
}

/* Walk path through the struct at st: the offset from st and the last
 * field's type. */
static int walk_path(Dwarf_Die *st, const char *path, uint64_t *offset, Dwarf_Die *type)
{
    Dwarf_Die cur = *st;
    const char *c = path;
    uint64_t off = 0;

    for (;;) {
        const char *dot = strchr(c, '.');
        size_t clen = dot ? (size_t)(dot - c) : strlen(c);
        Dwarf_Die mem;
        int found = 0;

        if (dwarf_tag(&cur) != DW_TAG_structure_type || dwarf_child(&cur, &mem) != 0)
            return -ENOENT;
        do {
            const char *name = dwarf_diename(&mem);
            Dwarf_Attribute a;
            Dwarf_Word loc;

            if (dwarf_tag(&mem) != DW_TAG_member || name == NULL || strlen(name) != clen ||
                memcmp(name, c, clen) != 0)
                continue;
            if (dwarf_formudata(dwarf_attr(&mem, DW_AT_data_member_location, &a), &loc) != 0 ||
                die_type(&mem, &cur) != 0)
                return -ENOENT;
            off += loc;
            found = 1;
            break;
        } while (dwarf_siblingof(&mem, &mem) == 0);
        if (!found)
            return -ENOENT;
        if (dot == NULL)
            break;
        c = dot + 1;
    }
    *offset = off;
    *type = cur;
    return 0;
}

static int type_die(godwarf_t *d, const char *type, Dwarf_Die *die)
{
    const dent_t *e = index_find(&d->types, type);

    return e && dwarf_offdie(d->dw, e->off, die) != NULL ? 0 : -ENOENT;
}

int godwarf_field(godwarf_t *d, const char *type, const char *path, gofield_t *f)
{
    Dwarf_Die st, ft;
    Dwarf_Word size;
    uint64_t off;

    if (type_die(d, type, &st) != 0 || walk_path(&st, path, &off, &ft) != 0 ||
        dwarf_aggregate_size(&ft, &size) != 0)
        return -ENOENT;
    f->offset = off;
    f->size = size;
    return 0;
}

static int var_die(godwarf_t *d, const char *name, Dwarf_Die *die, uint64_t *addr)
{
    const dent_t *e = index_find(&d->vars, name);
    Dwarf_Attribute a;
    Dwarf_Block b;

    /* Go writes a global's location as a 9-byte block: DW_OP_addr and the
     * 8-byte address (DW_FORM_block1, which dwarf_getlocation does not
     * take in a DWARF 4 unit), so the block is read as it is. */
    if (e == NULL || dwarf_offdie(d->dw, e->off, die) == NULL ||
        dwarf_formblock(dwarf_attr(die, DW_AT_location, &a), &b) != 0 || b.length != 9 ||
        b.data[0] != DW_OP_addr)
        return -ENOENT;
    *addr = goexe_le(b.data + 1, 8);
    return 0;
}

int godwarf_global(godwarf_t *d, const char *name, uint64_t *addr)
{
    Dwarf_Die die;

    return var_die(d, name, &die, addr);
}

int godwarf_const(godwarf_t *d, const char *name, int64_t *v)
{
    const dent_t *e = index_find(&d->consts, name);
    Dwarf_Die die;
    Dwarf_Attribute a;
    Dwarf_Sword s;

    if (e == NULL || dwarf_offdie(d->dw, e->off, &die) == NULL ||
        dwarf_formsdata(dwarf_attr(&die, DW_AT_const_value, &a), &s) != 0)
        return -ENOENT;
    *v = s;
    return 0;
}

/* A field of a global ("runtime.memstats", "heapStats.stats"), or the
 * global itself when path is NULL: its address and size. */
static int global_field(godwarf_t *d, const char *name, const char *path, uint64_t *addr,
                        uint64_t *size)
{
    Dwarf_Die var, type, ft;
    Dwarf_Word sz;
    uint64_t off = 0;

    if (var_die(d, name, &var, addr) != 0 || die_type(&var, &type) != 0)
        return -ENOENT;
    if (path) {
        if (walk_path(&type, path, &off, &ft) != 0)
            return -ENOENT;
        type = ft;
    }
    if (dwarf_aggregate_size(&type, &sz) != 0)
        return -ENOENT;
    *addr += off;
    *size = sz;
    return 0;
}

/* ---- memstats ----------------------------------------------------------------- */

/* One resolved location: a global's field, or a field offset inside a
 * struct the formulas reach through a pointer (p, mcache, mspan). */
typedef struct {
    uint64_t addr; /* link-time; 0 for struct offsets */
    uint64_t off;  /* for struct offsets */
    uint64_t size;
} loc_t;

/* Go 1.19's readmemstats_m (runtime/mstats.go) and heapGoalInternal
 * (runtime/mgcpacer.go), by field name. */
typedef struct {
    /* runtime.memstats */
    loc_t stats;      /* heapStats.stats: [3]heapStatsDelta, summed by unsafeRead */
    uint64_t hsd_size; /* sizeof(heapStatsDelta) */
    loc_t inStacks, inWorkBufs, inPtrScalarBits, tinyAllocCount, largeAlloc, largeAllocCount,
        smallAllocCount, largeFree, largeFreeCount, smallFreeCount; /* offsets in heapStatsDelta */
    loc_t stacks_sys, mspan_sys, mcache_sys, buckhash_sys, gcMiscSys, other_sys, last_gc_unix,
        pause_total_ns, pause_ns, pause_end, numgc, numforcedgc, gc_cpu_fraction;
    /* runtime.gcController */
    loc_t heapInUse, heapFree, heapReleased, gcPercentHeapGoal, sweepDistMinTrigger, triggered,
        memoryLimit, heapMarked, totalAlloc, totalFree, mappedReady;
    /* runtime.mheap_ */
    loc_t spanalloc_inuse, cachealloc_inuse;
    /* sizes and the unflushed mcaches */
    loc_t class_to_size, allp, emptymspan;
    loc_t p_mcache, mc_alloc, mc_tinyAllocs, sp_allocCount, sp_allocCountBeforeCache;
} plan119_t;

struct godwarf_msplan {
    int minor;
    plan119_t v;
};

static const char *const no_missing[] = {NULL};

/* Bounds on what the DWARF may say, so a hostile binary cannot make the
 * reader allocate or index without limit (Go 1.19: 68 size classes, 136
 * span classes, a 1.1 KiB heapStatsDelta, 3 of them). */
#define NSIZE_MAX 256
#define NSPANS_MAX (2 * NSIZE_MAX)
#define HSD_MAX 65536
#define NSTATS_MAX 8

static int need(int rc, const char *what, char *err)
{
    if (rc != 0)
        cg_seterr(err, "the DWARF has no %s (needed for memstats)", what);
    return rc;
}

static int gfield(godwarf_t *d, const char *var, const char *path, loc_t *l, char *err)
{
    char what[256];

    snprintf(what, sizeof what, "%s%s%s", var, path ? "." : "", path ? path : "");
    l->off = 0;
    return need(global_field(d, var, path, &l->addr, &l->size), what, err);
}

static int tfield(godwarf_t *d, const char *type, const char *path, loc_t *l, char *err)
{
    char what[256];
    gofield_t f = {0, 0};
    int rc = godwarf_field(d, type, path, &f);

    snprintf(what, sizeof what, "%s.%s", type, path);
    l->addr = 0;
    l->off = f.offset;
    l->size = f.size;
    return need(rc, what, err);
}

static int plan119(godwarf_t *d, plan119_t *v, char *err)
{
    static const struct {
        const char *name;
        size_t off;
    } hsd[] = {
        {"inStacks", offsetof(plan119_t, inStacks)},
        {"inWorkBufs", offsetof(plan119_t, inWorkBufs)},
        {"inPtrScalarBits", offsetof(plan119_t, inPtrScalarBits)},
        {"tinyAllocCount", offsetof(plan119_t, tinyAllocCount)},
        {"largeAlloc", offsetof(plan119_t, largeAlloc)},
        {"largeAllocCount", offsetof(plan119_t, largeAllocCount)},
        {"smallAllocCount", offsetof(plan119_t, smallAllocCount)},
        {"largeFree", offsetof(plan119_t, largeFree)},
        {"largeFreeCount", offsetof(plan119_t, largeFreeCount)},
        {"smallFreeCount", offsetof(plan119_t, smallFreeCount)},
    }, ms[] = {
        {"stacks_sys", offsetof(plan119_t, stacks_sys)},
        {"mspan_sys", offsetof(plan119_t, mspan_sys)},
        {"mcache_sys", offsetof(plan119_t, mcache_sys)},
        {"buckhash_sys", offsetof(plan119_t, buckhash_sys)},
        {"gcMiscSys", offsetof(plan119_t, gcMiscSys)},
        {"other_sys", offsetof(plan119_t, other_sys)},
        {"last_gc_unix", offsetof(plan119_t, last_gc_unix)},
        {"pause_total_ns", offsetof(plan119_t, pause_total_ns)},
        {"pause_ns", offsetof(plan119_t, pause_ns)},
        {"pause_end", offsetof(plan119_t, pause_end)},
        {"numgc", offsetof(plan119_t, numgc)},
        {"numforcedgc", offsetof(plan119_t, numforcedgc)},
        {"gc_cpu_fraction", offsetof(plan119_t, gc_cpu_fraction)},
    }, gc[] = {
        {"heapInUse", offsetof(plan119_t, heapInUse)},
        {"heapFree", offsetof(plan119_t, heapFree)},
        {"heapReleased", offsetof(plan119_t, heapReleased)},
        {"gcPercentHeapGoal", offsetof(plan119_t, gcPercentHeapGoal)},
        {"sweepDistMinTrigger", offsetof(plan119_t, sweepDistMinTrigger)},
        {"triggered", offsetof(plan119_t, triggered)},
        {"memoryLimit", offsetof(plan119_t, memoryLimit)},
        {"heapMarked", offsetof(plan119_t, heapMarked)},
        {"totalAlloc", offsetof(plan119_t, totalAlloc)},
        {"totalFree", offsetof(plan119_t, totalFree)},
        {"mappedReady", offsetof(plan119_t, mappedReady)},
    };
    int rc;

    if ((rc = gfield(d, "runtime.memstats", "heapStats.stats", &v->stats, err)) != 0)
        return rc;
    for (size_t i = 0; i < CG_ARRAY_SIZE(hsd); i++)
        if ((rc = tfield(d, "runtime.heapStatsDelta", hsd[i].name,
                         (loc_t *)((char *)v + hsd[i].off), err)) != 0)
            return rc;
    for (size_t i = 0; i < CG_ARRAY_SIZE(ms); i++)
        if ((rc = gfield(d, "runtime.memstats", ms[i].name, (loc_t *)((char *)v + ms[i].off),
                         err)) != 0)
            return rc;
    for (size_t i = 0; i < CG_ARRAY_SIZE(gc); i++)
        if ((rc = gfield(d, "runtime.gcController", gc[i].name,
                         (loc_t *)((char *)v + gc[i].off), err)) != 0)
            return rc;
    if ((rc = gfield(d, "runtime.mheap_", "spanalloc.inuse", &v->spanalloc_inuse, err)) ||
        (rc = gfield(d, "runtime.mheap_", "cachealloc.inuse", &v->cachealloc_inuse, err)) ||
        (rc = gfield(d, "runtime.class_to_size", NULL, &v->class_to_size, err)) ||
        (rc = gfield(d, "runtime.allp", NULL, &v->allp, err)) ||
        (rc = gfield(d, "runtime.emptymspan", NULL, &v->emptymspan, err)) ||
        (rc = tfield(d, "runtime.p", "mcache", &v->p_mcache, err)) ||
        (rc = tfield(d, "runtime.mcache", "alloc", &v->mc_alloc, err)) ||
        (rc = tfield(d, "runtime.mcache", "tinyAllocs", &v->mc_tinyAllocs, err)) ||
        (rc = tfield(d, "runtime.mspan", "allocCount", &v->sp_allocCount, err)) ||
        (rc = tfield(d, "runtime.mspan", "allocCountBeforeCache", &v->sp_allocCountBeforeCache,
                     err)))
        return rc;
    {
        Dwarf_Die st;
        Dwarf_Word sz;

        if (type_die(d, "runtime.heapStatsDelta", &st) != 0 || dwarf_aggregate_size(&st, &sz) != 0)
            return need(-ENOENT, "runtime.heapStatsDelta", err);
        v->hsd_size = sz;
    }
    /* The formulas below index these arrays by size class and read these
     * fields with fixed widths: check that the binary agrees, so that no
     * read below leaves its buffer whatever the DWARF said. */
    if (v->hsd_size == 0 || v->hsd_size > HSD_MAX || v->stats.size % v->hsd_size != 0 ||
        v->stats.size / v->hsd_size > NSTATS_MAX || v->smallAllocCount.size % 8 ||
        v->smallAllocCount.size != v->smallFreeCount.size ||
        v->smallAllocCount.size / 8 > NSIZE_MAX ||
        v->class_to_size.size * 4 != v->smallAllocCount.size || v->pause_ns.size != 256 * 8 ||
        v->pause_end.size != 256 * 8 || v->numgc.size != 4 || v->gc_cpu_fraction.size != 8 ||
        v->mc_alloc.size % 8 || v->mc_alloc.size / 8 > NSPANS_MAX || v->sp_allocCount.size != 2 ||
        v->sp_allocCountBeforeCache.size != 2 || v->allp.size != 24)
        goto bad;
    for (size_t i = 0; i < CG_ARRAY_SIZE(hsd); i++) {
        const loc_t *l = (const loc_t *)((const char *)v + hsd[i].off);

        if (l->off > v->hsd_size || l->size > v->hsd_size - l->off ||
            (l->size != 8 && l != &v->smallAllocCount && l != &v->smallFreeCount))
            goto bad;
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(ms); i++) {
        const loc_t *l = (const loc_t *)((const char *)v + ms[i].off);

        if (l->size > 8 && l != &v->pause_ns && l != &v->pause_end)
            goto bad;
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(gc); i++)
        if (((const loc_t *)((const char *)v + gc[i].off))->size != 8)
            goto bad;
    if (v->spanalloc_inuse.size != 8 || v->cachealloc_inuse.size != 8 || v->p_mcache.size != 8 ||
        v->mc_tinyAllocs.size != 8)
        goto bad;
    return 0;
bad:
    cg_seterr(err, "the runtime's memstats fields do not have the sizes of Go 1.19's");
    return -ENOENT;
}

int godwarf_memstats_plan(godwarf_t *d, int go_minor, godwarf_msplan_t **out, char *err)
{
    godwarf_msplan_t *p;
    int rc;

    if (go_minor != 19) {
        cg_seterr(err, "agentless memstats is not supported for go1.%d (only go1.19)", go_minor);
        return -ENOTSUP;
    }
    p = cg_xcalloc(1, sizeof *p);
    p->minor = go_minor;
    if ((rc = plan119(d, &p->v, err)) != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void godwarf_memstats_plan_free(godwarf_msplan_t *p)
{
    free(p);
}

const char *const *godwarf_memstats_missing(const godwarf_msplan_t *p)
{
    (void)p;
    return no_missing;
}

/* ---- reading -------------------------------------------------------------------- */

typedef struct {
    godwarf_read_fn read;
    void *ctx;
    uint64_t bias;
    char *err;
    int rc;
} rd_t;

static int rd(rd_t *r, uint64_t addr, void *buf, size_t len)
{
    int rc;

    if (r->rc)
        return r->rc;
    if ((rc = r->read(r->ctx, addr, buf, len)) != 0) {
        cg_seterr(r->err, "cannot read the target's memory at %#llx: %s",
                  (unsigned long long)addr, strerror(-rc));
        r->rc = rc;
    }
    return rc;
}

/* An unsigned integer of l->size bytes at a global's field. */
static uint64_t rd_u(rd_t *r, const loc_t *l)
{
    uint8_t b[8] = {0};

    if (l->size > 8 || rd(r, l->addr + r->bias, b, l->size) != 0)
        return 0;
    return goexe_le(b, (int)l->size);
}

/* The same at a struct's field reached through a pointer. */
static uint64_t rd_at(rd_t *r, uint64_t base, const loc_t *l)
{
    uint8_t b[8] = {0};

    if (l->size > 8 || rd(r, base + l->off, b, l->size) != 0)
        return 0;
    return goexe_le(b, (int)l->size);
}

/* The sums readmemstats_m takes of the consistent heap stats, with what
 * flushing every P's mcache would add (mcache.releaseAll). */
typedef struct {
    uint64_t inStacks, inWorkBufs, inPtrScalarBits; /* int64 in the runtime: summed mod 2^64 as Go does */
    uint64_t totalAlloc, totalFree, nMalloc, nFree;
    uint64_t flushedBytes; /* what the flush adds to gcController.totalAlloc */
} heapsum_t;

#define ALLP_MAX 100000 /* GOMAXPROCS is at most 2^31 - 1, but allp that long is not real */

static int heap_sums(const plan119_t *v, rd_t *r, heapsum_t *h)
{
    size_t nsize = v->smallAllocCount.size / 8, nstats = v->stats.size / v->hsd_size;
    uint64_t small_alloc[NSIZE_MAX] = {0}, small_free[NSIZE_MAX] = {0}, tiny = 0;
    uint64_t large_alloc = 0, large_count = 0, large_free = 0, large_free_count = 0;
    uint16_t class_size[NSIZE_MAX];
    uint8_t *buf;
    uint64_t allp[3], empty = v->emptymspan.addr + r->bias;

    memset(h, 0, sizeof *h);
    if (rd(r, v->class_to_size.addr + r->bias, class_size, nsize * 2) != 0)
        return r->rc;
    buf = cg_xmalloc(v->hsd_size);
    for (size_t i = 0; i < nstats; i++) {
        const uint8_t *s = buf;

        if (rd(r, v->stats.addr + r->bias + i * v->hsd_size, buf, v->hsd_size) != 0)
            break;
        h->inStacks += goexe_le(s + v->inStacks.off, 8);
        h->inWorkBufs += goexe_le(s + v->inWorkBufs.off, 8);
        h->inPtrScalarBits += goexe_le(s + v->inPtrScalarBits.off, 8);
        tiny += goexe_le(s + v->tinyAllocCount.off, 8);
        large_alloc += goexe_le(s + v->largeAlloc.off, 8);
        large_count += goexe_le(s + v->largeAllocCount.off, 8);
        large_free += goexe_le(s + v->largeFree.off, 8);
        large_free_count += goexe_le(s + v->largeFreeCount.off, 8);
        for (size_t k = 0; k < nsize; k++) {
            small_alloc[k] += goexe_le(s + v->smallAllocCount.off + k * 8, 8);
            small_free[k] += goexe_le(s + v->smallFreeCount.off + k * 8, 8);
        }
    }
    free(buf);
    if (r->rc)
        return r->rc;

    /* Each P's mcache: the slots used in its cached spans since they were
     * cached, and its tiny allocations, are published only by a flush. */
    if (rd(r, v->allp.addr + r->bias, allp, sizeof allp) != 0)
        return r->rc;
    if (allp[1] > ALLP_MAX || allp[1] > allp[2]) {
        cg_seterr(r->err, "runtime.allp has length %llu: not a live Go runtime",
                  (unsigned long long)allp[1]);
        return -EIO;
    }
    for (uint64_t i = 0; i < allp[1]; i++) {
        uint64_t pp = 0, mc, nspans = v->mc_alloc.size / 8, spans[NSPANS_MAX];
        if (rd(r, allp[0] + i * 8, &pp, 8) != 0)
            return r->rc;
        if (pp == 0)
            continue;
        mc = rd_at(r, pp, &v->p_mcache);
        if (r->rc)
            return r->rc;
        if (mc == 0)
            continue;
        if (rd(r, mc + v->mc_alloc.off, spans, nspans * 8) != 0)
            return r->rc;
        tiny += rd_at(r, mc, &v->mc_tinyAllocs);
        for (uint64_t k = 0; k < nspans; k++) {
            uint64_t used, cnt, before, sc = k >> 1; /* spanClass: sizeclass<<1 | noscan */

            if (spans[k] == 0 || spans[k] == empty || sc >= nsize)
                continue;
            cnt = rd_at(r, spans[k], &v->sp_allocCount);
            before = rd_at(r, spans[k], &v->sp_allocCountBeforeCache);
            if (r->rc)
                return r->rc;
            used = cnt - before;
            small_alloc[sc] += used;
            h->flushedBytes += used * class_size[sc];
        }
        if (r->rc)
            return r->rc;
    }

    h->totalAlloc = large_alloc;
    h->nMalloc = large_count;
    h->totalFree = large_free;
    h->nFree = large_free_count;
    for (size_t k = 0; k < nsize; k++) {
        h->totalAlloc += small_alloc[k] * class_size[k];
        h->nMalloc += small_alloc[k];
        h->totalFree += small_free[k] * class_size[k];
        h->nFree += small_free[k];
    }
    /* Tiny allocations count as both a malloc and a free (MemStats' own
     * historical rule). */
    h->nFree += tiny;
    h->nMalloc += tiny;
    return 0;
}

/* gcControllerState.heapGoal of Go 1.19, with the flush's allocations in
 * totalAlloc as readmemstats_m would have them. */
static uint64_t heap_goal119(const plan119_t *v, rd_t *r, uint64_t flushed)
{
    uint64_t goal = rd_u(r, &v->gcPercentHeapGoal);
    uint64_t heapFree = rd_u(r, &v->heapFree);
    uint64_t heapAlloc = rd_u(r, &v->totalAlloc) + flushed - rd_u(r, &v->totalFree);
    uint64_t mappedReady = rd_u(r, &v->mappedReady);
    uint64_t limit = rd_u(r, &v->memoryLimit), heapMarked = rd_u(r, &v->heapMarked);
    uint64_t nonHeap = mappedReady - heapFree - heapAlloc, overage = 0, mgoal;
    const uint64_t headroom = 1 << 20, minRunway = 64 << 10;

    /* memoryLimitHeapGoal */
    if (mappedReady > limit)
        overage = mappedReady - limit;
    if (nonHeap + overage >= limit) {
        mgoal = heapMarked;
    } else {
        mgoal = limit - (nonHeap + overage);
        if (mgoal < headroom || mgoal - headroom < headroom)
            mgoal = headroom;
        else
            mgoal -= headroom;
        if (mgoal < heapMarked)
            mgoal = heapMarked;
    }
    if (mgoal < goal) {
        goal = mgoal;
    } else {
        uint64_t sweep = rd_u(r, &v->sweepDistMinTrigger), trig = rd_u(r, &v->triggered);

        if (sweep > goal)
            goal = sweep;
        if (trig != UINT64_MAX && goal < trig + minRunway)
            goal = trig + minRunway;
    }
    return goal;
}

static void put(godwarf_msval_t *vals, size_t *n, const char *key, godwarf_mskind_t kind,
                uint64_t u)
{
    vals[*n] = (godwarf_msval_t){key, kind, u, 0};
    (*n)++;
}

int godwarf_memstats_read(const godwarf_msplan_t *p, uint64_t bias, godwarf_read_fn read,
                          void *ctx, godwarf_msval_t *vals, size_t *n, char *err)
{
    const plan119_t *v = &p->v;
    rd_t r = {read, ctx, bias, err, 0};
    heapsum_t h;
    uint64_t inUse, hfree, released, stacks_sys, mspan_sys, mcache_sys, buckhash, gcmisc, other;
    uint64_t inStacks, inWB, inPSB, numgc, pause_ns = 0, pause_end = 0, nextgc;
    uint64_t last_gc, pause_total, forced, span_inuse, cache_inuse, frac;
    int rc;

    *n = 0;
    if ((rc = heap_sums(v, &r, &h)) != 0)
        return rc;
    inUse = rd_u(&r, &v->heapInUse);
    hfree = rd_u(&r, &v->heapFree);
    released = rd_u(&r, &v->heapReleased);
    stacks_sys = rd_u(&r, &v->stacks_sys);
    mspan_sys = rd_u(&r, &v->mspan_sys);
    mcache_sys = rd_u(&r, &v->mcache_sys);
    buckhash = rd_u(&r, &v->buckhash_sys);
    gcmisc = rd_u(&r, &v->gcMiscSys);
    other = rd_u(&r, &v->other_sys);
    last_gc = rd_u(&r, &v->last_gc_unix);
    pause_total = rd_u(&r, &v->pause_total_ns);
    numgc = rd_u(&r, &v->numgc);
    forced = rd_u(&r, &v->numforcedgc);
    frac = rd_u(&r, &v->gc_cpu_fraction);
    span_inuse = rd_u(&r, &v->spanalloc_inuse);
    cache_inuse = rd_u(&r, &v->cachealloc_inuse);
    /* The agent prints the last pause: index (NumGC+255)%256 of the
     * circular buffers. */
    rd(&r, v->pause_ns.addr + bias + ((numgc + 255) % 256) * 8, &pause_ns, 8);
    rd(&r, v->pause_end.addr + bias + ((numgc + 255) % 256) * 8, &pause_end, 8);
    nextgc = heap_goal119(v, &r, h.flushedBytes);
    if (r.rc)
        return r.rc;
    inStacks = h.inStacks;
    inWB = h.inWorkBufs;
    inPSB = h.inPtrScalarBits;

    put(vals, n, "alloc", GODWARF_MS_BYTES, h.totalAlloc - h.totalFree);
    put(vals, n, "total-alloc", GODWARF_MS_BYTES, h.totalAlloc);
    put(vals, n, "sys", GODWARF_MS_BYTES,
        inUse + hfree + released + stacks_sys + mspan_sys + mcache_sys + buckhash + gcmisc +
            other + inStacks + inWB + inPSB);
    put(vals, n, "lookups", GODWARF_MS_COUNT, 0); /* never set since Go 1.x: always 0 */
    put(vals, n, "mallocs", GODWARF_MS_COUNT, h.nMalloc);
    put(vals, n, "frees", GODWARF_MS_COUNT, h.nFree);
    put(vals, n, "heap-alloc", GODWARF_MS_BYTES, h.totalAlloc - h.totalFree);
    put(vals, n, "heap-sys", GODWARF_MS_BYTES, inUse + hfree + released);
    put(vals, n, "heap-idle", GODWARF_MS_BYTES, hfree + released);
    put(vals, n, "heap-in-use", GODWARF_MS_BYTES, inUse);
    put(vals, n, "heap-released", GODWARF_MS_BYTES, released);
    put(vals, n, "heap-objects", GODWARF_MS_COUNT, h.nMalloc - h.nFree);
    put(vals, n, "stack-in-use", GODWARF_MS_BYTES, inStacks);
    put(vals, n, "stack-sys", GODWARF_MS_BYTES, inStacks + stacks_sys);
    put(vals, n, "mspan-in-use", GODWARF_MS_BYTES, span_inuse);
    put(vals, n, "mspan-sys", GODWARF_MS_BYTES, mspan_sys);
    put(vals, n, "mcache-in-use", GODWARF_MS_BYTES, cache_inuse);
    put(vals, n, "mcache-sys", GODWARF_MS_BYTES, mcache_sys);
    put(vals, n, "buck-hash-sys", GODWARF_MS_BYTES, buckhash);
    put(vals, n, "other-sys", GODWARF_MS_BYTES, other);
    put(vals, n, "gc-sys", GODWARF_MS_BYTES, gcmisc + inWB + inPSB);
    put(vals, n, "next-gc", GODWARF_MS_BYTES, nextgc);
    put(vals, n, "last-gc", GODWARF_MS_UNIX_NS, last_gc);
    put(vals, n, "gc-pause-total", GODWARF_MS_NS, pause_total);
    put(vals, n, "gc-pause", GODWARF_MS_COUNT, pause_ns);
    put(vals, n, "gc-pause-end", GODWARF_MS_COUNT, pause_end);
    put(vals, n, "num-gc", GODWARF_MS_COUNT, numgc);
    put(vals, n, "num-forced-gc", GODWARF_MS_COUNT, forced);
    {
        double f;

        memcpy(&f, &frac, sizeof f);
        put(vals, n, "gc-cpu-fraction", GODWARF_MS_FLOAT, 0);
        vals[*n - 1].f = f;
    }
    put(vals, n, "enable-gc", GODWARF_MS_BOOL, 1); /* readmemstats_m sets it true */
    put(vals, n, "debug-gc", GODWARF_MS_BOOL, 0);  /* never set by the runtime */
    return 0;
}

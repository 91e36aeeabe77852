/* pclntab.c -- a Go program's own PC table: PC to function, file:line, frame size
 *
 * Layout (Go 1.16+; our wording of runtime/symtab.go and cmd/link's pcln.go):
 * a header {magic u32, 0, 0, quantum u8, ptrsize u8, nfunc, nfiles,
 * [textStart: 1.18+], funcnameOffset, cuOffset, filetabOffset, pctabOffset,
 * pclnOffset} in pointer-sized words, offsets relative to the header.  Then
 * five tables: function names, the per-compilation-unit file index (u32),
 * file names, the pc-value tables, and "pclntable", which starts with the
 * sorted function table {entry, funcoff} x nfunc+1 (uintptr pairs of
 * absolute PCs in 1.16-1.17, u32 pairs of offsets from the text start
 * since 1.18) followed by each function's _func record.
 *
 * Nothing here trusts the table: each table gets its own bounds from the
 * header once in pcln_open, and every later read goes through a checked
 * accessor, so a strange binary costs an error, never a stray read.
 */
#include "cgops/pclntab.h"

#include "cgops/common.h"

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u
#define MAGIC_12  0xfffffffbu /* Go 1.2-1.15 */

/* Bound on the function count: the largest real programs have a few
 * hundred thousand; this only keeps arithmetic far from overflow. */
#define NFUNC_MAX (1u << 26)
/* Inline chains the walk follows before giving up (a cycle in a hostile
 * table; real chains are a handful deep). */
#define INLINE_DEPTH_MAX 256
/* moduledata word indexes (runtime.moduledata, pointer words): the header
 * pointer, six slices, findfunctab, minpc, maxpc, then text. */
#define MD_TEXT        22
#define MD_GOFUNC_118  38 /* 1.18-1.19: ... types, etypes, rodata, gofunc */
#define MD_GOFUNC_120  40 /* 1.20+: covctrs, ecovctrs came before end */
#define MD_WORDS       41

typedef struct {
    const uint8_t *p;
    uint64_t n;
} span_t;

struct pcln {
    const goexe_t *x;
    uint64_t addr;       /* link-time address of the header */
    const uint8_t *base; /* its bytes */
    uint64_t size;       /* bytes of the table available in the file */
    int version;         /* 116, 118, 120 */
    uint32_t quantum;
    uint32_t nfunc;
    uint64_t text;       /* 1.18+: base of entry offsets; 0 = unknown */
    uint64_t gofunc;     /* 1.18+: base of funcdata offsets; 0 = unknown */
    span_t names, cutab, files, pctab, pcln;
    unsigned ftab_entsz; /* bytes per function-table entry: 16 or 8 */
    unsigned func_hdr;   /* bytes of a _func before its pcdata offsets */
    unsigned entry_sz;   /* bytes of _func's first field: 8 (1.16) or 4 */
};

static uint64_t ftab_entry(const pcln_t *p, uint32_t i);
static uint64_t ftab_funcoff(const pcln_t *p, uint32_t i);

/* ---- checked reads -------------------------------------------------------- */

static int rd32(span_t s, uint64_t off, uint32_t *v)
{
    if (off > s.n || s.n - off < 4)
        return -1;
    *v = (uint32_t)goexe_le(s.p + off, 4);
    return 0;
}

static int rd64(span_t s, uint64_t off, uint64_t *v)
{
    if (off > s.n || s.n - off < 8)
        return -1;
    *v = goexe_le(s.p + off, 8);
    return 0;
}

/* A NUL-terminated string at off inside s, else "?". */
static const char *str_at(span_t s, uint64_t off)
{
    if (off >= s.n || memchr(s.p + off, 0, s.n - off) == NULL)
        return "?";
    return (const char *)s.p + off;
}

/* The runtime's varint: 7 bits a byte, low first, at most 32 bits. */
static int uvarint(span_t s, uint64_t *off, uint32_t *v)
{
    uint32_t r = 0;

    for (unsigned shift = 0; shift < 35; shift += 7) {
        uint8_t b;

        if (*off >= s.n)
            return -1;
        b = s.p[(*off)++];
        r |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* ---- locating the table ----------------------------------------------------- */

static int magic_version(uint32_t m)
{
    switch (m) {
    case MAGIC_116: return 116;
    case MAGIC_118: return 118;
    case MAGIC_120: return 120;
    }
    return 0;
}

static unsigned header_size(int version)
{
    return version == 116 ? 8 + 7 * 8 : 8 + 8 * 8;
}

/* Set up p from the header at base (size bytes available).  0, -ENOTSUP
 * or -EINVAL with err set. */
static int parse_header(pcln_t *p, const uint8_t *base, uint64_t size, char *err)
{
    uint64_t w[8], off[5], ends[5];
    uint32_t magic;
    unsigned nw;

    if (size < 8) {
        cg_seterr(err, "pclntab: header cut short");
        return -EINVAL;
    }
    magic = (uint32_t)goexe_le(base, 4);
    if (magic == MAGIC_12) {
        cg_seterr(err, "pclntab: Go 1.15 and older not supported");
        return -ENOTSUP;
    }
    p->version = magic_version(magic);
    if (p->version == 0) {
        cg_seterr(err, "pclntab: unknown magic 0x%08x", (unsigned)magic);
        return -EINVAL;
    }
    if (base[4] != 0 || base[5] != 0 || base[7] != 8 || (base[6] != 1)) {
        cg_seterr(err, "pclntab: header for quantum %u, pointer size %u: only amd64 is read",
                  base[6], base[7]);
        return base[4] || base[5] ? -EINVAL : -ENOTSUP;
    }
    p->quantum = base[6];
    nw = p->version == 116 ? 7 : 8;
    if (size < header_size(p->version)) {
        cg_seterr(err, "pclntab: header cut short");
        return -EINVAL;
    }
    for (unsigned i = 0; i < nw; i++)
        w[i] = goexe_le(base + 8 + 8 * i, 8);
    if (w[0] == 0 || w[0] > NFUNC_MAX) {
        cg_seterr(err, "pclntab: bad function count %llu", (unsigned long long)w[0]);
        return -EINVAL;
    }
    p->nfunc = (uint32_t)w[0];
    if (p->version != 116)
        p->text = w[2];
    /* The five table offsets, each bounded by the next one above it (they
     * are laid out in this order, but nothing here depends on that). */
    memcpy(off, &w[nw - 5], sizeof off);
    for (int i = 0; i < 5; i++) {
        if (off[i] < header_size(p->version) || off[i] > size) {
            cg_seterr(err, "pclntab: table offset 0x%llx outside the table",
                      (unsigned long long)off[i]);
            return -EINVAL;
        }
        ends[i] = size;
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            if (off[j] > off[i] && off[j] < ends[i])
                ends[i] = off[j];
    p->names = (span_t){base + off[0], ends[0] - off[0]};
    p->cutab = (span_t){base + off[1], ends[1] - off[1]};
    p->files = (span_t){base + off[2], ends[2] - off[2]};
    p->pctab = (span_t){base + off[3], ends[3] - off[3]};
    p->pcln = (span_t){base + off[4], ends[4] - off[4]};
    p->ftab_entsz = p->version == 116 ? 16 : 8;
    p->entry_sz = p->version == 116 ? 8 : 4;
    p->func_hdr = p->version == 118 ? 40 : 44;
    if (((uint64_t)p->nfunc + 1) * p->ftab_entsz > p->pcln.n) {
        cg_seterr(err, "pclntab: function table (%u functions) larger than the table", p->nfunc);
        return -EINVAL;
    }
    p->base = base;
    p->size = size;
    return 0;
}

/* Does a header at base look real?  For the scan: the magic alone also
 * turns up in code and data.  The linker writes the five tables in order
 * after the header (each aligned, so not always right after it), and the
 * first function-table entry points at a record of the same function. */
static int header_plausible(const uint8_t *base, uint64_t size)
{
    pcln_t t;
    const uint8_t *tabs[5];
    uint64_t entry, funcoff, fentry;

    memset(&t, 0, sizeof t);
    if (parse_header(&t, base, size, NULL) != 0)
        return 0;
    tabs[0] = t.names.p, tabs[1] = t.cutab.p, tabs[2] = t.files.p, tabs[3] = t.pctab.p;
    tabs[4] = t.pcln.p;
    if (tabs[0] - base > (ptrdiff_t)header_size(t.version) + 64)
        return 0;
    for (int i = 0; i < 4; i++)
        if (tabs[i] >= tabs[i + 1])
            return 0;
    t.text = 0; /* compare offsets, not addresses */
    entry = ftab_entry(&t, 0);
    funcoff = ftab_funcoff(&t, 0);
    if (funcoff > t.pcln.n || t.pcln.n - funcoff < t.func_hdr)
        return 0;
    fentry = goexe_le(t.pcln.p + funcoff, t.entry_sz);
    return fentry == entry && entry <= ftab_entry(&t, 1);
}

/* Link-time address of the moduledata, 0 when none is found.  Go 1.26 gives
 * it a section; symbols name it; else it is the word in a writable segment
 * that points at the header and whose funcnametab slice agrees. */
static uint64_t find_moduledata(const pcln_t *p)
{
    static const char *const names[] = {"runtime.firstmoduledata"};
    goexe_range_t r;
    uint64_t addr;
    const goexe_range_t *loads;
    size_t nload;

    if (goexe_section(p->x, ".go.module", &r) == 0 && r.data && r.file_size >= MD_WORDS * 8)
        return r.addr;
    if (goexe_symbols(p->x, names, 1, &addr, NULL) == 1)
        return addr;
    loads = goexe_loads(p->x, &nload);
    for (size_t i = 0; i < nload; i++) {
        const goexe_range_t *l = &loads[i];
        uint64_t scan = l->file_size < (64u << 20) ? l->file_size : (64u << 20);

        if (!(l->flags & PF_W) || l->data == NULL)
            continue;
        for (uint64_t off = (8 - (l->addr & 7)) & 7; off + MD_WORDS * 8 <= scan; off += 8) {
            if (goexe_le(l->data + off, 8) != p->addr)
                continue;
            if (goexe_le(l->data + off + 8, 8) ==
                p->addr + (uint64_t)(p->names.p - p->base))
                return l->addr + off;
        }
    }
    return 0;
}

static uint64_t moduledata_word(const pcln_t *p, uint64_t md, unsigned i)
{
    const uint8_t *b = goexe_bytes(p->x, md + 8ull * i, 8);

    return b ? goexe_le(b, 8) : 0;
}

/* Text start and funcdata base, from what the file says (Go 1.18+). */
static void find_bases(pcln_t *p)
{
    static const char *const names[] = {"runtime.text", "go:func.*", "go.func.*"};
    uint64_t addrs[3], md = 0;
    int md_done = 0;

    if (p->version == 116)
        return;
    goexe_symbols(p->x, names, 3, addrs, NULL);
    /* runtime.text over the header: a PIE's header word is relocated at
     * run time, so the file may hold 0 or the unrelocated value there. */
    if (addrs[0])
        p->text = addrs[0];
    p->gofunc = addrs[1] ? addrs[1] : addrs[2];
    if (p->text == 0) {
        md = find_moduledata(p);
        md_done = 1;
        if (md)
            p->text = moduledata_word(p, md, MD_TEXT);
    }
    if (p->gofunc == 0) {
        if (!md_done)
            md = find_moduledata(p);
        if (md)
            p->gofunc = moduledata_word(p, md, p->version == 118 ? MD_GOFUNC_118 : MD_GOFUNC_120);
    }
}

int pcln_open(const goexe_t *x, pcln_t **out, char *err)
{
    static const char *const secs[] = {".gopclntab", ".data.rel.ro.gopclntab"};
    static const char *const syms[] = {"runtime.pcheader", "runtime.pclntab",
                                       "runtime.epclntab"};
    pcln_t *p = cg_xcalloc(1, sizeof *p);
    goexe_range_t r;
    uint64_t addrs[3], sizes[3];
    const uint8_t *b;
    int rc = -ENOENT;

    p->x = x;
    for (size_t i = 0; i < CG_ARRAY_SIZE(secs); i++) {
        if (goexe_section(x, secs[i], &r) == 0 && r.data) {
            p->addr = r.addr;
            rc = parse_header(p, r.data, r.file_size, err);
            goto found;
        }
    }
    if (goexe_symbols(x, syms, 3, addrs, sizes) > 0) {
        uint64_t start = addrs[0] ? addrs[0] : addrs[1];
        uint64_t len = 0;

        if (start && addrs[2] > start)
            len = addrs[2] - start;
        else if (start)
            len = addrs[0] ? 0 : sizes[1];
        if (start && len && (b = goexe_bytes(x, start, len)) != NULL) {
            p->addr = start;
            rc = parse_header(p, b, len, err);
            goto found;
        }
    }
    {
        /* No section and no symbol: look for a header that holds
         * together in every segment with file bytes.  The linker aligns
         * the table, so 8-byte steps suffice. */
        size_t nload;
        const goexe_range_t *loads = goexe_loads(x, &nload);

        for (size_t i = 0; i < nload; i++) {
            const goexe_range_t *l = &loads[i];

            if (l->data == NULL)
                continue;
            for (uint64_t off = (8 - (l->addr & 7)) & 7; off + 8 <= l->file_size; off += 8) {
                uint32_t m = (uint32_t)goexe_le(l->data + off, 4);

                if ((m & 0xfffffff0u) != 0xfffffff0u || (magic_version(m) == 0 && m != MAGIC_12))
                    continue;
                if (m == MAGIC_12) {
                    if (l->data[off + 4] == 0 && l->data[off + 5] == 0 && l->data[off + 6] == 1 &&
                        l->data[off + 7] == 8) {
                        cg_seterr(err, "pclntab: Go 1.15 and older not supported");
                        rc = -ENOTSUP;
                    }
                    continue;
                }
                if (header_plausible(l->data + off, l->file_size - off)) {
                    p->addr = l->addr + off;
                    rc = parse_header(p, l->data + off, l->file_size - off, err);
                    goto found;
                }
            }
        }
    }
    if (rc == -ENOENT)
        cg_seterr(err, "no Go PC table (.gopclntab) found");
found:
    if (rc != 0) {
        free(p);
        return rc;
    }
    find_bases(p);
    *out = p;
    return 0;
}

void pcln_close(pcln_t *p)
{
    free(p);
}

uint64_t pcln_addr(const pcln_t *p)
{
    return p->addr;
}

int pcln_magic_version(const pcln_t *p)
{
    return p->version;
}

void pcln_set_text(pcln_t *p, uint64_t text)
{
    if (p->version != 116)
        p->text = text;
}

uint64_t pcln_text(const pcln_t *p)
{
    return p->version == 116 ? 0 : p->text;
}

void pcln_set_gofunc(pcln_t *p, uint64_t gofunc)
{
    p->gofunc = gofunc;
}

uint64_t pcln_gofunc(const pcln_t *p)
{
    return p->gofunc;
}

uint32_t pcln_nfunc(const pcln_t *p)
{
    return p->nfunc;
}

/* ---- functions -------------------------------------------------------------- */

/* Entry PC of function-table slot i (0 <= i <= nfunc; bounds checked in
 * pcln_open). */
static uint64_t ftab_entry(const pcln_t *p, uint32_t i)
{
    const uint8_t *e = p->pcln.p + (uint64_t)i * p->ftab_entsz;

    if (p->version == 116)
        return goexe_le(e, 8);
    return p->text + goexe_le(e, 4);
}

static uint64_t ftab_funcoff(const pcln_t *p, uint32_t i)
{
    const uint8_t *e = p->pcln.p + (uint64_t)i * p->ftab_entsz;

    if (p->version == 116)
        return goexe_le(e + 8, 8);
    return goexe_le(e + 4, 4);
}

int pcln_func_at(const pcln_t *p, uint32_t i, pcln_func_t *f)
{
    uint64_t off;

    if (i >= p->nfunc || (p->version != 116 && p->text == 0))
        return -ENOENT;
    off = ftab_funcoff(p, i);
    /* The record's fixed part must be inside pclntable; the variable part
     * (pcdata, funcdata) is checked where it is read. */
    if (off > UINT32_MAX || off > p->pcln.n || p->pcln.n - off < p->func_hdr)
        return -ENOENT;
    f->entry = ftab_entry(p, i);
    f->end = ftab_entry(p, i + 1);
    f->func_off = (uint32_t)off;
    if (f->end < f->entry)
        return -ENOENT;
    return 0;
}

int pcln_find(const pcln_t *p, uint64_t pc, pcln_func_t *f)
{
    uint32_t lo = 0, hi = p->nfunc;

    if (p->version != 116 && p->text == 0)
        return -ENOENT;
    if (pc < ftab_entry(p, 0) || pc >= ftab_entry(p, p->nfunc))
        return -ENOENT;
    /* The last slot whose entry is <= pc. */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (ftab_entry(p, mid) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (pcln_func_at(p, lo, f) != 0 || pc < f->entry || pc >= f->end)
        return -ENOENT;
    return 0;
}

/* u32 field at byte offset off of f's record (inside the fixed part). */
static uint32_t func_u32(const pcln_t *p, const pcln_func_t *f, unsigned off)
{
    return (uint32_t)goexe_le(p->pcln.p + f->func_off + off, 4);
}

/* Is f a record pcln_func_at could have made? (Callers may pass anything.) */
static int func_ok(const pcln_t *p, const pcln_func_t *f)
{
    return f->func_off <= p->pcln.n && p->pcln.n - f->func_off >= p->func_hdr;
}

/* Byte offsets in _func: the first field is the entry (8 bytes in 1.16,
 * a 4-byte offset since); then u32 nameoff, args, deferreturn, pcsp,
 * pcfile, pcln, npcdata, cuOffset, [startLine 1.20+], then the bytes
 * funcID, flag, pad, nfuncdata. */
#define F_NAME(p)    ((p)->entry_sz + 0)
#define F_PCSP(p)    ((p)->entry_sz + 12)
#define F_PCFILE(p)  ((p)->entry_sz + 16)
#define F_PCLN(p)    ((p)->entry_sz + 20)
#define F_NPCDATA(p) ((p)->entry_sz + 24)
#define F_CU(p)      ((p)->entry_sz + 28)
#define F_FUNCID(p)  ((p)->func_hdr - 4)
#define F_NFUNCDATA(p) ((p)->func_hdr - 1)

const char *pcln_name(const pcln_t *p, const pcln_func_t *f)
{
    if (!func_ok(p, f))
        return "?";
    return str_at(p->names, func_u32(p, f, F_NAME(p)));
}

int pcln_funcid(const pcln_t *p, const pcln_func_t *f)
{
    if (!func_ok(p, f))
        return -EINVAL;
    return p->pcln.p[f->func_off + F_FUNCID(p)];
}

/* The value of the pc-value table at pctab offset tab for pc in f.
 * Pairs (zig-zag value delta, pc delta x quantum) from value -1 at the
 * entry; a zero value delta after the first pair ends the table.  The walk
 * stops at f's end: a table that never gets there is bad. */
static int pcvalue(const pcln_t *p, const pcln_func_t *f, uint32_t tab, uint64_t pc, int32_t *out)
{
    uint64_t off = tab, cur = f->entry;
    uint32_t val = (uint32_t)-1;
    /* Each real pair covers at least one instruction quantum. */
    uint64_t steps = (f->end - f->entry) / p->quantum + 2;

    if (pc < f->entry || pc >= f->end)
        return -ENOENT;
    if (tab == 0)
        return -ENOENT;
    for (uint64_t i = 0; i < steps; i++) {
        uint32_t uv, pcd;

        if (uvarint(p->pctab, &off, &uv) != 0)
            return -EINVAL;
        if (uv == 0 && i > 0)
            return -ENOENT; /* the table ended before pc */
        if (uvarint(p->pctab, &off, &pcd) != 0)
            return -EINVAL;
        /* Unsigned arithmetic: a hostile delta wraps instead of being
         * undefined; the value is reinterpreted as the runtime's int32. */
        val += (uv & 1) ? ~(uv >> 1) : (uv >> 1);
        cur += (uint64_t)pcd * p->quantum;
        if (pc < cur) {
            *out = (int32_t)val;
            return 0;
        }
        if (cur >= f->end)
            return -ENOENT;
    }
    return -EINVAL;
}

int pcln_spdelta(const pcln_t *p, const pcln_func_t *f, uint64_t pc, int32_t *delta)
{
    if (!func_ok(p, f))
        return -EINVAL;
    return pcvalue(p, f, func_u32(p, f, F_PCSP(p)), pc, delta);
}

/* File name of per-CU file index fileno in f's compilation unit. */
static const char *cu_file(const pcln_t *p, const pcln_func_t *f, int32_t fileno)
{
    uint32_t off;
    uint64_t idx = (uint64_t)func_u32(p, f, F_CU(p)) + (uint32_t)fileno;

    if (fileno < 0 || rd32(p->cutab, idx * 4, &off) != 0 || off == UINT32_MAX)
        return "?";
    return str_at(p->files, off);
}

int pcln_fileline(const pcln_t *p, const pcln_func_t *f, uint64_t pc, const char **file,
                  int32_t *line)
{
    int32_t fileno, ln;
    int rc;

    if (!func_ok(p, f))
        return -EINVAL;
    if ((rc = pcvalue(p, f, func_u32(p, f, F_PCFILE(p)), pc, &fileno)) != 0)
        return rc;
    if ((rc = pcvalue(p, f, func_u32(p, f, F_PCLN(p)), pc, &ln)) != 0)
        return rc;
    *file = cu_file(p, f, fileno);
    *line = ln;
    return 0;
}

int pcln_pcdata(const pcln_t *p, const pcln_func_t *f, uint32_t idx, uint64_t pc, int32_t *val)
{
    uint32_t tab;
    span_t rec;

    if (!func_ok(p, f))
        return -EINVAL;
    rec = (span_t){p->pcln.p + f->func_off, p->pcln.n - f->func_off};
    if (idx >= func_u32(p, f, F_NPCDATA(p)) || rd32(rec, p->func_hdr + 4ull * idx, &tab) != 0 ||
        tab == 0) {
        *val = -1;
        return 0;
    }
    return pcvalue(p, f, tab, pc, val);
}

/* Link-time address of f's inline tree, 0 when it has none or it cannot
 * be located. */
static uint64_t inline_tree(const pcln_t *p, const pcln_func_t *f)
{
    span_t rec = {p->pcln.p + f->func_off, p->pcln.n - f->func_off};
    uint32_t npcdata = func_u32(p, f, F_NPCDATA(p));
    uint8_t nfuncdata = p->pcln.p[f->func_off + F_NFUNCDATA(p)];
    uint64_t at = p->func_hdr + 4ull * npcdata;

    if (nfuncdata <= PCLN_FUNCDATA_INLTREE || npcdata > p->pcln.n)
        return 0;
    if (p->version == 116) {
        uint64_t v;

        /* 1.16-1.17: pointer-sized absolute addresses, aligned to 8 in
         * the address space, as the runtime reads them. */
        uint64_t abs = p->addr + (uint64_t)(p->pcln.p - p->base) + f->func_off + at;

        at += abs & 4;
        if (rd64(rec, at + 8ull * PCLN_FUNCDATA_INLTREE, &v) != 0)
            return 0;
        return v;
    } else {
        uint32_t v;

        if (p->gofunc == 0 || rd32(rec, at + 4ull * PCLN_FUNCDATA_INLTREE, &v) != 0 ||
            v == UINT32_MAX)
            return 0;
        return p->gofunc + v;
    }
}

int pcln_frames(const pcln_t *p, uint64_t pc, pcln_frame_t *out, int max)
{
    pcln_func_t f;
    uint64_t tree, tracepc = pc;
    const char *file;
    int32_t line;
    int n = 0;

    if (max < 1)
        return -EINVAL;
    if (pcln_find(p, pc, &f) != 0)
        return -ENOENT;
    tree = inline_tree(p, &f);
    /* Each inlined call is an entry of the tree; PCDATA_InlTreeIndex at a
     * pc names the innermost one, and the entry's parentPc is an
     * instruction of the caller at the call site, where the walk goes on
     * (as the runtime's own traceback does). */
    for (int depth = 0; tree && depth < INLINE_DEPTH_MAX; depth++) {
        int32_t ix;
        const uint8_t *e;
        uint32_t nameoff, parentpc;
        unsigned esz = p->version == 120 ? 16 : 20;

        if (pcln_pcdata(p, &f, PCLN_PCDATA_INLTREEINDEX, tracepc, &ix) != 0 || ix < 0)
            break;
        e = goexe_bytes(p->x, tree + (uint64_t)ix * esz, esz);
        if (e == NULL)
            break;
        if (p->version == 120) { /* funcID, pad[3], nameOff, parentPc, startLine */
            nameoff = (uint32_t)goexe_le(e + 4, 4);
            parentpc = (uint32_t)goexe_le(e + 8, 4);
        } else { /* parent i16, funcID, pad, file, line, func_, parentPc */
            nameoff = (uint32_t)goexe_le(e + 12, 4);
            parentpc = (uint32_t)goexe_le(e + 16, 4);
        }
        if (n < max - 1) {
            out[n].function = str_at(p->names, nameoff);
            if (pcln_fileline(p, &f, tracepc, &file, &line) != 0) {
                file = "?";
                line = 0;
            }
            out[n].file = file;
            out[n].line = line;
            out[n].inlined = 1;
            n++;
        }
        if (parentpc >= f.end - f.entry)
            break;
        tracepc = f.entry + parentpc;
    }
    out[n].function = pcln_name(p, &f);
    if (pcln_fileline(p, &f, tracepc, &file, &line) != 0) {
        file = "?";
        line = 0;
    }
    out[n].file = file;
    out[n].line = line;
    out[n].inlined = 0;
    return n + 1;
}

/* gotype.c -- module data and struct layouts from a Go executable itself
 *
 * moduledata: the linker's table that starts with the pclntab address and
 * lists text, data, bss and the type region.  Its head changed in Go 1.18
 * (rodata, gofunc), 1.20 (covctrs) and 1.26 (epclntab), so each known
 * layout is a row of offsets below; a candidate must pass range checks
 * under its layout and then agree with the runtime.moduledata type
 * descriptor found through it.
 *
 * Struct layouts: every struct type the program allocates has a runtime
 * type descriptor in [types, etypes) listing its fields by name, offset
 * and type.  A named struct's name is stored with a leading '*' (tflag
 * extraStar) so that its pointer type can share the bytes.  Open walks the
 * region once at pointer alignment, keeps each struct descriptor whose
 * name decodes, and sorts them by name; a field query then walks the
 * field lists, which never changes the index.
 *
 * Encodings that changed: a name's length is two bytes big-endian up to
 * Go 1.16 and a uvarint since 1.17; a field's third word is
 * offset<<1|embedded up to Go 1.18 and the plain offset since 1.19.  The
 * first is told per name (only the right decoding yields a name that
 * starts with '*'), the second from the runtime's own structs (only the
 * right reading packs their fields without overlap inside the struct).
 */
#include "cgops/gotype.h"

#include "cgops/common.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* runtime._type / internal/abi.Type on amd64 (48 bytes), then for a
 * struct type its package path (a name pointer) and its field slice. */
enum {
    T_SIZE = 0,
    T_TFLAG = 20,
    T_KIND = 23,
    T_STR = 40,
    T_LEN = 48,
    ST_FIELDS = 56, /* {ptr, len, cap} */
    ST_LEN = 80,
    F_NAME = 0, /* structfield: name pointer, type pointer, offset word */
    F_TYP = 8,
    F_OFF = 16,
    F_LEN = 24,
};
#define KIND_MASK 31u
#define KIND_STRUCT 25u
#define TFLAG_EXTRASTAR 2u

/* Bounds against hostile descriptors: the runtime's largest structs have
 * a few hundred fields and are far below a gigabyte. */
#define FIELDS_MAX 4096u
#define TYPE_SIZE_MAX ((uint64_t)1 << 32)
#define TYPELINKS_MAX ((uint64_t)1 << 24)

/* ---- moduledata ---------------------------------------------------------- */

/* Byte offsets in runtime.moduledata on amd64.  The head up to enoptrbss
 * is the same in every release from 1.16 on: pcHeader, six slices
 * (funcnametab .. ftab), findfunctab, minpc, maxpc, then text. */
enum {
    MD_PCHEADER = 0,
    MD_MINPC = 160,
    MD_MAXPC = 168,
    MD_TEXT = 176,
    MD_ETEXT = 184,
    MD_NOPTRDATA = 192,
    MD_ENOPTRDATA = 200,
    MD_DATA = 208,
    MD_EDATA = 216,
    MD_BSS = 224,
    MD_EBSS = 232,
    MD_NOPTRBSS = 240,
    MD_ENOPTRBSS = 248,
    MD_HEAD_LEN = 400, /* enough bytes to hold every field read below */
};

typedef struct {
    int min_minor, max_minor;
    uint16_t covctrs; /* covctrs, ecovctrs follow; 0 when absent */
    uint16_t end;
    uint16_t types; /* etypes follows */
    uint16_t rodata, gofunc;
    uint16_t typelinks; /* {ptr, len, cap} of int32 */
} mdlayout_t;

static const mdlayout_t layouts[] = {
    {16, 17, 0, 256, 280, 0, 0, 320},
    {18, 19, 0, 256, 280, 296, 304, 336},
    {20, 25, 256, 272, 296, 312, 320, 352},
    {26, 99, 256, 272, 296, 312, 320, 360}, /* epclntab at 328 */
};

/* [addr, addr+len) inside one PT_LOAD's memory image, with its flags. */
static int in_load(const goexe_t *x, uint64_t addr, uint64_t len, unsigned need)
{
    size_t n;
    const goexe_range_t *l = goexe_loads(x, &n);

    for (size_t i = 0; i < n; i++) {
        if (addr < l[i].addr || addr - l[i].addr > l[i].size)
            continue;
        if (len > l[i].size - (addr - l[i].addr))
            continue;
        if ((l[i].flags & need) == need)
            return 1;
    }
    return 0;
}

static int range_ok(const goexe_t *x, uint64_t lo, uint64_t hi, unsigned need)
{
    return lo <= hi && in_load(x, lo, hi - lo, need);
}

/* Read md under layout ly into out; 1 when every range checks out. */
static int md_parse(const goexe_t *x, uint64_t addr, const uint8_t *md, const mdlayout_t *ly,
                    uint64_t pclntab_addr, gomod_t *out)
{
    gomod_t m = {0};
    uint64_t minpc = goexe_le(md + MD_MINPC, 8), maxpc = goexe_le(md + MD_MAXPC, 8);
    uint64_t end = goexe_le(md + ly->end, 8), pchdr = goexe_le(md + MD_PCHEADER, 8);
    uint64_t tlcap;

    m.addr = addr;
    m.text = goexe_le(md + MD_TEXT, 8);
    m.etext = goexe_le(md + MD_ETEXT, 8);
    m.noptrdata = goexe_le(md + MD_NOPTRDATA, 8);
    m.enoptrdata = goexe_le(md + MD_ENOPTRDATA, 8);
    m.data = goexe_le(md + MD_DATA, 8);
    m.edata = goexe_le(md + MD_EDATA, 8);
    m.bss = goexe_le(md + MD_BSS, 8);
    m.ebss = goexe_le(md + MD_EBSS, 8);
    m.noptrbss = goexe_le(md + MD_NOPTRBSS, 8);
    m.enoptrbss = goexe_le(md + MD_ENOPTRBSS, 8);
    m.types = goexe_le(md + ly->types, 8);
    m.etypes = goexe_le(md + ly->types + 8, 8);
    if (ly->rodata) {
        m.rodata = goexe_le(md + ly->rodata, 8);
        m.gofunc = goexe_le(md + ly->gofunc, 8);
    }
    m.typelinks = goexe_le(md + ly->typelinks, 8);
    m.ntypelinks = goexe_le(md + ly->typelinks + 8, 8);
    tlcap = goexe_le(md + ly->typelinks + 16, 8);

    if (pclntab_addr ? pchdr != pclntab_addr : goexe_bytes(x, pchdr, 8) == NULL)
        return 0;
    /* The text range is executable; minpc..maxpc, the functions, lie in it. */
    if (m.text >= m.etext || !range_ok(x, m.text, m.etext, PF_X))
        return 0;
    if (minpc < m.text || minpc >= maxpc || maxpc > m.etext)
        return 0;
    /* The type descriptors must be in the file: they are what we read next. */
    if (m.types >= m.etypes || goexe_bytes(x, m.types, m.etypes - m.types) == NULL)
        return 0;
    if (!range_ok(x, m.noptrdata, m.enoptrdata, PF_W) || !range_ok(x, m.data, m.edata, PF_W) ||
        !range_ok(x, m.bss, m.ebss, PF_W) || !range_ok(x, m.noptrbss, m.enoptrbss, PF_W))
        return 0;
    /* runtime.end closes the last data section. */
    if (end < m.enoptrbss || end < m.ebss || !in_load(x, end, 0, PF_W))
        return 0;
    if (ly->covctrs) {
        uint64_t c = goexe_le(md + ly->covctrs, 8), ec = goexe_le(md + ly->covctrs + 8, 8);

        if (c > ec || !in_load(x, c, ec - c, PF_W))
            return 0;
    }
    if (ly->rodata && (!in_load(x, m.rodata, 0, PF_R) || !in_load(x, m.gofunc, 0, PF_R)))
        return 0;
    if (m.ntypelinks > tlcap || m.ntypelinks > TYPELINKS_MAX ||
        (m.ntypelinks && goexe_bytes(x, m.typelinks, m.ntypelinks * 4) == NULL))
        return 0;
    *out = m;
    return 1;
}

/* When the binary describes runtime.moduledata itself, each field we read
 * must sit where the layout says: a layout that merely passed the range
 * checks by chance (two releases' rows can overlap) is caught here.
 * Returns 2 when the descriptor confirms the layout, 1 when the binary has
 * no such descriptor, 0 when it contradicts the layout. */
static int md_crosscheck(const goexe_t *x, const gomod_t *m, const mdlayout_t *ly)
{
    const struct {
        const char *name;
        unsigned off; /* 0: this release has no such field */
    } want[] = {
        {"text", MD_TEXT},          {"etext", MD_ETEXT},          {"noptrdata", MD_NOPTRDATA},
        {"enoptrbss", MD_ENOPTRBSS}, {"types", ly->types},         {"etypes", ly->types + 8u},
        {"rodata", ly->rodata},     {"gofunc", ly->gofunc},       {"typelinks", ly->typelinks},
        {"covctrs", ly->covctrs},   {"end", ly->end},
    };
    gotypes_t *t;
    int ok = 2;

    if (gotypes_open(x, m, &t, NULL) != 0)
        return 0; /* the type region we found does not parse: wrong layout */
    if (gotypes_size(t, "runtime.moduledata") == 0)
        ok = 1;
    for (size_t i = 0; i < CG_ARRAY_SIZE(want) && ok == 2; i++) {
        gofield_t f;
        int rc = gotypes_field(t, "runtime.moduledata", want[i].name, &f);

        if (want[i].off == 0 ? rc == 0 : rc != 0 || f.offset != want[i].off)
            ok = 0;
    }
    gotypes_close(t);
    return ok;
}

/* The best reading of the moduledata at addr: 2 (confirmed by the type
 * descriptor), 1 (ranges check out, no descriptor to ask), 0 (none). */
static int try_candidate(const goexe_t *x, uint64_t addr, uint64_t pclntab_addr, int go_minor,
                         gomod_t *out)
{
    const uint8_t *md = goexe_bytes(x, addr, MD_HEAD_LEN);
    int order[CG_ARRAY_SIZE(layouts)], n = 0, best = 0;

    if (md == NULL)
        return 0;
    /* The layout of the release we were told first, then the others, so a
     * wrong or unknown version string still finds the module data. */
    for (size_t i = 0; i < CG_ARRAY_SIZE(layouts); i++)
        if (go_minor >= layouts[i].min_minor && go_minor <= layouts[i].max_minor)
            order[n++] = (int)i;
    for (size_t i = 0; i < CG_ARRAY_SIZE(layouts); i++)
        if (!(go_minor >= layouts[i].min_minor && go_minor <= layouts[i].max_minor))
            order[n++] = (int)i;
    for (int k = 0; k < n; k++) {
        const mdlayout_t *ly = &layouts[order[k]];
        gomod_t m;
        int q;

        if (!md_parse(x, addr, md, ly, pclntab_addr, &m))
            continue;
        q = md_crosscheck(x, &m, ly);
        if (q > best) {
            best = q;
            *out = m;
        }
        if (best == 2)
            break;
    }
    return best;
}

int gomod_find(const goexe_t *x, uint64_t pclntab_addr, int go_minor, gomod_t *out, char *err)
{
    static const char *const sym[] = {"runtime.firstmoduledata"};
    uint64_t cand[64];
    size_t nc = 0;
    int best = 0;
    goexe_range_t sec;
    const goexe_range_t *l;
    size_t nl;

    if (x == NULL || out == NULL) {
        cg_seterr(err, "gomod_find: no executable");
        return -EINVAL;
    }
    if (goexe_symbols(x, sym, 1, &cand[nc], NULL) == 1)
        nc++;
    if (goexe_section(x, ".go.module", &sec) == 0)
        cand[nc++] = sec.addr;
    /* Stripped: the moduledata is a writable word holding the pclntab
     * address, its first field. */
    l = goexe_loads(x, &nl);
    for (size_t i = 0; pclntab_addr && i < nl; i++) {
        if (!(l[i].flags & PF_W) || l[i].data == NULL)
            continue;
        for (uint64_t off = (8 - (l[i].addr & 7)) & 7; off + 8 <= l[i].file_size; off += 8)
            if (goexe_le(l[i].data + off, 8) == pclntab_addr && nc < CG_ARRAY_SIZE(cand))
                cand[nc++] = l[i].addr + off;
    }
    /* The first candidate its own type descriptor confirms; else the first
     * whose ranges check out. */
    for (size_t i = 0; i < nc && best < 2; i++) {
        gomod_t m;
        int q = try_candidate(x, cand[i], pclntab_addr, go_minor, &m);

        if (q > best) {
            best = q;
            *out = m;
        }
    }
    if (best)
        return 0;
    cg_seterr(err, "no Go module data found (pclntab at %#llx)", (unsigned long long)pclntab_addr);
    return -ENOENT;
}

/* ---- type descriptors ---------------------------------------------------- */

typedef struct {
    const char *name; /* without the '*', not NUL-terminated */
    size_t len;
    uint64_t addr; /* the descriptor */
} entry_t;

struct gotypes {
    const goexe_t *x;
    entry_t *e;
    size_t n;
    int be16_names;   /* Go <= 1.16: name lengths are 2 bytes big-endian */
    int offset_shift; /* 1 when a field's offset word is offset<<1|embedded */
};

/* A name is a flag byte, its length, then its bytes.  Read the length
 * from the three bytes at p: 0 and *hdr, *n set, or -1. */
static int name_hdr(const uint8_t *p, int be16, size_t *hdr, size_t *n)
{
    if (be16) {
        *n = (size_t)p[1] << 8 | p[2];
        *hdr = 3;
    } else if (p[1] < 0x80) {
        *n = p[1];
        *hdr = 2;
    } else if (p[2] < 0x80) {
        *n = (size_t)(p[1] & 0x7f) | (size_t)p[2] << 7;
        *hdr = 3;
    } else {
        return -1; /* longer than any name we look for */
    }
    return 0;
}

/* The name at p, inside a buffer with avail bytes from p. */
static int name_decode(const uint8_t *p, size_t avail, int be16, const char **s, size_t *len)
{
    size_t hdr;

    if (avail < 3 || name_hdr(p, be16, &hdr, len) != 0 || *len > avail - hdr)
        return -1;
    *s = (const char *)p + hdr;
    return 0;
}

/* The name at a link-time address (field names, anywhere in the file). */
static int name_at(const gotypes_t *t, uint64_t addr, const char **s, size_t *len)
{
    const uint8_t *p = goexe_bytes(t->x, addr, 3);
    size_t hdr;

    if (p == NULL || name_hdr(p, t->be16_names, &hdr, len) != 0 ||
        (p = goexe_bytes(t->x, addr, hdr + *len)) == NULL)
        return -1;
    *s = (const char *)p + hdr;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);

    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const entry_t *lookup(const gotypes_t *t, const char *name)
{
    size_t lo = 0, hi = t->n, len = strlen(name);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const entry_t *e = &t->e[mid];
        size_t n = e->len < len ? e->len : len;
        int c = memcmp(e->name, name, n);

        if (c == 0)
            c = e->len < len ? -1 : e->len > len;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < t->n && t->e[lo].len == len && memcmp(t->e[lo].name, name, len) == 0)
        return &t->e[lo];
    return NULL;
}

/* The struct descriptor at addr: its bytes, size, field array and count. */
static const uint8_t *struct_at(const gotypes_t *t, uint64_t addr, uint64_t *fields, uint64_t *n)
{
    const uint8_t *p = goexe_bytes(t->x, addr, ST_LEN);

    if (p == NULL || (p[T_KIND] & KIND_MASK) != KIND_STRUCT)
        return NULL;
    *fields = goexe_le(p + ST_FIELDS, 8);
    *n = goexe_le(p + ST_FIELDS + 8, 8);
    if (*n > FIELDS_MAX || (*n && goexe_bytes(t->x, *fields, *n * F_LEN) == NULL))
        return NULL;
    return p;
}

static int type_size(const gotypes_t *t, uint64_t addr, uint64_t *size)
{
    const uint8_t *p = goexe_bytes(t->x, addr, T_LEN);

    if (p == NULL)
        return -1;
    *size = goexe_le(p + T_SIZE, 8);
    return *size <= TYPE_SIZE_MAX ? 0 : -1;
}

/* Do the fields of the struct at addr, read with this offset shift, lie
 * one after the other inside the struct? */
static int fields_pack(const gotypes_t *t, uint64_t addr, int shift)
{
    uint64_t fields, n, size, end = 0;
    const uint8_t *p = struct_at(t, addr, &fields, &n);

    if (p == NULL || n < 2)
        return 0;
    size = goexe_le(p + T_SIZE, 8);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *f = goexe_bytes(t->x, fields + i * F_LEN, F_LEN);
        uint64_t off = goexe_le(f + F_OFF, 8) >> shift, fsz;

        if (type_size(t, goexe_le(f + F_TYP, 8), &fsz) != 0)
            return 0;
        if (off < end || off > size || fsz > size - off)
            return 0;
        end = off + fsz;
    }
    return 1;
}

int gotypes_open(const goexe_t *x, const gomod_t *m, gotypes_t **out, char *err)
{
    const uint8_t *r;
    uint64_t rlen;
    size_t cap = 0, votes[2] = {0, 0};
    gotypes_t *t;
    static const char *const probe[] = {"runtime.g", "runtime.m", "runtime.p", "runtime.gobuf",
                                        "runtime.moduledata", "runtime.hchan"};

    if (x == NULL || m == NULL || m->etypes <= m->types) {
        cg_seterr(err, "no type region in the module data");
        return -ENOENT;
    }
    rlen = m->etypes - m->types;
    if (rlen > INT32_MAX || (r = goexe_bytes(x, m->types, rlen)) == NULL) {
        cg_seterr(err, "type region %#llx..%#llx is not in the file",
                  (unsigned long long)m->types, (unsigned long long)m->etypes);
        return -ENOENT;
    }
    t = cg_xcalloc(1, sizeof *t);
    t->x = x;
    /* Descriptors hold pointers, so they are pointer-aligned. */
    for (uint64_t off = (8 - (m->types & 7)) & 7; off + ST_LEN <= rlen; off += 8) {
        const uint8_t *p = r + off;
        uint64_t str, n, cap_f;
        const char *s[2];
        size_t len[2];
        int ok[2], enc;

        if ((p[T_KIND] & KIND_MASK) != KIND_STRUCT || !(p[T_TFLAG] & TFLAG_EXTRASTAR))
            continue;
        str = goexe_le(p + T_STR, 4);
        if (str >= rlen)
            continue;
        /* Only the right length encoding gives a name starting with '*'. */
        for (enc = 0; enc < 2; enc++)
            ok[enc] = name_decode(r + str, rlen - str, enc, &s[enc], &len[enc]) == 0 &&
                      len[enc] > 1 && s[enc][0] == '*';
        if (ok[0] == ok[1])
            continue;
        enc = ok[1];
        n = goexe_le(p + ST_FIELDS + 8, 8);
        cap_f = goexe_le(p + ST_FIELDS + 16, 8);
        if (goexe_le(p + T_SIZE, 8) > TYPE_SIZE_MAX || n > cap_f || n > FIELDS_MAX)
            continue;
        if (t->n == cap) {
            cap = cap ? cap * 2 : 256;
            t->e = cg_xrealloc(t->e, cap * sizeof *t->e);
        }
        t->e[t->n++] = (entry_t){s[enc] + 1, len[enc] - 1, m->types + off};
        votes[enc]++;
    }
    if (t->n == 0) {
        cg_seterr(err, "no struct type descriptors in the type region");
        gotypes_close(t);
        return -ENOENT;
    }
    t->be16_names = votes[1] > votes[0];
    qsort(t->e, t->n, sizeof *t->e, entry_cmp);
    /* Plain offsets unless the runtime's structs say otherwise. */
    for (size_t i = 0; i < CG_ARRAY_SIZE(probe); i++) {
        const entry_t *e = lookup(t, probe[i]);
        int plain, shifted;

        if (e == NULL)
            continue;
        plain = fields_pack(t, e->addr, 0);
        shifted = fields_pack(t, e->addr, 1);
        if (plain != shifted) {
            t->offset_shift = shifted;
            break;
        }
    }
    *out = t;
    return 0;
}

void gotypes_close(gotypes_t *t)
{
    if (t == NULL)
        return;
    free(t->e);
    free(t);
}

size_t gotypes_count(const gotypes_t *t)
{
    return t ? t->n : 0;
}

uint64_t gotypes_size(const gotypes_t *t, const char *type)
{
    const entry_t *e = t && type ? lookup(t, type) : NULL;
    uint64_t size;

    return e && type_size(t, e->addr, &size) == 0 ? size : 0;
}

int gotypes_field(const gotypes_t *t, const char *type, const char *path, gofield_t *f)
{
    const entry_t *e = t && type && path ? lookup(t, type) : NULL;
    uint64_t addr, off = 0, size;
    const char *c = path;

    if (e == NULL)
        return -ENOENT;
    addr = e->addr;
    for (;;) {
        const char *dot = strchr(c, '.');
        size_t clen = dot ? (size_t)(dot - c) : strlen(c);
        uint64_t fields, n, ssize, i;
        const uint8_t *p = struct_at(t, addr, &fields, &n);

        if (p == NULL)
            return -ENOENT;
        ssize = goexe_le(p + T_SIZE, 8);
        for (i = 0; i < n; i++) {
            const uint8_t *fp = goexe_bytes(t->x, fields + i * F_LEN, F_LEN);
            const char *s;
            size_t len;
            uint64_t foff;

            if (name_at(t, goexe_le(fp + F_NAME, 8), &s, &len) != 0 || len != clen ||
                memcmp(s, c, clen) != 0)
                continue;
            foff = goexe_le(fp + F_OFF, 8) >> t->offset_shift;
            addr = goexe_le(fp + F_TYP, 8);
            if (type_size(t, addr, &size) != 0 || foff > ssize || size > ssize - foff)
                return -ENOENT; /* a field outside its struct: not a layout to use */
            off += foff;
            break;
        }
        if (i == n)
            return -ENOENT;
        if (dot == NULL)
            break;
        c = dot + 1;
    }
    f->offset = off;
    f->size = size;
    return 0;
}

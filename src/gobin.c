/* gobin.c -- is this executable a Go program, and which Go built it?
 *
 * The file is opened through libelf with ELF_C_READ_MMAP, so only the pages
 * actually looked at are read: the ELF header, program and section headers,
 * the section name table, and then at most a few small sections.  The
 * symbol table (tens of thousands of entries in a Go binary) is scanned only
 * when neither build info nor a pclntab settled the question, and .data only
 * when a Go binary named no version any other way.
 *
 * Every offset, virtual address and length taken from the file is checked
 * against the mapped image before it is dereferenced: the input may be any
 * file a process was started from, including truncated or hostile ones.
 * Sizes are also capped (GOBIN_*_MAX in gobin.h) before anything is read,
 * because a sparse file can be as large as it claims and still cost its
 * author nothing: a 24 GB .symtab of zeros once took a listing 47 s and
 * 21 GB of RSS.  That is also why section contents are read from the
 * mapping by hand instead of through elf_getdata (which converts, and so
 * touches, a whole section) and elf_strptr (which searches the rest of the
 * string table for the terminating NUL).
 */
#include "cgops/gobin.h"
#include "cgops/common.h"
#include "gobin_image.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Go's build-info header: 14 magic bytes, pointer size, flags, padding to 32
 * bytes (cmd/go and debug/buildinfo agree on this layout since Go 1.13). */
static const char buildinfo_magic[] = "\xff Go buildinf:";
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR_LEN 32
#define BUILDINFO_FLAG_BIGENDIAN 0x1
#define BUILDINFO_FLAG_INLINE 0x2 /* Go 1.18+: strings follow the header */

/* Longest strings we accept from a binary: a version is a short token (a
 * devel version with a date is under 100 bytes); modinfo lists every
 * dependency, but 16 MiB is far beyond any real module graph. */
#define VERSION_MAX 256
#define MODINFO_MAX (16u << 20)


uint64_t gobin__rd(const unsigned char *p, int n, int be)
{
    const int swap = be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
    uint64_t v = 0;

    /* Words and half-words are most reads (the .data scan reads two per
     * pointer-sized step): one load each instead of a byte loop. */
    if (n == 8) {
        memcpy(&v, p, 8);
        return swap ? __builtin_bswap64(v) : v;
    }
    if (n == 4) {
        uint32_t w;

        memcpy(&w, p, 4);
        return swap ? __builtin_bswap32(w) : w;
    }
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
    return v;
}

/* File bytes at virtual address [addr, addr+len) if one PT_LOAD segment
 * (a read-only one when ro is set) holds all of them in its file image;
 * NULL otherwise. */
const unsigned char *gobin__segment_bytes(const image_t *im, uint64_t addr, uint64_t len, int ro)
{
    for (size_t i = 0; i < im->nload; i++) {
        const GElf_Phdr *ph = &im->load[i];
        uint64_t off;

        if (ro && (ph->p_flags & PF_W))
            continue;
        if (addr < ph->p_vaddr || addr - ph->p_vaddr > ph->p_filesz)
            continue;
        off = addr - ph->p_vaddr;
        if (len > ph->p_filesz - off)
            continue;
        if (ph->p_offset > im->size || off > im->size - ph->p_offset ||
            len > im->size - ph->p_offset - off)
            return NULL;
        return im->base + ph->p_offset + off;
    }
    return NULL;
}

static const unsigned char *vaddr_bytes(const image_t *im, uint64_t addr, uint64_t len)
{
    return gobin__segment_bytes(im, addr, len, 0);
}

/* Read a Go string header {ptr, len} at addr and return its bytes. */
static const unsigned char *go_string_at(const image_t *im, uint64_t addr, int ptrsize,
                                         uint64_t max, uint64_t *len)
{
    const unsigned char *hdr = vaddr_bytes(im, addr, 2 * (uint64_t)ptrsize);
    uint64_t data, n;

    if (hdr == NULL)
        return NULL;
    data = gobin__rd(hdr, ptrsize, im->bigendian);
    n = gobin__rd(hdr + ptrsize, ptrsize, im->bigendian);
    if (n > max)
        return NULL;
    *len = n;
    return n == 0 ? hdr : vaddr_bytes(im, data, n);
}

/* Unsigned LEB128 varint as encoding/binary writes it.  Returns the bytes
 * used, 0 when truncated or longer than 10 bytes. */
static size_t uvarint(const unsigned char *p, size_t avail, uint64_t *v)
{
    return cg_uvarint_decode(p, avail, v);
}

void gobin__copy_str(char *dst, size_t size, const unsigned char *s, uint64_t n)
{
    size_t c = n < size - 1 ? (size_t)n : size - 1;

    memcpy(dst, s, c);
    dst[c] = '\0';
    /* A version or path never holds control bytes; stop at the first one so
     * a corrupt string cannot put garbage into the listing. */
    for (size_t i = 0; i < c; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f) {
            dst[i] = '\0';
            break;
        }
}

/* modinfo is framed by two 16-byte sentinels; the main module is the line
 * "mod\t<path>\t<version>\t..." (or "path\t<path>" for a package main
 * built outside a module). */
static void modinfo_main_path(const unsigned char *s, uint64_t n, char *dst, size_t size)
{
    const char *p, *end;

    if (n >= 33 && s[n - 17] == '\n') {
        s += 16;
        n -= 32;
    }
    p = (const char *)s;
    end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *key = NULL;

        if (le - p > 4 && memcmp(p, "mod\t", 4) == 0)
            key = p + 4;
        else if (le - p > 5 && memcmp(p, "path\t", 5) == 0 && dst[0] == '\0')
            key = p + 5;
        if (key) {
            const char *tab = memchr(key, '\t', (size_t)(le - key));
            gobin__copy_str(dst, size, (const unsigned char *)key,
                     (uint64_t)((tab ? tab : le) - key));
            if (p[0] == 'm')
                return;
        }
        p = le + 1;
    }
}

/* Parse a build-info blob.  Returns 1 when it is valid. */
static int parse_buildinfo(const image_t *im, const unsigned char *d, size_t n,
                           gobin_info_t *out)
{
    int ptrsize, flags;
    const unsigned char *ver, *mod = NULL;
    uint64_t vlen, mlen = 0;

    if (n < BUILDINFO_HDR_LEN || memcmp(d, buildinfo_magic, BUILDINFO_MAGIC_LEN) != 0)
        return 0;
    ptrsize = d[14];
    flags = d[15];
    if (flags & BUILDINFO_FLAG_INLINE) {
        size_t off = BUILDINFO_HDR_LEN, u;

        u = uvarint(d + off, n - off, &vlen);
        if (u == 0 || vlen > VERSION_MAX || vlen > n - off - u)
            return 0;
        ver = d + off + u;
        off += u + (size_t)vlen;
        u = uvarint(d + off, n - off, &mlen);
        if (u != 0 && mlen <= MODINFO_MAX && mlen <= n - off - u)
            mod = d + off + u;
        else
            mlen = 0;
    } else {
        image_t le = *im;
        uint64_t vaddr, maddr;

        if (ptrsize != 4 && ptrsize != 8)
            return 0;
        if (n < 16 + 2 * (size_t)ptrsize)
            return 0;
        le.bigendian = flags & BUILDINFO_FLAG_BIGENDIAN;
        vaddr = gobin__rd(d + 16, ptrsize, le.bigendian);
        maddr = gobin__rd(d + 16 + ptrsize, ptrsize, le.bigendian);
        ver = go_string_at(&le, vaddr, ptrsize, VERSION_MAX, &vlen);
        if (ver == NULL)
            return 0;
        mod = go_string_at(&le, maddr, ptrsize, MODINFO_MAX, &mlen);
    }
    if (vlen == 0)
        return 0;
    gobin__copy_str(out->version, sizeof out->version, ver, vlen);
    if (mod && mlen)
        modinfo_main_path(mod, mlen, out->mod_path, sizeof out->mod_path);
    return 1;
}

/* Bytes of a section, bounds-checked against the image; NULL for NOBITS,
 * empty or out-of-file sections and for those larger than max. */
const unsigned char *gobin__section_bytes(const image_t *im, const GElf_Shdr *sh, uint64_t max,
                                          size_t *n)
{
    if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0 || sh->sh_size > max)
        return NULL;
    if (sh->sh_offset > im->size || sh->sh_size > im->size - sh->sh_offset)
        return NULL;
    *n = (size_t)sh->sh_size;
    return im->base + sh->sh_offset;
}

/* Known pclntab headers: magic, two zero bytes, instruction quantum (1, 2
 * or 4) and pointer size (4 or 8).  Magics: 0xfffffffb Go 1.2-1.15,
 * 0xfffffffa 1.16-1.17, 0xfffffff0 1.18-1.19, 0xfffffff1 1.20+.  Returns
 * the magic, 0 when the bytes are no pclntab header. */
static uint32_t is_pclntab(const unsigned char *p, size_t n)
{
    static const uint32_t magics[] = {0xfffffffb, 0xfffffffa, 0xfffffff0, 0xfffffff1};

    if (n < 8 || p[4] != 0 || p[5] != 0)
        return 0;
    if (p[6] != 1 && p[6] != 2 && p[6] != 4)
        return 0;
    if (p[7] != 4 && p[7] != 8)
        return 0;
    for (size_t i = 0; i < CG_ARRAY_SIZE(magics); i++)
        if (gobin__rd(p, 4, 0) == magics[i] || gobin__rd(p, 4, 1) == magics[i])
            return magics[i];
    return 0;
}

/* Whether a NUL-terminated name sits at offset off of a string table. */
static int name_is(const unsigned char *tab, size_t n, uint64_t off, const char *want)
{
    size_t len = strlen(want) + 1;

    return off < n && len <= n - off && memcmp(tab + off, want, len) == 0;
}

/* .note.go.buildid: one note with name "Go" and type 4 (the Go linker's
 * ELF_NOTE_GOBUILDID_TAG); the descriptor is the build ID text.  Note
 * headers are three 32-bit words in the file's byte order; name and
 * descriptor are each padded to 4 bytes. */
static int parse_buildid_note(const image_t *im, const unsigned char *d, size_t n,
                              gobin_info_t *out)
{
    size_t off = 0;

    while (n - off >= 12) {
        uint64_t namesz = gobin__rd(d + off, 4, im->bigendian);
        uint64_t descsz = gobin__rd(d + off + 4, 4, im->bigendian);
        uint64_t type = gobin__rd(d + off + 8, 4, im->bigendian);
        size_t noff = off + 12, doff;

        if (((namesz + 3) & ~3ull) > n - noff)
            return 0;
        doff = noff + (size_t)((namesz + 3) & ~3ull);
        if (((descsz + 3) & ~3ull) > n - doff)
            return 0;
        /* The Go linker writes the name padded to 4 bytes ("Go\0\0"). */
        if (type == 4 && (namesz == 3 || namesz == 4) && memcmp(d + noff, "Go", 3) == 0) {
            gobin__copy_str(out->build_id, sizeof out->build_id, d + doff, descsz);
            return 1;
        }
        off = doff + (size_t)((descsz + 3) & ~3ull);
    }
    return 0;
}

/* Scan the symbol table sym (n bytes, ELF class entries in the file's byte
 * order) with its string table str for runtime.buildVersion,
 * runtime.pclntab and runtime.main.  Names are compared in place: no more
 * of the string table is read than the few bytes of each name. */
static void scan_symtab(image_t *im, const unsigned char *sym, size_t n,
                        const unsigned char *str, size_t strn, gobin_info_t *out)
{
    const size_t esz = im->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    const unsigned all = GOBIN_SIG_RUNTIME_MAIN | GOBIN_SIG_PCLNTAB;

    /* Entry 0 is the reserved null symbol. */
    for (size_t off = esz; n >= esz && off <= n - esz; off += esz) {
        const unsigned char *p = sym + off;
        uint64_t name = gobin__rd(p, 4, im->bigendian);
        uint64_t value = im->is64 ? gobin__rd(p + 8, 8, im->bigendian) : gobin__rd(p + 4, 4, im->bigendian);
        const unsigned char *rest;
        size_t left;

        if (name == 0 || name >= strn || strn - name < 9 || memcmp(str + name, "runtime.", 8) != 0)
            continue;
        rest = str + name + 8;
        left = strn - (size_t)name - 8;
        if (name_is(rest, left, 0, "main")) {
            out->signals |= GOBIN_SIG_RUNTIME_MAIN;
        } else if (name_is(rest, left, 0, "buildVersion") && out->version[0] == '\0') {
            int ptrsize = im->is64 ? 8 : 4;
            uint64_t len;
            const unsigned char *s = go_string_at(im, value, ptrsize, VERSION_MAX, &len);

            if (s && len) {
                gobin__copy_str(out->version, sizeof out->version, s, len);
                out->signals |= GOBIN_SIG_BUILDVERSION;
            }
        } else if (name_is(rest, left, 0, "pclntab") && !(out->signals & GOBIN_SIG_PCLNTAB)) {
            const unsigned char *pc = vaddr_bytes(im, value, 8);

            if (pc && (im->pcln_magic = is_pclntab(pc, 8)) != 0)
                out->signals |= GOBIN_SIG_PCLNTAB;
        }
        /* Nothing more to learn from the rest of a large table. */
        if ((out->signals & all) == all && out->version[0] != '\0')
            return;
    }
}

/* Without a .go.buildinfo section (section headers stripped), Go's own
 * reader looks for the header at 16-byte alignment in the first 64 KiB of
 * the first writable loadable segment; do the same. */
static int find_buildinfo_in_segments(const image_t *im, gobin_info_t *out)
{
    for (size_t i = 0; i < im->nload; i++) {
        const GElf_Phdr *ph = &im->load[i];
        size_t n, off;

        if (!(ph->p_flags & PF_W))
            continue;
        if (ph->p_offset > im->size)
            return 0;
        n = (size_t)(ph->p_filesz < im->size - ph->p_offset ? ph->p_filesz
                                                            : im->size - ph->p_offset);
        if (n > 65536)
            n = 65536;
        for (off = 0; off + BUILDINFO_HDR_LEN <= n; off += 16)
            if (memcmp(im->base + ph->p_offset + off, buildinfo_magic, BUILDINFO_MAGIC_LEN) == 0)
                return parse_buildinfo(im, im->base + ph->p_offset + off, n - off, out);
        return 0;
    }
    return 0;
}

/* Byte source for check_counts: the image, or the file when it is not
 * mapped yet. */
static int read_at(const unsigned char *mem, size_t memsize, int fd, uint64_t off, void *buf,
                   size_t n)
{
    if (mem != NULL) {
        if (off > memsize || n > memsize - off)
            return -1;
        memcpy(buf, mem + off, n);
        return 0;
    }
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n ? 0 : -1;
}

/* Refuse section and program header counts above their caps before libelf
 * sees the file: elf_begin allocates and fills bookkeeping for every
 * section header up front, and with the extended numbering (e_shnum 0, the
 * count in section 0's sh_size) a sparse file can claim billions.  Input
 * too short for a header is left to libelf to reject. */
static int check_counts(const unsigned char *mem, size_t memsize, int fd, char *err)
{
    unsigned char h[sizeof(Elf64_Ehdr)];
    int is64, be;
    uint64_t shoff, shnum, phnum;

    if (read_at(mem, memsize, fd, 0, h, EI_NIDENT) != 0)
        return 0;
    is64 = h[EI_CLASS] == ELFCLASS64;
    be = h[EI_DATA] == ELFDATA2MSB;
    if (read_at(mem, memsize, fd, 0, h, is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)) != 0)
        return 0;
    if (is64) {
        shoff = gobin__rd(h + offsetof(Elf64_Ehdr, e_shoff), 8, be);
        shnum = gobin__rd(h + offsetof(Elf64_Ehdr, e_shnum), 2, be);
        phnum = gobin__rd(h + offsetof(Elf64_Ehdr, e_phnum), 2, be);
    } else {
        shoff = gobin__rd(h + offsetof(Elf32_Ehdr, e_shoff), 4, be);
        shnum = gobin__rd(h + offsetof(Elf32_Ehdr, e_shnum), 2, be);
        phnum = gobin__rd(h + offsetof(Elf32_Ehdr, e_phnum), 2, be);
    }
    if (shoff != 0 && (shnum == 0 || phnum == PN_XNUM)) {
        /* Extended numbering: the counts are in section header 0. */
        unsigned char s0[sizeof(Elf64_Shdr)];

        if (read_at(mem, memsize, fd, shoff, s0, is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ==
            0) {
            if (shnum == 0)
                shnum = is64 ? gobin__rd(s0 + offsetof(Elf64_Shdr, sh_size), 8, be)
                             : gobin__rd(s0 + offsetof(Elf32_Shdr, sh_size), 4, be);
            if (phnum == PN_XNUM)
                phnum = is64 ? gobin__rd(s0 + offsetof(Elf64_Shdr, sh_info), 4, be)
                             : gobin__rd(s0 + offsetof(Elf32_Shdr, sh_info), 4, be);
        }
    }
    if (shnum > GOBIN_SECTIONS_MAX) {
        cg_seterr(err, "malformed ELF: %llu section headers (at most %u read)",
                  (unsigned long long)shnum, GOBIN_SECTIONS_MAX);
        return -EINVAL;
    }
    if (phnum > GOBIN_SEGMENTS_MAX) {
        cg_seterr(err, "malformed program headers: %llu entries (at most %u read)",
                  (unsigned long long)phnum, GOBIN_SEGMENTS_MAX);
        return -EINVAL;
    }
    return 0;
}

static int classify(Elf *e, const unsigned char *base, size_t size, gobin_info_t *out, char *err)
{
    GElf_Ehdr eh;
    GElf_Shdr shstr_sh, data_scns[2];
    image_t im = {0};
    size_t phnum = 0, shstrndx = 0, shstrn = 0, ndata = 0;
    const unsigned char *shstr = NULL;
    Elf_Scn *scn = NULL, *symtab = NULL, *buildinfo = NULL, *note = NULL, *pcln = NULL;
    int has_interp = 0, has_needed_hint = 0;

    memset(out, 0, sizeof *out);
    if (elf_kind(e) != ELF_K_ELF) {
        cg_seterr(err, "not an ELF file");
        return -ENOEXEC;
    }
    if (gelf_getehdr(e, &eh) == NULL) {
        cg_seterr(err, "malformed ELF header: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    im.base = base;
    im.size = size;
    im.is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
    im.bigendian = eh.e_ident[EI_DATA] == ELFDATA2MSB;
    out->is_pie = eh.e_type == ET_DYN;

    if (elf_getphdrnum(e, &phnum) != 0) {
        cg_seterr(err, "malformed program headers: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    /* check_counts refused more before libelf was called; this keeps the
     * bound next to the allocation. */
    if (phnum > GOBIN_SEGMENTS_MAX) {
        cg_seterr(err, "malformed program headers: %zu entries", phnum);
        return -EINVAL;
    }
    im.load = cg_xcalloc(phnum ? phnum : 1, sizeof *im.load);
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;

        if (gelf_getphdr(e, (int)i, &ph) == NULL)
            continue;
        if (ph.p_type == PT_LOAD)
            im.load[im.nload++] = ph;
        else if (ph.p_type == PT_INTERP)
            has_interp = 1;
        else if (ph.p_type == PT_DYNAMIC)
            has_needed_hint = 1;
    }
    /* No interpreter and no dynamic section: nothing is loaded at run time. */
    out->is_static = !has_interp && !has_needed_hint;

    /* No usable section headers or names: only the segment scans can help
     * (the symbol table is still found by its type). */
    if (elf_getshdrstrndx(e, &shstrndx) != 0)
        shstrndx = 0;
    if (shstrndx && gelf_getshdr(elf_getscn(e, shstrndx), &shstr_sh) != NULL)
        shstr = gobin__section_bytes(&im, &shstr_sh, GOBIN_SHSTRTAB_MAX, &shstrn);
    while (shstrndx && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;

        if (gelf_getshdr(scn, &sh) == NULL)
            break;
        if (sh.sh_type == SHT_SYMTAB) {
            if (symtab == NULL)
                symtab = scn;
            continue;
        }
        if (shstr == NULL)
            continue;
        if (name_is(shstr, shstrn, sh.sh_name, ".go.buildinfo"))
            buildinfo = scn;
        else if (name_is(shstr, shstrn, sh.sh_name, ".note.go.buildid"))
            note = scn;
        else if (name_is(shstr, shstrn, sh.sh_name, ".gopclntab") ||
                 name_is(shstr, shstrn, sh.sh_name, ".data.rel.ro.gopclntab"))
            pcln = scn;
        else if ((name_is(shstr, shstrn, sh.sh_name, ".data") ||
                  name_is(shstr, shstrn, sh.sh_name, ".noptrdata")) &&
                 ndata < CG_ARRAY_SIZE(data_scns))
            data_scns[ndata++] = sh;
    }
    out->is_stripped = symtab == NULL;

    if (buildinfo) {
        GElf_Shdr sh;
        size_t n = 0;
        const unsigned char *d;

        if (gelf_getshdr(buildinfo, &sh) &&
            (d = gobin__section_bytes(&im, &sh, GOBIN_BUILDINFO_MAX, &n)) &&
            parse_buildinfo(&im, d, n, out))
            out->signals |= GOBIN_SIG_BUILDINFO;
    } else if (find_buildinfo_in_segments(&im, out)) {
        out->signals |= GOBIN_SIG_BUILDINFO;
    }
    if (note) {
        GElf_Shdr sh;
        size_t n = 0;
        const unsigned char *d;

        if (gelf_getshdr(note, &sh) && (d = gobin__section_bytes(&im, &sh, GOBIN_NOTE_MAX, &n)) &&
            parse_buildid_note(&im, d, n, out))
            out->signals |= GOBIN_SIG_BUILDID_NOTE;
    }
    if (pcln) {
        GElf_Shdr sh;
        size_t n = 0;
        const unsigned char *d;

        /* Only the 8-byte header is read, so a pclntab of any size is fine. */
        if (gelf_getshdr(pcln, &sh) && (d = gobin__section_bytes(&im, &sh, UINT64_MAX, &n)) &&
            (im.pcln_magic = is_pclntab(d, n)) != 0)
            out->signals |= GOBIN_SIG_PCLNTAB;
    }
    /* The symbol table is large; read it only when the cheap signals left
     * the version or the Go-ness itself open. */
    if (symtab && (out->version[0] == '\0' || out->signals == 0)) {
        GElf_Shdr sh, strsh;
        size_t n = 0, strn = 0;
        const unsigned char *sym, *str = NULL;

        if (gelf_getshdr(symtab, &sh) && (sym = gobin__section_bytes(&im, &sh, GOBIN_SYMTAB_MAX, &n)) &&
            gelf_getshdr(elf_getscn(e, sh.sh_link), &strsh) &&
            (str = gobin__section_bytes(&im, &strsh, GOBIN_STRTAB_MAX, &strn)) != NULL)
            scan_symtab(&im, sym, n, str, strn, out);
    }
    /* Only for a file already known to be Go: other files would pay for a
     * scan that cannot tell them anything. */
    if (out->signals != 0 && out->version[0] == '\0' &&
        gobin__find_version_in_data(&im, data_scns, ndata, out))
        out->signals |= GOBIN_SIG_VERSION_SCAN;

    out->is_go = out->signals != 0;
    free(im.load);
    return 0;
}

int gobin_read_mem(const void *image, size_t size, gobin_info_t *out, char *err)
{
    Elf *e;
    int rc;

    if (elf_version(EV_CURRENT) == EV_NONE) {
        cg_seterr(err, "libelf initialisation failed: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    if (size < EI_NIDENT || memcmp(image, ELFMAG, SELFMAG) != 0) {
        memset(out, 0, sizeof *out);
        cg_seterr(err, "not an ELF file");
        return -ENOEXEC;
    }
    memset(out, 0, sizeof *out);
    if ((rc = check_counts(image, size, -1, err)) != 0)
        return rc;
    /* elf_memory takes a non-const pointer but only reads in ELF_C_READ
     * mode, which is how it opens memory images. */
    e = elf_memory((char *)(uintptr_t)image, size);
    if (e == NULL) {
        cg_seterr(err, "malformed ELF: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    rc = classify(e, image, size, out, err);
    elf_end(e);
    return rc;
}

int gobin_read_fd(int fd, gobin_info_t *out, char *err)
{
    struct stat st;
    unsigned char ident[SELFMAG];
    Elf *e;
    char *raw;
    size_t rawsize = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if (elf_version(EV_CURRENT) == EV_NONE) {
        cg_seterr(err, "libelf initialisation failed: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        cg_seterr(err, "fstat: %s", strerror(errno));
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        cg_seterr(err, "not a regular file");
        return -ENOEXEC;
    }
    /* Scripts and data files are common; tell them apart with one pread
     * before asking libelf to map anything. */
    if (pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
        memcmp(ident, ELFMAG, SELFMAG) != 0) {
        cg_seterr(err, "not an ELF file");
        return -ENOEXEC;
    }
    if ((rc = check_counts(NULL, 0, fd, err)) != 0)
        return rc;
    e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (e == NULL) {
        cg_seterr(err, "malformed ELF: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    raw = elf_rawfile(e, &rawsize);
    if (raw == NULL) {
        cg_seterr(err, "malformed ELF: %s", elf_errmsg(-1));
        elf_end(e);
        return -EINVAL;
    }
    rc = classify(e, (const unsigned char *)raw, rawsize, out, err);
    elf_end(e);
    return rc;
}

void gobin_version_short(const char *version, char *dst, size_t size)
{
    /* gops keeps only the first two words of a devel version:
     * "devel +abc123 Tue Jan 1 ..." becomes "devel +abc123". */
    if (strncmp(version, "devel ", 6) == 0) {
        const char *sp = strchr(version + 6, ' ');
        size_t n = sp ? (size_t)(sp - version) : strlen(version);

        if (n >= size)
            n = size - 1;
        memcpy(dst, version, n);
        dst[n] = '\0';
        return;
    }
    cg_strlcpy(dst, version, size);
}

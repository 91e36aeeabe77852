/* gobin.c -- is this executable a Go program, and which Go built it?
 *
 * The file is opened through libelf with ELF_C_READ_MMAP, so only the pages
 * actually looked at are read: the ELF header, program and section headers,
 * the section name table, and then at most a few small sections.  The
 * symbol table (tens of thousands of entries in a Go binary) is scanned only
 * when neither build info nor a pclntab settled the question.
 *
 * Every offset, virtual address and length taken from the file is checked
 * against the mapped image before it is dereferenced: the input may be any
 * file a process was started from, including truncated or hostile ones.
 */
#include "cgops/gobin.h"
#include "cgops/common.h"

#include <errno.h>
#include <gelf.h>
#include <libelf.h>
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

/* The mapped image and its loadable segments, for pointer translation. */
typedef struct {
    const unsigned char *base;
    size_t size;
    int is64;
    int bigendian;
    GElf_Phdr *load;
    size_t nload;
} image_t;

static uint64_t rd(const unsigned char *p, int n, int be)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
    return v;
}

/* File bytes at virtual address [addr, addr+len) if one PT_LOAD segment
 * holds all of them in its file image; NULL otherwise. */
static const unsigned char *vaddr_bytes(const image_t *im, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < im->nload; i++) {
        const GElf_Phdr *ph = &im->load[i];
        uint64_t off;

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

/* Read a Go string header {ptr, len} at addr and return its bytes. */
static const unsigned char *go_string_at(const image_t *im, uint64_t addr, int ptrsize,
                                         uint64_t max, uint64_t *len)
{
    const unsigned char *hdr = vaddr_bytes(im, addr, 2 * (uint64_t)ptrsize);
    uint64_t data, n;

    if (hdr == NULL)
        return NULL;
    data = rd(hdr, ptrsize, im->bigendian);
    n = rd(hdr + ptrsize, ptrsize, im->bigendian);
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

static void copy_str(char *dst, size_t size, const unsigned char *s, uint64_t n)
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
            copy_str(dst, size, (const unsigned char *)key,
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
        vaddr = rd(d + 16, ptrsize, le.bigendian);
        maddr = rd(d + 16 + ptrsize, ptrsize, le.bigendian);
        ver = go_string_at(&le, vaddr, ptrsize, VERSION_MAX, &vlen);
        if (ver == NULL)
            return 0;
        mod = go_string_at(&le, maddr, ptrsize, MODINFO_MAX, &mlen);
    }
    if (vlen == 0)
        return 0;
    copy_str(out->version, sizeof out->version, ver, vlen);
    if (mod && mlen)
        modinfo_main_path(mod, mlen, out->mod_path, sizeof out->mod_path);
    return 1;
}

/* Bytes of a section, bounds-checked against the image; NULL for NOBITS,
 * empty or out-of-file sections. */
static const unsigned char *section_bytes(const image_t *im, const GElf_Shdr *sh, size_t *n)
{
    if (sh->sh_type == SHT_NOBITS || sh->sh_size == 0)
        return NULL;
    if (sh->sh_offset > im->size || sh->sh_size > im->size - sh->sh_offset)
        return NULL;
    *n = (size_t)sh->sh_size;
    return im->base + sh->sh_offset;
}

/* Known pclntab headers: magic, two zero bytes, instruction quantum (1, 2
 * or 4) and pointer size (4 or 8).  Magics: 0xfffffffb Go 1.2-1.15,
 * 0xfffffffa 1.16-1.17, 0xfffffff0 1.18-1.19, 0xfffffff1 1.20+. */
static int is_pclntab(const unsigned char *p, size_t n)
{
    static const uint32_t magics[] = {0xfffffffb, 0xfffffffa, 0xfffffff0, 0xfffffff1};

    if (n < 8 || p[4] != 0 || p[5] != 0)
        return 0;
    if (p[6] != 1 && p[6] != 2 && p[6] != 4)
        return 0;
    if (p[7] != 4 && p[7] != 8)
        return 0;
    for (size_t i = 0; i < CG_ARRAY_SIZE(magics); i++)
        if (rd(p, 4, 0) == magics[i] || rd(p, 4, 1) == magics[i])
            return 1;
    return 0;
}

/* .note.go.buildid: one note with name "Go" and type 4 (the Go linker's
 * ELF_NOTE_GOBUILDID_TAG); the descriptor is the build ID text. */
static int parse_buildid_note(Elf_Scn *scn, gobin_info_t *out)
{
    /* elf_getdata, not elf_rawdata: gelf_getnote wants the note headers
     * in our byte order, and a big-endian binary's are not. */
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t off = 0, noff, doff;
    GElf_Nhdr nh;

    if (data == NULL)
        return 0;
    while ((off = gelf_getnote(data, off, &nh, &noff, &doff)) > 0) {
        /* The Go linker writes the name padded to 4 bytes ("Go\0\0"). */
        if (nh.n_type == 4 && (nh.n_namesz == 3 || nh.n_namesz == 4) &&
            memcmp((char *)data->d_buf + noff, "Go", 3) == 0) {
            copy_str(out->build_id, sizeof out->build_id,
                     (const unsigned char *)data->d_buf + doff, nh.n_descsz);
            return 1;
        }
    }
    return 0;
}

/* Scan .symtab for runtime.buildVersion, runtime.pclntab, runtime.main. */
static void scan_symtab(const image_t *im, Elf *e, Elf_Scn *symtab, gobin_info_t *out)
{
    GElf_Shdr sh;
    Elf_Data *data;
    size_t count;

    if (gelf_getshdr(symtab, &sh) == NULL || sh.sh_entsize == 0)
        return;
    data = elf_getdata(symtab, NULL);
    if (data == NULL)
        return;
    count = data->d_size / (size_t)sh.sh_entsize;
    for (size_t i = 0; i < count; i++) {
        GElf_Sym sym;
        const char *name;

        if (gelf_getsym(data, (int)i, &sym) == NULL)
            break;
        if (sym.st_name == 0)
            continue;
        name = elf_strptr(e, sh.sh_link, sym.st_name);
        if (name == NULL || strncmp(name, "runtime.", 8) != 0)
            continue;
        name += 8;
        if (strcmp(name, "main") == 0) {
            out->signals |= GOBIN_SIG_RUNTIME_MAIN;
        } else if (strcmp(name, "buildVersion") == 0 && out->version[0] == '\0') {
            int ptrsize = im->is64 ? 8 : 4;
            uint64_t len;
            const unsigned char *s = go_string_at(im, sym.st_value, ptrsize, VERSION_MAX, &len);

            if (s && len) {
                copy_str(out->version, sizeof out->version, s, len);
                out->signals |= GOBIN_SIG_BUILDVERSION;
            }
        } else if (strcmp(name, "pclntab") == 0 && !(out->signals & GOBIN_SIG_PCLNTAB)) {
            const unsigned char *p = vaddr_bytes(im, sym.st_value, 8);

            if (p && is_pclntab(p, 8))
                out->signals |= GOBIN_SIG_PCLNTAB;
        }
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

static int classify(Elf *e, const unsigned char *base, size_t size, gobin_info_t *out, char *err)
{
    GElf_Ehdr eh;
    image_t im = {0};
    size_t phnum = 0, shstrndx = 0;
    Elf_Scn *scn = NULL, *symtab = NULL, *buildinfo = NULL, *note = NULL, *pcln = NULL;
    int has_interp = 0, has_needed_hint = 0, rc = 0;

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
    if (phnum > 4096) {
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

    if (elf_getshdrstrndx(e, &shstrndx) != 0) {
        /* No usable section headers: only the segment scan can help. */
        shstrndx = 0;
    }
    while (shstrndx && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        const char *name;

        if (gelf_getshdr(scn, &sh) == NULL)
            break;
        if (sh.sh_type == SHT_SYMTAB) {
            symtab = scn;
            continue;
        }
        name = elf_strptr(e, shstrndx, sh.sh_name);
        if (name == NULL)
            continue;
        if (strcmp(name, ".go.buildinfo") == 0)
            buildinfo = scn;
        else if (strcmp(name, ".note.go.buildid") == 0)
            note = scn;
        else if (strcmp(name, ".gopclntab") == 0 || strcmp(name, ".data.rel.ro.gopclntab") == 0)
            pcln = scn;
    }
    out->is_stripped = symtab == NULL;

    if (buildinfo) {
        GElf_Shdr sh;
        size_t n = 0;
        const unsigned char *d;

        if (gelf_getshdr(buildinfo, &sh) && (d = section_bytes(&im, &sh, &n)) &&
            parse_buildinfo(&im, d, n, out))
            out->signals |= GOBIN_SIG_BUILDINFO;
    } else if (find_buildinfo_in_segments(&im, out)) {
        out->signals |= GOBIN_SIG_BUILDINFO;
    }
    if (note && parse_buildid_note(note, out))
        out->signals |= GOBIN_SIG_BUILDID_NOTE;
    if (pcln) {
        GElf_Shdr sh;
        size_t n = 0;
        const unsigned char *d;

        if (gelf_getshdr(pcln, &sh) && (d = section_bytes(&im, &sh, &n)) && is_pclntab(d, n))
            out->signals |= GOBIN_SIG_PCLNTAB;
    }
    /* The symbol table is large; read it only when the cheap signals left
     * the version or the Go-ness itself open. */
    if (symtab && (out->version[0] == '\0' || out->signals == 0))
        scan_symtab(&im, e, symtab, out);

    out->is_go = out->signals != 0;
    free(im.load);
    return rc;
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

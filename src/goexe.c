/* goexe.c -- a Go executable's file image, addressed as the program sees it
 *
 * libelf parses the headers; every section and segment is then reduced to
 * {addr, size, bytes} with its file range checked once here, so the readers
 * above (pclntab.c, gotype.c, gort.c) only ever get bounded byte ranges.
 */
#include "cgops/goexe.h"

#include "cgops/common.h"
#include "cgops/gobin.h"

#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char name[64];
    goexe_range_t r;
    uint32_t type;
    uint32_t link;
} section_t;

struct goexe {
    const uint8_t *base;
    size_t size;
    void *map; /* our own mapping (open_fd), else NULL */
    uint64_t entry;
    section_t *sec;
    size_t nsec;
    goexe_range_t *load;
    size_t nload;
};

/* The file bytes of [off, off+len), or NULL past the end of the file. */
static const uint8_t *file_range(const goexe_t *x, uint64_t off, uint64_t len)
{
    if (off > x->size || len > x->size - off)
        return NULL;
    return x->base + off;
}

static int parse(goexe_t *x, char *err)
{
    Elf *e;
    GElf_Ehdr eh;
    size_t shstrndx, nph;
    Elf_Scn *scn = NULL;
    int rc = -EINVAL;

    if (elf_version(EV_CURRENT) == EV_NONE) {
        cg_seterr(err, "libelf initialisation failed: %s", elf_errmsg(-1));
        return -EINVAL;
    }
    if (x->size < EI_NIDENT || memcmp(x->base, ELFMAG, SELFMAG) != 0) {
        cg_seterr(err, "not an ELF file");
        return -ENOEXEC;
    }
    if (x->base[EI_CLASS] != ELFCLASS64 || x->base[EI_DATA] != ELFDATA2LSB) {
        cg_seterr(err, "not a 64-bit little-endian ELF file (only amd64 Go programs can be read)");
        return -ENOEXEC;
    }
    e = elf_memory((char *)(uintptr_t)x->base, x->size);
    if (e == NULL || gelf_getehdr(e, &eh) == NULL) {
        cg_seterr(err, "malformed ELF: %s", elf_errmsg(-1));
        goto out;
    }
    if (eh.e_machine != EM_X86_64) {
        cg_seterr(err, "not an x86-64 executable (machine %u): only amd64 Go programs can be read",
                  (unsigned)eh.e_machine);
        rc = -ENOEXEC;
        goto out;
    }
    x->entry = eh.e_entry;
    if (elf_getphdrnum(e, &nph) != 0 || nph > GOBIN_SEGMENTS_MAX) {
        cg_seterr(err, "malformed ELF: bad program header count");
        goto out;
    }
    x->load = cg_xcalloc(nph ? nph : 1, sizeof *x->load);
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        goexe_range_t *l;

        if (gelf_getphdr(e, (int)i, &ph) == NULL || ph.p_type != PT_LOAD)
            continue;
        if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr) {
            cg_seterr(err, "malformed ELF: bad PT_LOAD segment %zu", i);
            goto out;
        }
        l = &x->load[x->nload++];
        l->addr = ph.p_vaddr;
        l->size = ph.p_memsz;
        l->flags = ph.p_flags;
        l->data = file_range(x, ph.p_offset, ph.p_filesz);
        l->file_size = l->data ? ph.p_filesz : 0;
    }
    /* Sections are optional (a stripped-of-headers file still runs). */
    if (elf_getshdrstrndx(e, &shstrndx) != 0)
        shstrndx = SHN_UNDEF;
    {
        size_t nsec = 0;

        if (elf_getshdrnum(e, &nsec) != 0 || nsec > GOBIN_SECTIONS_MAX)
            nsec = 0;
        x->sec = cg_xcalloc(nsec ? nsec : 1, sizeof *x->sec);
        while (nsec && (scn = elf_nextscn(e, scn)) != NULL && x->nsec < nsec) {
            GElf_Shdr sh;
            const char *name;
            section_t *s;

            if (gelf_getshdr(scn, &sh) == NULL)
                continue;
            name = shstrndx != SHN_UNDEF ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
            s = &x->sec[x->nsec++];
            cg_strlcpy(s->name, name ? name : "", sizeof s->name);
            s->type = sh.sh_type;
            s->link = sh.sh_link;
            s->r.addr = sh.sh_addr;
            s->r.size = sh.sh_size;
            s->r.flags = (unsigned)sh.sh_flags;
            if (sh.sh_type != SHT_NOBITS) {
                s->r.data = file_range(x, sh.sh_offset, sh.sh_size);
                s->r.file_size = s->r.data ? sh.sh_size : 0;
            }
        }
    }
    rc = 0;
out:
    if (e)
        elf_end(e);
    return rc;
}

int goexe_open_mem(const void *image, size_t size, goexe_t **out, char *err)
{
    goexe_t *x = cg_xcalloc(1, sizeof *x);
    int rc;

    x->base = image;
    x->size = size;
    if ((rc = parse(x, err)) != 0) {
        goexe_close(x);
        return rc;
    }
    *out = x;
    return 0;
}

int goexe_open_fd(int fd, goexe_t **out, char *err)
{
    struct stat st;
    void *map;
    int rc;

    if (fstat(fd, &st) != 0) {
        rc = -errno;
        cg_seterr(err, "fstat: %s", strerror(errno));
        return rc;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < EI_NIDENT) {
        cg_seterr(err, "not an ELF file");
        return -ENOEXEC;
    }
    /* The file of a running program cannot be written or truncated while
     * it runs (ETXTBSY), so the mapping cannot shrink under us. */
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        rc = -errno;
        cg_seterr(err, "mmap: %s", strerror(errno));
        return rc;
    }
    if ((rc = goexe_open_mem(map, (size_t)st.st_size, out, err)) != 0) {
        munmap(map, (size_t)st.st_size);
        return rc;
    }
    (*out)->map = map;
    return 0;
}

void goexe_close(goexe_t *x)
{
    if (x == NULL)
        return;
    if (x->map)
        munmap(x->map, x->size);
    free(x->sec);
    free(x->load);
    free(x);
}

uint64_t goexe_entry(const goexe_t *x)
{
    return x->entry;
}

int goexe_has_symtab(const goexe_t *x)
{
    goexe_range_t r;

    return goexe_section(x, ".symtab", &r) == 0 && r.data != NULL;
}

const uint8_t *goexe_bytes(const goexe_t *x, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < x->nload; i++) {
        const goexe_range_t *l = &x->load[i];

        if (l->data == NULL || addr < l->addr || addr - l->addr > l->file_size)
            continue;
        if (len > l->file_size - (addr - l->addr))
            continue;
        return l->data + (addr - l->addr);
    }
    return NULL;
}

int goexe_section(const goexe_t *x, const char *name, goexe_range_t *r)
{
    for (size_t i = 0; i < x->nsec; i++) {
        if (strcmp(x->sec[i].name, name) == 0) {
            *r = x->sec[i].r;
            return 0;
        }
    }
    return -ENOENT;
}

const goexe_range_t *goexe_loads(const goexe_t *x, size_t *n)
{
    *n = x->nload;
    return x->load;
}

size_t goexe_symbols(const goexe_t *x, const char *const *names, size_t n, uint64_t *addrs,
                     uint64_t *sizes)
{
    const section_t *sym = NULL, *str = NULL;
    size_t found = 0;

    for (size_t i = 0; i < n; i++) {
        addrs[i] = 0;
        if (sizes)
            sizes[i] = 0;
    }
    for (size_t i = 0; i < x->nsec; i++) {
        if (x->sec[i].type == SHT_SYMTAB && x->sec[i].r.data) {
            sym = &x->sec[i];
            break;
        }
    }
    /* sh_link is an ELF section index; x->sec[i] is section i + 1, since
     * elf_nextscn skips the null section 0. */
    if (sym == NULL || sym->link == 0 || sym->link - 1 >= x->nsec ||
        x->sec[sym->link - 1].r.data == NULL)
        return 0;
    str = &x->sec[sym->link - 1];
    if (sym->r.file_size > GOBIN_SYMTAB_MAX || str->r.file_size > GOBIN_STRTAB_MAX)
        return 0;
    for (uint64_t off = sizeof(Elf64_Sym); off + sizeof(Elf64_Sym) <= sym->r.file_size;
         off += sizeof(Elf64_Sym)) {
        const uint8_t *p = sym->r.data + off;
        uint64_t name = goexe_le(p, 4);
        const char *s;
        size_t left;

        if (name == 0 || name >= str->r.file_size)
            continue;
        s = (const char *)str->r.data + name;
        left = str->r.file_size - name;
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(names[i]);

            if (addrs[i] == 0 && len < left && memcmp(s, names[i], len + 1) == 0) {
                addrs[i] = goexe_le(p + 8, 8);
                if (sizes)
                    sizes[i] = goexe_le(p + 16, 8);
                if (addrs[i] && ++found == n)
                    return found;
            }
        }
    }
    return found;
}

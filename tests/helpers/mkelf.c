/* mkelf.c -- write small ELF files for the Go-detection tests
 *
 * `mkelf KIND FILE` writes one file.  The x86-64 kinds are runnable: one
 * RWX PT_LOAD segment maps the whole file at 0x400000 and the entry point
 * loops on pause(2), so a test can start them as real processes.  The
 * kernel only needs the program headers, so the kinds with broken section
 * headers still run.  The byte layout is in tests/fixtures/elf/README.md.
 * They cover what Debian's Go 1.19 cannot produce: the Go 1.13-1.17 pointer
 * build info, a pclntab without build info, a Go 1.26-style binary whose
 * only version is runtime.buildVersion's string header, and broken or
 * hostile files, among them sparse files that claim gigabytes.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BASE 0x400000u
#define CODE 0x78u
#define PAYLOAD 0x100u
#define FILE_SIZE 0x400u
#define SHSTR 0x300u
#define SHOFF 0x340u

/* The kinds written by elf64_big use the first page: see there. */
#define BIG_PAGE 0x1000u
static unsigned char img[BIG_PAGE];

static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }

static const char modinfo[] =
    "0w\xaf\x0c\x92t\x08\x02" "A\xe1\xc1\x07\xe6\xd6\x18\xe6"
    "path\texample.com/old/cmd/svc\nmod\texample.com/old\t(devel)\t\n"
    "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

/* Section names in .shstrtab. */
static const char shstr[] = "\0.go.buildinfo\0.gopclntab\0.note.go.buildid\0.shstrtab\0";
enum { N_BUILDINFO = 1, N_PCLNTAB = 15, N_NOTE = 26, N_SHSTRTAB = 43 };

/* An x86-64 executable's ELF header: program headers right after it, the
 * last of shnum sections the section-name table. */
static void ehdr64(Elf64_Ehdr *eh, uint64_t entry, uint64_t shoff, int phnum, int shnum)
{
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = entry;
    eh->e_phoff = sizeof *eh;
    eh->e_shoff = shoff;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = (uint16_t)phnum;
    eh->e_shentsize = sizeof(Elf64_Shdr);
    eh->e_shnum = (uint16_t)shnum;
    eh->e_shstrndx = (uint16_t)(shnum - 1);
}

static void elf64(int shnum, int name, uint32_t type, size_t off, size_t size)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof *eh);
    Elf64_Shdr *sh = (Elf64_Shdr *)(img + SHOFF);
    static const unsigned char code[] = {
        0xb8, 0x22, 0, 0, 0, /* mov eax, 34 (pause) */
        0x0f, 0x05,          /* syscall */
        0xeb, 0xf7,          /* jmp back to mov */
    };

    ehdr64(eh, BASE + CODE, SHOFF, 1, shnum);
    ph->p_type = PT_LOAD;
    ph->p_flags = PF_R | PF_W | PF_X;
    ph->p_offset = 0;
    ph->p_vaddr = ph->p_paddr = BASE;
    ph->p_filesz = ph->p_memsz = FILE_SIZE;
    ph->p_align = 0x1000;
    memcpy(img + CODE, code, sizeof code);
    memcpy(img + SHSTR, shstr, sizeof shstr);
    /* [0] null, [1] the payload section (if any), [last] .shstrtab */
    if (shnum == 3) {
        sh[1].sh_name = (uint32_t)name;
        sh[1].sh_type = type;
        sh[1].sh_flags = SHF_ALLOC | SHF_WRITE;
        sh[1].sh_addr = BASE + off;
        sh[1].sh_offset = off;
        sh[1].sh_size = size;
        sh[1].sh_addralign = 16;
    }
    sh[shnum - 1].sh_name = N_SHSTRTAB;
    sh[shnum - 1].sh_type = SHT_STRTAB;
    sh[shnum - 1].sh_offset = SHSTR;
    sh[shnum - 1].sh_size = sizeof shstr;
    sh[shnum - 1].sh_addralign = 1;
}

/* Go 1.13-1.17 build info: header with two pointers to Go string headers. */
static void old_buildinfo(uint64_t vptr, uint64_t mptr, const char *ver)
{
    unsigned char *h = img + PAYLOAD;

    memcpy(h, "\xff Go buildinf:", 14);
    h[14] = 8; /* pointer size */
    h[15] = 0; /* little endian, pointer format */
    put64(PAYLOAD + 16, vptr);
    put64(PAYLOAD + 24, mptr);
    /* string headers at 0x140 and 0x150, bytes at 0x160 and 0x180 */
    put64(0x140, BASE + 0x160);
    put64(0x148, strlen(ver));
    put64(0x150, BASE + 0x180);
    put64(0x158, sizeof modinfo - 1);
    memcpy(img + 0x160, ver, strlen(ver));
    memcpy(img + 0x180, modinfo, sizeof modinfo - 1);
    elf64(3, N_BUILDINFO, SHT_PROGBITS, PAYLOAD, 0x40);
}

static size_t put_uvarint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Go 1.18+ build info: flags bit 1, strings inline after the header, at
 * PAYLOAD; returns its size. */
static size_t inline_payload(const char *ver, uint64_t vlen)
{
    unsigned char *h = img + PAYLOAD;
    size_t off = 32;

    memcpy(h, "\xff Go buildinf:", 14);
    h[14] = 8;
    h[15] = 2;
    off += put_uvarint(h + off, vlen);
    memcpy(h + off, ver, strlen(ver));
    off += strlen(ver);
    off += put_uvarint(h + off, sizeof modinfo - 1);
    memcpy(h + off, modinfo, sizeof modinfo - 1);
    off += sizeof modinfo - 1;
    return off;
}

static void inline_buildinfo(const char *ver, uint64_t vlen)
{
    elf64(3, N_BUILDINFO, SHT_PROGBITS, PAYLOAD, inline_payload(ver, vlen));
}

/* The larger kinds (sparse*, buildversion*) have their own layout in the
 * first page: two program headers, so the code moves to BIG_CODE; the RWX
 * segment maps file 0..BIG_MAPPED at BASE and, with ro set, a read-only
 * segment maps the "rodata" range RO_OFF..RO_END at RO_BASE + RO_OFF; the
 * section names are at BIG_SHSTR and the section headers at BIG_SHOFF:
 * null, the sections given, .shstrtab. */
#define BIG_CODE 0xb8u
#define RO_BASE 0x500000u
#define RO_OFF 0x200u
#define RO_END 0x300u
#define BIG_SHSTR 0x300u
#define BIG_SHOFF 0x400u
#define BIG_MAPPED 0x600u
/* Sections beyond the first page start here (sparse kinds). */
#define HUGE_OFF BIG_PAGE
#define HUGE_SIZE (2ull << 30) /* 2 GiB: far over every cap, and small
                                  enough that the reader from before the caps
                                  can be run against it on a shared host */

static const char shstr_big[] =
    "\0.go.buildinfo\0.gopclntab\0.note.go.buildid\0.shstrtab\0.data\0.symtab\0.strtab\0";
enum { B_BUILDINFO = 1, B_PCLNTAB = 15, B_NOTE = 26, B_SHSTRTAB = 43, B_DATA = 53,
       B_SYMTAB = 59, B_STRTAB = 67 };

typedef struct {
    int name;
    uint32_t type;
    uint64_t flags, addr, off, size, entsize;
    uint32_t link;
} sec_t;

static void elf64_big(const sec_t *secs, int nsec, int ro)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof *eh);
    Elf64_Shdr *sh = (Elf64_Shdr *)(img + BIG_SHOFF);
    static const unsigned char code[] = {0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7};

    ehdr64(eh, BASE + BIG_CODE, BIG_SHOFF, ro ? 2 : 1, nsec + 2);
    ph[0].p_type = PT_LOAD;
    ph[0].p_flags = PF_R | PF_W | PF_X;
    ph[0].p_vaddr = ph[0].p_paddr = BASE;
    ph[0].p_filesz = ph[0].p_memsz = BIG_MAPPED;
    ph[0].p_align = 0x1000;
    if (ro) {
        ph[1].p_type = PT_LOAD;
        ph[1].p_flags = PF_R;
        ph[1].p_offset = RO_OFF;
        ph[1].p_vaddr = ph[1].p_paddr = RO_BASE + RO_OFF;
        ph[1].p_filesz = ph[1].p_memsz = RO_END - RO_OFF;
        ph[1].p_align = 0x1000;
    }
    memcpy(img + BIG_CODE, code, sizeof code);
    memcpy(img + BIG_SHSTR, shstr_big, sizeof shstr_big);
    for (int i = 0; i < nsec; i++) {
        sh[i + 1].sh_name = (uint32_t)secs[i].name;
        sh[i + 1].sh_type = secs[i].type;
        sh[i + 1].sh_flags = secs[i].flags;
        sh[i + 1].sh_addr = secs[i].addr;
        sh[i + 1].sh_offset = secs[i].off;
        sh[i + 1].sh_size = secs[i].size;
        sh[i + 1].sh_entsize = secs[i].entsize;
        sh[i + 1].sh_link = secs[i].link;
        sh[i + 1].sh_addralign = secs[i].entsize ? 8 : 1;
    }
    sh[nsec + 1].sh_name = B_SHSTRTAB;
    sh[nsec + 1].sh_type = SHT_STRTAB;
    sh[nsec + 1].sh_offset = BIG_SHSTR;
    sh[nsec + 1].sh_size = sizeof shstr_big;
    sh[nsec + 1].sh_addralign = 1;
}

/* A sparse file claiming a 2 GiB symbol table, string table and build-ID
 * note (all at HUGE_OFF, all zeros), after a small header page; with go
 * set it also has real Go 1.18+ build info and a 2 GiB .gopclntab whose
 * header is real.  Returns the file size. */
static size_t sparse_kind(int go)
{
    sec_t s[6] = {
        {B_SYMTAB, SHT_SYMTAB, 0, 0, HUGE_OFF, HUGE_SIZE, sizeof(Elf64_Sym), 2},
        {B_STRTAB, SHT_STRTAB, 0, 0, HUGE_OFF, HUGE_SIZE, 0, 0},
        {B_NOTE, SHT_NOTE, SHF_ALLOC, 0, HUGE_OFF, HUGE_SIZE, 0, 0},
    };
    int n = 3;

    if (go) {
        static const unsigned char hdr[] = {0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8};
        size_t bi = inline_payload("go1.21.4", strlen("go1.21.4"));

        s[n++] = (sec_t){B_BUILDINFO, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, BASE + PAYLOAD,
                         PAYLOAD, bi, 0, 0};
        memcpy(img + 0x1f0, hdr, sizeof hdr);
        s[n++] = (sec_t){B_PCLNTAB, SHT_PROGBITS, SHF_ALLOC, BASE + 0x1f0, 0x1f0, HUGE_SIZE, 0, 0};
    }
    elf64_big(s, n, 0);
    return HUGE_OFF + HUGE_SIZE;
}

/* Extended section numbering (e_shnum 0, the count in section 0's sh_size)
 * claiming 2^24 section headers at BIG_SHOFF; all but section 0 are sparse
 * zeros.  Returns the file size. */
static size_t sparse_shnum_kind(void)
{
    const uint64_t count = 1ull << 24;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    Elf64_Shdr *sh0 = (Elf64_Shdr *)(img + BIG_SHOFF);

    elf64_big(NULL, 0, 0);
    memset(sh0, 0, 2 * sizeof *sh0);
    eh->e_shnum = 0;
    eh->e_shstrndx = SHN_UNDEF;
    sh0->sh_size = count;
    return BIG_SHOFF + count * sizeof *sh0;
}

/* Go release binaries without build info or symbols (Go 1.26 makes them):
 * the version is only in runtime.buildVersion, a Go string header {ptr,
 * len} in .data pointing at rodata.  .data (0x100, 0x80 bytes) holds that
 * header among decoys; the read-only segment (0x200..0x300) holds a Go
 * 1.20+ pclntab header at 0x200 (unless go is 0) and the strings.  ver is
 * the real version; other, when set, is a second header as plausible. */
static size_t buildversion_kind(const char *ver, const char *other, int go)
{
    static const unsigned char hdr[] = {0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8};
    sec_t s[2] = {
        {B_DATA, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, BASE + 0x100, 0x100, 0x80, 0, 0},
        {B_PCLNTAB, SHT_PROGBITS, SHF_ALLOC, RO_BASE + 0x200, 0x200, 0x40, 0, 0},
    };
    const uint64_t ro = RO_BASE;

    if (go)
        memcpy(img + 0x200, hdr, sizeof hdr);
    /* Rodata: the decoys, then the version followed by a '!' (Go strings
     * are not NUL-terminated, so only the length ends one). */
    memcpy(img + 0x280, "go1.17.13", 9);
    if (other)
        memcpy(img + 0x2a0, other, strlen(other));
    memcpy(img + 0x2c0, ver, strlen(ver));
    img[0x2c0 + strlen(ver)] = '!';
    /* A version in the writable segment, as a runtime variable could be. */
    memcpy(img + 0x1c0, "go1.99.9", 8);

    put64(0x100, ro + 0x2c0);      /* the real runtime.buildVersion */
    put64(0x108, strlen(ver));
    put64(0x110, ro + 0x2c0);      /* a shorter prefix: "go1.26" ranks lower */
    put64(0x118, 6);
    put64(0x120, ro + 0x2c0);      /* one byte longer: "...!" is no version */
    put64(0x128, strlen(ver) + 1);
    put64(0x130, BASE + 0x1c0);    /* writable target: not a constant */
    put64(0x138, 8);
    put64(0x140, ro + 0x280);      /* go1.17 cannot have a Go 1.20+ pclntab */
    put64(0x148, 9);
    if (other) {
        put64(0x150, ro + 0x2a0);
        put64(0x158, strlen(other));
    }
    elf64_big(s, 2, 1);
    return BIG_MAPPED;
}

/* Write img's first size bytes (at most the page), then extend the file to
 * size with ftruncate: the rest is a hole, costing no disk. */
static int write_file(const char *path, uint64_t size)
{
    size_t n = size < sizeof img ? (size_t)size : sizeof img;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || write(fd, img, n) != (ssize_t)n || ftruncate(fd, (off_t)size) != 0 ||
        close(fd) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *kind;
    uint64_t size = FILE_SIZE;

    if (argc != 3) {
        fprintf(stderr, "usage: mkelf KIND FILE\n"
                        "kinds: old inline pclntab note plain badptr hugelen varint "
                        "sect-past-eof shoff-past-eof truncated elf32 empty script "
                        "sparse sparse-go sparse-shnum buildversion buildversion-rc "
                        "buildversion-exp buildversion-ambiguous buildversion-notgo\n");
        return 2;
    }
    kind = argv[1];
    if (strcmp(kind, "old") == 0) {
        old_buildinfo(BASE + 0x140, BASE + 0x150, "go1.16.15");
    } else if (strcmp(kind, "inline") == 0) {
        inline_buildinfo("go1.21.4", strlen("go1.21.4"));
    } else if (strcmp(kind, "pclntab") == 0) {
        /* Go 1.20 pclntab header: magic, two zero bytes, quantum 1, ptr 8. */
        static const unsigned char hdr[] = {0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8};
        memcpy(img + PAYLOAD, hdr, sizeof hdr);
        elf64(3, N_PCLNTAB, SHT_PROGBITS, PAYLOAD, 0x40);
    } else if (strcmp(kind, "note") == 0) {
        static const char id[] = "abcdefghij/klmnopqrst";
        uint32_t w[3] = {4, sizeof id - 1, 4};
        memcpy(img + PAYLOAD, w, sizeof w);
        memcpy(img + PAYLOAD + 12, "Go\0\0", 4);
        memcpy(img + PAYLOAD + 16, id, sizeof id - 1);
        elf64(3, N_NOTE, SHT_NOTE, PAYLOAD, 16 + ((sizeof id - 1 + 3) & ~3u));
    } else if (strcmp(kind, "plain") == 0) {
        elf64(2, 0, 0, 0, 0);
    } else if (strcmp(kind, "badptr") == 0) {
        old_buildinfo(0xdeadbeefcafe0000ull, 0xffffffffffffff00ull, "go1.16.15");
    } else if (strcmp(kind, "hugelen") == 0) {
        inline_buildinfo("go1.21.4", 1ull << 40);
    } else if (strcmp(kind, "varint") == 0) {
        inline_buildinfo("", 0);
        memset(img + PAYLOAD + 32, 0xff, 11); /* a varint that never ends */
    } else if (strcmp(kind, "sect-past-eof") == 0) {
        inline_buildinfo("go1.21.4", strlen("go1.21.4"));
        ((Elf64_Shdr *)(img + SHOFF))[1].sh_size = 1u << 30;
    } else if (strcmp(kind, "shoff-past-eof") == 0) {
        inline_buildinfo("go1.21.4", strlen("go1.21.4"));
        ((Elf64_Ehdr *)img)->e_shoff = 1u << 30;
    } else if (strcmp(kind, "truncated") == 0) {
        inline_buildinfo("go1.21.4", strlen("go1.21.4"));
        size = 0x30; /* inside the ELF header */
    } else if (strcmp(kind, "elf32") == 0) {
        /* A 32-bit file: header, one section with Go 1.18+ build info. */
        Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
        Elf32_Shdr *sh = (Elf32_Shdr *)(img + SHOFF);
        unsigned char *h = img + PAYLOAD;
        memcpy(eh->e_ident, ELFMAG, SELFMAG);
        eh->e_ident[EI_CLASS] = ELFCLASS32;
        eh->e_ident[EI_DATA] = ELFDATA2LSB;
        eh->e_ident[EI_VERSION] = EV_CURRENT;
        eh->e_type = ET_EXEC;
        eh->e_machine = EM_386;
        eh->e_version = EV_CURRENT;
        eh->e_shoff = SHOFF;
        eh->e_ehsize = sizeof *eh;
        eh->e_shentsize = sizeof *sh;
        eh->e_shnum = 3;
        eh->e_shstrndx = 2;
        memcpy(h, "\xff Go buildinf:", 14);
        h[14] = 4;
        h[15] = 2;
        h[32] = 8;
        memcpy(h + 33, "go1.20.3", 8);
        h[41] = 0;
        memcpy(img + SHSTR, shstr, sizeof shstr);
        sh[1].sh_name = N_BUILDINFO;
        sh[1].sh_type = SHT_PROGBITS;
        sh[1].sh_offset = PAYLOAD;
        sh[1].sh_size = 64;
        sh[2].sh_name = N_SHSTRTAB;
        sh[2].sh_type = SHT_STRTAB;
        sh[2].sh_offset = SHSTR;
        sh[2].sh_size = sizeof shstr;
    } else if (strcmp(kind, "sparse") == 0) {
        size = sparse_kind(0);
    } else if (strcmp(kind, "sparse-go") == 0) {
        size = sparse_kind(1);
    } else if (strcmp(kind, "sparse-shnum") == 0) {
        size = sparse_shnum_kind();
    } else if (strcmp(kind, "buildversion") == 0) {
        size = buildversion_kind("go1.26.5", NULL, 1);
    } else if (strcmp(kind, "buildversion-rc") == 0) {
        size = buildversion_kind("go1.27rc1", NULL, 1);
    } else if (strcmp(kind, "buildversion-exp") == 0) {
        size = buildversion_kind("go1.26.5-X:nodwarf5", NULL, 1);
    } else if (strcmp(kind, "buildversion-ambiguous") == 0) {
        size = buildversion_kind("go1.26.5", "go1.25.3", 1);
    } else if (strcmp(kind, "buildversion-notgo") == 0) {
        size = buildversion_kind("go1.26.5", NULL, 0);
    } else if (strcmp(kind, "empty") == 0) {
        size = 0;
    } else if (strcmp(kind, "script") == 0) {
        static const char s[] = "#!/bin/sh\nexec sleep 1000\n";
        memcpy(img, s, sizeof s - 1);
        size = sizeof s - 1;
    } else {
        fprintf(stderr, "mkelf: unknown kind '%s'\n", kind);
        return 2;
    }
    return write_file(argv[2], size);
}

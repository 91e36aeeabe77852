/* synelf.h -- small synthetic x86-64 ELF executables, for the unit tests
 * and fuzz targets of the readers that take a whole executable (pclntab,
 * type descriptors): the header every such image starts with, and the
 * image around a bare pclntab.  Header-only: fuzz/ includes it too.
 */
#ifndef CGOPS_SYNELF_H
#define CGOPS_SYNELF_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SYNELF_BASE 0x400000u  /* where the pclntab image is loaded */
#define SYNELF_TABLE 0x100u    /* file offset (and address - SYNELF_BASE) of the table */
#define SYNELF_TEXT 0x401000u  /* the entry point, and Go text start */

/* The ELF header of an x86-64 executable with phnum program headers right
 * after it; img is zeroed and holds at least the headers. */
static inline void synelf_header(uint8_t *img, uint64_t entry, uint16_t phnum)
{
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;

    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = entry;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = phnum;
}

/* The size of the image synelf_pclntab makes around a table of n bytes. */
static inline size_t synelf_pclntab_size(size_t n, int with_section)
{
    size_t shstr_off = SYNELF_TABLE + n, shoff = (shstr_off + 22 + 7) & ~(size_t)7;

    return with_section ? shoff + 3 * sizeof(Elf64_Shdr) : shstr_off;
}

/* The image around a pclntab into img (zeroed, synelf_pclntab_size bytes):
 * one read-only PT_LOAD at SYNELF_BASE with the table at SYNELF_TABLE and,
 * when with_section, a .gopclntab section over it. */
static inline void synelf_pclntab(uint8_t *img, const uint8_t *table, size_t n, int with_section)
{
    static const char shstr[] = "\0.gopclntab\0.shstrtab"; /* 22 bytes */
    size_t shstr_off = SYNELF_TABLE + n, shoff = (shstr_off + sizeof shstr + 7) & ~(size_t)7;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof *eh);

    synelf_header(img, SYNELF_TEXT, 1);
    ph->p_type = PT_LOAD;
    ph->p_flags = PF_R;
    ph->p_vaddr = ph->p_paddr = SYNELF_BASE;
    ph->p_filesz = ph->p_memsz = shstr_off;
    ph->p_align = 0x1000;
    memcpy(img + SYNELF_TABLE, table, n);
    if (with_section) {
        Elf64_Shdr *sh = (Elf64_Shdr *)(img + shoff);

        memcpy(img + shstr_off, shstr, sizeof shstr);
        eh->e_shoff = shoff;
        eh->e_shentsize = sizeof *sh;
        eh->e_shnum = 3;
        eh->e_shstrndx = 2;
        sh[1].sh_name = 1;
        sh[1].sh_type = SHT_PROGBITS;
        sh[1].sh_flags = SHF_ALLOC;
        sh[1].sh_addr = SYNELF_BASE + SYNELF_TABLE;
        sh[1].sh_offset = SYNELF_TABLE;
        sh[1].sh_size = n;
        sh[2].sh_name = 12;
        sh[2].sh_type = SHT_STRTAB;
        sh[2].sh_offset = shstr_off;
        sh[2].sh_size = sizeof shstr;
    }
}

#endif

/* goexe.h -- a Go executable's file image, addressed as the program sees it
 *
 * The agentless readers (pclntab, type descriptors, globals) all ask the
 * same questions of the executable: which bytes does the file hold at this
 * virtual address, where is this section, where is this symbol.  goexe
 * answers them over one read-only mapping of the file, with every offset
 * and length checked against the file's real size, so the readers never
 * index raw file bytes themselves.
 *
 * Addresses here are link-time (file) addresses.  A PIE runs at
 * file address + load bias; the caller adds the bias (see gort.h).
 */
#ifndef CGOPS_GOEXE_H
#define CGOPS_GOEXE_H

#include <stddef.h>
#include <stdint.h>

typedef struct goexe goexe_t;

typedef struct {
    uint64_t addr;        /* link-time address */
    uint64_t size;        /* bytes in memory */
    const uint8_t *data;  /* its bytes in the file, NULL when it has none
                             there (NOBITS: .bss, .noptrbss) */
    uint64_t file_size;   /* bytes of data (0 when data is NULL) */
    unsigned flags;       /* sections: SHF_*; loads: PF_* */
} goexe_range_t;

/* Map the ELF file open on fd (not closed, not kept).  Only 64-bit
 * little-endian x86-64 executables are accepted: -ENOEXEC otherwise. */
int goexe_open_fd(int fd, goexe_t **out, char *err);

/* The same over bytes the caller keeps alive until goexe_close (tests,
 * fuzz targets). */
int goexe_open_mem(const void *image, size_t size, goexe_t **out, char *err);

void goexe_close(goexe_t *x);

uint64_t goexe_entry(const goexe_t *x); /* e_entry */
int goexe_has_symtab(const goexe_t *x);

/* The file's bytes at [addr, addr+len) when one PT_LOAD segment holds all
 * of them in the file; NULL otherwise (unmapped, .bss, overflow). */
const uint8_t *goexe_bytes(const goexe_t *x, uint64_t addr, uint64_t len);

/* A section by name: 0 and *r filled, or -ENOENT. */
int goexe_section(const goexe_t *x, const char *name, goexe_range_t *r);

/* The loadable segments (PT_LOAD), in file order. */
const goexe_range_t *goexe_loads(const goexe_t *x, size_t *n);

/* Look up n symbol names in .symtab in one pass.  addrs[i] (and sizes[i]
 * when sizes is not NULL) are set for each name found, 0 otherwise.
 * Returns how many were found (0 without a symbol table). */
size_t goexe_symbols(const goexe_t *x, const char *const *names, size_t n, uint64_t *addrs,
                     uint64_t *sizes);

/* Read a little-endian integer of n (1, 2, 4, 8) bytes. */
static inline uint64_t goexe_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#endif

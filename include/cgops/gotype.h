/* gotype.h -- the Go runtime's own data layouts, read from the executable
 *
 * Two things every agentless reader needs before it can read a Go process:
 * the module data (the linker's table of where text, data, bss and the
 * type descriptors are) and the layouts of the runtime's structs (g, m, p,
 * gobuf, ...), which change with every release.  Both come from the binary
 * itself, so they work on stripped (-s -w) programs too: the module data
 * is found by the pclntab address it starts with, and the struct layouts
 * from the runtime type descriptors the compiler emits for every type the
 * runtime allocates.
 *
 * Addresses are link-time (file) addresses, as in goexe.h.
 */
#ifndef CGOPS_GOTYPE_H
#define CGOPS_GOTYPE_H

#include "cgops/goexe.h"

#include <stdint.h>

typedef struct {
    uint64_t addr;                    /* link-time address of the moduledata */
    uint64_t text, etext, types, etypes, rodata, gofunc; /* 0 when the version has no such field */
    uint64_t noptrdata, enoptrdata, data, edata, bss, ebss, noptrbss, enoptrbss;
    uint64_t typelinks, ntypelinks;
} gomod_t;

/* Find and check runtime.firstmoduledata.  pclntab_addr is the address of
 * the pclntab header (the moduledata's first field; 0 when unknown, then
 * the symbol or section must name the moduledata).  go_minor is the Go
 * release's minor number (16 for go1.16.3) when known, else 0: each known
 * layout is then tried.  Where it is looked for, in order: the symbol
 * runtime.firstmoduledata, the section .go.module (Go 1.26+), and every
 * aligned word of a writable segment equal to pclntab_addr.  A candidate
 * is kept only when every range in it lies inside the file's segments and,
 * when the binary has a runtime.moduledata type descriptor, when that
 * descriptor puts the fields where the layout does.
 * Returns 0, -ENOENT (no candidate validates) or -EINVAL (bad arguments). */
int gomod_find(const goexe_t *x, uint64_t pclntab_addr, int go_minor, gomod_t *out, char *err);

typedef struct gotypes gotypes_t;
typedef struct {
    uint64_t offset, size;
} gofield_t;

/* Index the named struct types in m's type region [types, etypes) of x.
 * x must outlive the index.  Returns 0 (*out to gotypes_close), -ENOENT
 * when the type region is not in the file or holds no struct type. */
int gotypes_open(const goexe_t *x, const gomod_t *m, gotypes_t **out, char *err);
void gotypes_close(gotypes_t *t);

/* The offset and size of a field of the named struct type (the Go name,
 * "runtime.g").  path is a field name or a dotted path through nested
 * structs ("goid", "sched.pc", "stack.lo"); the offset is from the start
 * of the outer struct, and the size is the whole field's (atomicstatus,
 * a struct wrapping a uint32 since Go 1.20, is 4).  Returns 0 or -ENOENT
 * (no such type, no such field, or a path through a field that is not a
 * struct). */
int gotypes_field(const gotypes_t *t, const char *type, const char *path, gofield_t *f);

/* The size of the named struct type; 0 if it is not in the index. */
uint64_t gotypes_size(const gotypes_t *t, const char *type);

/* How many named struct types were indexed (for tests and -v notes). */
size_t gotypes_count(const gotypes_t *t);

#endif

/* gobin.h -- is this executable a Go program, and which Go built it?
 *
 * Reads an ELF file through libelf (mmap, a few sections only, never the
 * whole file) and looks for the signals a Go toolchain leaves, strongest
 * first: a .go.buildinfo header (Go 1.13-1.17 pointer format and Go 1.18+
 * inline-string format), the runtime.buildVersion symbol, the
 * .note.go.buildid note, a .gopclntab section or runtime.pclntab symbol with
 * a known pclntab magic, and runtime.main in the symbol table.
 */
#ifndef CGOPS_GOBIN_H
#define CGOPS_GOBIN_H

#include <stddef.h>

/* Which signals were found (gobin_info_t.signals). */
#define GOBIN_SIG_BUILDINFO    0x01
#define GOBIN_SIG_BUILDVERSION 0x02
#define GOBIN_SIG_BUILDID_NOTE 0x04
#define GOBIN_SIG_PCLNTAB      0x08
#define GOBIN_SIG_RUNTIME_MAIN 0x10

typedef struct {
    int is_go;            /* 1 when any signal above was found */
    unsigned signals;     /* GOBIN_SIG_* bitmask */
    char version[128];    /* full Go version ("go1.19.8", "devel +abc ..."),
                             "" when is_go but no version could be found */
    char mod_path[256];   /* main module path from build info, or "" */
    char build_id[256];   /* Go build ID from .note.go.buildid, or "" */
    int is_static;        /* no PT_INTERP / no DT_NEEDED: statically linked */
    int is_pie;           /* ET_DYN executable */
    int is_stripped;      /* no .symtab */
} gobin_info_t;

/* Inspect the ELF open on fd (the caller keeps ownership of fd; it is not
 * closed).  Returns 0 when the file could be examined: out->is_go says
 * whether it is Go.  Returns a negative errno when it could not:
 * -ENOEXEC not an ELF file (scripts, data), -EINVAL malformed or truncated
 * ELF, other -errno for I/O errors; err says why.  A malformed Go binary
 * whose sections still give a signal may be reported as Go with an empty
 * version: every pointer and length inside the file is bounds-checked. */
int gobin_read_fd(int fd, gobin_info_t *out, char *err);

/* The same on an in-memory image (tests and the fuzz target). */
int gobin_read_mem(const void *image, size_t size, gobin_info_t *out, char *err);

/* The version as gops shows it in the listing: "devel +abc123 Tue ..." is
 * cut to "devel +abc123"; other versions are copied.  Writes into dst. */
void gobin_version_short(const char *version, char *dst, size_t size);

#endif

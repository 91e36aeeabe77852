/* gobin.h -- is this executable a Go program, and which Go built it?
 *
 * Reads an ELF file through libelf (mmap, a few sections only, never the
 * whole file) and looks for the signals a Go toolchain leaves, strongest
 * first: a .go.buildinfo header (Go 1.13-1.17 pointer format and Go 1.18+
 * inline-string format), the runtime.buildVersion symbol, the
 * .note.go.buildid note, a .gopclntab section or runtime.pclntab symbol with
 * a known pclntab magic, and runtime.main in the symbol table.  A Go binary
 * with neither build info nor symbols still names its version: the string
 * header of runtime.buildVersion is found by scanning its data sections.
 *
 * Limits.  Any local user can start a process from a file they wrote, so
 * every size taken from the file is capped before it is used, and sizes or
 * offsets beyond the file's real size are refused.  A part over its cap is
 * skipped (not read at all), never an error: the other signals still count.
 * Each cap is far above what real binaries have (measured: cmd/go 1.19, a
 * 10 MiB binary, has a 0x64-byte build-ID note, 0x100 bytes of build info,
 * 80 KiB of .data and 220 KiB of .noptrdata; big Go binaries of a few
 * hundred MiB carry tens of MiB of .symtab and .strtab).
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
#define GOBIN_SIG_VERSION_SCAN 0x20 /* runtime.buildVersion's string header
                                       found by scanning .data; only looked
                                       for in a file already known to be Go */

/* Caps on what is read from a file (see "Limits" above). */
#define GOBIN_SECTIONS_MAX  16384u          /* section headers (libelf keeps
                                               bookkeeping for each) */
#define GOBIN_SEGMENTS_MAX  4096u           /* program headers */
#define GOBIN_SYMTAB_MAX    (256u << 20)    /* .symtab bytes */
#define GOBIN_STRTAB_MAX    (256u << 20)    /* its string table */
#define GOBIN_SHSTRTAB_MAX  (1u << 20)      /* section-name table */
#define GOBIN_NOTE_MAX      (64u << 10)     /* .note.go.buildid */
#define GOBIN_BUILDINFO_MAX (32u << 20)     /* .go.buildinfo: header, version,
                                               module info (itself capped at
                                               16 MiB) */
#define GOBIN_DATASCAN_MAX  (16u << 20)     /* bytes of .data / .noptrdata
                                               searched for buildVersion */
/* A pclntab is recognised by its 8-byte header alone, whatever its size. */

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

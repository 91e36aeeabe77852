/* pclntab.h -- a Go program's own PC table: PC to function, file:line, frame size
 *
 * Every Go binary, stripped or not, carries the table the runtime uses for
 * its tracebacks (the "pclntab"): a sorted function table, each function's
 * name, and compressed pc-value tables for the stack-pointer delta, the
 * file, the line and the inlining at each instruction.  This reader answers
 * the same questions from the executable's file image (goexe), never from
 * process memory.  Formats of Go 1.16 and later (magics 0xfffffffa,
 * 0xfffffff0, 0xfffffff1) are read.
 *
 * Every offset, index and varint taken from the table is bounds-checked: a
 * hostile binary yields errors or "?", never a read outside the file.  No
 * call allocates after pcln_open.  All addresses are link-time addresses;
 * the caller subtracts a PIE's load bias from a live PC first.
 */
#ifndef CGOPS_PCLNTAB_H
#define CGOPS_PCLNTAB_H

#include <stdint.h>

#include "cgops/goexe.h"

typedef struct pcln pcln_t;

/* One function of the table: [entry, end) are link-time PCs; func_off is
 * the reader's handle on its record (only meaningful to pcln_*). */
typedef struct {
    uint64_t entry;
    uint64_t end;
    uint32_t func_off;
} pcln_func_t;

/* One logical frame.  The strings point into the executable's image (or
 * are static "?"), valid until the goexe is closed. */
typedef struct {
    const char *function;
    const char *file;
    int32_t line;
    int inlined; /* 1: a call the compiler inlined into the next frame */
} pcln_frame_t;

/* The pcdata / funcdata slots the runtime defines for inlining. */
#define PCLN_PCDATA_INLTREEINDEX 2
#define PCLN_FUNCDATA_INLTREE    3

/* Find the table in x: the sections .gopclntab, .data.rel.ro.gopclntab,
 * the symbols runtime.pcheader / runtime.pclntab, else a scan of the
 * loaded segments for a header that validates (an externally linked PIE
 * has no section of its own for it).  Also looks up, when the file says,
 * the text start (symbol runtime.text, else the moduledata in .go.module,
 * runtime.firstmoduledata, or found by its first word) and the base of
 * funcdata (symbols go:func.* / go.func.*, else the moduledata).
 * x must outlive the result.  Returns 0, -ENOENT (no table), -ENOTSUP
 * (Go 1.15 and older, or not amd64's quantum/pointer size) or -EINVAL (a
 * header that does not hold together); err says which. */
int pcln_open(const goexe_t *x, pcln_t **out, char *err);

void pcln_close(pcln_t *p);

/* Link-time address of the header: moduledata's first word points here. */
uint64_t pcln_addr(const pcln_t *p);

/* 116 (Go 1.16-1.17), 118 (1.18-1.19) or 120 (1.20 and later). */
int pcln_magic_version(const pcln_t *p);

/* The Go text start, base of the function entries (Go 1.18+).  Needed when
 * pcln_open could not find it (Go 1.26 headers carry 0 and a stripped PIE
 * may not say): pass moduledata.text (link-time) or runtime.text.  Until it
 * is known, pcln_find fails with -ENOENT. */
void pcln_set_text(pcln_t *p, uint64_t text);
uint64_t pcln_text(const pcln_t *p); /* 0 when unknown */

/* Base of funcdata offsets (Go 1.18+: moduledata.gofunc, link-time),
 * needed for the inline tree.  0 when unknown. */
void pcln_set_gofunc(pcln_t *p, uint64_t gofunc);
uint64_t pcln_gofunc(const pcln_t *p);

/* Number of functions in the table, and the i-th (0 <= i < n) in PC order:
 * 0 or -ENOENT (out of range, or a bad record). */
uint32_t pcln_nfunc(const pcln_t *p);
int pcln_func_at(const pcln_t *p, uint32_t i, pcln_func_t *f);

/* The function holding link-time pc: 0 and *f, or -ENOENT.  A binary
 * search, no allocation. */
int pcln_find(const pcln_t *p, uint64_t pc, pcln_func_t *f);

/* Its name, never NULL: "?" when the name is not a NUL-terminated string
 * inside the name table. */
const char *pcln_name(const pcln_t *p, const pcln_func_t *f);

/* Its funcID byte (the runtime's abi.FuncID: goexit, mstart, ... whose
 * numbering changes between releases), or -EINVAL. */
int pcln_funcid(const pcln_t *p, const pcln_func_t *f);

/* The pcsp value at pc: how far SP is below its value at the entry (so the
 * caller's return address is at SP + delta).  0 and *delta, or -ENOENT
 * (pc outside f, no table, table ends before pc) / -EINVAL (bad table). */
int pcln_spdelta(const pcln_t *p, const pcln_func_t *f, uint64_t pc, int32_t *delta);

/* The file and line of pc in f (the innermost inlined position).  *file
 * never NULL on success.  0, -ENOENT or -EINVAL as for pcln_spdelta. */
int pcln_fileline(const pcln_t *p, const pcln_func_t *f, uint64_t pc, const char **file,
                  int32_t *line);

/* The pcdata value of table idx at pc (-1 when f has none): 0 or -errno. */
int pcln_pcdata(const pcln_t *p, const pcln_func_t *f, uint32_t idx, uint64_t pc, int32_t *val);

/* The logical frames at pc, innermost first: each inlined call, then the
 * physical function (inlined == 0), at most max (>= 1) of them; the
 * physical frame is always the last one returned, so a deep inline chain
 * is cut from the outside in.  Return addresses: pass pc - 1.  Without the
 * funcdata base (Go 1.18+), only the physical frame.  Returns the count
 * (>= 1), -ENOENT (no function at pc) or -EINVAL (max < 1). */
int pcln_frames(const pcln_t *p, uint64_t pc, pcln_frame_t *out, int max);

#endif

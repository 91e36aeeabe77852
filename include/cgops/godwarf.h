/* godwarf.h -- what a Go executable's DWARF says: globals, layouts, constants
 *
 * The type descriptors (gotype.h) give the layouts of what the runtime
 * allocates; DWARF, when the binary still has it, also gives the globals'
 * addresses, the layouts of structs that are never allocated
 * (runtime.mstats, runtime.mheap, runtime.gcControllerState) and the
 * runtime's constants.  On top of it, the agent's memstats figures read
 * from a process's memory without an agent (godwarf_memstats_*).
 *
 * Addresses are link-time addresses; a PIE's load bias is the caller's.
 */
#ifndef CGOPS_GODWARF_H
#define CGOPS_GODWARF_H

#include "cgops/gotype.h"

#include <stddef.h>
#include <stdint.h>

typedef struct godwarf godwarf_t;

/* Read the DWARF of the ELF file open on fd (not closed; it must stay open
 * until godwarf_close).  Indexes the named globals, struct types and
 * constants once.  Returns 0, -ENOENT when the file has no DWARF ("no
 * DWARF (stripped with -s -w?)"), -EINVAL when it is unreadable. */
int godwarf_open(int fd, godwarf_t **out, char *err);
void godwarf_close(godwarf_t *d);

/* A global variable's address ("runtime.allgs"): 0 or -ENOENT (no such
 * variable, or one whose location is not a plain address). */
int godwarf_global(godwarf_t *d, const char *name, uint64_t *addr);

/* The layout of a field of a named struct type, as gotypes_field: path is
 * a field name or a dotted path through nested structs.  0 or -ENOENT. */
int godwarf_field(godwarf_t *d, const char *type, const char *path, gofield_t *f);

/* A named constant's value ("runtime._Grunning"): 0 or -ENOENT. */
int godwarf_const(godwarf_t *d, const char *name, int64_t *v);

/* ---- memstats without an agent --------------------------------------------
 * The gops agent prints runtime.ReadMemStats.  The runtime computes those
 * figures from runtime.memstats, runtime.mheap_ and runtime.gcController
 * after stopping the world and flushing every P's mcache; the formulas
 * differ between releases.  A plan resolves, for one release, every field
 * the formulas need by name through DWARF; reading it computes the keys
 * from the target's memory, counting what the flush would add from each
 * P's mcache, without stopping the target.  Keys whose value cannot be
 * computed exactly are left out and named by godwarf_memstats_missing. */

typedef enum {
    GODWARF_MS_BYTES,   /* a byte count (the agent prints it as a size) */
    GODWARF_MS_COUNT,   /* a plain count */
    GODWARF_MS_NS,      /* a duration in ns (gc-pause-total; gc-pause is a COUNT as printed) */
    GODWARF_MS_UNIX_NS, /* a time, ns since 1970; 0: never (the agent prints "-") */
    GODWARF_MS_FLOAT,   /* f */
    GODWARF_MS_BOOL,    /* u is 0 or 1 */
} godwarf_mskind_t;

typedef struct {
    const char *key; /* the gops key, "heap-alloc"; static */
    godwarf_mskind_t kind;
    uint64_t u;
    double f;
} godwarf_msval_t;

/* Every key the agent prints, so a caller can size its array. */
#define GODWARF_MS_KEYS 31

typedef struct godwarf_msplan godwarf_msplan_t;

/* Read len bytes of the target's memory at addr (a run-time address).
 * Returns 0, or a negative errno (the read failed: gone, unmapped, ...). */
typedef int (*godwarf_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Resolve the fields the Go 1.go_minor runtime's memstats need.  Returns
 * 0, -ENOTSUP ("agentless memstats is not supported for go1.N": only the
 * releases whose formulas are written here are), -ENOENT (a global, type
 * or field the formulas need is not in the DWARF: named in err). */
int godwarf_memstats_plan(godwarf_t *d, int go_minor, godwarf_msplan_t **out, char *err);
void godwarf_memstats_plan_free(godwarf_msplan_t *p);

/* The keys this plan leaves out (cannot be computed exactly from memory),
 * NULL-terminated; static strings. */
const char *const *godwarf_memstats_missing(const godwarf_msplan_t *p);

/* Compute the keys from the target's memory.  bias is added to every
 * link-time address (0 unless PIE).  vals receives the computed keys in
 * the agent's order, *n of them (at most GODWARF_MS_KEYS).  Returns 0, or
 * the read callback's error, or -EIO when the memory read makes no sense
 * (a slice longer than the runtime allows); err says which. */
int godwarf_memstats_read(const godwarf_msplan_t *p, uint64_t bias, godwarf_read_fn read,
                          void *ctx, godwarf_msval_t *vals, size_t *n, char *err);

#endif

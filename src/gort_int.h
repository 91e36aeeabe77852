/* gort_int.h -- what the files of the gort module share (private)
 *
 * gort.c opens a process and walks its goroutines; gort_layout.c finds
 * the runtime's struct layouts and globals.  Both see struct gort.
 */
#ifndef CGOPS_GORT_INT_H
#define CGOPS_GORT_INT_H

#include "cgops/goexe.h"
#include "cgops/gomem.h"
#include "cgops/gort.h"
#include "cgops/gotype.h"
#include "cgops/pclntab.h"

#include <errno.h>
#include <stdint.h>

/* Goroutines read per batch: big enough that process_vm_readv's 1024
 * ranges per call are full, small enough that a batch's stack windows
 * (BATCH x STACK_WINDOW) stay a few MiB. */
#define BATCH 1024
#define STACK_WINDOW 1024 /* parked goroutines use ~300 bytes (1M measured) */
#define ALLGS_MAX (1u << 24) /* far above any real program (a million is big) */
#define ALLM_MAX 100000u
#define ALLP_MAX 65536u
#define WAITREASONS_MAX 128
#define PCCACHE_BITS 14 /* 16k distinct pcs (a big server has a few thousand live) */
#define PCCACHE_LOGICAL_MAX 8 /* inlined frames kept per cached pc */

/* Offsets of the runtime's structs, from its type descriptors. */
typedef struct {
    uint64_t size;
    uint64_t stack_lo, stack_hi;
    uint64_t sched_sp, sched_pc, sched_bp;
    uint64_t syscallsp, syscallpc;
    uint64_t m, atomicstatus, goid, goid_size, waitsince, waitreason;
    uint64_t gopc, startpc, lockedm;
    uint64_t parent_goid; /* 0: field absent (< Go 1.21) */
    uint64_t span;        /* bytes of a g we read: up to the last field used */
    uint64_t recheck_lo, recheck_len; /* the part re-read to see a change */
} g_layout_t;

typedef struct {
    uint64_t size, g0, curg, procid, id, alllink, p, spinning;
} m_layout_t;

typedef struct {
    uint64_t size, id, status, schedtick, syscalltick, m, runqhead, runqtail;
} p_layout_t;

typedef struct {
    uint64_t pc; /* file pc; 0 = empty slot */
    int32_t spdelta;
    uint8_t found, stop, nlog; /* stop: stop_kind() in gort.c */
    gort_frame_t log[PCCACHE_LOGICAL_MAX]; /* innermost first; at pc-1 */
} pccache_t;

struct gort {
    pid_t pid;
    pid_t nspid; /* pid as the target's own pid namespace sees it */
    int borrowed; /* exe, pcln and types are a gort_exe_t's (gort_open_shared) */
    int exefd;
    goexe_t *exe;
    gomem_t *mem;
    pcln_t *pcln;
    gomod_t mod;
    gotypes_t *types;
    gostop_t *stop; /* when GORT_STOP */
    char version[64];
    int minor;
    int64_t bias;
    g_layout_t g;
    m_layout_t m;
    p_layout_t p;
    uint64_t allgs, allglen, allm, allp, gomaxprocs, m0; /* runtime addresses, 0 unknown */
    const char *waitreasons[WAITREASONS_MAX];
    int nwaitreasons;
    pccache_t *cache;
    char **owned; /* strings made safe for a terminal (safe_str) */
    size_t nowned;
    gort_m_t *ms;
    size_t nms;
    gort_p_t *ps;
    size_t nps;
};


/* A little-endian integer of n bytes from the target. */
static inline uint64_t le(const uint8_t *p, uint64_t n)
{
    return goexe_le(p, (int)n);
}

static inline int read_word(gort_t *r, uint64_t addr, uint64_t *v)
{
    uint8_t b[8];
    int rc = gomem_read(r->mem, addr, b, 8);

    if (rc == 0)
        *v = le(b, 8);
    return rc;
}

/* Is addr a pointer into the target's heap-like memory (mapped, readable,
 * and not the executable's own image)? */
static inline int heap_ptr(gort_t *r, uint64_t addr, uint64_t len)
{
    return addr != 0 && (addr & 7) == 0 && gomem_valid(r->mem, addr, len);
}

/* Read the g at gaddr (the part of it we use) into buf. */
static inline int g_at(gort_t *r, uint64_t gaddr, uint8_t *buf)
{
    return heap_ptr(r, gaddr, r->g.span) ? gomem_read(r->mem, gaddr, buf, r->g.span) : -EFAULT;
}

/* gort_layout.c: the offsets of runtime.g, m and p from the type
 * descriptors; the globals from symbols or by validated scans.  0 or
 * -errno with err. */
int gort__load_layouts(gort_t *r, char *err);
int gort__find_globals(gort_t *r, char *err);

#endif

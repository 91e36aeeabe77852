/* gort.h -- the Go runtime's own view of a live process, read from its memory
 *
 * No agent, no DWARF, no stop: the executable (goexe) gives the pclntab and
 * the runtime's type descriptors (struct layouts by field name), symbols or
 * validated scans give the globals (allgs, allm, allp), and the target's
 * memory (gomem) is read in large batches.  Every pointer read from the
 * target is checked against its maps and every length is bounded: the
 * target may change, exit, or be hostile while we read.
 *
 * Goroutines are delivered in batches to a callback (gort_walk), so a
 * million of them never sit in memory at once.
 */
#ifndef CGOPS_GORT_H
#define CGOPS_GORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gort gort_t;

/* The runtime's goroutine status values (runtime2.go). */
enum {
    GORT_IDLE = 0,
    GORT_RUNNABLE = 1,
    GORT_RUNNING = 2,
    GORT_SYSCALL = 3,
    GORT_WAITING = 4,
    GORT_MORIBUND = 5,
    GORT_DEAD = 6,
    GORT_ENQUEUE = 7,
    GORT_COPYSTACK = 8,
    GORT_PREEMPTED = 9,
    GORT_LEAKED = 10,
    GORT_DEADEXTRA = 11,
    GORT_NSTATUS = 12
};
#define GORT_SCAN 0x1000 /* set while the GC scans the stack */

#define GORT_DEPTH_MAX 100 /* frames per goroutine, as the runtime's traceback */

typedef struct {
    const char *function; /* points into the executable's pclntab */
    const char *file;
    int32_t line;
    int inlined;  /* a call inlined into the next frame */
    uint64_t pc;  /* physical pc (a return address past the top frame) */
    uint64_t entry; /* the physical function's entry */
} gort_frame_t;

typedef struct {
    uint64_t addr; /* the g in the target */
    uint64_t goid;
    unsigned status;   /* GORT_*, _Gscan masked off */
    uint8_t waitreason;
    int64_t waitsince; /* nanotime, 0 when not known yet */
    int64_t wait_minutes; /* whole minutes waited when read (gort_wait_minutes) */
    uint64_t parent_goid; /* 0 when the runtime does not record it (< Go 1.21) */
    uint64_t gopc, startpc;
    uint64_t m;     /* the m running it, 0 if none */
    pid_t tid;      /* that m's thread, 0 if none or unknown */
    int locked;     /* lockedm set: locked to its thread */
    int system;     /* a runtime goroutine (isSystemGoroutine) */
    int changed;    /* its state changed while read: frames may be partial */
    int running_unavailable; /* running on a thread: no frames without --stop */
    int nframes;
    int truncated; /* more frames than the depth asked for */
    gort_frame_t frames[GORT_DEPTH_MAX];
    gort_frame_t created_by; /* function NULL when none */
    const char *start_function; /* NULL when unknown */
} gort_g_t;

typedef struct {
    uint64_t addr;
    int64_t id;
    pid_t tid;
    uint64_t curg_goid; /* 0 when idle */
    uint64_t curg;
    int32_t p_id;   /* -1 when it holds no P */
    int spinning;
} gort_m_t;

typedef struct {
    int32_t id;
    unsigned status; /* 0 idle, 1 running, 2 syscall, 3 gcstop, 4 dead */
    uint32_t schedtick, syscalltick;
    uint32_t runq; /* local run queue length */
    int64_t m_id;  /* -1 when none */
} gort_p_t;

/* Open pid for reading: its executable through /proc/PID/exe, its memory,
 * the pclntab, the layouts and the globals.  flags: GORT_STOP stops every
 * thread (ptrace) until gort_close, for a consistent snapshot. */
#define GORT_STOP 1
#define GORT_RECORD 2 /* keep every range read, for gort_save_image */
int gort_open(pid_t pid, unsigned flags, gort_t **out, char *err);

/* Many processes of one executable (metrics): what comes from the
 * executable alone (pclntab, moduledata, type descriptors, layouts) is
 * parsed once into a gort_exe_t from an open fd of it (not kept), and each
 * gort_open_shared borrows it: x must outlive every gort_t opened with it.
 * The caller decides that the process runs that executable (same file).
 * 0 or -errno with err, as gort_open. */
typedef struct gort_exe gort_exe_t;
int gort_exe_open(int fd, gort_exe_t **out, char *err);
void gort_exe_close(gort_exe_t *x);
int gort_open_shared(pid_t pid, gort_exe_t *x, unsigned flags, gort_t **out, char *err);

/* The same over a copy of the executable and a recorded memory image
 * (gomem.h's format) of the process pid: tests and the fuzz target. */
int gort_open_image(const void *exe, size_t exesize, const void *mem, size_t memsize, pid_t pid,
                    gort_t **out, char *err);

/* Save what a GORT_RECORD reader has read so far as a memory image. */
int gort_save_image(const gort_t *r, int fd, char *err);
void gort_close(gort_t *r);

const char *gort_go_version(const gort_t *r); /* "go1.19.8", or "" */

/* /proc/PID/exe opened for reading (an fd), or -errno with err saying what
 * is missing ("no such process", another user's process: gomem's words). */
int gort_open_exe(pid_t pid, char *err);

/* N of a "go1.N..." version, 0 for anything else (devel, unknown). */
int gort_go_minor(const char *version);
int gort_gomaxprocs(gort_t *r, int32_t *v);

/* Walk every live goroutine (dead ones skipped).  depth: frames per
 * goroutine (1..GORT_DEPTH_MAX), 0 for none (counts and states only; much
 * cheaper).  cb is called once per goroutine, in allgs order; the g and
 * its strings are valid only during the call.  cb returns nonzero to stop.
 * Returns 0, or -errno with err (the process exited, memory unreadable). */
typedef int (*gort_cb_t)(void *ctx, const gort_g_t *g);
int gort_walk(gort_t *r, int depth, gort_cb_t cb, void *ctx, char *err);

/* The Ms and Ps (arrays owned by r, valid until the next gort_ms, gort_ps
 * or gort_walk: the walk reads the Ms again to give goroutines their
 * threads). */
int gort_ms(gort_t *r, const gort_m_t **ms, size_t *n, char *err);
int gort_ps(gort_t *r, const gort_p_t **ps, size_t *n, char *err);

/* The runtime's names. */
const char *gort_status_name(unsigned status);  /* "waiting", ... */
const char *gort_wait_reason(const gort_t *r, uint8_t reason); /* "" when unknown */
/* The state as the runtime's traceback prints it: the wait reason when
 * waiting (and known), else the status name. */
const char *gort_state(const gort_t *r, const gort_g_t *g);
/* Whole minutes g has waited (the runtime prints it past one), 0 if not known. */
int64_t gort_wait_minutes(const gort_g_t *g);

/* Is this function name one the runtime hides from a default traceback? */
int gort_is_runtime_frame(const char *function);

#endif

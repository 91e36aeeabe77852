/* gomem.h -- the memory of a target process (or a recorded image of it)
 *
 * gomem reads another process's memory without stopping it: the maps come
 * from /proc/PID/maps, the bytes from process_vm_readv(2), up to IOV_MAX
 * (1024) ranges per system call, straight into the caller's buffers.  Every
 * range is checked against the maps first, so a pointer read from the
 * target that points nowhere costs no system call.  The target keeps
 * running: a read can fail because a map went away since the maps were read
 * (-EFAULT, "changed under us", never fatal) or because the process exited
 * (-ESRCH).  gostop (below) stops it for a consistent snapshot.
 *
 * A gomem can record every range it read whole and save them, with the
 * maps and AT_ENTRY, as an image; gomem_open_image() serves reads from such
 * an image, so whatever reads the Go runtime can be tested and fuzzed on
 * recorded bytes.  Not thread-safe: one gomem per thread.
 *
 * Image format, version 1, all integers little-endian:
 *
 *   offset  size  field
 *        0     8  magic "CGGOMEM\0"
 *        8     4  version, 1
 *       12     4  flags, 0
 *       16     4  pid the image was recorded from (>= 0, informational)
 *       20     4  nmaps, at most GOMEM_IMAGE_MAX_MAPS
 *       24     8  AT_ENTRY of the process, 0 if unknown
 *       32     4  nranges, at most GOMEM_IMAGE_MAX_RANGES
 *       36     4  reserved, 0
 *       40     8  data size, at most GOMEM_IMAGE_MAX_DATA
 *       48        nmaps maps of 24 bytes: start u64, end u64, prot u32
 *                 (GOMEM_R|W|X bits only), reserved u32 = 0;
 *                 start < end, sorted, not overlapping
 *                 nranges ranges of 16 bytes: addr u64, len u64;
 *                 len > 0, addr + len <= 2^64 - 1, sorted, not overlapping
 *                 (touching is allowed); the lengths add up to data size
 *                 data: the ranges' bytes, one after the other
 *
 * The file ends right after the data: anything else (a short file, bytes
 * left over, a count or a size past its bound) is refused.
 */
#ifndef CGOPS_GOMEM_H
#define CGOPS_GOMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gomem gomem_t;

#define GOMEM_R 1
#define GOMEM_W 2
#define GOMEM_X 4

/* Bounds of an image (a parser of outside bytes bounds everything). */
#define GOMEM_IMAGE_MAX_MAPS   (1u << 20)
#define GOMEM_IMAGE_MAX_RANGES (1u << 20)
#define GOMEM_IMAGE_MAX_DATA   ((uint64_t)256 << 20)
#define GOMEM_IMAGE_HEADER_LEN 48

/* One map: [start, end), prot a mix of GOMEM_R/W/X.  [vvar] and
 * [vsyscall], which process_vm_readv cannot read, are listed without
 * GOMEM_R. */
typedef struct {
    uint64_t start, end;
    unsigned prot;
} gomem_map_t;

/* Open the memory of a live process: reads /proc/PID/maps and /proc/PID/auxv
 * (through one directory fd, so a recycled pid is noticed) and reads one
 * byte to see that process_vm_readv is allowed.  Returns 0 with *out set
 * (free with gomem_close), or:
 *   -ESRCH   no such process, or it exited ("no process N", "process N exited")
 *   -EPERM   not allowed (also when the kernel says EACCES for the maps);
 *            err names what is missing (gomem_describe_error)
 *   -EINVAL  pid <= 0, or a process without user memory (a kernel thread)
 *   -ENOMEM, other -errno from open/read with err set. */
int gomem_open_pid(pid_t pid, gomem_t **out, char *err);

/* /proc/PID as an O_DIRECTORY fd (gomem and gostop keep one to read the
 * process's files without the pid being reused under them), or -ESRCH "no
 * process N" / -errno with err. */
int gomem_open_pid_dir(pid_t pid, char *err);

/* Open a recorded image (format above); the bytes are copied, img may be
 * freed afterwards.  Reads are served from the recorded ranges only:
 * anything else is -EFAULT, as an unmapped address would be.
 * Returns 0, or -EINVAL with err saying what is wrong with the image. */
int gomem_open_image(const void *img, size_t size, gomem_t **out, char *err);

/* Free m (NULL is fine). */
void gomem_close(gomem_t *m);

/* The target's pid; 0 for an image. */
pid_t gomem_pid(const gomem_t *m);

/* AT_ENTRY (auxv tag 9): the run-time address of the ELF entry point, so
 * load bias = this - e_entry.  0 when unknown. */
uint64_t gomem_auxv_entry(const gomem_t *m);

/* The maps, sorted by address, adjacent maps of the same prot merged,
 * overlaps (a maps file read while it changed) clipped.  *n gets the count.
 * Valid until the next gomem_refresh_maps or gomem_close. */
const gomem_map_t *gomem_maps(const gomem_t *m, size_t *n);

/* 1 when [addr, addr+len) lies in readable maps with no gap between them
 * (a range spanning an r-- map and the rw- map right after it is valid);
 * 0 otherwise, and when addr+len overflows.  len 0: 1 if addr itself is in
 * a readable map. */
int gomem_valid(const gomem_t *m, uint64_t addr, uint64_t len);

/* Read len bytes at addr into buf, whole or not at all.  Returns 0 or:
 *   -EFAULT  not in the maps, or not mapped any more (buf is then
 *            undefined), or for an image: not recorded
 *   -ESRCH   the process exited
 *   -EPERM   not allowed (gomem_describe_error says why). */
int gomem_read(gomem_t *m, uint64_t addr, void *buf, size_t len);

/* A batch of reads.  ok is set by gomem_readv: 1 when buf holds the whole
 * range, 0 otherwise. */
typedef struct {
    uint64_t addr;
    void *buf;
    size_t len;
    int ok;
} gomem_req_t;

/* Read every request: ranges that fail gomem_valid are not sent; the rest
 * go to process_vm_readv up to 1024 per call.  A call that stops at a bad
 * range marks that one not ok and goes on after it, so one stale pointer
 * costs one more system call, not the batch.  Zero-length requests are ok.
 * Returns how many requests were read whole, or -ESRCH (the process exited:
 * also when it exits during the batch, as the bytes may be from a recycled
 * pid), -EPERM, -ENOMEM. */
long gomem_readv(gomem_t *m, gomem_req_t *r, size_t n);

/* Read /proc/PID/maps again (after -EFAULT, or between snapshots).
 * Returns 0, -ESRCH (exited), -EPERM, or -errno; the old maps stay on
 * failure.  An image: 0, nothing changes. */
int gomem_refresh_maps(gomem_t *m);

/* Keep a copy of every range read whole from now on (on 1), for
 * gomem_save_image.  Off again stops recording and keeps what was kept.
 * Recording stops silently past the image bounds; gomem_save_image then
 * fails with -EFBIG. */
void gomem_set_recording(gomem_t *m, int on);

/* Write an image of m to fd: pid, AT_ENTRY, the maps, and the recorded
 * ranges (overlapping and touching ones merged; where two reads of the
 * same bytes differ, the later read wins).  Returns 0, -EFBIG (recorded
 * more than an image holds), or -errno from write(2), with err set. */
int gomem_save_image(const gomem_t *m, int fd, char *err);

/* Fill err with the message for rc (a -errno from gomem or gostop) about
 * pid: -ESRCH "process N exited"; -EPERM "cannot WHAT pid N: Operation not
 * permitted (...)" naming what is missing: another uid, a process that is
 * not dumpable, CAP_SYS_PTRACE, kernel.yama.ptrace_scope; otherwise
 * "cannot WHAT pid N: strerror".  what is a verb phrase such as
 * "read memory of" or "stop". */
void gomem_describe_error(pid_t pid, int rc, const char *what, char *err);

/* ---- gostop.c: stop every thread of a process for a consistent snapshot */

typedef struct gostop gostop_t;

/* Stop every thread of pid: PTRACE_SEIZE and PTRACE_INTERRUPT each one,
 * listing /proc/PID/task again once all listed threads are stopped, until a
 * listing shows no new thread (a stopped thread creates none, so then none
 * runs).  Never PTRACE_ATTACH: its SIGSTOP would leave the process stopped
 * if cgops died; a seized thread runs on when its tracer dies.  Waits at
 * most GOSTOP_TIMEOUT_MS in all.  Threads that exit meanwhile are skipped.
 * A signal that arrives for a thread while it is being stopped is kept and
 * given back to it on release.
 * Returns 0 with *out set (end with gostop_release), or, with everything
 * seized so far let go again:
 *   -EPERM      not allowed, or "pid N is already traced by pid M"
 *   -ESRCH      no such process, or it exited
 *   -ETIMEDOUT  a thread did not stop in time (uninterruptible sleep)
 *   -EINVAL     pid is cgops itself (or not > 0)
 *   -EBUSY      GOSTOP_MAX_ACTIVE processes are stopped already.
 * ptrace binds the tracer thread: call gostop_regs and gostop_release from
 * the thread that called gostop_seize. */
int gostop_seize(pid_t pid, gostop_t **out, char *err);

#define GOSTOP_TIMEOUT_MS 2000
#define GOSTOP_MAX_ACTIVE 8

/* The stopped threads: how many, and the tid of the i-th (i < count). */
size_t gostop_count(const gostop_t *s);
pid_t gostop_tid(const gostop_t *s, size_t i);

/* Registers of a stopped thread (PTRACE_GETREGS; amd64 rip, rsp, rbp;
 * arm64 pc, sp, x29).  Returns 0, -ESRCH (not one of the stopped threads),
 * -ENOSYS on other architectures, or -errno. */
int gostop_regs(gostop_t *s, pid_t tid, uint64_t *pc, uint64_t *sp, uint64_t *bp);

/* Let every thread run on (PTRACE_DETACH, with the signal it was stopped
 * for, if any) and free s (NULL is fine). */
void gostop_release(gostop_t *s);

/* The same for every gostop not yet released, using only system calls
 * (async-signal-safe), for a SIGINT/SIGTERM/SIGHUP handler that then ends
 * the process.  Without it a dying cgops still lets the threads run (the
 * kernel detaches a dead tracer's tracees), but a signal a thread was
 * stopped for would be lost.  Must run on the thread that seized (block
 * those signals in the others).  The gostop_t stays allocated; the process
 * is expected to end. */
void gostop_release_all_signal_safe(void);

#endif

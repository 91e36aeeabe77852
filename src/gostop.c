/* gostop.c -- stop every thread of a process for a consistent snapshot
 *
 * PTRACE_SEIZE + PTRACE_INTERRUPT on each thread, never PTRACE_ATTACH: the
 * SIGSTOP that ATTACH sends would stay pending, and stop the whole process,
 * if cgops died before consuming it; a seized thread that loses its tracer
 * simply runs on (the kernel's exit_ptrace).  What the kernel does not give
 * back is a signal we consumed with waitpid (a signal-delivery-stop): we
 * keep it and pass it to PTRACE_DETACH, which delivers it.
 *
 * Every live gostop is listed in a small static registry, entries published
 * before they are used, and thread arrays never freed before release (old
 * ones retired, not reallocated in place), so a signal handler can detach
 * with gostop_release_all_signal_safe() at any moment.
 */
#include "cgops/gomem.h"

#include "cgops/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__aarch64__)
#include <elf.h>
#endif

enum { T_SEIZED = 1, T_STOPPED, T_GONE, T_DETACHED };

typedef struct {
    pid_t tid;
    volatile sig_atomic_t state;
    volatile sig_atomic_t sig;  /* signal to give back on detach */
} thread_t;

struct gostop {
    pid_t pid;
    int dirfd;
    thread_t *volatile t;       /* read by the signal handler */
    volatile sig_atomic_t n;
    size_t cap;
    void **retired;             /* old thread arrays, freed on release */
    size_t nretired;
    int slot;
};

static gostop_t *volatile registry[GOSTOP_MAX_ACTIVE];

/* Set by gostop_release_all_signal_safe: stopping is over for this run. */
static volatile sig_atomic_t released_by_signal;

static void publish(void)
{
    atomic_signal_fence(memory_order_seq_cst);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* ---- the thread table ------------------------------------------------- */

/* The entry of tid, skipping threads that exited: the kernel may give a
 * new thread the tid of one that exited. */
static thread_t *find(const gostop_t *s, pid_t tid)
{
    for (sig_atomic_t i = 0; i < s->n; i++)
        if (s->t[i].tid == tid && s->t[i].state != T_GONE)
            return &s->t[i];
    return NULL;
}

/* Append tid in state T_SEIZED.  A grown array replaces the old one only
 * once it holds every entry; the old one is retired, not freed, in case a
 * signal handler on another thread is reading it. */
static thread_t *add(gostop_t *s, pid_t tid)
{
    thread_t *e;

    if ((size_t)s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        thread_t *nt = cg_xcalloc(cap, sizeof *nt);
        if (s->t) {
            memcpy(nt, s->t, (size_t)s->n * sizeof *nt);
            s->retired = cg_xrealloc(s->retired, (s->nretired + 1) * sizeof *s->retired);
            s->retired[s->nretired++] = s->t;
        }
        publish();
        s->t = nt;
        s->cap = cap;
    }
    e = &s->t[s->n];
    e->tid = tid;
    e->sig = 0;
    e->state = T_SEIZED;
    publish();
    s->n = s->n + 1;
    return e;
}

/* ---- seizing ------------------------------------------------------------ */

/* The TracerPid of tid, 0 if none, -1 if unknown. */
static long tracer_of(int dirfd, pid_t tid)
{
    char path[64], *st = NULL;
    size_t len;
    const char *p;
    long v = -1;

    snprintf(path, sizeof path, "task/%d/status", (int)tid);
    if (cg_read_file_at(dirfd, path, 1 << 16, &st, &len, NULL) != 0)
        return -1;
    p = strstr(st, "\nTracerPid:");
    if (p)
        v = strtol(p + 11, NULL, 10);
    free(st);
    return v;
}

/* 1 when tid has exited: its stat is gone or says Z or X. */
static int thread_dead(int dirfd, pid_t tid)
{
    char path[64], *st = NULL;
    size_t len;
    const char *p;
    int dead = 1;

    snprintf(path, sizeof path, "task/%d/stat", (int)tid);
    if (cg_read_file_at(dirfd, path, 4096, &st, &len, NULL) != 0)
        return 1;
    p = strrchr(st, ')');
    if (p && p[1] == ' ')
        dead = p[2] == 'Z' || p[2] == 'X';
    free(st);
    return dead;
}

static int fail_traced(gostop_t *s, long tracer, char *err)
{
    char path[64], *comm = NULL;
    size_t len;

    snprintf(path, sizeof path, "/proc/%ld/comm", tracer);
    if (cg_read_file_at(AT_FDCWD, path, 64, &comm, &len, NULL) == 0)
        comm[strcspn(comm, "\n")] = '\0';
    cg_seterr(err, "cannot stop pid %d: it is already traced by pid %ld%s%s%s (a debugger?)",
              (int)s->pid, tracer, comm ? " (" : "", comm ? comm : "", comm ? ")" : "");
    free(comm);
    return -EPERM;
}

/* Seize and interrupt tid.  Returns 1 when added, 0 when the thread is gone
 * already, or -errno. */
static int seize_one(gostop_t *s, pid_t tid, char *err)
{
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
        int e = errno;
        long tracer;
        /* A thread that has exited (a zombie until reaped: exit_state set)
         * answers EPERM, not ESRCH; skip it as gone. */
        if (e == ESRCH || thread_dead(s->dirfd, tid))
            return 0;
        tracer = tracer_of(s->dirfd, tid);
        if (e == EPERM && tracer > 0 && tracer != getpid())
            return fail_traced(s, tracer, err);
        gomem_describe_error(s->pid, -e, "stop", err);
        return -e;
    }
    add(s, tid);
    /* ESRCH here: it exited just after being seized; waitpid reports it. */
    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
    return 1;
}

/* Poll one seized thread.  Returns 1 when it stopped or is gone, 0 when it
 * still runs. */
static int poll_one(thread_t *e)
{
    int st;
    pid_t r = waitpid(e->tid, &st, __WALL | WNOHANG);

    if (r == 0)
        return 0;
    if (r < 0 && errno == EINTR)
        return 0;
    if (r < 0) {
        /* ECHILD: no such tracee of ours any more, it exited and was
         * reaped; nothing left to wait for or to detach. */
        e->state = T_GONE;
        return 1;
    }
    if (WIFSTOPPED(st)) {
        /* status>>16 is PTRACE_EVENT_STOP for our interrupt (or a group
         * stop, which detaching puts back), 0 for a signal-delivery-stop:
         * that signal is ours now and goes back on detach.  SIGTRAP with
         * an event is the ptrace stop itself, never a signal. */
        if ((st >> 16) == 0)
            e->sig = WSTOPSIG(st);
        publish();
        e->state = T_STOPPED;
        return 1;
    }
    e->state = T_GONE; /* WIFEXITED or WIFSIGNALED */
    return 1;
}

/* Wait until no thread is T_SEIZED, or the deadline.  Returns 0 or
 * -ETIMEDOUT with err naming the thread. */
static int wait_stopped(gostop_t *s, uint64_t deadline, char *err)
{
    long delay = 20;

    for (;;) {
        pid_t running = 0;
        for (sig_atomic_t i = 0; i < s->n; i++)
            if (s->t[i].state == T_SEIZED && !poll_one(&s->t[i]) && running == 0)
                running = s->t[i].tid;
        if (running == 0)
            return 0;
        if (cg_now_ns() >= deadline) {
            cg_seterr(err,
                      "cannot stop pid %d: thread %d did not stop within %d ms "
                      "(in uninterruptible sleep?)",
                      (int)s->pid, (int)running, GOSTOP_TIMEOUT_MS);
            return -ETIMEDOUT;
        }
        sleep_us(delay);
        if (delay < 2000)
            delay *= 2;
    }
}

/* Seize every listed thread not seized yet.  Returns how many were new, or
 * -errno. */
static int seize_listed(gostop_t *s, char *err)
{
    DIR *d = cg_opendir_at(s->dirfd, "task");
    struct dirent *de;
    int added = 0, rc = 0;

    if (d == NULL) {
        rc = errno == ENOENT ? -ESRCH : -errno;
        gomem_describe_error(s->pid, rc, "stop", err);
        return rc;
    }
    while ((de = readdir(d)) != NULL) {
        long long tid;
        if (cg_parse_ll(de->d_name, 1, INT32_MAX, &tid) != 0 || find(s, (pid_t)tid))
            continue;
        rc = seize_one(s, (pid_t)tid, err);
        if (rc < 0)
            break;
        added += rc;
    }
    closedir(d);
    return rc < 0 ? rc : added;
}

int gostop_seize(pid_t pid, gostop_t **out, char *err)
{
    uint64_t deadline = cg_now_ns() + (uint64_t)GOSTOP_TIMEOUT_MS * 1000000u;
    gostop_t *s;
    long tracer;
    int rc, slot = -1;

    *out = NULL;
    if (pid <= 0 || pid == getpid()) {
        cg_seterr(err, "cannot stop pid %d: %s", (int)pid,
                  pid <= 0 ? "not a process id" : "it is cgops itself");
        return -EINVAL;
    }
    for (int i = 0; i < GOSTOP_MAX_ACTIVE && slot < 0; i++)
        if (registry[i] == NULL)
            slot = i;
    if (slot < 0) {
        cg_seterr(err, "cannot stop pid %d: %d processes are stopped already", (int)pid,
                  GOSTOP_MAX_ACTIVE);
        return -EBUSY;
    }
    s = cg_xcalloc(1, sizeof *s);
    s->pid = pid;
    s->slot = slot;
    if ((rc = s->dirfd = gomem_open_pid_dir(pid, err)) < 0) {
        free(s);
        return rc;
    }
    /* Said plainly before trying: PTRACE_SEIZE would only say EPERM. */
    tracer = tracer_of(s->dirfd, pid);
    if (tracer > 0) {
        rc = fail_traced(s, tracer, err);
        close(s->dirfd);
        free(s);
        return rc;
    }
    publish();
    registry[slot] = s;

    /* Once every thread listed is stopped, the next listing shows every
     * thread there is: a new one must have been created by a thread that
     * ran after the previous listing, and only listed threads ran. */
    for (;;) {
        int added, alive = 0;
        /* Let go by a signal (cgops suspended) while stopping: the caller
         * reads the running process, as after any early release; seizing
         * on would stop it again behind the user's back. */
        if (released_by_signal)
            break;
        if ((rc = seize_listed(s, err)) < 0)
            break;
        added = rc;
        if ((rc = wait_stopped(s, deadline, err)) != 0)
            break;
        if (released_by_signal)
            break;
        for (sig_atomic_t i = 0; i < s->n; i++)
            alive += s->t[i].state == T_STOPPED;
        if (alive == 0) {
            rc = -ESRCH;
            gomem_describe_error(pid, rc, "stop", err);
            break;
        }
        if (added == 0)
            break;
    }
    if (rc != 0) {
        gostop_release(s);
        return rc;
    }
    *out = s;
    return 0;
}

size_t gostop_count(const gostop_t *s)
{
    size_t c = 0;
    for (sig_atomic_t i = 0; i < s->n; i++)
        c += s->t[i].state == T_STOPPED;
    return c;
}

pid_t gostop_tid(const gostop_t *s, size_t i)
{
    for (sig_atomic_t k = 0; k < s->n; k++)
        if (s->t[k].state == T_STOPPED && i-- == 0)
            return s->t[k].tid;
    return 0;
}

int gostop_regs(gostop_t *s, pid_t tid, uint64_t *pc, uint64_t *sp, uint64_t *bp)
{
    thread_t *e = find(s, tid);

    if (e == NULL || e->state != T_STOPPED)
        return -ESRCH;
#if defined(__x86_64__)
    {
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) != 0)
            return -errno;
        *pc = regs.rip;
        *sp = regs.rsp;
        *bp = regs.rbp;
        return 0;
    }
#elif defined(__aarch64__)
    {
        struct user_regs_struct regs;
        struct iovec iov = {&regs, sizeof regs};
        if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) != 0)
            return -errno;
        *pc = regs.pc;
        *sp = regs.sp;
        *bp = regs.regs[29];
        return 0;
    }
#else
    (void)pc;
    (void)sp;
    (void)bp;
    return -ENOSYS;
#endif
}

/* ---- releasing ---------------------------------------------------------- */

/* Detach every stopped thread of s; system calls only. */
static void detach_stopped(gostop_t *s)
{
    thread_t *t = s->t;
    sig_atomic_t n = s->n;

    for (sig_atomic_t i = 0; i < n; i++)
        if (t[i].state == T_STOPPED) {
            t[i].state = T_DETACHED;
            ptrace(PTRACE_DETACH, t[i].tid, NULL, (void *)(long)t[i].sig);
        }
}

void gostop_release(gostop_t *s)
{
    uint64_t deadline;

    if (s == NULL)
        return;
    detach_stopped(s);
    /* A thread seized but not seen stopped (the seize failed or timed out)
     * cannot be detached while it runs: PTRACE_DETACH wants a stopped
     * tracee.  Its interrupt is pending, so give it a moment to stop and
     * detach it then; one that never stops is let go by the kernel when
     * this thread exits. */
    deadline = cg_now_ns() + 100 * 1000000u;
    for (;;) {
        int waiting = 0;
        for (sig_atomic_t i = 0; i < s->n; i++)
            if (s->t[i].state == T_SEIZED && !poll_one(&s->t[i]))
                waiting = 1;
        detach_stopped(s);
        if (!waiting || cg_now_ns() >= deadline)
            break;
        sleep_us(500);
    }
    registry[s->slot] = NULL;
    publish();
    for (size_t i = 0; i < s->nretired; i++)
        free(s->retired[i]);
    free(s->retired);
    free(s->t);
    if (s->dirfd >= 0)
        close(s->dirfd);
    free(s);
}

void gostop_release_all_signal_safe(void)
{
    int saved = errno;

    released_by_signal = 1;
    for (int i = 0; i < GOSTOP_MAX_ACTIVE; i++) {
        gostop_t *s = registry[i];
        if (s == NULL)
            continue;
        detach_stopped(s);
        /* A thread seized but not yet seen stopped stops at its pending
         * interrupt a moment later, and would then stay stopped for as long
         * as cgops is suspended: wait for it here (200 ms at most; waitpid,
         * ptrace and nanosleep are async-signal-safe) and let it go too. */
        for (int round = 0; round < 200; round++) {
            int waiting = 0;

            for (sig_atomic_t k = 0; k < s->n; k++)
                if (s->t[k].state == T_SEIZED && !poll_one(&s->t[k]))
                    waiting = 1;
            detach_stopped(s);
            if (!waiting)
                break;
            sleep_us(1000);
        }
    }
    errno = saved;
}

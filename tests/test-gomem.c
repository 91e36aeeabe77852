/* test-gomem.c -- reading a live process's memory, recorded images, and
 * stopping every thread of a process (gomem.c, gostop.c)
 *
 * The live tests read a forked child: fork keeps addresses, so the parent
 * knows where the child's bytes are, and the child writes its own pattern
 * there first, so the bytes read can only come from the child.
 */
#include "test.h"
#include "cgops/common.h"
#include "cgops/gomem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- a child holding known bytes ----------------------------------------- */

/* Six pages: 0 rw, 1 PROT_NONE, 2 r-- , 3 rw, 4 rw, 5 PROT_NONE.  The
 * PROT_NONE pages stay mapped, so nothing else lands there. */
typedef struct {
    pid_t pid;
    int to, from; /* command pipe to the child, its answers */
    unsigned char *base;
} kid_t;

static unsigned char kid_byte(size_t off)
{
    return (unsigned char)((off * 7 + 3) ^ 0x5a);
}

static void kid_loop(kid_t *k)
{
    char c;

    while (read(k->to, &c, 1) == 1) {
        if (c == 'u') /* unmap page 4 */
            munmap(k->base + 4 * PAGE, PAGE);
        else if (c == 'd') /* not dumpable any more */
            prctl(PR_SET_DUMPABLE, 0);
        if (write(k->from, &c, 1) != 1)
            break;
    }
    _exit(0);
}

static kid_t kid_start(void)
{
    kid_t k;
    int a[2], b[2];
    char c;

    k.base = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT(k.base != MAP_FAILED);
    memset(k.base, 0, 6 * PAGE);
    ASSERT(mprotect(k.base + PAGE, PAGE, PROT_NONE) == 0);
    ASSERT(mprotect(k.base + 5 * PAGE, PAGE, PROT_NONE) == 0);
    ASSERT(pipe(a) == 0 && pipe(b) == 0);
    fflush(NULL);
    k.pid = fork();
    ASSERT(k.pid >= 0);
    if (k.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(a[1]);
        close(b[0]);
        k.to = a[0];
        k.from = b[1];
        for (size_t i = 0; i < 6 * PAGE; i++)
            if (i / PAGE != 1 && i / PAGE != 5)
                k.base[i] = kid_byte(i);
        mprotect(k.base + 2 * PAGE, PAGE, PROT_READ);
        if (write(k.from, "r", 1) != 1)
            _exit(1);
        kid_loop(&k);
    }
    close(a[0]);
    close(b[1]);
    k.to = a[1];
    k.from = b[0];
    ASSERT(read(k.from, &c, 1) == 1 && c == 'r');
    return k;
}

static void kid_cmd(kid_t *k, char c)
{
    char r;
    ASSERT(write(k->to, &c, 1) == 1);
    ASSERT(read(k->from, &r, 1) == 1 && r == c);
}

static void kid_stop(kid_t *k)
{
    kill(k->pid, SIGKILL);
    waitpid(k->pid, NULL, 0);
    close(k->to);
    close(k->from);
}

static uint64_t kaddr(const kid_t *k, size_t off)
{
    return (uint64_t)(uintptr_t)(k->base + off);
}

static void assert_kid_bytes(const unsigned char *buf, size_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != kid_byte(off + i))
            TEST_FAIL("byte at offset %zu: %u, want %u", off + i, buf[i], kid_byte(off + i));
}

/* ---- reading ------------------------------------------------------------- */

TEST(gomem_read_child)
{
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    unsigned char buf[2 * PAGE];
    const gomem_map_t *maps;
    size_t n;
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    ASSERT_EQ(gomem_pid(m), k.pid);
    /* fork keeps the executable where it was. */
    ASSERT_EQ(gomem_auxv_entry(m), getauxval(AT_ENTRY));
    ASSERT_EQ(gomem_read(m, kaddr(&k, 0), buf, 100), 0);
    assert_kid_bytes(buf, 0, 100);
    /* r-- page 2 and rw- page 3 in one read. */
    ASSERT_EQ(gomem_read(m, kaddr(&k, 2 * PAGE + 100), buf, PAGE + 50), 0);
    assert_kid_bytes(buf, 2 * PAGE + 100, PAGE + 50);
    /* Into the PROT_NONE page: refused before any system call. */
    ASSERT_EQ(gomem_read(m, kaddr(&k, PAGE - 8), buf, 16), -EFAULT);
    ASSERT_EQ(gomem_read(m, 8, buf, 8), -EFAULT);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 0), buf, 0), 0);

    maps = gomem_maps(m, &n);
    ASSERT(n > 0);
    for (size_t i = 0; i < n; i++) {
        ASSERT(maps[i].start < maps[i].end);
        ASSERT(maps[i].prot <= 7);
        if (i > 0) {
            ASSERT(maps[i - 1].end <= maps[i].start);
            /* merged: touching maps differ in prot */
            ASSERT(maps[i - 1].end != maps[i].start || maps[i - 1].prot != maps[i].prot);
        }
        if (maps[i].start <= kaddr(&k, 3 * PAGE) && kaddr(&k, 3 * PAGE) < maps[i].end) {
            ASSERT_EQ(maps[i].prot, GOMEM_R | GOMEM_W);
            ASSERT(maps[i].end >= kaddr(&k, 5 * PAGE)); /* pages 3 and 4 merged */
        }
        if (maps[i].start <= kaddr(&k, 2 * PAGE) && kaddr(&k, 2 * PAGE) < maps[i].end)
            ASSERT_EQ(maps[i].prot, GOMEM_R);
        if (maps[i].start <= kaddr(&k, PAGE) && kaddr(&k, PAGE) < maps[i].end)
            ASSERT_EQ(maps[i].prot, 0);
    }
    gomem_close(m);
    kid_stop(&k);
}

TEST(gomem_valid_edges)
{
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 0), PAGE), 1);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 0), PAGE + 1), 0);      /* into the hole */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, PAGE - 1), 1), 1);      /* last byte */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, PAGE), 1), 0);          /* PROT_NONE */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 2 * PAGE), 3 * PAGE), 1); /* r-- then rw- */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 2 * PAGE), 3 * PAGE + 1), 0);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 5 * PAGE - 1), 1), 1);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 5 * PAGE), 0), 0);      /* len 0 at a hole */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 3 * PAGE), 0), 1);
    /* Overflow: a length that wraps must not look small. */
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 0), UINT64_MAX), 0);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 8), UINT64_MAX - 7), 0);
    ASSERT_EQ(gomem_valid(m, UINT64_MAX - 3, 8), 0);
    ASSERT_EQ(gomem_valid(m, UINT64_MAX, 1), 0);
    ASSERT_EQ(gomem_valid(m, 0, 1), 0);
    gomem_close(m);
    kid_stop(&k);
}

TEST(gomem_readv_mix)
{
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    unsigned char b0[PAGE], b1[16], b2[2 * PAGE], b3[8], b5[96];
    gomem_req_t r[6] = {
        {kaddr(&k, 0), b0, PAGE, -1},
        {kaddr(&k, PAGE - 6), b1, 16, -1},            /* straddles into PROT_NONE */
        {kaddr(&k, 2 * PAGE), b2, 2 * PAGE, -1},
        {0x1000, b3, 8, -1},                          /* unmapped */
        {kaddr(&k, 0), NULL, 0, -1},                  /* empty */
        {kaddr(&k, 4 * PAGE + 4000), b5, 96, -1},
    };
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    ASSERT_EQ(gomem_readv(m, r, 6), 4);
    ASSERT_EQ(r[0].ok, 1);
    ASSERT_EQ(r[1].ok, 0);
    ASSERT_EQ(r[2].ok, 1);
    ASSERT_EQ(r[3].ok, 0);
    ASSERT_EQ(r[4].ok, 1);
    ASSERT_EQ(r[5].ok, 1);
    assert_kid_bytes(b0, 0, PAGE);
    assert_kid_bytes(b2, 2 * PAGE, 2 * PAGE);
    assert_kid_bytes(b5, 4 * PAGE + 4000, 96);
    gomem_close(m);
    kid_stop(&k);
}

/* Ranges the maps still call valid but the child has unmapped since: the
 * kernel stops at each, and the batch must go on after it, across the
 * 1024-iovec boundary too. */
TEST(gomem_readv_stale_ranges)
{
    enum { N = 2100 };
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    static gomem_req_t r[N];
    static unsigned char bufs[N][16];
    int bad[N] = {0};
    long want = 0;
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    kid_cmd(&k, 'u'); /* page 4 goes */
    for (size_t i = 0; i < N; i++) {
        r[i].addr = kaddr(&k, (i * 8) % PAGE);
        r[i].buf = bufs[i];
        r[i].len = 8;
    }
    /* Stale: first, last of a batch, first of the next, two in a row, last. */
    {
        size_t stale[] = {0, 1023, 1024, 1500, 1501, N - 1};
        for (size_t i = 0; i < CG_ARRAY_SIZE(stale); i++) {
            r[stale[i]].addr = kaddr(&k, 4 * PAGE + 8 * i);
            bad[stale[i]] = 1;
        }
    }
    /* Starts in page 3, ends in the gone page 4: the kernel reads part. */
    r[700].addr = kaddr(&k, 4 * PAGE - 8);
    r[700].len = 16;
    bad[700] = 1;
    for (size_t i = 0; i < N; i++)
        want += !bad[i];
    ASSERT_EQ(gomem_readv(m, r, N), want);
    for (size_t i = 0; i < N; i++) {
        if (r[i].ok != !bad[i])
            TEST_FAIL("request %zu: ok %d, want %d", i, r[i].ok, !bad[i]);
        if (r[i].ok)
            assert_kid_bytes(r[i].buf, (i * 8) % PAGE, 8);
    }
    unsigned char b[8];
    ASSERT_EQ(gomem_read(m, kaddr(&k, 4 * PAGE), b, 8), -EFAULT);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 4 * PAGE), 8), 1);
    ASSERT_EQ(gomem_refresh_maps(m), 0);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 4 * PAGE), 8), 0);
    ASSERT_EQ(gomem_valid(m, kaddr(&k, 3 * PAGE), 8), 1);
    gomem_close(m);
    kid_stop(&k);
}

/* Requests close together share one remote iovec (the gaps read into
 * scratch); a page that went away in the middle of such a run fails the
 * request holding its first byte, and the rest of the run goes again. */
TEST(gomem_readv_runs_with_gaps)
{
    enum { N = 80 };
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    static unsigned char bufs[N][100];
    gomem_req_t r[N];
    long want = 0;
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    kid_cmd(&k, 'u'); /* page 4 goes */
    /* 100 bytes every 120 from page 3 on: 34 whole in page 3, one across
     * the edge, the rest in page 4; then one in page 0, one that ends 50
     * bytes before the edge, and one 20 bytes after it: the gap between
     * those two holds the first byte that fails. */
    for (size_t i = 0; i < N - 3; i++)
        r[i] = (gomem_req_t){kaddr(&k, 3 * PAGE + 120 * i), bufs[i], 100, -1};
    r[N - 3] = (gomem_req_t){kaddr(&k, 10), bufs[N - 3], 100, -1};
    r[N - 2] = (gomem_req_t){kaddr(&k, 4 * PAGE - 150), bufs[N - 2], 100, -1};
    r[N - 1] = (gomem_req_t){kaddr(&k, 4 * PAGE + 20), bufs[N - 1], 50, -1};
    for (size_t i = 0; i < N; i++)
        want += r[i].addr + r[i].len <= kaddr(&k, 4 * PAGE);
    ASSERT_EQ(want, 36);
    ASSERT_EQ(gomem_readv(m, r, N), want);
    for (size_t i = 0; i < N; i++) {
        int ok = r[i].addr + r[i].len <= kaddr(&k, 4 * PAGE);
        if (r[i].ok != ok)
            TEST_FAIL("request %zu: ok %d, want %d", i, r[i].ok, ok);
        if (ok)
            assert_kid_bytes(r[i].buf, (size_t)(r[i].addr - kaddr(&k, 0)), r[i].len);
    }
    gomem_close(m);
    kid_stop(&k);
}

TEST(gomem_process_exits)
{
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    unsigned char b[8];
    gomem_req_t r = {0, b, 8, 0};
    siginfo_t si;
    gomem_t *m;
    pid_t pid = k.pid;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    r.addr = kaddr(&k, 0);
    kill(k.pid, SIGKILL);
    /* A zombie first (not reaped yet), then gone. */
    ASSERT(waitid(P_PID, (id_t)k.pid, &si, WEXITED | WNOWAIT) == 0);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 0), b, 8), -ESRCH);
    ASSERT_EQ(gomem_readv(m, &r, 1), -ESRCH);
    ASSERT_EQ(gomem_refresh_maps(m), -ESRCH);
    ASSERT(waitpid(k.pid, NULL, 0) == k.pid);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 0), b, 8), -ESRCH);
    ASSERT_EQ(gomem_readv(m, &r, 1), -ESRCH);
    ASSERT_EQ(gomem_refresh_maps(m), -ESRCH);
    gomem_close(m);
    ASSERT_EQ(gomem_open_pid(pid, &m, err), -ESRCH);
    ASSERT(m == NULL);
    gomem_describe_error(pid, -ESRCH, "read memory of", err);
    {
        char want[64];
        snprintf(want, sizeof want, "process %d exited", (int)pid);
        ASSERT_STR_EQ(err, want);
    }
    close(k.to);
    close(k.from);
}

TEST(gomem_kernel_thread_and_bad_pid)
{
    char err[CG_ERR_LEN];
    gomem_t *m;

    ASSERT_EQ(gomem_open_pid(0, &m, err), -EINVAL);
    ASSERT_EQ(gomem_open_pid(-5, &m, err), -EINVAL);
    /* kthreadd is pid 2 in the initial pid namespace only. */
    if (access("/proc/2/stat", R_OK) == 0) {
        char *st = NULL;
        size_t len;
        ASSERT_EQ(cg_read_file_at(AT_FDCWD, "/proc/2/stat", 4096, &st, &len, NULL), 0);
        if (strstr(st, "(kthreadd)")) {
            ASSERT_EQ(gomem_open_pid(2, &m, err), -EINVAL);
            ASSERT_CONTAINS(err, "no user memory");
        }
        free(st);
    }
}

/* Run fn in a child that has become uid 65534 (nobody); returns its exit
 * status, with its message in msg. */
static int as_nobody(int (*fn)(pid_t, char *), pid_t target, char *msg, size_t size)
{
    int p[2], st;
    pid_t pid;
    ssize_t n;

    ASSERT(pipe(p) == 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        char err[CG_ERR_LEN] = "";
        int rc;
        close(p[0]);
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(99);
        rc = fn(target, err);
        if (write(p[1], err, strlen(err)) < 0)
            _exit(98);
        _exit(-rc);
    }
    close(p[1]);
    n = read(p[0], msg, size - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(p[0]);
    ASSERT(waitpid(pid, &st, 0) == pid);
    ASSERT(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static int open_and_close(pid_t target, char *err)
{
    gomem_t *m;
    int rc = gomem_open_pid(target, &m, err);
    gomem_close(m);
    return rc;
}

static int seize_and_release(pid_t target, char *err)
{
    gostop_t *s;
    int rc = gostop_seize(target, &s, err);
    gostop_release(s);
    return rc;
}

TEST(gomem_eperm_names_what_is_missing)
{
    char msg[CG_ERR_LEN], want[64];
    int rc;

    if (geteuid() != 0)
        SKIP("needs root to become another user");
    /* Another user's process (ours, root's). */
    rc = as_nobody(open_and_close, getpid(), msg, sizeof msg);
    ASSERT_EQ(rc, EPERM);
    snprintf(want, sizeof want, "pid %d belongs to uid 0", (int)getpid());
    ASSERT_CONTAINS(msg, want);
    ASSERT_CONTAINS(msg, "CAP_SYS_PTRACE");
    ASSERT_CONTAINS(msg, "Operation not permitted");
    rc = as_nobody(seize_and_release, getpid(), msg, sizeof msg);
    ASSERT_EQ(rc, EPERM);
    ASSERT_CONTAINS(msg, "cannot stop pid");
    ASSERT_CONTAINS(msg, want);

}

/* A target of the same user that is not dumpable: the message says so. */
TEST(gomem_eperm_not_dumpable)
{
    char msg[CG_ERR_LEN], want[64];
    int p[2], q[2], rc;
    pid_t target;
    char c;

    if (geteuid() != 0)
        SKIP("needs root to become another user");
    ASSERT(pipe(p) == 0 && pipe(q) == 0);
    fflush(NULL);
    target = fork();
    ASSERT(target >= 0);
    if (target == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(99);
        /* After the uid change, which clears the parent-death signal. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Changing uid made us not dumpable; 'd' below asks for it. */
        prctl(PR_SET_DUMPABLE, 1);
        if (write(q[1], "r", 1) != 1)
            _exit(1);
        while (read(p[0], &c, 1) == 1) {
            if (c == 'd')
                prctl(PR_SET_DUMPABLE, 0);
            if (write(q[1], &c, 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    ASSERT(read(q[0], &c, 1) == 1);
    /* Dumpable and the same user: allowed. */
    rc = as_nobody(open_and_close, target, msg, sizeof msg);
    if (rc == EPERM && strstr(msg, "ptrace_scope"))
        ; /* Yama forbids non-descendants here: still a named reason */
    else
        ASSERT_EQ(rc, 0);
    ASSERT(write(p[1], "d", 1) == 1 && read(q[0], &c, 1) == 1);
    rc = as_nobody(open_and_close, target, msg, sizeof msg);
    ASSERT_EQ(rc, EPERM);
    snprintf(want, sizeof want, "pid %d is not dumpable", (int)target);
    ASSERT_CONTAINS(msg, want);
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
}

/* Root without CAP_SYS_PTRACE (a container's root) reading another
 * user's process: the message says which capability is missing. */
static int open_without_cap(pid_t target, char *err)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    gomem_t *m;
    int rc;

    if (syscall(SYS_capget, &h, d) != 0)
        return -100;
    d[0].effective &= ~(1u << CAP_SYS_PTRACE);
    d[0].permitted &= ~(1u << CAP_SYS_PTRACE);
    if (syscall(SYS_capset, &h, d) != 0)
        return -101;
    rc = gomem_open_pid(target, &m, err);
    gomem_close(m);
    return rc;
}

TEST(gomem_eperm_root_without_cap_sys_ptrace)
{
    char msg[CG_ERR_LEN] = "", want[64];
    int p[2], q[2], st;
    pid_t target, reader;
    ssize_t n;
    char c;

    if (geteuid() != 0)
        SKIP("needs root");
    ASSERT(pipe(p) == 0 && pipe(q) == 0);
    fflush(NULL);
    target = fork();
    ASSERT(target >= 0);
    if (target == 0) {
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
            _exit(99);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        prctl(PR_SET_DUMPABLE, 1);
        if (write(q[1], "r", 1) != 1)
            _exit(1);
        while (read(p[0], &c, 1) == 1)
            ;
        _exit(0);
    }
    ASSERT(read(q[0], &c, 1) == 1);
    reader = fork();
    ASSERT(reader >= 0);
    if (reader == 0) {
        char err[CG_ERR_LEN] = "";
        int rc = open_without_cap(target, err);
        if (write(q[1], err, strlen(err)) < 0)
            _exit(98);
        _exit(-rc);
    }
    ASSERT(waitpid(reader, &st, 0) == reader);
    ASSERT(WIFEXITED(st));
    close(q[1]);
    n = read(q[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    ASSERT_EQ(WEXITSTATUS(st), EPERM);
    snprintf(want, sizeof want, "pid %d belongs to uid 65534", (int)target);
    ASSERT_CONTAINS(msg, want);
    ASSERT_CONTAINS(msg, "running as root without CAP_SYS_PTRACE");
    kill(target, SIGKILL);
    waitpid(target, NULL, 0);
}

/* ---- images ------------------------------------------------------------- */

static unsigned char *slurp_fd(int fd, size_t *len)
{
    struct stat st;
    unsigned char *b;

    ASSERT(fstat(fd, &st) == 0);
    b = cg_xmalloc((size_t)st.st_size + 1);
    ASSERT(pread(fd, b, (size_t)st.st_size, 0) == st.st_size);
    *len = (size_t)st.st_size;
    return b;
}

TEST(gomem_image_round_trip)
{
    kid_t k = kid_start();
    char err[CG_ERR_LEN];
    unsigned char a[200], b[4200], c[64];
    gomem_req_t r[3];
    const gomem_map_t *lm, *im;
    size_t ln, in, len;
    unsigned char *img;
    gomem_t *m, *g;
    uint64_t entry;
    int fd;

    ASSERT_EQ(gomem_open_pid(k.pid, &m, err), 0);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 0), a, 100), 0); /* not recorded */
    gomem_set_recording(m, 1);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 200), a, 100), 0);
    r[0] = (gomem_req_t){kaddr(&k, 250), a, 150, 0};          /* overlaps the read above */
    r[1] = (gomem_req_t){kaddr(&k, 2 * PAGE + 100), b, 4000, 0}; /* r-- into rw- */
    r[2] = (gomem_req_t){kaddr(&k, 2 * PAGE + 4100), c, 64, 0}; /* touches the one before */
    ASSERT_EQ(gomem_readv(m, r, 3), 3);
    gomem_set_recording(m, 0);
    ASSERT_EQ(gomem_read(m, kaddr(&k, 3 * PAGE + 1000), a, 10), 0); /* not recorded */
    fd = memfd_create("gomem-image", 0);
    ASSERT(fd >= 0);
    ASSERT_EQ(gomem_save_image(m, fd, err), 0);
    img = slurp_fd(fd, &len);
    close(fd);
    entry = gomem_auxv_entry(m);
    lm = gomem_maps(m, &ln);

    ASSERT_EQ(gomem_open_image(img, len, &g, err), 0);
    memset(img, 0xee, len); /* the image keeps its own copy */
    free(img);
    ASSERT_EQ(gomem_pid(g), 0);
    ASSERT_EQ(gomem_auxv_entry(g), entry);
    im = gomem_maps(g, &in);
    ASSERT_EQ(in, ln);
    for (size_t i = 0; i < in; i++) {
        ASSERT_EQ(im[i].start, lm[i].start);
        ASSERT_EQ(im[i].end, lm[i].end);
        ASSERT_EQ(im[i].prot, lm[i].prot);
    }
    /* [200, 400) and [2P+100, 2P+4164) were recorded. */
    memset(b, 0, sizeof b);
    ASSERT_EQ(gomem_read(g, kaddr(&k, 200), b, 200), 0);
    assert_kid_bytes(b, 200, 200);
    ASSERT_EQ(gomem_read(g, kaddr(&k, 2 * PAGE + 100), b, 4064), 0);
    assert_kid_bytes(b, 2 * PAGE + 100, 4064);
    ASSERT_EQ(gomem_read(g, kaddr(&k, 2 * PAGE + 3000), b, 10), 0);
    assert_kid_bytes(b, 2 * PAGE + 3000, 10);
    ASSERT_EQ(gomem_read(g, kaddr(&k, 0), b, 8), -EFAULT);         /* read, not recorded */
    ASSERT_EQ(gomem_read(g, kaddr(&k, 3 * PAGE + 1000), b, 10), -EFAULT);
    ASSERT_EQ(gomem_read(g, kaddr(&k, 199), b, 2), -EFAULT);       /* one byte before */
    ASSERT_EQ(gomem_read(g, kaddr(&k, 399), b, 2), -EFAULT);       /* one byte after */
    ASSERT_EQ(gomem_read(g, kaddr(&k, PAGE), b, 1), -EFAULT);      /* not in the maps */
    ASSERT_EQ(gomem_valid(g, kaddr(&k, 0), PAGE), 1);
    {
        unsigned char x[8], y[8];
        gomem_req_t q[2] = {{kaddr(&k, 300), x, 8, 0}, {kaddr(&k, 500), y, 8, 1}};
        ASSERT_EQ(gomem_readv(g, q, 2), 1);
        ASSERT_EQ(q[0].ok, 1);
        ASSERT_EQ(q[1].ok, 0);
        assert_kid_bytes(x, 300, 8);
    }
    ASSERT_EQ(gomem_refresh_maps(g), 0);
    gomem_close(g);
    gomem_close(m);
    kid_stop(&k);
}

/* Where two recorded reads of the same bytes differ, the later one wins. */
TEST(gomem_image_later_read_wins)
{
    static unsigned char mine[32];
    char err[CG_ERR_LEN];
    unsigned char tmp[32], *img;
    size_t len;
    gomem_t *m, *g;
    int fd;

    ASSERT_EQ(gomem_open_pid(getpid(), &m, err), 0);
    gomem_set_recording(m, 1);
    memset(mine, 'A', sizeof mine);
    ASSERT_EQ(gomem_read(m, (uintptr_t)mine + 8, tmp, 16), 0);
    memset(mine, 'B', sizeof mine);
    ASSERT_EQ(gomem_read(m, (uintptr_t)mine, tmp, 16), 0);
    fd = memfd_create("gomem-image", 0);
    ASSERT_EQ(gomem_save_image(m, fd, err), 0);
    img = slurp_fd(fd, &len);
    close(fd);
    ASSERT_EQ(gomem_open_image(img, len, &g, err), 0);
    ASSERT_EQ(gomem_read(g, (uintptr_t)mine, tmp, 24), 0);
    for (int i = 0; i < 16; i++)
        ASSERT_EQ(tmp[i], 'B');
    for (int i = 16; i < 24; i++)
        ASSERT_EQ(tmp[i], 'A');
    free(img);
    gomem_close(g);
    gomem_close(m);
}

/* ---- malformed images, written here byte by byte ------------------------ */

typedef struct {
    unsigned char b[1024];
    size_t n;
} ib_t;

static void ib32(ib_t *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->b[w->n++] = (unsigned char)(v >> (8 * i));
}

static void ib64(ib_t *w, uint64_t v)
{
    ib32(w, (uint32_t)v);
    ib32(w, (uint32_t)(v >> 32));
}

static void ib_header(ib_t *w, uint32_t nmaps, uint32_t nranges, uint64_t datalen)
{
    w->n = 0;
    memcpy(w->b, "CGGOMEM", 8);
    w->n = 8;
    ib32(w, 1);          /* version */
    ib32(w, 0);          /* flags */
    ib32(w, 1234);       /* pid */
    ib32(w, nmaps);
    ib64(w, 0x401000);   /* AT_ENTRY */
    ib32(w, nranges);
    ib32(w, 0);
    ib64(w, datalen);
}

static void ib_map(ib_t *w, uint64_t start, uint64_t end, uint32_t prot)
{
    ib64(w, start);
    ib64(w, end);
    ib32(w, prot);
    ib32(w, 0);
}

static void ib_range(ib_t *w, uint64_t addr, uint64_t len)
{
    ib64(w, addr);
    ib64(w, len);
}

static void ib_data(ib_t *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        w->b[w->n++] = (unsigned char)(i + 1);
}

/* A valid image: two maps, two ranges of 8 and 4 bytes. */
static void ib_good(ib_t *w)
{
    ib_header(w, 2, 2, 12);
    ib_map(w, 0x1000, 0x2000, GOMEM_R);
    ib_map(w, 0x2000, 0x3000, GOMEM_R | GOMEM_W);
    ib_range(w, 0x1ff8, 8);
    ib_range(w, 0x2000, 4);
    ib_data(w, 12);
}

static int ib_open(const ib_t *w, char *err)
{
    gomem_t *g = NULL;
    int rc = gomem_open_image(w->b, w->n, &g, err);
    ASSERT(rc == 0 ? g != NULL : g == NULL);
    gomem_close(g);
    return rc;
}

TEST(gomem_image_handwritten)
{
    char err[CG_ERR_LEN];
    unsigned char buf[12];
    gomem_t *g;
    ib_t w;

    ib_good(&w);
    ASSERT_EQ(gomem_open_image(w.b, w.n, &g, err), 0);
    ASSERT_EQ(gomem_auxv_entry(g), 0x401000);
    /* The touching ranges serve one read across both maps. */
    ASSERT_EQ(gomem_read(g, 0x1ff8, buf, 12), 0);
    for (int i = 0; i < 12; i++)
        ASSERT_EQ(buf[i], i + 1);
    ASSERT_EQ(gomem_read(g, 0x1ff8, buf, 13), -EFAULT);
    ASSERT_EQ(gomem_read(g, 0x1ff0, buf, 1), -EFAULT);
    gomem_close(g);

    /* Empty: no maps, no ranges. */
    ib_header(&w, 0, 0, 0);
    ASSERT_EQ(gomem_open_image(w.b, w.n, &g, err), 0);
    ASSERT_EQ(gomem_read(g, 0x1000, buf, 1), -EFAULT);
    gomem_close(g);

    /* A range that ends at the very top of the address space. */
    ib_header(&w, 1, 1, 8);
    ib_map(&w, UINT64_MAX - 4095, UINT64_MAX, GOMEM_R);
    ib_range(&w, UINT64_MAX - 8, 8);
    ib_data(&w, 8);
    ASSERT_EQ(gomem_open_image(w.b, w.n, &g, err), 0);
    ASSERT_EQ(gomem_read(g, UINT64_MAX - 8, buf, 8), 0);
    ASSERT_EQ(gomem_read(g, UINT64_MAX - 8, buf, 9), -EFAULT);
    gomem_close(g);
}

TEST(gomem_image_malformed)
{
    char err[CG_ERR_LEN];
    ib_t w, good;

    ib_good(&good);
    /* Every proper prefix, and one byte more. */
    for (size_t n = 0; n < good.n; n++)
        ASSERT_EQ(gomem_open_image(good.b, n, &(gomem_t *){NULL}, err), -EINVAL);
    ASSERT_EQ(gomem_open_image(NULL, 0, &(gomem_t *){NULL}, err), -EINVAL);
    w = good;
    w.b[w.n++] = 0;
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ASSERT_CONTAINS(err, "bad memory image");

    w = good;
    w.b[0] = 'X';
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    w = good;
    w.b[8] = 2; /* version */
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    w = good;
    w.b[12] = 1; /* flags */
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    w = good;
    w.b[19] = 0x80; /* negative pid */
    ASSERT_EQ(ib_open(&w, err), -EINVAL);

    /* Huge counts and sizes, with or without the bytes to back them. */
    ib_header(&w, GOMEM_IMAGE_MAX_MAPS + 1, 0, 0);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, GOMEM_IMAGE_MAX_RANGES + 1, 0);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0xffffffff, 0xffffffff, UINT64_MAX);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 1, GOMEM_IMAGE_MAX_DATA + 1);
    ib_range(&w, 0x1000, GOMEM_IMAGE_MAX_DATA + 1);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 1, 8);
    ib_range(&w, 0x1000, UINT64_MAX - 7); /* length past the data */
    ib_data(&w, 8);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    /* A count that the size only matches by wrapping. */
    ib_header(&w, 0, GOMEM_IMAGE_MAX_RANGES, 0);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);

    /* Ranges: overlapping, unsorted, empty, wrapping, not adding up. */
    ib_header(&w, 0, 2, 16);
    ib_range(&w, 0x1000, 8);
    ib_range(&w, 0x1004, 8);
    ib_data(&w, 16);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 2, 16);
    ib_range(&w, 0x2000, 8);
    ib_range(&w, 0x1000, 8);
    ib_data(&w, 16);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 2, 8);
    ib_range(&w, 0x1000, 8);
    ib_range(&w, 0x2000, 0);
    ib_data(&w, 8);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 1, 8);
    ib_range(&w, UINT64_MAX - 3, 8);
    ib_data(&w, 8);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 1, 16);
    ib_range(&w, 0x1000, 8);
    ib_data(&w, 16);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 0, 2, 16);
    ib_range(&w, 0x1000, 8);
    ib_range(&w, 0x1000, 8); /* the same twice */
    ib_data(&w, 16);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);

    /* Maps: empty, reversed, overlapping, unknown prot, reserved word. */
    ib_header(&w, 1, 0, 0);
    ib_map(&w, 0x1000, 0x1000, GOMEM_R);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 1, 0, 0);
    ib_map(&w, 0x2000, 0x1000, GOMEM_R);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 2, 0, 0);
    ib_map(&w, 0x1000, 0x3000, GOMEM_R);
    ib_map(&w, 0x2000, 0x4000, GOMEM_R);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 1, 0, 0);
    ib_map(&w, 0x1000, 0x2000, 8);
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
    ib_header(&w, 1, 0, 0);
    ib_map(&w, 0x1000, 0x2000, GOMEM_R);
    w.b[w.n - 1] = 1;
    ASSERT_EQ(ib_open(&w, err), -EINVAL);
}

/* ---- gostop -------------------------------------------------------------- */

/* A multi-threaded C target: thread 0 spins, the others sleep 100 us at a
 * time; each counts its rounds in shared memory. */
#define BUSY_THREADS 4

typedef struct {
    pid_t pid;
    volatile unsigned long *count; /* BUSY_THREADS counters, shared */
} busy_t;

static void *busy_sleeper(void *arg)
{
    volatile unsigned long *c = arg;
    for (;;) {
        (*c)++;
        usleep(100);
    }
    return NULL;
}

static busy_t busy_start(void)
{
    busy_t b;

    b.count = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT(b.count != MAP_FAILED);
    fflush(NULL);
    b.pid = fork();
    ASSERT(b.pid >= 0);
    if (b.pid == 0) {
        pthread_t t;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int i = 1; i < BUSY_THREADS; i++)
            if (pthread_create(&t, NULL, busy_sleeper, (void *)&b.count[i]) != 0)
                _exit(1);
        for (;;)
            b.count[0]++;
    }
    /* Until every thread has run. */
    for (int i = 0; i < BUSY_THREADS; i++)
        while (b.count[i] == 0)
            sleep_ms(1);
    return b;
}

static void busy_stop(busy_t *b)
{
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    munmap((void *)b->count, PAGE);
}

/* Wait until every counter has moved: the target runs again. */
static void busy_wait_progress(const busy_t *b)
{
    unsigned long before[BUSY_THREADS];

    for (int i = 0; i < BUSY_THREADS; i++)
        before[i] = b->count[i];
    for (int i = 0; i < BUSY_THREADS; i++)
        while (b->count[i] == before[i])
            sleep_ms(1);
}

/* Thread states of pid: how many threads, how many in tracing stop ('t'),
 * how many with a tracer. */
static void task_states(pid_t pid, int *total, int *tstop, int *traced)
{
    char path[64];
    DIR *d;
    struct dirent *de;

    *total = *tstop = *traced = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    d = opendir(path);
    ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char p2[320], *st = NULL;
        const char *q;
        size_t len;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p2, sizeof p2, "/proc/%d/task/%s/stat", (int)pid, de->d_name);
        if (cg_read_file_at(AT_FDCWD, p2, 4096, &st, &len, NULL) != 0)
            continue;
        q = strrchr(st, ')');
        ASSERT(q != NULL);
        (*total)++;
        *tstop += q[2] == 't';
        free(st);
        snprintf(p2, sizeof p2, "/proc/%d/task/%s/status", (int)pid, de->d_name);
        if (cg_read_file_at(AT_FDCWD, p2, 1 << 16, &st, &len, NULL) != 0)
            continue;
        q = strstr(st, "\nTracerPid:");
        ASSERT(q != NULL);
        *traced += atoi(q + 11) != 0;
        free(st);
    }
    closedir(d);
}

static int map_has(const gomem_t *m, uint64_t addr, unsigned prot)
{
    size_t n;
    const gomem_map_t *mp = gomem_maps(m, &n);
    for (size_t i = 0; i < n; i++)
        if (mp[i].start <= addr && addr < mp[i].end)
            return (mp[i].prot & prot) == prot;
    return 0;
}

TEST(gostop_stops_every_thread_and_releases)
{
    busy_t b = busy_start();
    char err[CG_ERR_LEN];
    unsigned long snap[BUSY_THREADS];
    int total, tstop, traced;
    gostop_t *s;
    gomem_t *m;

    ASSERT_EQ(gostop_seize(b.pid, &s, err), 0);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(total, BUSY_THREADS);
    ASSERT_EQ(tstop, BUSY_THREADS);
    ASSERT_EQ(traced, BUSY_THREADS);
    ASSERT_EQ(gostop_count(s), BUSY_THREADS);
    ASSERT_EQ(gostop_tid(s, BUSY_THREADS), 0);
    /* Stopped means nothing moves, however long we look. */
    for (int i = 0; i < BUSY_THREADS; i++)
        snap[i] = b.count[i];
    sleep_ms(20);
    for (int i = 0; i < BUSY_THREADS; i++)
        ASSERT_EQ(b.count[i], snap[i]);
    /* Registers point into the target's code and stack. */
    ASSERT_EQ(gomem_open_pid(b.pid, &m, err), 0);
    for (size_t i = 0; i < gostop_count(s); i++) {
        uint64_t pc = 0, sp = 0, bp = 0;
        pid_t tid = gostop_tid(s, i);
        ASSERT(tid > 0);
        ASSERT_EQ(gostop_regs(s, tid, &pc, &sp, &bp), 0);
        if (!map_has(m, pc, GOMEM_R | GOMEM_X) && !map_has(m, pc, GOMEM_X))
            TEST_FAIL("thread %d: pc %#llx not in an executable map", (int)tid, (unsigned long long)pc);
        ASSERT(map_has(m, sp, GOMEM_R | GOMEM_W));
    }
    {
        uint64_t pc, sp, bp;
        ASSERT_EQ(gostop_regs(s, getpid(), &pc, &sp, &bp), -ESRCH);
    }
    gomem_close(m);
    gostop_release(s);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(total, BUSY_THREADS);
    ASSERT_EQ(tstop, 0);
    ASSERT_EQ(traced, 0);
    busy_wait_progress(&b);
    /* Again: a released process can be stopped again. */
    ASSERT_EQ(gostop_seize(b.pid, &s, err), 0);
    ASSERT_EQ(gostop_count(s), BUSY_THREADS);
    gostop_release(s);
    busy_wait_progress(&b);
    busy_stop(&b);
}

TEST(gostop_bad_targets)
{
    char err[CG_ERR_LEN];
    gostop_t *s;
    pid_t pid;

    ASSERT_EQ(gostop_seize(getpid(), &s, err), -EINVAL);
    ASSERT_CONTAINS(err, "itself");
    ASSERT_EQ(gostop_seize(0, &s, err), -EINVAL);
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(0);
    ASSERT(waitpid(pid, NULL, 0) == pid);
    ASSERT_EQ(gostop_seize(pid, &s, err), -ESRCH);
    ASSERT(s == NULL);
    gostop_release(NULL);
}

/* A target that starts short-lived threads all the time: threads exit
 * while being seized (skipped) and new ones appear after a listing (the
 * next listing finds them).  Held, every thread left is stopped, and any
 * other thread listed is one that was already on its way out. */
static void *churn_thread(void *arg)
{
    volatile unsigned long *c = arg;
    c[1]++;
    return NULL;
}

TEST(gostop_threads_coming_and_going)
{
    volatile unsigned long *c;
    char err[CG_ERR_LEN];
    pid_t pid;

    c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT(c != MAP_FAILED);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        pthread_attr_t a;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        for (;;) {
            pthread_t t;
            if (pthread_create(&t, &a, churn_thread, (void *)c) == 0)
                c[0]++;
        }
    }
    while (c[1] < 100)
        sleep_ms(1);
    for (int round = 0; round < 30; round++) {
        int total, tstop, traced;
        unsigned long made;
        gostop_t *s;
        int rc = gostop_seize(pid, &s, err);
        if (rc != 0)
            TEST_FAIL("round %d: %s", round, err);
        ASSERT(gostop_count(s) >= 1);
        made = c[0];
        /* Threads seen exiting finish exiting; nothing else runs. */
        for (;;) {
            task_states(pid, &total, &tstop, &traced);
            if (total == tstop)
                break;
            sleep_ms(1);
        }
        ASSERT_EQ(tstop, (int)gostop_count(s));
        ASSERT_EQ(c[0], made);
        gostop_release(s);
    }
    {
        unsigned long made = c[0];
        while (c[0] == made)
            sleep_ms(1);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* How many threads of pid are in state ch ('T': stopped by a signal). */
static int tasks_in_state(pid_t pid, char ch)
{
    char path[64];
    DIR *d;
    struct dirent *de;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    d = opendir(path);
    ASSERT(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char p2[320], *st = NULL;
        const char *q;
        size_t len;
        if (de->d_name[0] == '.')
            continue;
        snprintf(p2, sizeof p2, "/proc/%d/task/%s/stat", (int)pid, de->d_name);
        if (cg_read_file_at(AT_FDCWD, p2, 4096, &st, &len, NULL) != 0)
            continue;
        q = strrchr(st, ')');
        n += q != NULL && q[2] == ch;
        free(st);
    }
    closedir(d);
    return n;
}

/* A process stopped by SIGSTOP before we came stays stopped after we let
 * go (the kernel puts a detached thread back into its group stop), and
 * runs on SIGCONT as before. */
TEST(gostop_stopped_process_stays_stopped)
{
    busy_t b = busy_start();
    char err[CG_ERR_LEN];
    unsigned long snap[BUSY_THREADS];
    int total, tstop, traced;
    gostop_t *s;

    ASSERT(kill(b.pid, SIGSTOP) == 0);
    while (tasks_in_state(b.pid, 'T') != BUSY_THREADS)
        sleep_ms(1);
    for (int i = 0; i < BUSY_THREADS; i++)
        snap[i] = b.count[i];
    ASSERT_EQ(gostop_seize(b.pid, &s, err), 0);
    ASSERT_EQ(gostop_count(s), BUSY_THREADS);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(tstop, BUSY_THREADS);
    gostop_release(s);
    while (tasks_in_state(b.pid, 'T') != BUSY_THREADS)
        sleep_ms(1);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(traced, 0);
    for (int i = 0; i < BUSY_THREADS; i++)
        ASSERT_EQ(b.count[i], snap[i]);
    ASSERT(kill(b.pid, SIGCONT) == 0);
    busy_wait_progress(&b);
    busy_stop(&b);
}

/* Spawn $CGOPS_BUILD/stophold PID and wait for its "stopped N". */
static pid_t stophold_start(pid_t target, int *nthreads)
{
    const char *dir = getenv("CGOPS_BUILD");
    char path[4096], arg[32], line[64];
    int p[2];
    pid_t pid;
    ssize_t n;
    size_t got = 0;

    if (dir == NULL)
        SKIP("CGOPS_BUILD not set (run through ctest)");
    snprintf(path, sizeof path, "%s/stophold", dir);
    if (access(path, X_OK) != 0)
        SKIP("%s not built", path);
    snprintf(arg, sizeof arg, "%d", (int)target);
    ASSERT(pipe(p) == 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(path, "stophold", arg, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    while (got < sizeof line - 1 && (n = read(p[0], line + got, sizeof line - 1 - got)) > 0) {
        got += (size_t)n;
        if (memchr(line, '\n', got))
            break;
    }
    line[got] = '\0';
    close(p[0]);
    if (strncmp(line, "stopped ", 8) != 0)
        TEST_FAIL("stophold said \"%s\"", line);
    *nthreads = atoi(line + 8);
    return pid;
}

static void stophold_kill(pid_t pid)
{
    ASSERT(kill(pid, SIGKILL) == 0);
    ASSERT(waitpid(pid, NULL, 0) == pid);
}

/* The tracer is killed while it holds the target: the kernel lets every
 * thread run on (SEIZE, never ATTACH's SIGSTOP). */
TEST(gostop_tracer_killed_target_runs_on)
{
    busy_t b = busy_start();
    int n, total, tstop, traced;
    pid_t h = stophold_start(b.pid, &n);
    char err[CG_ERR_LEN], want[64];
    gostop_t *s;

    ASSERT_EQ(n, BUSY_THREADS);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(total, BUSY_THREADS);
    ASSERT_EQ(tstop, BUSY_THREADS);
    /* One tracer only: a second is told who holds it. */
    ASSERT_EQ(gostop_seize(b.pid, &s, err), -EPERM);
    snprintf(want, sizeof want, "already traced by pid %d", (int)h);
    ASSERT_CONTAINS(err, want);
    stophold_kill(h);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(total, BUSY_THREADS);
    ASSERT_EQ(tstop, 0);
    ASSERT_EQ(traced, 0);
    busy_wait_progress(&b);
    busy_stop(&b);
}

/* The same on a real multi-threaded Go process. */
TEST(gostop_go_process)
{
    const char *fx = getenv("FIXTURES");
    char path[4096], line[128];
    int p[2], n, total, tstop, traced;
    pid_t go, h;
    ssize_t got;
    char *st = NULL;
    size_t len;
    long long before, after;

    if (fx == NULL)
        SKIP("FIXTURES not set (run through ctest)");
    snprintf(path, sizeof path, "%s/agentfix", fx);
    if (access(path, X_OK) != 0)
        SKIP("%s not built", path);
    ASSERT(pipe(p) == 0);
    fflush(NULL);
    go = fork();
    ASSERT(go >= 0);
    if (go == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(path, "agentfix", "-noagent", "-alloc", "-goroutines", "50", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    got = read(p[0], line, sizeof line - 1);
    ASSERT(got > 0);
    line[got] = '\0';
    ASSERT(strncmp(line, "ready ", 6) == 0);
    /* The Go runtime starts its threads (sysmon, GC workers) early. */
    for (;;) {
        task_states(go, &total, &tstop, &traced);
        if (total >= 3)
            break;
        sleep_ms(5);
    }
    h = stophold_start(go, &n);
    task_states(go, &total, &tstop, &traced);
    ASSERT(total >= 3);
    ASSERT_EQ(n, total);
    ASSERT_EQ(tstop, total);
    ASSERT_EQ(traced, total);
    stophold_kill(h);
    task_states(go, &total, &tstop, &traced);
    ASSERT_EQ(tstop, 0);
    ASSERT_EQ(traced, 0);
    /* It runs on: the allocation loop keeps switching context. */
    snprintf(path, sizeof path, "/proc/%d/status", (int)go);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 1 << 16, &st, &len, NULL), 0);
    before = atoll(strstr(st, "\nvoluntary_ctxt_switches:") + 26);
    free(st);
    do {
        sleep_ms(2);
        ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 1 << 16, &st, &len, NULL), 0);
        after = atoll(strstr(st, "\nvoluntary_ctxt_switches:") + 26);
        free(st);
    } while (after == before);
    /* And a stop-and-release by the library itself. */
    {
        char err[CG_ERR_LEN];
        gostop_t *s;
        gomem_t *m;
        unsigned char ehdr[64];
        uint64_t e_entry;
        int fd;
        ASSERT_EQ(gostop_seize(go, &s, err), 0);
        task_states(go, &total, &tstop, &traced);
        ASSERT_EQ((int)gostop_count(s), total);
        ASSERT_EQ(tstop, total);
        /* Every thread's pc is in the process's code. */
        ASSERT_EQ(gomem_open_pid(go, &m, err), 0);
        for (size_t i = 0; i < gostop_count(s); i++) {
            uint64_t pc, sp, bp;
            ASSERT_EQ(gostop_regs(s, gostop_tid(s, i), &pc, &sp, &bp), 0);
            ASSERT(map_has(m, pc, GOMEM_X));
            ASSERT(map_has(m, sp, GOMEM_R | GOMEM_W));
        }
        /* A non-PIE Go binary runs where it was linked: AT_ENTRY is the
         * file's e_entry (load bias 0). */
        snprintf(path, sizeof path, "%s/agentfix", fx);
        fd = open(path, O_RDONLY);
        ASSERT(fd >= 0 && read(fd, ehdr, sizeof ehdr) == (ssize_t)sizeof ehdr);
        close(fd);
        ASSERT_EQ(ehdr[16], 2); /* ET_EXEC */
        memcpy(&e_entry, ehdr + 24, 8);
        ASSERT_EQ(gomem_auxv_entry(m), e_entry);
        gomem_close(m);
        gostop_release(s);
        task_states(go, &total, &tstop, &traced);
        ASSERT_EQ(tstop, 0);
        ASSERT_EQ(traced, 0);
    }
    close(p[0]);
    kill(go, SIGKILL);
    waitpid(go, NULL, 0);
}

/* ---- signals that arrive while stopping --------------------------------- */

/* A target whose main thread receives a stream of queued real-time signals
 * from its second thread; a lost signal shows as received < sent for good. */
typedef struct {
    pid_t pid;
    volatile unsigned long *c; /* [0] sent, [1] received, [2] stop sending */
} rt_t;

static volatile unsigned long *rt_counts;
static pid_t rt_main_tid;

static void rt_handler(int sig)
{
    (void)sig;
    rt_counts[1]++;
}

static void *rt_sender(void *arg)
{
    sigset_t set;
    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        if (rt_counts[2]) {
            usleep(1000);
            continue;
        }
        if (syscall(SYS_tgkill, getpid(), rt_main_tid, SIGRTMIN) == 0)
            rt_counts[0]++;
        else
            usleep(50); /* queue full */
    }
    return NULL;
}

static rt_t rt_start(void)
{
    rt_t r;

    r.c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT(r.c != MAP_FAILED);
    fflush(NULL);
    r.pid = fork();
    ASSERT(r.pid >= 0);
    if (r.pid == 0) {
        struct sigaction sa;
        pthread_t t;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        rt_counts = r.c;
        rt_main_tid = (pid_t)syscall(SYS_gettid);
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = rt_handler;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGRTMIN, &sa, NULL);
        if (pthread_create(&t, NULL, rt_sender, NULL) != 0)
            _exit(1);
        for (;;)
            pause();
    }
    while (r.c[1] == 0)
        sleep_ms(1);
    return r;
}

TEST(gostop_signal_given_back)
{
    rt_t r = rt_start();
    char err[CG_ERR_LEN];
    gostop_t *s;

    for (int round = 0; round < 200; round++) {
        ASSERT_EQ(gostop_seize(r.pid, &s, err), 0);
        ASSERT_EQ(gostop_count(s), 2);
        gostop_release(s);
    }
    r.c[2] = 1;
    sleep_ms(5); /* the sender sees the flag (its last send counts) */
    while (r.c[1] != r.c[0]) {
        /* Queued signals are never merged: each one sent is delivered. */
        static int spins;
        if (++spins > 5000)
            TEST_FAIL("signals lost: sent %lu, received %lu", r.c[0], r.c[1]);
        sleep_ms(1);
    }
    kill(r.pid, SIGKILL);
    waitpid(r.pid, NULL, 0);
}

static void release_handler(int sig)
{
    (void)sig;
    gostop_release_all_signal_safe();
}

TEST(gostop_release_from_signal_handler)
{
    busy_t b = busy_start();
    char err[CG_ERR_LEN];
    int total, tstop, traced;
    struct sigaction sa;
    gostop_t *s;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = release_handler;
    sigaction(SIGUSR2, &sa, NULL);
    ASSERT_EQ(gostop_seize(b.pid, &s, err), 0);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(tstop, BUSY_THREADS);
    raise(SIGUSR2);
    task_states(b.pid, &total, &tstop, &traced);
    ASSERT_EQ(tstop, 0);
    ASSERT_EQ(traced, 0);
    busy_wait_progress(&b);
    gostop_release(s); /* nothing left to do, but frees */
    busy_stop(&b);
}

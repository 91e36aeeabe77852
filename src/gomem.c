/* gomem.c -- the memory of a target process (or a recorded image of it)
 *
 * Live: maps from /proc/PID/maps, bytes from process_vm_readv, batched.
 * Image: the format in include/cgops/gomem.h, parsed with every count and
 * length bounded, served from the recorded ranges.  Recording keeps a copy
 * of each range read whole, for gomem_save_image.
 */
#include "cgops/gomem.h"

#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The kernel's UIO_MAXIOV: the most iovecs one process_vm_readv takes. */
#define BATCH_IOV 1024
/* The kernel caps one transfer at MAX_RW_COUNT (INT_MAX rounded down to a
 * page) and silently reads less; keep each call well below it. */
#define BATCH_BYTES ((size_t)1 << 30)
/* /proc/PID/maps of a process at vm.max_map_count (65530) is about 6 MB
 * with long paths; far more means something odd. */
#define MAPS_MAX_BYTES ((size_t)64 << 20)
#define AUXV_MAX_BYTES ((size_t)64 << 10)
#define AT_ENTRY_TAG 9

static const unsigned char image_magic[8] = {'C', 'G', 'G', 'O', 'M', 'E', 'M', '\0'};
#define IMAGE_VERSION 1
#define IMAGE_MAP_LEN 24
#define IMAGE_RANGE_LEN 16

/* A recorded range: len bytes at data + off. */
typedef struct {
    uint64_t addr;
    uint64_t len;
    size_t off;
} range_t;

struct gomem {
    pid_t pid;          /* 0 for an image */
    int dirfd;          /* /proc/PID, -1 for an image */
    int pidfd;          /* pidfd_open(pid), -1 if unavailable */
    uint64_t entry;
    gomem_map_t *maps;
    size_t nmaps;
    size_t last;        /* index of the map the last lookup hit */

    /* An image's ranges, sorted, not overlapping. */
    range_t *img;
    size_t nimg;
    unsigned char *imgdata;

    /* Recording, in the order read. */
    int recording;
    int rec_overflow;
    range_t *rec;
    size_t nrec, caprec;
    unsigned char *recdata;
    size_t recbytes, caprecbytes;

    struct batch *batch; /* gomem_readv's iovecs, allocated on first use */
};

/* ---- little-endian helpers ---------------------------------------------- */

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* ---- maps ----------------------------------------------------------------- */

static int map_cmp(const void *a, const void *b)
{
    const gomem_map_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Sort, clip overlaps and merge touching maps of the same prot, in place.
 * The kernel drops the mmap lock between reads of a big maps file, so a
 * map changed meanwhile can show twice or overlap its neighbour. */
static size_t maps_normalize(gomem_map_t *v, size_t n)
{
    size_t out = 0;

    if (n == 0) /* v may be NULL: not for qsort */
        return 0;
    qsort(v, n, sizeof *v, map_cmp);
    for (size_t i = 0; i < n; i++) {
        gomem_map_t cur = v[i];
        if (out > 0 && cur.start < v[out - 1].end)
            cur.start = v[out - 1].end;
        if (cur.start >= cur.end)
            continue;
        if (out > 0 && cur.start == v[out - 1].end && cur.prot == v[out - 1].prot) {
            v[out - 1].end = cur.end;
            continue;
        }
        v[out++] = cur;
    }
    return out;
}

static int parse_hex(const char **pp, uint64_t *v)
{
    const char *p = *pp;
    uint64_t x = 0;
    int digits = 0;

    for (;; p++, digits++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else
            break;
        if (digits == 16)
            return -1;
        x = x << 4 | d;
    }
    if (digits == 0)
        return -1;
    *pp = p;
    *v = x;
    return 0;
}

/* Parse the text of /proc/PID/maps: "start-end perms offset dev inode path". */
static int maps_parse(const char *text, gomem_map_t **out, size_t *nout)
{
    gomem_map_t *v = NULL;
    size_t n = 0, cap = 0;
    const char *p = text;

    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *path;
        gomem_map_t mp;
        uint64_t s, e;

        if (eol == NULL)
            eol = p + strlen(p);
        if (parse_hex(&p, &s) != 0 || *p++ != '-' || parse_hex(&p, &e) != 0 || *p++ != ' ' ||
            eol - p < 4) {
            free(v);
            return -EINVAL;
        }
        mp.start = s;
        mp.end = e;
        mp.prot = (p[0] == 'r' ? GOMEM_R : 0) | (p[1] == 'w' ? GOMEM_W : 0) |
                  (p[2] == 'x' ? GOMEM_X : 0);
        /* The path is the sixth field; only the kernel's special names
         * matter here.  [vvar] (and [vvar_vclock]) are VM_PFNMAP pages and
         * [vsyscall] is no VMA at all: process_vm_readv fails on both, so
         * they are not readable for us. */
        path = memchr(p, '[', (size_t)(eol - p));
        if (path && (strncmp(path, "[vvar", 5) == 0 || strncmp(path, "[vsyscall]", 10) == 0))
            mp.prot &= ~(unsigned)GOMEM_R;
        if (mp.start < mp.end) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = cg_xrealloc(v, cap * sizeof *v);
            }
            v[n++] = mp;
        }
        p = *eol ? eol + 1 : eol;
    }
    *out = v;
    *nout = maps_normalize(v, n);
    return 0;
}

/* Index of the map holding addr, or (size_t)-1. */
static size_t map_find(const gomem_t *m, uint64_t addr)
{
    size_t lo = 0, hi = m->nmaps;

    if (m->last < m->nmaps && m->maps[m->last].start <= addr && addr < m->maps[m->last].end)
        return m->last;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->maps[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->nmaps && m->maps[lo].start <= addr)
        return lo;
    return (size_t)-1;
}

int gomem_valid(const gomem_t *m, uint64_t addr, uint64_t len)
{
    size_t i = map_find(m, addr);
    uint64_t end;

    if (i == (size_t)-1 || !(m->maps[i].prot & GOMEM_R))
        return 0;
    if (len > UINT64_MAX - addr)
        return 0;
    end = addr + len;
    /* Readable maps that touch: adjacent ones differ in prot (else they
     * were merged), and r-- next to rw- is still one readable run. */
    while (m->maps[i].end < end) {
        if (i + 1 >= m->nmaps || m->maps[i + 1].start != m->maps[i].end ||
            !(m->maps[i + 1].prot & GOMEM_R))
            return 0;
        i++;
    }
    ((gomem_t *)m)->last = i;
    return 1;
}

/* ---- error messages ----------------------------------------------------- */

static int read_small(int dirfd, const char *path, char **buf)
{
    size_t len;
    return cg_read_file_at(dirfd, path, 1 << 16, buf, &len, NULL);
}

/* The first number after "Key:" in a /proc status text, or -1. */
static long long status_field(const char *status, const char *key, int nth)
{
    const char *p = status;
    size_t klen = strlen(key);

    while (p && *p) {
        if (strncmp(p, key, klen) == 0) {
            const char *q = p + klen;
            for (int i = 0; i <= nth; i++) {
                char *end;
                long long v;
                while (*q == ' ' || *q == '\t')
                    q++;
                if (*q < '0' || *q > '9')
                    return -1;
                v = strtoll(q, &end, 10);
                if (i == nth)
                    return v;
                q = end;
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

/* 1 when we hold CAP_SYS_PTRACE (bit 19 of CapEff). */
static int have_cap_sys_ptrace(void)
{
    char *st = NULL;
    const char *p;
    int has = 0;

    if (read_small(AT_FDCWD, "/proc/self/status", &st) != 0)
        return geteuid() == 0;
    p = strstr(st, "\nCapEff:");
    if (p) {
        unsigned long long caps = strtoull(p + 8, NULL, 16);
        has = (caps >> 19) & 1;
    }
    free(st);
    return has;
}

static int yama_scope(void)
{
    char *s = NULL;
    int v = -1;

    if (read_small(AT_FDCWD, "/proc/sys/kernel/yama/ptrace_scope", &s) == 0) {
        v = atoi(s);
        free(s);
    }
    return v;
}

/* 1 when pid descends from us (Yama scope 1 allows those). */
static int is_descendant(pid_t pid)
{
    pid_t self = getpid();

    for (int depth = 0; depth < 4096 && pid > 1; depth++) {
        char path[64], *st = NULL;
        long long ppid;
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_small(AT_FDCWD, path, &st) != 0)
            return 0;
        ppid = status_field(st, "PPid:", 0);
        free(st);
        if (ppid == self)
            return 1;
        pid = (pid_t)ppid;
    }
    return 0;
}

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;

    if (used + 1 >= size)
        return;
    if (used > 0) {
        snprintf(buf + used, size - used, "; ");
        used = strlen(buf);
    }
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

/* Why the kernel's PTRACE_MODE_ATTACH check (process_vm_readv, ptrace;
 * the maps need PTRACE_MODE_READ, the same check without Yama) said no:
 * it wants the caller's uid to equal all of the target's real, effective
 * and saved uids and the target to be dumpable, or CAP_SYS_PTRACE; Yama
 * adds its own rule on top. */
static void explain_eperm(pid_t pid, char *why, size_t size)
{
    char path[64], *st = NULL;
    int cap = have_cap_sys_ptrace(), scope = yama_scope();
    long long uid[3] = {-1, -1, -1};
    struct stat sb;

    why[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_small(AT_FDCWD, path, &st) == 0) {
        for (int i = 0; i < 3; i++)
            uid[i] = status_field(st, "Uid:", i);
        free(st);
    }
    if (!cap) {
        uid_t me = getuid();
        long long other = -1;
        for (int i = 0; i < 3; i++)
            if (uid[i] >= 0 && uid[i] != (long long)me && other < 0)
                other = uid[i];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (other >= 0)
            append(why, size, "pid %d belongs to uid %lld; needs CAP_SYS_PTRACE or the same user",
                   (int)pid, other);
        /* /proc/PID/stat belongs to root while the process is not dumpable
         * (set-user-ID, file capabilities, prctl PR_SET_DUMPABLE). */
        else if (uid[0] > 0 && stat(path, &sb) == 0 && sb.st_uid == 0)
            append(why, size,
                   "pid %d is not dumpable (set-user-ID, file capabilities or "
                   "prctl PR_SET_DUMPABLE); needs CAP_SYS_PTRACE",
                   (int)pid);
        /* Root in a container usually lacks it: docker and podman drop
         * it unless started with --cap-add=SYS_PTRACE. */
        if (geteuid() == 0)
            append(why, size, "running as root without CAP_SYS_PTRACE (containers drop it "
                              "unless started with --cap-add=SYS_PTRACE)");
        if (scope == 1 && !is_descendant(pid))
            append(why, size, "kernel.yama.ptrace_scope=1 allows only descendants without CAP_SYS_PTRACE");
        else if (scope == 2)
            append(why, size, "kernel.yama.ptrace_scope=2 allows only CAP_SYS_PTRACE");
    }
    if (scope >= 3)
        append(why, size, "kernel.yama.ptrace_scope=%d forbids it for everyone", scope);
    if (why[0] == '\0')
        append(why, size,
               cap ? "denied although CAP_SYS_PTRACE is held: a security module (AppArmor, "
                     "SELinux), a seccomp filter, or a target in another user namespace"
                   : "denied by the kernel: a security module (AppArmor, SELinux) or a "
                     "seccomp filter");
}

void gomem_describe_error(pid_t pid, int rc, const char *what, char *err)
{
    char why[CG_ERR_LEN];

    if (err == NULL)
        return;
    if (rc == -ESRCH) {
        cg_seterr(err, "process %d exited", (int)pid);
    } else if (rc == -EPERM || rc == -EACCES) {
        explain_eperm(pid, why, sizeof why);
        cg_seterr(err, "cannot %s pid %d: %s (%s)", what, (int)pid, strerror(EPERM), why);
    } else {
        cg_seterr(err, "cannot %s pid %d: %s", what, (int)pid, strerror(-rc));
    }
}

/* ---- live process --------------------------------------------------------- */

static int map_errno(int e)
{
    /* /proc/PID files answer EACCES where process_vm_readv says EPERM;
     * callers get one code.  A pid directory whose process is gone answers
     * ENOENT or ESRCH. */
    if (e == EACCES)
        return -EPERM;
    if (e == ENOENT)
        return -ESRCH;
    return -e;
}

/* 1 when the process behind dirfd is a zombie or gone. */
static int proc_dead(int dirfd)
{
    char *st = NULL;
    const char *p;
    int dead = 1;

    if (read_small(dirfd, "stat", &st) != 0)
        return 1;
    p = strrchr(st, ')');
    if (p && p[1] == ' ')
        dead = p[2] == 'Z' || p[2] == 'X';
    free(st);
    return dead;
}

static int load_maps(gomem_t *m, char *err)
{
    char *text = NULL;
    size_t len;
    int trunc = 0, rc;
    gomem_map_t *v;
    size_t n;

    rc = cg_read_file_at(m->dirfd, "maps", MAPS_MAX_BYTES, &text, &len, &trunc);
    if (rc != 0) {
        rc = map_errno(-rc);
        gomem_describe_error(m->pid, rc, "read memory of", err);
        return rc;
    }
    if (trunc) {
        free(text);
        cg_seterr(err, "cannot read memory of pid %d: its maps exceed %zu MiB", (int)m->pid,
                  MAPS_MAX_BYTES >> 20);
        return -E2BIG;
    }
    rc = maps_parse(text, &v, &n);
    free(text);
    if (rc != 0) {
        cg_seterr(err, "cannot read memory of pid %d: unexpected line in its maps", (int)m->pid);
        return rc;
    }
    if (n == 0 && proc_dead(m->dirfd)) {
        free(v);
        gomem_describe_error(m->pid, -ESRCH, "read memory of", err);
        return -ESRCH;
    }
    free(m->maps);
    m->maps = v;
    m->nmaps = n;
    m->last = 0;
    return 0;
}

static int load_auxv(gomem_t *m, char *err)
{
    char *buf = NULL;
    size_t len;
    int rc = cg_read_file_at(m->dirfd, "auxv", AUXV_MAX_BYTES, &buf, &len, NULL);

    if (rc != 0) {
        rc = map_errno(-rc);
        gomem_describe_error(m->pid, rc, "read memory of", err);
        return rc;
    }
    /* Pairs of native words, tag then value, ending with AT_NULL. */
    for (size_t off = 0; off + 2 * sizeof(unsigned long) <= len; off += 2 * sizeof(unsigned long)) {
        unsigned long tag, val;
        memcpy(&tag, buf + off, sizeof tag);
        memcpy(&val, buf + off + sizeof tag, sizeof val);
        if (tag == 0)
            break;
        if (tag == AT_ENTRY_TAG)
            m->entry = val;
    }
    free(buf);
    return 0;
}

static gomem_t *gomem_new(void)
{
    gomem_t *m = cg_xcalloc(1, sizeof *m);
    m->dirfd = -1;
    m->pidfd = -1;
    return m;
}

/* One process_vm_readv; returns bytes read or -errno. */
static ssize_t vm_readv(pid_t pid, const struct iovec *local, const struct iovec *remote, size_t n)
{
    ssize_t r;

    do
        r = process_vm_readv(pid, local, (unsigned long)n, remote, (unsigned long)n, 0);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

int gomem_open_pid_dir(pid_t pid, char *err)
{
    char path[64];
    int fd, rc;

    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    rc = errno == ENOENT ? -ESRCH : -errno;
    if (rc == -ESRCH)
        cg_seterr(err, "no process %d", (int)pid);
    else
        cg_seterr(err, "cannot open %s: %s", path, strerror(-rc));
    return rc;
}

int gomem_open_pid(pid_t pid, gomem_t **out, char *err)
{
    gomem_t *m;
    int rc;

    *out = NULL;
    if (pid <= 0) {
        cg_seterr(err, "invalid pid %d", (int)pid);
        return -EINVAL;
    }
    m = gomem_new();
    m->pid = pid;
    if ((rc = m->dirfd = gomem_open_pid_dir(pid, err)) < 0) {
        gomem_close(m);
        return rc;
    }
#ifdef SYS_pidfd_open
    /* Polled after each batch: readable once the process has exited, so
     * bytes read from a pid that was recycled meanwhile are refused. */
    m->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (m->pidfd < 0)
        m->pidfd = -1;
#endif
    if ((rc = load_maps(m, err)) != 0) {
        gomem_close(m);
        return rc;
    }
    /* Before auxv, which a kernel thread answers with ESRCH. */
    if (m->nmaps == 0) {
        cg_seterr(err, "pid %d has no user memory (a kernel thread)", (int)pid);
        gomem_close(m);
        return -EINVAL;
    }
    if ((rc = load_auxv(m, err)) != 0) {
        gomem_close(m);
        return rc;
    }
    /* Reading the maps needs less than process_vm_readv (no Yama, for one),
     * so try one byte: where the entry point is, else the first readable
     * map.  EFAULT only means that map changed meanwhile. */
    {
        uint64_t a = 0;
        unsigned char b;
        struct iovec l = {&b, 1}, r;
        ssize_t got;
        if (m->entry && gomem_valid(m, m->entry, 1))
            a = m->entry;
        else
            for (size_t i = 0; i < m->nmaps && a == 0; i++)
                if (m->maps[i].prot & GOMEM_R)
                    a = m->maps[i].start;
        if (a != 0) {
            r.iov_base = (void *)(uintptr_t)a;
            r.iov_len = 1;
            got = vm_readv(pid, &l, &r, 1);
            if (got == -EPERM || got == -ESRCH || got == -ENOSYS) {
                gomem_describe_error(pid, (int)got, "read memory of", err);
                gomem_close(m);
                return (int)got;
            }
        }
    }
    *out = m;
    return 0;
}

void gomem_close(gomem_t *m)
{
    if (m == NULL)
        return;
    if (m->dirfd >= 0)
        close(m->dirfd);
    if (m->pidfd >= 0)
        close(m->pidfd);
    free(m->maps);
    free(m->img);
    free(m->imgdata);
    free(m->rec);
    free(m->recdata);
    free(m->batch);
    free(m);
}

pid_t gomem_pid(const gomem_t *m)
{
    return m->pid;
}

uint64_t gomem_auxv_entry(const gomem_t *m)
{
    return m->entry;
}

const gomem_map_t *gomem_maps(const gomem_t *m, size_t *n)
{
    *n = m->nmaps;
    return m->maps;
}

int gomem_refresh_maps(gomem_t *m)
{
    if (m->dirfd < 0)
        return 0;
    return load_maps(m, NULL);
}

/* 1 when the process has exited (its pidfd polls readable). */
static int exited(const gomem_t *m)
{
    struct pollfd p;

    if (m->pidfd < 0)
        return 0;
    p.fd = m->pidfd;
    p.events = POLLIN;
    p.revents = 0;
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP));
}

/* ---- recording ------------------------------------------------------------ */

void gomem_set_recording(gomem_t *m, int on)
{
    m->recording = on != 0;
}

static void record(gomem_t *m, uint64_t addr, const void *buf, size_t len)
{
    if (!m->recording || len == 0 || m->rec_overflow)
        return;
    if (m->nrec >= GOMEM_IMAGE_MAX_RANGES || len > GOMEM_IMAGE_MAX_DATA - m->recbytes) {
        m->rec_overflow = 1;
        return;
    }
    if (m->nrec == m->caprec) {
        m->caprec = m->caprec ? m->caprec * 2 : 64;
        m->rec = cg_xrealloc(m->rec, m->caprec * sizeof *m->rec);
    }
    if (len > m->caprecbytes - m->recbytes) {
        size_t c = m->caprecbytes ? m->caprecbytes : 4096;
        while (c - m->recbytes < len)
            c *= 2;
        m->recdata = cg_xrealloc(m->recdata, c);
        m->caprecbytes = c;
    }
    memcpy(m->recdata + m->recbytes, buf, len);
    m->rec[m->nrec].addr = addr;
    m->rec[m->nrec].len = len;
    m->rec[m->nrec].off = m->recbytes;
    m->nrec++;
    m->recbytes += len;
}

/* ---- reading -------------------------------------------------------------- */

/* An image: [addr, addr+len) from recorded ranges that follow each other
 * without a gap. */
static int image_read(const gomem_t *m, uint64_t addr, void *buf, size_t len)
{
    size_t lo = 0, hi = m->nimg;
    unsigned char *dst = buf;

    if (len == 0)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->img[mid].addr + m->img[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (len > 0) {
        const range_t *r;
        uint64_t skip, n;
        if (lo >= m->nimg || m->img[lo].addr > addr)
            return -EFAULT;
        r = &m->img[lo];
        skip = addr - r->addr;
        n = r->len - skip < len ? r->len - skip : len;
        memcpy(dst, m->imgdata + r->off + skip, (size_t)n);
        dst += n;
        addr += n;
        len -= (size_t)n;
        lo++;
    }
    return 0;
}

/* A live read of one range, in chunks below the kernel's transfer cap. */
static int live_read(gomem_t *m, uint64_t addr, void *buf, size_t len)
{
    unsigned char *dst = buf;

    while (len > 0) {
        size_t n = len < BATCH_BYTES ? len : BATCH_BYTES;
        struct iovec l = {dst, n}, r = {(void *)(uintptr_t)addr, n};
        ssize_t got = vm_readv(m->pid, &l, &r, 1);
        if (got < 0)
            return got == -EFAULT || got == -EIO ? -EFAULT : (int)got;
        if ((size_t)got != n)
            return -EFAULT;
        dst += n;
        addr += n;
        len -= n;
    }
    return 0;
}

int gomem_read(gomem_t *m, uint64_t addr, void *buf, size_t len)
{
    int rc;

    if (len == 0)
        return 0;
    if (!gomem_valid(m, addr, len))
        return -EFAULT;
    rc = m->img != NULL ? image_read(m, addr, buf, len) : live_read(m, addr, buf, len);
    if (rc == 0)
        record(m, addr, buf, len);
    return rc;
}

/* One process_vm_readv in the making.  Requests that follow each other in
 * the target with a small gap (g structs sit in one span, 416 bytes apart
 * for a 392-byte g) share one remote iovec, with the gap read into
 * scratch: the kernel pins and walks the pages once per remote iovec, so
 * ten Gs on a page cost one walk instead of ten.  Goroutine stacks of 2 KiB
 * whose used tops (~300 bytes) are read sit ~1.7 KiB apart: reading the
 * gap costs less than a walk each (a million goroutines: 1.25 s -> 0.85 s
 * of system time). */
#define GAP_MAX 2048
#define GAP ((size_t)-1)

typedef struct batch {
    struct iovec local[BATCH_IOV], remote[BATCH_IOV];
    size_t owner[BATCH_IOV]; /* request of local[k], or GAP */
    size_t nl, nr, bytes;
    unsigned char scratch[GAP_MAX];
} batch_t;

/* Add request i (valid, 0 < len < BATCH_BYTES).  Returns 0, or 1 when the
 * batch is full (send it, then add again). */
static int batch_add(const gomem_t *m, gomem_req_t *r, batch_t *b, size_t i)
{
    gomem_req_t *q = &r[i];

    if (b->nl > 0 && b->owner[b->nl - 1] != GAP) {
        const gomem_req_t *p = &r[b->owner[b->nl - 1]];
        uint64_t pend = p->addr + p->len;
        uint64_t gap = q->addr - pend;
        if (q->addr >= pend && gap <= GAP_MAX && b->nl + 2 <= BATCH_IOV &&
            gap + q->len <= BATCH_BYTES - b->bytes && (gap == 0 || gomem_valid(m, pend, gap))) {
            b->remote[b->nr - 1].iov_len += (size_t)gap + q->len;
            if (gap > 0) {
                b->local[b->nl] = (struct iovec){b->scratch, (size_t)gap};
                b->owner[b->nl++] = GAP;
            }
            b->local[b->nl] = (struct iovec){q->buf, q->len};
            b->owner[b->nl++] = i;
            b->bytes += (size_t)gap + q->len;
            return 0;
        }
    }
    if (b->nl == BATCH_IOV || b->nr == BATCH_IOV || q->len > BATCH_BYTES - b->bytes)
        return 1;
    b->remote[b->nr++] = (struct iovec){(void *)(uintptr_t)q->addr, q->len};
    b->local[b->nl] = (struct iovec){q->buf, q->len};
    b->owner[b->nl++] = i;
    b->bytes += q->len;
    return 0;
}

/* Send the batch until it is empty.  The kernel stops at the first page it
 * cannot read (after part of a range, possibly): the requests before it are
 * whole, the one holding that byte is bad, and the rest go again in a new
 * batch.  Returns 0, or -ESRCH/-EPERM/-ENOMEM. */
static int batch_send(gomem_t *m, gomem_req_t *r, batch_t *b)
{
    size_t rest[BATCH_IOV];

    while (b->nl > 0) {
        ssize_t got = process_vm_readv(m->pid, b->local, (unsigned long)b->nl, b->remote,
                                       (unsigned long)b->nr, 0);
        size_t k = 0, nrest = 0;

        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno != EFAULT && errno != EIO)
            return -errno;
        if (got < 0)
            got = 0;
        for (; k < b->nl && (size_t)got >= b->local[k].iov_len; k++) {
            got -= (ssize_t)b->local[k].iov_len;
            if (b->owner[k] != GAP) {
                gomem_req_t *q = &r[b->owner[k]];
                q->ok = 1;
                record(m, q->addr, q->buf, q->len);
            }
        }
        /* local[k] failed: a request stays not ok; after a gap the next
         * request simply goes again. */
        for (size_t j = k + 1; j < b->nl; j++)
            if (b->owner[j] != GAP)
                rest[nrest++] = b->owner[j];
        b->nl = b->nr = b->bytes = 0;
        for (size_t j = 0; j < nrest; j++)
            batch_add(m, r, b, rest[j]); /* fewer than before: always fits */
    }
    return 0;
}

long gomem_readv(gomem_t *m, gomem_req_t *r, size_t n)
{
    batch_t *b = NULL;
    long good = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        gomem_req_t *q = &r[i];
        q->ok = 0;
        if (q->len == 0) {
            q->ok = 1;
            continue;
        }
        if (!gomem_valid(m, q->addr, q->len))
            continue;
        if (m->img != NULL || q->len >= BATCH_BYTES) {
            /* An image, or a huge range read on its own in chunks. */
            rc = gomem_read(m, q->addr, q->buf, q->len);
            if (rc == 0)
                q->ok = 1;
            else if (rc != -EFAULT)
                goto fail;
            continue;
        }
        if (b == NULL) {
            if (m->batch == NULL)
                m->batch = cg_xmalloc(sizeof *b);
            b = m->batch;
            b->nl = b->nr = b->bytes = 0;
        }
        if (batch_add(m, r, b, i) != 0) {
            if ((rc = batch_send(m, r, b)) != 0)
                goto fail;
            batch_add(m, r, b, i);
        }
    }
    if (b != NULL && (rc = batch_send(m, r, b)) != 0)
        goto fail;
    if (m->img == NULL && exited(m))
        return -ESRCH;
    for (size_t i = 0; i < n; i++)
        good += r[i].ok;
    return good;
fail:
    return rc;
}

/* ---- images --------------------------------------------------------------- */

static int image_fail(char *err, const char *what)
{
    cg_seterr(err, "bad memory image: %s", what);
    return -EINVAL;
}

int gomem_open_image(const void *img, size_t size, gomem_t **out, char *err)
{
    const unsigned char *p = img;
    uint32_t nmaps, nranges, pid;
    uint64_t datalen, need, sum = 0, prev_end = 0;
    const unsigned char *mp, *rp, *dp;
    gomem_t *m;

    *out = NULL;
    if (size < GOMEM_IMAGE_HEADER_LEN)
        return image_fail(err, "shorter than its header");
    if (memcmp(p, image_magic, sizeof image_magic) != 0)
        return image_fail(err, "no CGGOMEM magic");
    if (get32(p + 8) != IMAGE_VERSION)
        return image_fail(err, "unknown version");
    if (get32(p + 12) != 0 || get32(p + 36) != 0)
        return image_fail(err, "reserved fields not zero");
    pid = get32(p + 16);
    nmaps = get32(p + 20);
    nranges = get32(p + 32);
    datalen = get64(p + 40);
    if (pid > INT32_MAX)
        return image_fail(err, "negative pid");
    if (nmaps > GOMEM_IMAGE_MAX_MAPS)
        return image_fail(err, "too many maps");
    if (nranges > GOMEM_IMAGE_MAX_RANGES)
        return image_fail(err, "too many ranges");
    if (datalen > GOMEM_IMAGE_MAX_DATA)
        return image_fail(err, "too much data");
    /* No overflow: each term is bounded above. */
    need = GOMEM_IMAGE_HEADER_LEN + (uint64_t)nmaps * IMAGE_MAP_LEN +
           (uint64_t)nranges * IMAGE_RANGE_LEN + datalen;
    if ((uint64_t)size < need)
        return image_fail(err, "truncated");
    if ((uint64_t)size > need)
        return image_fail(err, "bytes after the data");
    mp = p + GOMEM_IMAGE_HEADER_LEN;
    rp = mp + (size_t)nmaps * IMAGE_MAP_LEN;
    dp = rp + (size_t)nranges * IMAGE_RANGE_LEN;

    m = gomem_new();
    m->entry = get64(p + 24);
    if (nmaps > 0)
        m->maps = cg_xcalloc(nmaps, sizeof *m->maps);
    for (uint32_t i = 0; i < nmaps; i++) {
        const unsigned char *e = mp + (size_t)i * IMAGE_MAP_LEN;
        gomem_map_t *g = &m->maps[i];
        g->start = get64(e);
        g->end = get64(e + 8);
        g->prot = get32(e + 16);
        if (g->start >= g->end || (g->prot & ~7u) || get32(e + 20) != 0 ||
            (i > 0 && g->start < m->maps[i - 1].end)) {
            gomem_close(m);
            return image_fail(err, "bad map (empty, unsorted, overlapping or unknown prot)");
        }
    }
    m->nmaps = maps_normalize(m->maps, nmaps);
    if (nranges > 0)
        m->img = cg_xcalloc(nranges, sizeof *m->img);
    for (uint32_t i = 0; i < nranges; i++) {
        const unsigned char *e = rp + (size_t)i * IMAGE_RANGE_LEN;
        range_t *r = &m->img[i];
        r->addr = get64(e);
        r->len = get64(e + 8);
        if (r->len == 0 || r->len > UINT64_MAX - r->addr || (i > 0 && r->addr < prev_end) ||
            r->len > datalen - sum) {
            gomem_close(m);
            return image_fail(err, "bad range (empty, wrapping, unsorted, overlapping or past the data)");
        }
        r->off = (size_t)sum;
        sum += r->len;
        prev_end = r->addr + r->len;
    }
    if (sum != datalen) {
        gomem_close(m);
        return image_fail(err, "ranges do not add up to the data size");
    }
    m->nimg = nranges;
    /* Non-NULL even when empty: m->img marks an image for gomem_read. */
    if (m->img == NULL)
        m->img = cg_xcalloc(1, sizeof *m->img);
    m->imgdata = cg_xmalloc(datalen ? (size_t)datalen : 1);
    if (datalen)
        memcpy(m->imgdata, dp, (size_t)datalen);
    *out = m;
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int rec_cmp(const void *a, const void *b, void *base)
{
    const range_t *rec = base;
    const range_t *x = &rec[*(const size_t *)a], *y = &rec[*(const size_t *)b];
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Merge the recorded ranges into sorted spans that neither overlap nor
 * touch; copy each recording into its span in the order read, so the
 * later read of the same bytes wins. */
static int merge_recording(const gomem_t *m, range_t **spans_out, size_t *nspans_out,
                           unsigned char **data_out, uint64_t *len_out)
{
    size_t *ord = NULL, nspans = 0;
    range_t *spans = NULL;
    unsigned char *data = NULL;
    uint64_t total = 0;

    if (m->nrec == 0)
        goto done;
    ord = cg_xmalloc(m->nrec * sizeof *ord);
    for (size_t i = 0; i < m->nrec; i++)
        ord[i] = i;
    qsort_r(ord, m->nrec, sizeof *ord, rec_cmp, m->rec);
    spans = cg_xmalloc(m->nrec * sizeof *spans);
    for (size_t k = 0; k < m->nrec; k++) {
        const range_t *r = &m->rec[ord[k]];
        uint64_t end = r->addr + r->len;
        if (nspans > 0 && r->addr <= spans[nspans - 1].addr + spans[nspans - 1].len) {
            range_t *s = &spans[nspans - 1];
            if (end > s->addr + s->len)
                s->len = end - s->addr;
        } else {
            spans[nspans].addr = r->addr;
            spans[nspans].len = r->len;
            nspans++;
        }
    }
    free(ord);
    for (size_t i = 0; i < nspans; i++) {
        spans[i].off = (size_t)total;
        total += spans[i].len;
    }
    if (total > GOMEM_IMAGE_MAX_DATA) {
        free(spans);
        return -EFBIG;
    }
    data = cg_xmalloc((size_t)total);
    for (size_t i = 0; i < m->nrec; i++) {
        const range_t *r = &m->rec[i];
        size_t lo = 0, hi = nspans;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (spans[mid].addr + spans[mid].len <= r->addr)
                lo = mid + 1;
            else
                hi = mid;
        }
        memcpy(data + spans[lo].off + (r->addr - spans[lo].addr), m->recdata + r->off, (size_t)r->len);
    }
done:
    *spans_out = spans;
    *nspans_out = nspans;
    *data_out = data;
    *len_out = total;
    return 0;
}

int gomem_save_image(const gomem_t *m, int fd, char *err)
{
    unsigned char hdr[GOMEM_IMAGE_HEADER_LEN] = {0};
    range_t *spans;
    size_t nspans, tablen;
    unsigned char *data, *tab;
    uint64_t datalen;
    int rc;

    if (m->rec_overflow || m->nmaps > GOMEM_IMAGE_MAX_MAPS ||
        merge_recording(m, &spans, &nspans, &data, &datalen) != 0) {
        cg_seterr(err, "cannot save memory image: more was recorded than an image holds "
                       "(%u ranges, %llu MiB)",
                  GOMEM_IMAGE_MAX_RANGES, (unsigned long long)(GOMEM_IMAGE_MAX_DATA >> 20));
        return -EFBIG;
    }
    memcpy(hdr, image_magic, sizeof image_magic);
    put32(hdr + 8, IMAGE_VERSION);
    put32(hdr + 16, (uint32_t)m->pid);
    put32(hdr + 20, (uint32_t)m->nmaps);
    put64(hdr + 24, m->entry);
    put32(hdr + 32, (uint32_t)nspans);
    put64(hdr + 40, datalen);
    tablen = m->nmaps * IMAGE_MAP_LEN + nspans * IMAGE_RANGE_LEN;
    tab = cg_xcalloc(1, tablen ? tablen : 1);
    for (size_t i = 0; i < m->nmaps; i++) {
        unsigned char *e = tab + i * IMAGE_MAP_LEN;
        put64(e, m->maps[i].start);
        put64(e + 8, m->maps[i].end);
        put32(e + 16, m->maps[i].prot);
    }
    for (size_t i = 0; i < nspans; i++) {
        unsigned char *e = tab + m->nmaps * IMAGE_MAP_LEN + i * IMAGE_RANGE_LEN;
        put64(e, spans[i].addr);
        put64(e + 8, spans[i].len);
    }
    if ((rc = write_all(fd, hdr, sizeof hdr)) == 0 && (rc = write_all(fd, tab, tablen)) == 0)
        rc = write_all(fd, data, (size_t)datalen);
    if (rc != 0)
        cg_seterr(err, "cannot save memory image: %s", strerror(-rc));
    free(tab);
    free(spans);
    free(data);
    return rc;
}

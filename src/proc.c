/* proc.c -- reading processes from /proc
 *
 * One directory fd per pid: every file of a row is read relative to it, so
 * a row describes a single process even if the pid is reused meanwhile, and
 * a process that exits makes the reads fail with ENOENT/ESRCH instead of
 * mixing two processes' data.
 */
#include "cgops/proc.h"
#include "cgops/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_parse_stat(const char *text, proc_stat_t *out)
{
    const char *open_paren, *close_paren, *p;
    unsigned long long f[22];
    long long pid;
    size_t n;
    int i;

    memset(out, 0, sizeof *out);
    open_paren = strchr(text, '(');
    /* comm may itself contain ')' and spaces: the real end is the last ')'. */
    close_paren = strrchr(text, ')');
    if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
        return -EINVAL;
    pid = strtoll(text, NULL, 10);
    if (pid <= 0)
        return -EINVAL;
    out->pid = (pid_t)pid;
    n = (size_t)(close_paren - open_paren - 1);
    if (n >= sizeof out->comm)
        n = sizeof out->comm - 1;
    memcpy(out->comm, open_paren + 1, n);
    out->comm[n] = '\0';

    p = close_paren + 1;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return -EINVAL;
    out->state = *p++;
    /* Fields 4..25 follow; parse them as unsigned and convert the signed
     * ones below (rss can be negative in theory, ppid never is). */
    for (i = 0; i < 22; i++) {
        char *end;

        while (*p == ' ')
            p++;
        if (*p == '\0' || *p == '\n')
            break;
        if (*p == '-') {
            f[i] = (unsigned long long)strtoll(p, &end, 10);
        } else {
            f[i] = strtoull(p, &end, 10);
        }
        if (end == p)
            return -EINVAL;
        p = end;
    }
    /* ppid (4) is required; the rest are optional for old kernels. */
    if (i < 1)
        return -EINVAL;
    out->ppid = (pid_t)f[0];
    if (i > 11) {
        out->utime = f[10];
        out->stime = f[11];
    }
    if (i > 16)
        out->num_threads = (long)f[16];
    if (i > 18)
        out->starttime = f[18];
    if (i > 20)
        out->rss_pages = (long long)f[20];
    return 0;
}

int proc_pid_open(int procfd, pid_t pid)
{
    char name[16];
    int fd;

    snprintf(name, sizeof name, "%d", (int)pid);
    fd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int proc_read_stat(int piddirfd, proc_stat_t *out, char *err)
{
    /* A stat line is at most a few hundred bytes (comm is 15), and the
     * kernel hands it over in one read: no loop, no allocation, as this
     * runs for every Go process of every listing. */
    char buf[1024];
    ssize_t n;
    int fd, rc;

    fd = openat(piddirfd, "stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        cg_seterr(err, "cannot read stat: %s", strerror(errno));
        return rc;
    }
    n = read(fd, buf, sizeof buf - 1);
    rc = n < 0 ? -errno : 0;
    close(fd);
    if (rc < 0) {
        cg_seterr(err, "cannot read stat: %s", strerror(-rc));
        return rc;
    }
    buf[n] = '\0';
    rc = proc_parse_stat(buf, out);
    if (rc < 0)
        cg_seterr(err, "malformed stat line");
    return rc;
}

/* Escape a name as the kernel does for the Name: line of /proc/PID/status,
 * where gops reads it: a newline as "\n", a backslash as "\\", so one
 * process stays one line of output. */
static void escape_name(char *name, size_t size)
{
    char out[512];
    size_t o = 0;

    for (const char *p = name; *p && o + 3 < sizeof out; p++) {
        if (*p == '\n' || *p == '\\') {
            out[o++] = '\\';
            out[o++] = *p == '\n' ? 'n' : '\\';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    cg_strlcpy(name, out, size);
}

void proc_name_from(const char *comm, const char *cmdline, size_t cmdline_len,
                    char *name, size_t size)
{
    size_t clen = strlen(comm);

    cg_strlcpy(name, comm, size);
    /* The kernel cuts comm to 15 bytes (TASK_COMM_LEN - 1).  gops then uses
     * argv[0]'s base name when the cut comm is a prefix of it. */
    if (clen == 15 && cmdline && cmdline_len > 0) {
        size_t a0len = strnlen(cmdline, cmdline_len);
        const char *base = cmdline, *slash;
        char argv0[4096];

        if (a0len >= sizeof argv0)
            return;
        memcpy(argv0, cmdline, a0len);
        argv0[a0len] = '\0';
        slash = strrchr(argv0, '/');
        base = slash ? slash + 1 : argv0;
        if (strncmp(base, comm, clen) == 0)
            cg_strlcpy(name, base, size);
    }
    escape_name(name, size);
}

int proc_pid_cmp(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int proc_list_pids(int procfd, pid_t **pids, size_t *n)
{
    DIR *d = cg_opendir_at(procfd, ".");
    struct dirent *de;
    size_t cap = 512, cnt = 0;
    pid_t *v;

    if (d == NULL)
        return -errno;
    v = cg_xmalloc(cap * sizeof *v);
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        long long pid = 0;

        if (*s < '1' || *s > '9')
            continue;
        for (; *s >= '0' && *s <= '9'; s++)
            pid = pid * 10 + (*s - '0');
        if (*s != '\0' || pid > 0x7fffffff)
            continue;
        if (cnt == cap) {
            cap *= 2;
            v = cg_xrealloc(v, cap * sizeof *v);
        }
        v[cnt++] = (pid_t)pid;
    }
    closedir(d);
    qsort(v, cnt, sizeof *v, proc_pid_cmp);
    *pids = v;
    *n = cnt;
    return 0;
}

int proc_ns_ino(int piddirfd, const char *name, unsigned long *ino)
{
    char path[16], link[64];
    size_t nlen = strlen(name);
    ssize_t n, i;
    unsigned long v = 0;

    snprintf(path, sizeof path, "ns/%s", name);
    n = readlinkat(piddirfd, path, link, sizeof link - 1);
    if (n < 0)
        return -errno;
    link[n] = '\0';
    if ((size_t)n < nlen + 4 || memcmp(link, name, nlen) != 0 || link[nlen] != ':' ||
        link[nlen + 1] != '[' || link[n - 1] != ']')
        return -EINVAL;
    for (i = (ssize_t)nlen + 2; i < n - 1 && link[i] >= '0' && link[i] <= '9'; i++)
        v = v * 10 + (unsigned long)(link[i] - '0');
    if (i != n - 1)
        return -EINVAL;
    *ino = v;
    return 0;
}


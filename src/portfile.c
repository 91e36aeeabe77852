/* portfile.c -- from a pid or "host:port" to the address of a gops agent
 *
 * A gops agent writes its port to <config dir>/<pid>.  gops itself only
 * looks in the caller's config dir and trusts what it finds; cgops also
 * looks in the target's own config dir (from its environment, read through
 * /proc/PID/root so files inside containers are found), and checks that the
 * port is a listening socket held by the pid before anyone connects to it.
 */
#include "cgops/portfile.h"
#include "cgops/common.h"
#include "cgops/gobin.h"
#include "cgops/proc.h"
#include "cgops/portcheck.h"
#include "cgops/rootpath.h"
#include "cgops/procinfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int portfile_config_dir(portfile_getenv_fn getenv_fn, void *ctx, uid_t uid,
                        char *dir, size_t size)
{
    const char *v;
    struct passwd pw, *res = NULL;
    char buf[4096];

    if ((v = getenv_fn("GOPS_CONFIG_DIR", ctx)) && *v) {
        cg_strlcpy(dir, v, size);
        return 0;
    }
    /* Go's os.UserConfigDir ignores a relative XDG_CONFIG_HOME. */
    if ((v = getenv_fn("XDG_CONFIG_HOME", ctx)) && v[0] == '/') {
        snprintf(dir, size, "%s/gops", v);
        return 0;
    }
    if ((v = getenv_fn("HOME", ctx)) && *v) {
        snprintf(dir, size, "%s/.config/gops", v);
        return 0;
    }
    if (uid != (uid_t)-1 && getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res &&
        res->pw_dir[0]) {
        snprintf(dir, size, "%s/.config/gops", res->pw_dir);
        return 0;
    }
    return -ENOENT;
}

int portfile_passwd_home(const char *text, size_t len, uid_t uid, char *home, size_t size)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *f[7];
        size_t nf = 0;

        if (eol == NULL)
            eol = end;
        /* name:password:uid:gid:gecos:home:shell */
        f[nf++] = p;
        for (const char *q = p; q < eol && nf < 7; q++)
            if (*q == ':')
                f[nf++] = q + 1;
        if (nf == 7) {
            long long v;
            char num[24];
            size_t ulen = (size_t)(f[3] - 1 - f[2]), hlen = (size_t)(f[6] - 1 - f[5]);

            if (ulen > 0 && ulen < sizeof num) {
                memcpy(num, f[2], ulen);
                num[ulen] = '\0';
                if (cg_parse_ll(num, 0, 0xffffffffLL, &v) == 0 && (uid_t)v == uid && hlen > 0 &&
                    hlen < size) {
                    memcpy(home, f[5], hlen);
                    home[hlen] = '\0';
                    return 0;
                }
            }
        }
        p = eol + 1;
    }
    return -ENOENT;
}

int portfile_parse(const char *text, int *port, char *err)
{
    char buf[64];
    long long v;
    int rc;

    if (strlen(text) >= sizeof buf) {
        cg_seterr(err, "not a port number");
        return -EINVAL;
    }
    cg_strlcpy(buf, text, sizeof buf);
    cg_trim(buf);
    if (buf[0] == '\0') {
        cg_seterr(err, "empty port file");
        return -EINVAL;
    }
    rc = cg_parse_ll(buf, 1, 65535, &v);
    if (rc == -ERANGE) {
        cg_seterr(err, "port %s out of range 1-65535", buf);
        return -EINVAL;
    }
    if (rc < 0) {
        cg_seterr(err, "not a port number");
        return -EINVAL;
    }
    *port = (int)v;
    return 0;
}

static const char *caller_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* The caller's config dir never changes during a run: compute it once. */
static const char *caller_config_dir(void)
{
    static char dir[PATH_MAX];
    static int state; /* 0 unknown, 1 found, -1 none */

    if (state == 0)
        state = portfile_config_dir(caller_getenv, NULL, getuid(), dir, sizeof dir) == 0 ? 1 : -1;
    return state == 1 ? dir : NULL;
}

/* Our own root directory and network namespace, to compare a target's
 * /proc/PID/root and /proc/PID/ns/net with (stat of the magic link gives
 * the directory or namespace it points to). */
enum { SELF_ROOT, SELF_NETNS, SELF_MNTNS };

/* The stat of our own SELF_* object, taken once per run; NULL when it
 * cannot be taken. */
static const struct stat *self_stat(int which)
{
    static const char *const self_path[] = {"/proc/self/root", "/proc/self/ns/net",
                                            "/proc/self/ns/mnt"};
    static struct stat self[3];
    static int have[3];

    if (!have[which]) {
        if (stat(self_path[which], &self[which]) != 0)
            return NULL;
        have[which] = 1;
    }
    return &self[which];
}

/* Is dirfd/path the same file as our own SELF_* object?  1 yes, 0 no,
 * -errno unknown. */
static int same_as_ours(int dirfd, const char *path, int which)
{
    const struct stat *me = self_stat(which);
    struct stat st;

    if (me == NULL)
        return -ENOENT;
    if (fstatat(dirfd, path, &st, 0) != 0)
        return -errno;
    return st.st_dev == me->st_dev && st.st_ino == me->st_ino;
}

/* The pids that have a file in the caller's config dir, read once: one
 * readdir instead of one failed open per Go process during discovery. */
static pid_t *caller_pids;
static size_t caller_npids;
static int caller_listed;
static int caller_dirfd = -1; /* the listed dir, or -1 */

static void list_caller_dir(void)
{
    const char *dir = caller_config_dir();
    DIR *d;
    struct dirent *de;
    size_t cap = 0;

    /* A dir we may not list (mode 0300) may still hold our file: then
     * caller_may_have says yes to every pid and the open decides. */
    if (dir == NULL)
        caller_listed = 1;
    if (dir == NULL || (d = cg_opendir_at(AT_FDCWD, dir)) == NULL)
        return;
    caller_listed = 1;
    /* The files are then opened relative to the directory: one path
     * component to look up instead of the whole path, per agent. */
    caller_dirfd = openat(dirfd(d), ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    while ((de = readdir(d)) != NULL) {
        long long v;
        if (cg_parse_ll(de->d_name, 1, 0x7fffffff, &v) != 0)
            continue;
        if (caller_npids == cap) {
            cap = cap ? cap * 2 : 16;
            caller_pids = cg_xrealloc(caller_pids, cap * sizeof *caller_pids);
        }
        caller_pids[caller_npids++] = (pid_t)v;
    }
    closedir(d);
    if (caller_npids > 1)
        qsort(caller_pids, caller_npids, sizeof *caller_pids, proc_pid_cmp);
}

/* Might the caller's dir hold a file for pid?  Without a listing (dir not
 * readable), say yes and let the open decide. */
static int caller_may_have(pid_t pid)
{
    if (!caller_listed)
        return 1;
    if (caller_npids == 0)
        return 0;
    return bsearch(&pid, caller_pids, caller_npids, sizeof pid, proc_pid_cmp) != NULL;
}

void portfile_prepare(void)
{
    static int prepared;

    caller_config_dir();
    if (!prepared)
        list_caller_dir();
    prepared = 1;
    self_stat(SELF_ROOT);
    self_stat(SELF_NETNS);
    self_stat(SELF_MNTNS);
}

/* Read and parse an open port file.  An agent writes a small regular file;
 * anything else (a FIFO would block the reader forever, a device) is
 * refused.  0, or -EINVAL with why set, or -errno. */
static int port_from_fd(int fd, int *port, char *why)
{
    struct stat st;
    char buf[66];
    size_t len = 0;

    if (fstat(fd, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode)) {
        cg_seterr(why, "not a regular file");
        return -EINVAL;
    }
    /* Up to 65 bytes (more than 64 is not a port).  A regular file's size
     * is known, so the read that would return 0 is skipped: discovery
     * reads one port file per agent. */
    while (len < sizeof buf - 1 && (len == 0 || (off_t)len < st.st_size)) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (len > 64 || memchr(buf, '\0', len)) {
        cg_seterr(why, "not a port number");
        return -EINVAL;
    }
    return portfile_parse(buf, port, why);
}

/* Read and parse the port file at dirfd/path.  -ENOENT when absent. */
static int read_port_at(int dirfd, const char *path, int *port, char *why)
{
    /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
     * O_NOFOLLOW: a port file is never a symbolic link, in the caller's
     * dir as in the target's: in a shared dir (GOPS_CONFIG_DIR=/tmp/x)
     * another user could plant PID -> a device whose open does something,
     * and root would open it (fs.protected_symlinks may be off). */
    int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC), rc;
    struct stat st;

    if (fd < 0 && errno == ELOOP && fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
        cg_seterr(why, "a symbolic link, not a regular file");
        return -EINVAL;
    }
    if (fd < 0)
        return -errno;
    rc = port_from_fd(fd, port, why);
    close(fd);
    return rc;
}

const char *portfile_environ_getenv(const char *name, void *ctx)
{
    const portfile_environ_t *e = ctx;
    size_t nlen = strlen(name);
    const char *p = e->env, *end = e->env + e->len;

    while (p < end) {
        size_t l = strnlen(p, (size_t)(end - p));
        if (l > nlen && p[nlen] == '=' && memcmp(p, name, nlen) == 0 && p + l < end)
            return p + nlen + 1;
        p += l + 1;
    }
    return NULL;
}

/* With no usable variable, gops's agent takes user.Current()'s home: the
 * passwd entry of its real uid in its own /etc/passwd. */
static int target_passwd_config_dir(int piddirfd, char *dir, size_t size)
{
    char *status = NULL, *passwd = NULL, home[PATH_MAX];
    uid_t uid;
    size_t len;
    int rootfd, fd, rc;

    rc = cg_read_file_at(piddirfd, "status", 65536, &status, &len, NULL);
    if (rc < 0)
        return rc;
    rc = procinfo_parse_uid(status, &uid);
    free(status);
    if (rc < 0)
        return -ENOENT;
    rootfd = openat(piddirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -errno;
    fd = rootpath_open(rootfd, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY);
    close(rootfd);
    if (fd == -EMLINK) /* not followed, as for port files: no home known */
        fd = -ENOENT;
    if (fd < 0)
        return fd;
    rc = cg_read_fd(fd, 16u << 20, &passwd, &len, NULL);
    close(fd);
    if (rc < 0)
        return rc;
    rc = portfile_passwd_home(passwd, len, uid, home, sizeof home);
    free(passwd);
    if (rc == 0 && (size_t)snprintf(dir, size, "%s/.config/gops", home) >= size)
        rc = -ENAMETOOLONG;
    return rc;
}

/* Is the process in our own mount namespace?  1 yes, 0 no, -errno. */
static int same_mntns(int piddirfd)
{
    const struct stat *me = self_stat(SELF_MNTNS);
    unsigned long ino;
    int rc;

    if (me == NULL)
        return -ENOENT;
    rc = proc_ns_ino(piddirfd, "mnt", &ino);
    return rc < 0 ? rc : (unsigned long)me->st_ino == ino;
}

/* Look in the target's own config dir, read through /proc/PID/root. */
static int find_in_target(int piddirfd, pid_t pid, portfile_t *out, char *err)
{
    char *env = NULL, dir[PATH_MAX], path[PATH_MAX + 32], why[CG_ERR_LEN];
    size_t len = 0;
    portfile_environ_t e;
    int rc, rootfd, fd;

    /* The kernel allows an environment of several MiB (a quarter of the
     * stack limit): read it all, the variable may come last. */
    rc = cg_read_proc_mem_at(piddirfd, "environ", 16u << 20, &env, &len, NULL);
    if (rc < 0)
        return rc;
    e.env = env;
    e.len = len;
    rc = portfile_config_dir(portfile_environ_getenv, &e, (uid_t)-1, dir, sizeof dir);
    free(env);
    if (rc == -ENOENT)
        rc = target_passwd_config_dir(piddirfd, dir, sizeof dir);
    if (rc < 0)
        return rc;
    if (dir[0] != '/')
        return -ENOENT;
    {
        /* The caller's dir was read already: the same path is the same
         * directory only with the same root and the same mounts (a
         * service with a private /tmp or home has its own). */
        const char *mine = caller_config_dir();
        if (mine && strcmp(mine, dir) == 0 && same_mntns(piddirfd) == 1 &&
            same_as_ours(piddirfd, "root", SELF_ROOT) == 1)
            return -ENOENT;
    }
    snprintf(path, sizeof path, "%s/%d", dir, (int)pid);
    rootfd = openat(piddirfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -errno;
    fd = rootpath_open(rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    close(rootfd);
    if (fd == -EMLINK) {
        cg_seterr(err, "bad port file %s: a symbolic link (not followed)", path);
        return -EINVAL;
    }
    if (fd < 0)
        return fd;
    rc = port_from_fd(fd, &out->port, why);
    close(fd);
    if (rc == -EINVAL)
        cg_seterr(err, "bad port file %s: %s", path, why);
    if (rc < 0)
        return rc;
    cg_strlcpy(out->path, path, sizeof out->path);
    out->via_target_root = 1;
    return 0;
}

/* Check the port of pf against the pid (portcheck_verify): 0 verified or
 * unverifiable (pf->verified, pf->note), -ESTALE, -ESRCH. */
static int verify_port(int piddirfd, pid_t pid, portfile_t *pf, char *err)
{
    int rc = portcheck_verify(piddirfd, pid, pf->port, pf->path, pf->note, sizeof pf->note, err);

    if (rc < 0)
        return rc;
    pf->verified = rc;
    return 0;
}

/* Read the caller's port file for pid into out (port, path).  0, -ENOENT
 * (none, or no usable config dir: out->fallback says why), -EINVAL (why
 * set) or -errno. */
static int read_caller_file(pid_t pid, portfile_t *out, char *why)
{
    const char *dir = caller_config_dir();
    int rc;

    if (dir == NULL || !caller_may_have(pid))
        return -ENOENT;
    if ((size_t)snprintf(out->path, sizeof out->path, "%s/%d", dir, (int)pid) >= sizeof out->path)
        return -ENAMETOOLONG;
    if (caller_dirfd >= 0) {
        char name[16];

        snprintf(name, sizeof name, "%d", (int)pid);
        rc = read_port_at(caller_dirfd, name, &out->port, why);
    } else {
        rc = read_port_at(AT_FDCWD, out->path, &out->port, why);
    }
    /* A config dir that is a file or a symbolic-link loop holds nothing:
     * gops would fail to use it, the target's own dir may still serve. */
    if (rc == -ENOTDIR || rc == -ELOOP) {
        snprintf(out->fallback, sizeof out->fallback,
                 "config dir %s is not usable (%s): looking in the target's own", dir,
                 strerror(-rc));
        rc = -ENOENT;
    }
    return rc;
}

/* Does pid exist, though /proc does not show it (mounted hidepid=1 or 2
 * and another user's process)?  kill(2) with signal 0 checks without
 * sending anything: EPERM means it exists. */
static int exists_hidden(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* Why a process without a port file has none, when the reason is that it
 * is not a Go program: kernel threads have no executable, and an ELF that
 * gobin does not recognise as Go cannot run a gops agent.  0 with err set
 * in that case, -ENOENT otherwise.  Only runs when a lookup has failed. */
static int not_go_reason(int piddirfd, pid_t pid, char *err)
{
    gobin_info_t info;
    int fd = openat(piddirfd, "exe", O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0 && errno == ENOENT) {
        /* exe exists for every user process; only kernel threads lack it
         * (a zombie too: its stat says so). */
        char *stat = NULL;
        size_t len;
        proc_stat_t ps;

        if (cg_read_file_at(piddirfd, "stat", 4096, &stat, &len, NULL) == 0 &&
            proc_parse_stat(stat, &ps) == 0 && ps.state != 'Z') {
            free(stat);
            cg_seterr(err, "pid %d is not a Go process (a kernel thread)", (int)pid);
            return 0;
        }
        free(stat);
        return -ENOENT;
    }
    if (fd < 0)
        return -ENOENT;
    rc = gobin_read_fd(fd, &info, NULL);
    close(fd);
    if (rc == -ENOEXEC || (rc == 0 && !info.is_go)) {
        cg_seterr(err, "pid %d is not a Go process", (int)pid);
        return 0;
    }
    return -ENOENT;
}

int portfile_find(int procfd, pid_t pid, portfile_t *out, char *err)
{
    int piddirfd = proc_pid_open(procfd, pid), rc;

    if (piddirfd == -ENOENT && exists_hidden(pid)) {
        char why[CG_ERR_LEN];
        char fallback[sizeof out->fallback];

        /* /proc hides it: only the caller's own dir can be read, and the
         * port cannot be checked.  gops trusts the file; so does cgops,
         * and says so under -v (the manual's rule 4). */
        memset(out, 0, sizeof *out);
        rc = read_caller_file(pid, out, why);
        if (rc == 0) {
            snprintf(out->note, sizeof out->note,
                     "cannot verify that pid %d holds port %d: /proc does not show the process (hidepid?)",
                     (int)pid, out->port);
            return 0;
        }
        cg_strlcpy(fallback, out->fallback, sizeof fallback);
        if (rc == -EINVAL)
            cg_seterr(err, "bad port file %s: %s", out->path, why);
        else if (rc == -ENOENT)
            cg_seterr(err, "no port file for pid %d (/proc does not show the process)", (int)pid);
        else
            cg_seterr(err, "cannot read port file %s: %s", out->path, strerror(-rc));
        memset(out, 0, sizeof *out);
        cg_strlcpy(out->fallback, fallback, sizeof out->fallback);
        return rc == -EINVAL ? rc : rc == -ENOENT ? -ENOENT : rc;
    }
    if (piddirfd < 0) {
        memset(out, 0, sizeof *out);
        cg_seterr(err, "%s", piddirfd == -ENOENT ? "no such process" : strerror(-piddirfd));
        return piddirfd == -ENOENT ? -ESRCH : piddirfd;
    }
    rc = portfile_find_at(piddirfd, pid, out, err);
    /* For a pid the user named, say when the reason is that it is no Go
     * program at all (discovery, which calls portfile_find_at for Go
     * processes only, never pays for this). */
    if (rc == -ENOENT)
        not_go_reason(piddirfd, pid, err);
    close(piddirfd);
    return rc;
}

int portfile_find_at(int piddirfd, pid_t pid, portfile_t *out, char *err)
{
    char why[CG_ERR_LEN], first[CG_ERR_LEN] = "", fallback[sizeof out->fallback];
    int rc, first_rc = 0;

    memset(out, 0, sizeof *out);
    rc = read_caller_file(pid, out, why);
    if (rc == 0) {
        rc = verify_port(piddirfd, pid, out, first);
        if (rc == 0)
            return 0;
        if (rc == -ESRCH) {
            cg_seterr(err, "%s", first);
            return rc;
        }
    } else if (rc == -EINVAL) {
        cg_seterr(first, "bad port file %s: %s", out->path, why);
    } else if (rc != -ENOENT && rc != -EACCES) {
        cg_seterr(err, "cannot read port file %s: %s", out->path, strerror(-rc));
        return rc;
    }
    /* A stale or garbage file of ours (left by an earlier process of that
     * pid) must not hide the target's own, valid one: look there too, and
     * report ours only if the target has none. */
    if (rc == -EINVAL || rc == -ESTALE)
        first_rc = rc;
    cg_strlcpy(fallback, out->fallback, sizeof fallback);
    memset(out, 0, sizeof *out);
    cg_strlcpy(out->fallback, fallback, sizeof out->fallback);
    rc = find_in_target(piddirfd, pid, out, err);
    if (rc == 0)
        return verify_port(piddirfd, pid, out, err);
    if (rc != -EINVAL && first_rc) {
        cg_seterr(err, "%s", first);
        return first_rc;
    }
    if (rc < 0 && rc != -EINVAL) {
        if (rc != -ENOENT && rc != -ENOTDIR)
            cg_seterr(err, "no port file for pid %d (target's config dir: %s)", (int)pid, strerror(-rc));
        else
            cg_seterr(err, "no port file for pid %d", (int)pid);
        rc = -ENOENT;
    }
    return rc;
}

int portfile_target_resolve(int procfd, const char *arg, target_t *out, char *err)
{
    const char *colon = strrchr(arg, ':');
    char why[CG_ERR_LEN] = "";
    long long pid;
    int rc;

    memset(out, 0, sizeof *out);
    cg_strlcpy(out->display, arg, sizeof out->display);
    if (colon) {
        const char *host = arg;
        size_t hlen = (size_t)(colon - arg);

        /* "[v6addr]:port" */
        if (arg[0] == '[') {
            if (hlen < 2 || arg[hlen - 1] != ']') {
                cg_seterr(err, "couldn't resolve addr or pid %s to TCPAddress: bad address", arg);
                return -EINVAL;
            }
            host = arg + 1;
            hlen -= 2;
        }
        if (hlen >= sizeof out->host || colon[1] == '\0' || strlen(colon + 1) >= sizeof out->port) {
            cg_seterr(err, "couldn't resolve addr or pid %s to TCPAddress: missing port", arg);
            return -EINVAL;
        }
        memcpy(out->host, host, hlen);
        out->host[hlen] = '\0';
        if (out->host[0] == '\0')
            cg_strlcpy(out->host, "127.0.0.1", sizeof out->host);
        cg_strlcpy(out->port, colon + 1, sizeof out->port);
        /* A number must be a TCP port: getaddrinfo would take 65536 + P
         * as P.  Go's net.Dial refuses it the same way ("invalid port");
         * a name ("http") is a service looked up in /etc/services, as Go
         * does too. */
        /* A word that starts as a number ("-1", "80x") is a bad number,
         * not a service name (those start with a letter). */
        if (strspn(out->port, "0123456789") == strlen(out->port) ||
            (out->port[0] >= '0' && out->port[0] <= '9') || out->port[0] == '-' ||
            out->port[0] == '+') {
            long long v;

            if (strspn(out->port, "0123456789") != strlen(out->port) ||
                cg_parse_ll(out->port, 1, 65535, &v) != 0) {
                cg_seterr(err, "couldn't resolve addr or pid %s to TCPAddress: address %s: invalid port",
                          arg, out->port);
                return -EINVAL;
            }
        }
        return 0;
    }
    if (cg_parse_ll(arg, 1, 0x7fffffff, &pid) != 0 || arg[0] == '+' || arg[0] == '-') {
        cg_seterr(err, "couldn't resolve addr or pid %s to TCPAddress: not a pid or host:port", arg);
        return -EINVAL;
    }
    out->pid = (pid_t)pid;
    rc = portfile_find(procfd, out->pid, &out->pf, why);
    if (rc == -ESTALE) {
        cg_seterr(err, "%s", why);
        return rc;
    }
    if (rc < 0) {
        cg_seterr(err, "couldn't resolve addr or pid %s to TCPAddress: %s", arg, why);
        return rc;
    }
    portfile_target_init(procfd, out->pid, &out->pf, out);
    return 0;
}

void portfile_target_init(int procfd, pid_t pid, const portfile_t *pf, target_t *out)
{
    char nspath[32];

    if (out->display[0] == '\0')
        snprintf(out->display, sizeof out->display, "%d", (int)pid);
    out->pid = pid;
    if (&out->pf != pf)
        out->pf = *pf;
    /* gops dials 127.0.0.1 for a pid; in the target's own network
     * namespace when that is not ours. */
    cg_strlcpy(out->host, "127.0.0.1", sizeof out->host);
    snprintf(out->port, sizeof out->port, "%d", pf->port);
    snprintf(nspath, sizeof nspath, "%d/ns/net", (int)pid);
    out->netns_pid = same_as_ours(procfd, nspath, SELF_NETNS) == 0 ? pid : 0;
}

/* rootpath.c -- open a path inside another process's root directory
 *
 * A target's files (its port file, its /etc/passwd) are read through
 * /proc/PID/root, which is a directory of our own mount tree: a symbolic
 * link in the target's tree that is absolute, or a ".." that climbs, must
 * be resolved as the target's chroot would, never against our root.  The
 * kernel does that in one call with openat2(RESOLVE_IN_ROOT); the walk
 * below does it a component at a time where openat2 is missing, and
 * decides the cases openat2 cannot tell apart.
 */
#include "cgops/rootpath.h"
#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Open path (absolute, as seen inside the target) relative to the target's
 * root directory fd without ever leaving that root, the way a chroot would
 * resolve it: ".." stops at the root, and a symbolic link in a directory
 * component is followed with an absolute target taken from the root again.
 * The last component (the port file itself) must not be a link: an agent
 * writes a regular file, so a link there is refused outright.  Directories
 * are opened O_PATH, so like a path lookup only search permission is
 * needed.  Returns an fd or -errno: -EMLINK when the port file is a link,
 * -ELOOP for too many links on the way. */
static int walk_in_root(int rootfd, const char *path, int flags)
{
    char rest[2 * PATH_MAX], comp[NAME_MAX + 1];
    int stack[64], depth = 0, fd, hops = 0;
    size_t off = 0;

    if (strlen(path) >= sizeof rest)
        return -ENAMETOOLONG;
    cg_strlcpy(rest, path, sizeof rest);
    fd = dup(rootfd);
    if (fd < 0)
        return -errno;
    for (;;) {
        const char *p = rest + off, *slash;
        size_t n;
        struct stat st;
        int next;

        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        slash = strchr(p, '/');
        n = slash ? (size_t)(slash - p) : strlen(p);
        if (n > NAME_MAX) {
            fd = -ENAMETOOLONG;
            goto out;
        }
        memcpy(comp, p, n);
        comp[n] = '\0';
        p += n;
        while (*p == '/')
            p++;
        off = (size_t)(p - rest);
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            if (depth > 0) {
                close(fd);
                fd = stack[--depth];
            }
            continue;
        }
        if (*p == '\0') { /* the file itself */
            next = openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
            if (next < 0 && errno == ELOOP)
                next = -EMLINK;
            else if (next < 0)
                next = -errno;
            close(fd);
            fd = next;
            goto out;
        }
        if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            close(fd);
            fd = -errno;
            goto out;
        }
        if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX], joined[2 * PATH_MAX];
            ssize_t tl = readlinkat(fd, comp, target, sizeof target - 1);

            if (tl <= 0 || ++hops > 40) {
                close(fd);
                fd = -ELOOP;
                goto out;
            }
            target[tl] = '\0';
            if ((size_t)snprintf(joined, sizeof joined, "%s/%s", target, p) >= sizeof rest) {
                close(fd);
                fd = -ENAMETOOLONG;
                goto out;
            }
            cg_strlcpy(rest, joined, sizeof rest);
            off = 0;
            if (target[0] == '/') { /* absolute: from the target's root */
                close(fd);
                while (depth > 0)
                    close(stack[--depth]);
                fd = dup(rootfd);
                if (fd < 0) {
                    fd = -errno;
                    goto out;
                }
            }
            continue;
        }
        next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int e = errno;
            close(fd);
            fd = -e;
            goto out;
        }
        if (depth == (int)CG_ARRAY_SIZE(stack)) {
            close(next);
            close(fd);
            fd = -ENAMETOOLONG;
            goto out;
        }
        stack[depth++] = fd;
        fd = next;
    }
    /* The path named a directory, not a file. */
    close(fd);
    fd = -EISDIR;
out:
    while (depth > 0)
        close(stack[--depth]);
    return fd;
}

/* The same walk done by the kernel in one call, when it can: openat2(2)
 * with RESOLVE_IN_ROOT (Linux 5.6) scopes ".." and absolute links to
 * rootfd exactly as walk_in_root does, and O_NOFOLLOW refuses a final
 * link.  Its ELOOP does not say whether the final component was a link
 * (walk_in_root's -EMLINK) or the links were too many, magic links (which
 * RESOLVE_NO_MAGICLINKS refuses; walk_in_root reads them as plain links)
 * give ELOOP too, and EXDEV/EAGAIN mean a rename raced the lookup: all of
 * those, and a kernel or seccomp filter without openat2 (ENOSYS, EPERM),
 * are left to walk_in_root, whose answer is the rule. */
int rootpath__open(int rootfd, const char *path, int flags, int mode)
{
    static int no_openat2;
    struct open_how how;
    long fd;

    if (mode == ROOTPATH__WALK || (mode == ROOTPATH__AUTO && no_openat2))
        return walk_in_root(rootfd, path, flags);
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    if (fd >= 0)
        return (int)fd;
    if (mode == ROOTPATH__OPENAT2)
        return -errno;
    switch (errno) {
    case ENOSYS:
        no_openat2 = 1;
        return walk_in_root(rootfd, path, flags);
    case EPERM:
    case EINVAL:
    case E2BIG:
    case ELOOP:
    case EXDEV:
    case EAGAIN:
        return walk_in_root(rootfd, path, flags);
    default:
        return -errno;
    }
}

int rootpath_open(int rootfd, const char *path, int flags)
{
    return rootpath__open(rootfd, path, flags, ROOTPATH__AUTO);
}


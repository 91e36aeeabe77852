/* rootpath.h -- open a path inside another process's root directory */
#ifndef CGOPS_ROOTPATH_H
#define CGOPS_ROOTPATH_H

/* Open path (absolute, as seen inside the target) relative to rootfd, the
 * target's root directory (/proc/PID/root), never leaving it, as a chroot
 * would resolve it: ".." stops at the root, absolute links start from it
 * again, directories need only search permission.  The final component
 * must not be a link (an agent writes a regular file).  flags are open(2)
 * flags (O_NOFOLLOW and O_CLOEXEC are added).  Returns an fd or -errno:
 * -EMLINK the final component is a link, -ELOOP too many links on the
 * way. */
int rootpath_open(int rootfd, const char *path, int flags);

/* Internal, for tests: rootpath_open with openat2(RESOLVE_IN_ROOT) and
 * its fallback walk forced one way (ROOTPATH__OPENAT2 gives openat2's own
 * answer, -ELOOP for a final link, -ENOSYS where it is missing). */
enum { ROOTPATH__AUTO, ROOTPATH__OPENAT2, ROOTPATH__WALK };
int rootpath__open(int rootfd, const char *path, int flags, int mode);

#endif

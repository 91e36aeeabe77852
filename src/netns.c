/* netns.c -- sockets created inside another process's network namespace
 *
 * setns(CLONE_NEWNET) changes the namespace of the calling thread only, and
 * a socket keeps the namespace it was created in.  So a helper thread
 * enters the target's namespace, creates the socket and exits; the main
 * thread, and the libuv loop on it, never change namespace.
 */
#include "cgops/netns.h"
#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int nsfd;
    int family;
    int type;
    int protocol;
    int fd;
    int error;
    const char *step;
} job_t;

static void *make_socket(void *arg)
{
    job_t *j = arg;

    if (setns(j->nsfd, CLONE_NEWNET) != 0) {
        j->error = errno;
        j->step = "cannot enter";
        return NULL;
    }
    j->fd = socket(j->family, j->type, j->protocol);
    if (j->fd < 0) {
        j->error = errno;
        j->step = "cannot create a socket in";
    }
    return NULL;
}

int netns_tcp_socket(pid_t pid, int family, int *fd, char *err)
{
    return netns_socket(pid, family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd, err);
}

int netns_socket(pid_t pid, int domain, int type, int protocol, int *fd, char *err)
{
    char path[64], link[64] = "net:[?]";
    job_t j = {-1, domain, type, protocol, -1, 0, NULL};
    pthread_t t;
    ssize_t n;
    int rc;

    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    n = readlink(path, link, sizeof link - 1);
    if (n > 0)
        link[n] = '\0';
    j.nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (j.nsfd < 0) {
        rc = -errno;
        cg_seterr(err, "cannot enter network namespace of pid %d: %s", (int)pid, strerror(errno));
        return rc;
    }
    rc = pthread_create(&t, NULL, make_socket, &j);
    if (rc != 0) {
        close(j.nsfd);
        cg_seterr(err, "cannot start a thread: %s", strerror(rc));
        return -rc;
    }
    pthread_join(t, NULL);
    close(j.nsfd);
    if (j.fd < 0) {
        cg_seterr(err, "%s network namespace of pid %d (%s): %s", j.step, (int)pid, link,
                  strerror(j.error));
        return -j.error;
    }
    *fd = j.fd;
    return 0;
}

/* test-netns.c -- sockets made inside another network namespace */
#include "test.h"
#include "cgops/common.h"
#include "cgops/netns.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <sys/ioctl.h>

/* The namespace of a socket, as an fd (SIOCGSKNS, Linux 4.9+), or -1. */
static int ioctl_netns(int fd)
{
    return ioctl(fd, SIOCGSKNS);
}

/* A child in its own network namespace, or -1 when we may not make one. */
static pid_t child_in_new_netns(void)
{
    int p[2];
    char c;
    pid_t pid;

    if (pipe(p) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
        if (write(p[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    if (read(p[0], &c, 1) != 1 || c != 'y') {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    close(p[0]);
    close(p[1]);
    return pid;
}

TEST(netns_socket_lives_in_the_target_namespace)
{
    pid_t child = child_in_new_netns();
    char err[CG_ERR_LEN], path[64];
    struct stat want, got;
    int fd, nsfd;

    if (child < 0)
        SKIP("cannot create a network namespace here");
    ASSERT_EQ(netns_tcp_socket(child, AF_INET, &fd, err), 0);
    /* Our thread stayed in its namespace; the socket is in the child's. */
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
    ASSERT_EQ(stat(path, &want), 0);
    ASSERT_EQ(stat("/proc/thread-self/ns/net", &got), 0);
    ASSERT(want.st_ino != got.st_ino);
    nsfd = ioctl_netns(fd);
    if (nsfd >= 0) {
        struct stat s;
        ASSERT_EQ(fstat(nsfd, &s), 0);
        ASSERT_EQ(s.st_ino, want.st_ino);
        close(nsfd);
    }
    close(fd);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

TEST(netns_unprivileged_caller_gets_a_clear_error)
{
    pid_t child = child_in_new_netns(), w;
    int status;

    if (child < 0 || getuid() != 0) {
        if (child > 0) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
        }
        SKIP("needs root to create the namespace and drop privileges");
    }
    w = fork();
    if (w == 0) {
        char err[CG_ERR_LEN], want[128];
        int fd, rc;

        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        rc = netns_tcp_socket(child, AF_INET, &fd, err);
        snprintf(want, sizeof want, "network namespace of pid %d", (int)child);
        _exit(rc < 0 && strstr(err, want) && (rc == -EPERM || rc == -EACCES) ? 0 : 1);
    }
    waitpid(w, &status, 0);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
}

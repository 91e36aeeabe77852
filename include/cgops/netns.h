/* netns.h -- sockets created inside another process's network namespace */
#ifndef CGOPS_NETNS_H
#define CGOPS_NETNS_H

#include <sys/types.h>

/* Create a TCP socket (non-blocking, close-on-exec) inside the network
 * namespace of pid.  A short-lived helper thread enters the namespace with
 * setns(2), so the calling thread never leaves its own.  The socket stays
 * bound to that namespace for its whole life: connect it from anywhere (for
 * instance with uv_tcp_open + uv_tcp_connect).  Returns 0 with *fd set, or
 * -errno with err naming the namespace (-EPERM without CAP_SYS_ADMIN). */
int netns_tcp_socket(pid_t pid, int family, int *fd, char *err);

/* The same for any socket(2) domain, type and protocol (the sock_diag
 * netlink socket that lists the target's listeners, for one). */
int netns_socket(pid_t pid, int domain, int type, int protocol, int *fd, char *err);

#endif

/* proc_net.h -- sockets of a process: the listeners of a network namespace
 * (sock_diag netlink, else /proc/PID/net/{tcp,tcp6,udp,udp6}) and the
 * sockets a process holds (/proc/PID/fd)
 *
 * The tables under /proc/PID/net, and a NETLINK_SOCK_DIAG socket created in
 * a namespace, describe that network namespace, which is what cgops needs
 * for containerised targets.  The line parser is pure so tests feed it
 * lines copied from a real machine.
 */
#ifndef CGOPS_PROC_NET_H
#define CGOPS_PROC_NET_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_NET_TCP_LISTEN 0x0A

typedef struct {
    int family;               /* AF_INET or AF_INET6 */
    int proto;                /* IPPROTO_TCP or IPPROTO_UDP */
    unsigned char local[16];  /* address in network byte order (4 or 16 bytes) */
    unsigned char remote[16];
    unsigned local_port;
    unsigned remote_port;
    int state;                /* kernel TCP state number (tcp_states.h) */
    unsigned long inode;
    unsigned uid;
} proc_sock_t;

/* Parse one data line of a /proc/net/{tcp,udp}[6] table (not the header).
 * family is AF_INET or AF_INET6, proto IPPROTO_TCP or IPPROTO_UDP.
 * Returns 0 or -EINVAL. */
int proc_net_parse_line(const char *line, int family, int proto, proc_sock_t *out);

/* Read one table of the process's namespace (piddirfd is /proc/PID) and
 * append its sockets to *socks (realloc'd; start with NULL/0).
 * Returns 0 or -errno. */
int proc_net_read(int piddirfd, int proto, int family, proc_sock_t **socks, size_t *n);

/* "LISTEN", "ESTABLISHED", ... as gops (gopsutil) names TCP states; UDP
 * sockets have no state and get "NONE". */
const char *proc_net_state_name(int proto, int state);

/* "IP:PORT" of the local (remote = 0) or remote end; IPv6 without brackets,
 * as gops prints it. */
void proc_net_addr_format(const proc_sock_t *s, int remote, char *buf, size_t size);

/* Socket inodes the process holds open (from /proc/PID/fd/N -> socket:[I]),
 * sorted.  Returns 0 or -errno (-EACCES when the fd table is not readable). */
int proc_net_fd_inodes(int piddirfd, unsigned long **inodes, size_t *n);

/* Does the process hold one of the sockets whose inodes are in the sorted
 * array?  Its descriptors are read only until the first match.  Returns 1
 * yes, 0 no, -errno when the fd table cannot be read (-EACCES: another
 * user's process). */
int proc_net_fd_holds(int piddirfd, const unsigned long *inodes, size_t n);

/* 1 if inode is in the sorted array. */
int proc_net_has_inode(const unsigned long *inodes, size_t n, unsigned long inode);

/* 1 when a listener bound to addr (family AF_INET or AF_INET6, network
 * byte order) receives connections to 127.0.0.1 on its port, which is
 * where a pid's agent is dialled (as gops does): 127.0.0.1, 0.0.0.0, a
 * dual-stack :: (v6only 0), ::ffff:127.0.0.1.  An agent on [::1] only is
 * not reached there, and whoever holds 127.0.0.1 on that port would be. */
int proc_net_reaches_loopback(int family, const unsigned char *addr, int v6only);

/* Inodes of the TCP sockets listening on port that a connection to
 * 127.0.0.1:port can reach (proc_net_reaches_loopback), asked of the
 * kernel through nlfd, a NETLINK_SOCK_DIAG socket of the namespace in
 * question.  Appends to *inodes (realloc'd).  Returns 0 or -errno. */
int proc_net_diag_listeners(int nlfd, unsigned port, unsigned long **inodes, size_t *n);

/* The same for every port (port 0) or for port, with their ports in
 * *ports (parallel to *inodes; ports may be NULL). */
int proc_net_diag_listen_all(int nlfd, unsigned port, unsigned **ports, unsigned long **inodes,
                             size_t *n);

#endif

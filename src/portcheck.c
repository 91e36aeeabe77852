/* portcheck.c -- does a pid really hold the port its port file names?
 *
 * A port file is only a claim: a stale one (an earlier process of the same
 * pid) or a planted one can name any port.  The port vouches for the pid
 * only when it is a TCP listener that a connection to 127.0.0.1 reaches
 * (where a pid's agent is dialled, as gops does), in the pid's own network
 * namespace, and the pid holds that socket.  The listeners of a namespace
 * come from one sock_diag dump per namespace and run (the tables under
 * /proc/PID/net where sock_diag cannot be asked); the pid's descriptors
 * are read only until one of them is such a socket.
 */
#include "cgops/portcheck.h"
#include "cgops/common.h"
#include "cgops/netns.h"
#include "cgops/proc.h"
#include "cgops/proc_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The TCP listeners that a connection to 127.0.0.1 reaches in one network
 * namespace (proc_net_reaches_loopback), as (port, inode) pairs.  Asked
 * once per namespace and run: discovery checks every agent of a namespace
 * against the same answer. */
typedef struct {
    unsigned long ino; /* the namespace: its nsfs inode (proc_ns_ino) */
    int rc;    /* 0 known, else -errno: the listeners could not be read */
    char why[400];
    unsigned *ports;
    unsigned long *inodes;
    size_t n;
} ns_listeners_t;

static ns_listeners_t *ns_cache;
static size_t ns_ncache;

/* The tables of the target's namespace, when sock_diag cannot be asked.
 * They do not say whether :: is IPv6-only: Linux's default
 * (net.ipv6.bindv6only = 0) is taken. */
static int listeners_from_tables(int piddirfd, ns_listeners_t *l)
{
    static const int families[] = {AF_INET, AF_INET6};
    proc_sock_t *socks = NULL;
    size_t nsocks = 0;

    for (size_t f = 0; f < CG_ARRAY_SIZE(families); f++) {
        int rc = proc_net_read(piddirfd, IPPROTO_TCP, families[f], &socks, &nsocks);

        /* No tcp6 table is a kernel without IPv6: no IPv6 listeners. */
        if (rc < 0 && !(rc == -ENOENT && families[f] == AF_INET6)) {
            free(socks);
            snprintf(l->why, sizeof l->why, "%s: %s",
                     families[f] == AF_INET6 ? "net/tcp6" : "net/tcp", strerror(-rc));
            return rc;
        }
    }
    for (size_t i = 0; i < nsocks; i++)
        if (socks[i].state == PROC_NET_TCP_LISTEN &&
            proc_net_reaches_loopback(socks[i].family, socks[i].local, 0)) {
            l->ports = cg_xrealloc(l->ports, (l->n + 1) * sizeof *l->ports);
            l->inodes = cg_xrealloc(l->inodes, (l->n + 1) * sizeof *l->inodes);
            l->ports[l->n] = socks[i].local_port;
            l->inodes[l->n++] = socks[i].inode;
        }
    free(socks);
    return 0;
}

/* Fill l for the namespace of pid: sock_diag from a socket of that
 * namespace (ours directly; another through netns_socket, which needs
 * CAP_SYS_ADMIN), else the pid's tables. */
static void listeners_read(int piddirfd, pid_t pid, int ours, ns_listeners_t *l)
{
    char nserr[CG_ERR_LEN] = "";
    int nlfd = -1, rc;

    if (ours) {
        nlfd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        rc = nlfd < 0 ? -errno : 0;
    } else {
        rc = netns_socket(pid, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG, &nlfd,
                          nserr);
    }
    if (rc == 0) {
        rc = proc_net_diag_listen_all(nlfd, 0, &l->ports, &l->inodes, &l->n);
        close(nlfd);
        if (rc == 0)
            return;
        /* A dump cut short: start again from the tables. */
        free(l->ports);
        free(l->inodes);
        l->ports = NULL;
        l->inodes = NULL;
        l->n = 0;
        cg_seterr(nserr, "sock_diag: %s", strerror(-rc));
    } else if (nserr[0] == '\0') {
        cg_seterr(nserr, "sock_diag: %s", strerror(-rc));
    }
    l->rc = listeners_from_tables(piddirfd, l);
    if (l->rc < 0) {
        /* Both ways failed: say why for each. */
        char tables[sizeof l->why];

        cg_strlcpy(tables, l->why, sizeof tables);
        snprintf(l->why, sizeof l->why, "%.200s; %.150s", nserr, tables);
    }
}

/* The listeners of the network namespace whose nsfs inode is ino. */
static const ns_listeners_t *ns_listeners(int piddirfd, pid_t pid, unsigned long ino)
{
    static struct stat me;
    static int have_me = -1;
    ns_listeners_t *l;

    for (size_t i = 0; i < ns_ncache; i++)
        if (ns_cache[i].ino == ino)
            return &ns_cache[i];
    ns_cache = cg_xrealloc(ns_cache, (ns_ncache + 1) * sizeof *ns_cache);
    l = &ns_cache[ns_ncache++];
    memset(l, 0, sizeof *l);
    l->ino = ino;
    /* Our own namespace, stat'ed once: its inode is the number its link
     * names. */
    if (have_me < 0)
        have_me = stat("/proc/self/ns/net", &me) == 0;
    listeners_read(piddirfd, pid, have_me && (unsigned long)me.st_ino == ino, l);
    return l;
}

static int cmp_ul(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

int portcheck_verify(int piddirfd, pid_t pid, int port, const char *path, char *note,
                     size_t notesize, char *err)
{
    const ns_listeners_t *l;
    unsigned long *cand = NULL;
    size_t ncand = 0;
    unsigned long ns = 0;
    int held, rc;

    if (notesize)
        note[0] = '\0';
    /* ns/net, like the fd table, needs ptrace read access to the process:
     * without it (another user's process) the check cannot be made, and
     * cgops does what gops does, trusts the file. */
    rc = proc_ns_ino(piddirfd, "net", &ns);
    if (rc == -ENOENT || rc == -ESRCH) {
        cg_seterr(err, "no such process");
        return -ESRCH;
    }
    if (rc < 0) {
        snprintf(note, notesize, "cannot verify that pid %d holds port %d: %s", (int)pid, port,
                 strerror(-rc));
        return 0;
    }
    l = ns_listeners(piddirfd, pid, ns);
    if (l->rc < 0) {
        snprintf(note, notesize,
                 "cannot verify that pid %d holds port %d: listeners of its network namespace: %s",
                 (int)pid, port, l->why[0] ? l->why : strerror(-l->rc));
        return 0;
    }
    /* One listener per family, or many with SO_REUSEPORT. */
    for (size_t i = 0; i < l->n; i++)
        if (l->ports[i] == (unsigned)port) {
            cand = cg_xrealloc(cand, (ncand + 1) * sizeof *cand);
            cand[ncand++] = l->inodes[i];
        }
    if (ncand > 1)
        qsort(cand, ncand, sizeof *cand, cmp_ul);
    held = ncand ? proc_net_fd_holds(piddirfd, cand, ncand) : 0;
    free(cand);
    if (held == -ENOENT || held == -ESRCH) {
        cg_seterr(err, "no such process");
        return -ESRCH;
    }
    if (held < 0) {
        snprintf(note, notesize, "cannot verify that pid %d holds port %d: fd table: %s", (int)pid,
                 port, strerror(-held));
        return 0;
    }
    if (!held) {
        cg_seterr(err, "port %d from %s is not held by pid %d (stale port file?)", port, path,
                  (int)pid);
        return -ESTALE;
    }
    return 1;
}

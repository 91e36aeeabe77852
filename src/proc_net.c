/* proc_net.c -- sockets of a process from /proc/PID/net and /proc/PID/fd */
#include "cgops/proc_net.h"
#include "cgops/common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "0100007F:1F90": the address is printed as 32-bit words in host byte
 * order (one word for IPv4, four for IPv6), the port in plain hex. */
static const char *parse_endpoint(const char *p, int family, unsigned char *addr, unsigned *port)
{
    int words = family == AF_INET6 ? 4 : 1;
    unsigned v;

    for (int w = 0; w < words; w++) {
        uint32_t word = 0;
        for (int i = 0; i < 8; i++) {
            int h = hexval(*p++);
            if (h < 0)
                return NULL;
            word = word << 4 | (uint32_t)h;
        }
        /* The kernel printed the in-memory word with %08X on a
         * little-endian host, so its bytes are reversed. */
        memcpy(addr + 4 * w, &word, 4);
    }
    if (*p++ != ':')
        return NULL;
    v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(*p++);
        if (h < 0)
            return NULL;
        v = v << 4 | (unsigned)h;
    }
    *port = v;
    return p;
}

int proc_net_parse_line(const char *line, int family, int proto, proc_sock_t *out)
{
    const char *p = line;
    char *end;
    unsigned long v;

    memset(out, 0, sizeof *out);
    out->family = family;
    out->proto = proto;
    while (*p == ' ')
        p++;
    /* "sl:" */
    strtoul(p, &end, 10);
    if (end == p || *end != ':')
        return -EINVAL;
    p = end + 1;
    while (*p == ' ')
        p++;
    if ((p = parse_endpoint(p, family, out->local, &out->local_port)) == NULL || *p != ' ')
        return -EINVAL;
    while (*p == ' ')
        p++;
    if ((p = parse_endpoint(p, family, out->remote, &out->remote_port)) == NULL || *p != ' ')
        return -EINVAL;
    v = strtoul(p, &end, 16);
    if (end == p)
        return -EINVAL;
    out->state = (int)v;
    p = end;
    /* tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
    for (int field = 0; field < 6; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -EINVAL;
        if (field == 3) {
            v = strtoul(p, &end, 10);
            out->uid = (unsigned)v;
            p = end;
            continue;
        }
        if (field == 5) {
            v = strtoul(p, &end, 10);
            if (end == p)
                return -EINVAL;
            out->inode = v;
            return 0;
        }
        while (*p && *p != ' ')
            p++;
    }
    return -EINVAL;
}

int proc_net_read(int piddirfd, int proto, int family, proc_sock_t **socks, size_t *n)
{
    const char *name = proto == IPPROTO_TCP ? (family == AF_INET6 ? "net/tcp6" : "net/tcp")
                                            : (family == AF_INET6 ? "net/udp6" : "net/udp");
    char *buf, *line, *save = NULL;
    size_t len;
    int rc, first = 1;

    rc = cg_read_file_at(piddirfd, name, 64u << 20, &buf, &len, NULL);
    if (rc < 0)
        return rc;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        proc_sock_t s;

        if (first) { /* the column header */
            first = 0;
            continue;
        }
        if (proc_net_parse_line(line, family, proto, &s) != 0)
            continue;
        *socks = cg_xrealloc(*socks, (*n + 1) * sizeof **socks);
        (*socks)[(*n)++] = s;
    }
    free(buf);
    return 0;
}

const char *proc_net_state_name(int proto, int state)
{
    static const char *const names[] = {
        "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
        "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
    };

    if (proto != IPPROTO_TCP)
        return "NONE";
    if (state > 0 && (size_t)state < CG_ARRAY_SIZE(names))
        return names[state];
    return "UNKNOWN";
}

/* The first 12 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
static const unsigned char v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An IPv6 address as Go's net.IP.String writes it (gops prints those): an
 * IPv4-mapped one as dotted IPv4, else RFC 5952 (lower-case hex, the
 * longest run of two or more zero groups, the first if tied, as "::"). */
static void ip6_format(const unsigned char *a, char *out, size_t size)
{
    unsigned g[8];
    int best = -1, bestlen = 1;
    size_t o = 0;

    if (memcmp(a, v4mapped_prefix, 12) == 0) {
        snprintf(out, size, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return;
    }
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (int i = 0; i < 8;) {
        int j = i;

        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > bestlen) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    out[0] = '\0';
    for (int i = 0; i < 8 && o < size; i++) {
        if (i == best) {
            o += (size_t)snprintf(out + o, size - o, "::");
            i += bestlen - 1;
            continue;
        }
        o += (size_t)snprintf(out + o, size - o, "%s%x", o && out[o - 1] != ':' ? ":" : "", g[i]);
    }
}

void proc_net_addr_format(const proc_sock_t *s, int remote, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    const unsigned char *a = remote ? s->remote : s->local;

    if (s->family == AF_INET6)
        ip6_format(a, ip, sizeof ip);
    else if (inet_ntop(s->family, a, ip, sizeof ip) == NULL)
        cg_strlcpy(ip, "?", sizeof ip);
    snprintf(buf, size, "%s:%u", ip, remote ? s->remote_port : s->local_port);
}

static int cmp_ul(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

int proc_net_fd_inodes(int piddirfd, unsigned long **inodes, size_t *n)
{
    DIR *d = cg_opendir_at(piddirfd, "fd");
    struct dirent *de;
    size_t cnt = 0, cap = 16;
    unsigned long *v;

    if (d == NULL)
        return -errno;
    v = cg_xmalloc(cap * sizeof *v);
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        char target[64];
        ssize_t r;

        if (de->d_name[0] == '.')
            continue;
        r = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
        if (r <= 0)
            continue;
        target[r] = '\0';
        if (strncmp(target, "socket:[", 8) != 0)
            continue;
        if (cnt == cap) {
            cap *= 2;
            v = cg_xrealloc(v, cap * sizeof *v);
        }
        v[cnt++] = strtoul(target + 8, NULL, 10);
    }
    closedir(d);
    qsort(v, cnt, sizeof *v, cmp_ul);
    *inodes = v;
    *n = cnt;
    return 0;
}

int proc_net_has_inode(const unsigned long *inodes, size_t n, unsigned long inode)
{
    if (n == 0)
        return 0;
    return bsearch(&inode, inodes, n, sizeof *inodes, cmp_ul) != NULL;
}

/* The socket inode of a "socket:[I]" link, or 0. */
static unsigned long socket_inode(const char *target, ssize_t len)
{
    unsigned long v = 0;

    if (len < 10 || memcmp(target, "socket:[", 8) != 0 || target[len - 1] != ']')
        return 0;
    for (ssize_t i = 8; i < len - 1; i++) {
        if (target[i] < '0' || target[i] > '9')
            return 0;
        v = v * 10 + (unsigned long)(target[i] - '0');
    }
    return v;
}

/* Is fd N (relative to fddirfd, or "fd/N" relative to the pid dir) one of
 * the sockets?  1 yes, 0 no, -errno. */
static int fd_is_one_of(int dirfd, const char *name, const unsigned long *inodes, size_t n)
{
    char target[64];
    ssize_t r = readlinkat(dirfd, name, target, sizeof target);

    if (r < 0)
        return -errno;
    return r < (ssize_t)sizeof target && proc_net_has_inode(inodes, n, socket_inode(target, r));
}

int proc_net_fd_holds(int piddirfd, const unsigned long *inodes, size_t n)
{
    /* getdents64 on the fd directory, without a DIR (fdopendir's fstat and
     * fcntl calls cost as much as a readlink here). */
    char buf[8192];
    int fd, rc, held = 0;
    long got;

    if (n == 0)
        return 0;
    /* A gops agent opens its listener early in main, before the runtime's
     * epoll descriptors: in practice it is fd 3.  One readlink there answers
     * for most agents (the listing below costs a directory open, one
     * getdents per 8 KiB and a readlink per descriptor); any other answer
     * just falls through to the listing. */
    if (fd_is_one_of(piddirfd, "fd/3", inodes, n) == 1)
        return 1;
    fd = openat(piddirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = 0;
    while (!held && (rc = (int)(got = getdents64(fd, buf, sizeof buf))) > 0) {
        for (long off = 0; off < got && !held;) {
            struct dirent64 *de = (struct dirent64 *)(buf + off);

            off += de->d_reclen;
            if (de->d_name[0] == '.' || strcmp(de->d_name, "3") == 0)
                continue;
            /* A descriptor closed since the listing is simply not held. */
            held = fd_is_one_of(fd, de->d_name, inodes, n) == 1;
        }
    }
    if (rc < 0)
        rc = -errno;
    close(fd);
    return held ? 1 : rc;
}

/* Listening TCP sockets on port, from the kernel's sock_diag netlink
 * interface on nlfd (a NETLINK_SOCK_DIAG socket of the namespace to ask).
 * Asking for LISTEN sockets only walks the small listening hash, where
 * /proc/net/tcp walks the whole connection table on every read (3 ms per
 * read on a host with a large table, measured here). */
int proc_net_diag_listeners(int nlfd, unsigned port, unsigned long **inodes, size_t *n)
{
    return proc_net_diag_listen_all(nlfd, port, NULL, inodes, n);
}

int proc_net_reaches_loopback(int family, const unsigned char *addr, int v6only)
{
    static const unsigned char any6[16];

    if (family == AF_INET)
        return memcmp(addr, "\x7f\0\0\x01", 4) == 0 || memcmp(addr, "\0\0\0\0", 4) == 0;
    if (family == AF_INET6)
        return (!v6only && memcmp(addr, any6, 16) == 0) ||
               (memcmp(addr, v4mapped_prefix, 12) == 0 && memcmp(addr + 12, "\x7f\0\0\x01", 4) == 0);
    return 0;
}

int proc_net_diag_listen_all(int nlfd, unsigned port, unsigned **ports, unsigned long **inodes,
                             size_t *n)
{
    static const int families[] = {AF_INET, AF_INET6};

    for (size_t f = 0; f < CG_ARRAY_SIZE(families); f++) {
        struct {
            struct nlmsghdr nlh;
            struct inet_diag_req_v2 r;
        } req;
        struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};
        char buf[16384];
        int done = 0;

        memset(&req, 0, sizeof req);
        req.nlh.nlmsg_len = sizeof req;
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.nlh.nlmsg_seq = (unsigned)(f + 1);
        req.r.sdiag_family = (unsigned char)families[f];
        req.r.sdiag_protocol = IPPROTO_TCP;
        req.r.idiag_states = 1u << PROC_NET_TCP_LISTEN;
        if (sendto(nlfd, &req, sizeof req, 0, (struct sockaddr *)&nladdr, sizeof nladdr) < 0)
            return -errno;
        while (!done) {
            ssize_t len = recv(nlfd, buf, sizeof buf, 0);
            struct nlmsghdr *h;

            if (len < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (len == 0)
                return -EPROTO;
            for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
                const struct inet_diag_msg *m;

                if (h->nlmsg_type == NLMSG_DONE) {
                    done = 1;
                    break;
                }
                if (h->nlmsg_type == NLMSG_ERROR) {
                    const struct nlmsgerr *e = NLMSG_DATA(h);
                    return e->error < 0 ? e->error : -EPROTO;
                }
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
                    continue;
                m = NLMSG_DATA(h);
                if (port && ntohs(m->id.idiag_sport) != port)
                    continue;
                {
                    /* The kernel adds INET_DIAG_SKV6ONLY to every IPv6
                     * listener: does it also take IPv4? */
                    int v6only = 0;
                    struct rtattr *a = (struct rtattr *)(m + 1);
                    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));

                    for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
                        if (a->rta_type == INET_DIAG_SKV6ONLY && RTA_PAYLOAD(a) >= 1)
                            v6only = *(const unsigned char *)RTA_DATA(a);
                    if (!proc_net_reaches_loopback(m->idiag_family,
                                                   (const unsigned char *)m->id.idiag_src, v6only))
                        continue;
                }
                *inodes = cg_xrealloc(*inodes, (*n + 1) * sizeof **inodes);
                if (ports) {
                    *ports = cg_xrealloc(*ports, (*n + 1) * sizeof **ports);
                    (*ports)[*n] = ntohs(m->id.idiag_sport);
                }
                (*inodes)[(*n)++] = m->idiag_inode;
            }
        }
    }
    return 0;
}

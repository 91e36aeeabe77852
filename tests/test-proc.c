/* test-proc.c -- /proc parsers and the socket-table parser, fed strings */
#include "test.h"
#include "cgops/common.h"
#include "cgops/proc.h"
#include "cgops/proc_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(proc_parse_stat_plain)
{
    static const char line[] = "1234 (agentfix) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
                               "7 3 0 0 20 0 9 0 5000 724533248 1500 18446744073709551615 1 1 0 0 0 0 0\n";
    proc_stat_t st;

    ASSERT_EQ(proc_parse_stat(line, &st), 0);
    ASSERT_EQ(st.pid, 1234);
    ASSERT_STR_EQ(st.comm, "agentfix");
    ASSERT_EQ(st.state, 'S');
    ASSERT_EQ(st.ppid, 1);
    ASSERT_EQ(st.utime, 7);
    ASSERT_EQ(st.stime, 3);
    ASSERT_EQ(st.num_threads, 9);
    ASSERT_EQ(st.starttime, 5000);
    ASSERT_EQ(st.rss_pages, 1500);
}

TEST(proc_parse_stat_name_with_spaces_and_parens)
{
    static const char line[] = "77 (my (odd) name) ) R 5 77 77 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 9 0 3\n";
    proc_stat_t st;

    ASSERT_EQ(proc_parse_stat(line, &st), 0);
    ASSERT_STR_EQ(st.comm, "my (odd) name) ");
    ASSERT_EQ(st.state, 'R');
    ASSERT_EQ(st.ppid, 5);
}

TEST(proc_parse_stat_rejects_garbage)
{
    proc_stat_t st;

    ASSERT_EQ(proc_parse_stat("", &st), -EINVAL);
    ASSERT_EQ(proc_parse_stat("12 (x", &st), -EINVAL);
    ASSERT_EQ(proc_parse_stat("12 (x)", &st), -EINVAL);
    ASSERT_EQ(proc_parse_stat("x (y) S 1", &st), -EINVAL);
}

TEST(proc_name_rule)
{
    char name[256];
    static const char cmd[] = "/opt/bin/averyveryverylongname\0--flag\0";

    /* comm cut at 15 bytes and a prefix of argv[0]'s base: the base wins */
    proc_name_from("averyveryverylo", cmd, sizeof cmd, name, sizeof name);
    ASSERT_STR_EQ(name, "averyveryverylongname");
    /* not a prefix (renamed process): comm stays */
    proc_name_from("someotherthread", cmd, sizeof cmd, name, sizeof name);
    ASSERT_STR_EQ(name, "someotherthread");
    /* short comm: never extended */
    proc_name_from("avery", cmd, sizeof cmd, name, sizeof name);
    ASSERT_STR_EQ(name, "avery");
    proc_name_from("averyveryverylo", NULL, 0, name, sizeof name);
    ASSERT_STR_EQ(name, "averyveryverylo");
}

TEST(proc_list_pids_sorted_and_self_present)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY);
    pid_t *pids;
    size_t n, found = 0;

    ASSERT(procfd >= 0);
    ASSERT_EQ(proc_list_pids(procfd, &pids, &n), 0);
    ASSERT(n > 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ASSERT(pids[i - 1] < pids[i]);
        if (pids[i] == getpid())
            found = 1;
    }
    ASSERT(found);
    free(pids);
    ASSERT_EQ(proc_pid_open(procfd, 0x7ffffff0), -ENOENT);
    close(procfd);
}

TEST(proc_net_parse_tcp4_listen)
{
    static const char l[] = "   3: 0100007F:A1CB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  "
                            "1000        0 123456 1 0000000000000000 100 0 0 10 0";
    proc_sock_t s;
    char buf[80];

    ASSERT_EQ(proc_net_parse_line(l, AF_INET, IPPROTO_TCP, &s), 0);
    ASSERT_EQ(s.local_port, 0xA1CB);
    ASSERT_EQ(s.state, PROC_NET_TCP_LISTEN);
    ASSERT_EQ(s.uid, 1000);
    ASSERT_EQ(s.inode, 123456);
    proc_net_addr_format(&s, 0, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "127.0.0.1:41419");
    proc_net_addr_format(&s, 1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "0.0.0.0:0");
    ASSERT_STR_EQ(proc_net_state_name(IPPROTO_TCP, s.state), "LISTEN");
    ASSERT_STR_EQ(proc_net_state_name(IPPROTO_TCP, 1), "ESTABLISHED");
    ASSERT_STR_EQ(proc_net_state_name(IPPROTO_UDP, 7), "NONE");
}

TEST(proc_net_parse_tcp6)
{
    /* ::1 port 8080, and ::ffff:10.0.0.1 port 443 (v4-mapped) */
    static const char l1[] = "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
                             "00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0";
    static const char l2[] = "   1: 0000000000000000FFFF00000100000A:01BB 00000000000000000000000001000000:D431 01 "
                             "00000000:00000000 00:00000000 00000000     0        0 556 1 0000000000000000 100 0 0 10 0";
    proc_sock_t s;
    char buf[80];

    ASSERT_EQ(proc_net_parse_line(l1, AF_INET6, IPPROTO_TCP, &s), 0);
    proc_net_addr_format(&s, 0, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "::1:8080");
    ASSERT_EQ(s.inode, 555);
    ASSERT_EQ(proc_net_parse_line(l2, AF_INET6, IPPROTO_TCP, &s), 0);
    proc_net_addr_format(&s, 0, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "10.0.0.1:443"); /* as Go's net.IP.String prints it */
    proc_net_addr_format(&s, 1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "::1:54321");
    ASSERT_STR_EQ(proc_net_state_name(IPPROTO_TCP, s.state), "ESTABLISHED");
}

TEST(proc_net_parse_rejects_garbage)
{
    proc_sock_t s;

    ASSERT_EQ(proc_net_parse_line("", AF_INET, IPPROTO_TCP, &s), -EINVAL);
    ASSERT_EQ(proc_net_parse_line("  sl  local_address rem_address", AF_INET, IPPROTO_TCP, &s), -EINVAL);
    ASSERT_EQ(proc_net_parse_line("   0: 0100007F:A1CB", AF_INET, IPPROTO_TCP, &s), -EINVAL);
    ASSERT_EQ(proc_net_parse_line("   0: ZZ00007F:A1CB 00000000:0000 0A", AF_INET, IPPROTO_TCP, &s), -EINVAL);
}

/* A listener of our own shows up in our tables and our fd table. */
TEST(proc_net_own_listener_is_found)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY), dirfd, ls;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    proc_sock_t *socks = NULL;
    size_t n = 0, ninodes = 0;
    unsigned long *inodes = NULL;
    int found = 0;

    ls = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 1) == 0);
    getsockname(ls, (struct sockaddr *)&a, &alen);
    dirfd = proc_pid_open(procfd, getpid());
    ASSERT(dirfd >= 0);
    ASSERT_EQ(proc_net_read(dirfd, IPPROTO_TCP, AF_INET, &socks, &n), 0);
    ASSERT_EQ(proc_net_fd_inodes(dirfd, &inodes, &ninodes), 0);
    for (size_t i = 0; i < n; i++)
        if (socks[i].local_port == ntohs(a.sin_port) && socks[i].state == PROC_NET_TCP_LISTEN &&
            proc_net_has_inode(inodes, ninodes, socks[i].inode))
            found = 1;
    ASSERT(found);
    free(socks);
    free(inodes);
    close(ls);
    close(dirfd);
    close(procfd);
}

/* Which listeners a connection to 127.0.0.1 reaches: where a pid's agent
 * is dialled, so only those may vouch for a port file. */
TEST(proc_net_reaches_loopback_by_address)
{
    static const unsigned char lo4[4] = {127, 0, 0, 1}, any4[4] = {0}, lo4b[4] = {127, 0, 0, 2},
                               eth4[4] = {10, 0, 0, 5}, any6[16] = {0},
                               lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                               mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};

    ASSERT_EQ(proc_net_reaches_loopback(AF_INET, lo4, 0), 1);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET, any4, 0), 1);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET, lo4b, 0), 0);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET, eth4, 0), 0);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET6, any6, 0), 1);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET6, any6, 1), 0);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET6, lo6, 0), 0);
    ASSERT_EQ(proc_net_reaches_loopback(AF_INET6, mapped, 0), 1);
}

/* A name with a newline or backslash stays on one line, escaped as the
 * kernel escapes it in /proc/PID/status. */
TEST(proc_name_escaped_like_status)
{
    char name[256];

    proc_name_from("a\nb", NULL, 0, name, sizeof name);
    ASSERT_STR_EQ(name, "a\\nb");
    proc_name_from("back\\slash", NULL, 0, name, sizeof name);
    ASSERT_STR_EQ(name, "back\\\\slash");
    proc_name_from("longprocessname", "/x/longprocessname-with\nnewline\0arg", 36, name, sizeof name);
    ASSERT_STR_EQ(name, "longprocessname-with\\nnewline");
}

/* IPv6 addresses are written as Go writes them (gops's output). */
TEST(proc_net_ipv6_like_go)
{
    static const struct {
        unsigned char a[16];
        const char *want;
    } cases[] = {
        {{0}, ":::1"},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "::1:1"},
        {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8::1:1"},
        {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, "2001:db8::1:0:0:1:1"},
        {{0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3}, "1:0:0:2::3:1"},
        {{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}, "1:2:3:4:5:6:7:0:1"},
        {{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0, 0, 0, 0x12, 0x34}, "fe80::abcd:0:0:1234:1"},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, "127.0.0.1:1"},
        {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1}, "::a00:1:1"},
    };
    proc_sock_t s;
    char buf[80];

    memset(&s, 0, sizeof s);
    s.family = AF_INET6;
    s.local_port = 1;
    for (size_t i = 0; i < CG_ARRAY_SIZE(cases); i++) {
        memcpy(s.local, cases[i].a, 16);
        proc_net_addr_format(&s, 0, buf, sizeof buf);
        ASSERT_STR_EQ(buf, cases[i].want);
    }
}

/* The process holds a socket only if one of its descriptors is that
 * socket, wherever it sits: fd 3 (tried first) or any later one. */
TEST(proc_net_fd_holds_finds_the_socket_at_any_fd)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY), dirfd, ls;
    struct stat st;
    unsigned long ino, other[2];

    ls = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(ls >= 0);
    /* Far from fd 3, so the listing is walked. */
    ASSERT(dup2(ls, 77) == 77);
    close(ls);
    ASSERT(fstat(77, &st) == 0);
    ino = (unsigned long)st.st_ino;
    dirfd = proc_pid_open(procfd, getpid());
    ASSERT(dirfd >= 0);
    /* Keep fd 3 free for the socket below. */
    dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 100);
    ASSERT(dirfd >= 100);
    close(3);
    close(4);
    ASSERT_EQ(proc_net_fd_holds(dirfd, &ino, 1), 1);
    other[0] = ino - 1;
    other[1] = ino + 1000000;
    ASSERT_EQ(proc_net_fd_holds(dirfd, other, 2), 0);
    ASSERT_EQ(proc_net_fd_holds(dirfd, other, 0), 0);
    /* At fd 3 too. */
    ASSERT(dup2(77, 3) == 3);
    close(77);
    ASSERT_EQ(proc_net_fd_holds(dirfd, &ino, 1), 1);
    close(3);
    ASSERT_EQ(proc_net_fd_holds(dirfd, &ino, 1), 0);
    close(dirfd);
}

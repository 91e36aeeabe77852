/* test-portcheck.c -- the port-ownership check against canned /proc/PID
 * directories: ns/net, net/tcp and fd/N are plain files and links there,
 * so every answer of portcheck_verify can be provoked. */
#include "test.h"
#include "cgops/common.h"
#include "cgops/portcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A process directory under a fresh temp dir: ns/net names namespace ns
 * (each test its own, the listeners are kept per namespace), fd/3 is
 * socket:[sock], net/tcp has tcp (when not NULL). */
static int fake_pid_dir(char *dir, size_t size, unsigned long ns, unsigned long sock,
                        const char *tcp)
{
    char p[600], link[64];
    int fd;

    snprintf(dir, size, "/tmp/cgops-pc.XXXXXX");
    ASSERT(mkdtemp(dir) != NULL);
    snprintf(p, sizeof p, "%s/ns", dir);
    ASSERT(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/ns/net", dir);
    snprintf(link, sizeof link, "net:[%lu]", ns);
    ASSERT(symlink(link, p) == 0);
    snprintf(p, sizeof p, "%s/fd", dir);
    ASSERT(mkdir(p, 0755) == 0);
    snprintf(p, sizeof p, "%s/fd/3", dir);
    snprintf(link, sizeof link, "socket:[%lu]", sock);
    ASSERT(symlink(link, p) == 0);
    snprintf(p, sizeof p, "%s/net", dir);
    ASSERT(mkdir(p, 0755) == 0);
    if (tcp) {
        FILE *f;

        snprintf(p, sizeof p, "%s/net/tcp", dir);
        ASSERT((f = fopen(p, "w")) != NULL);
        fputs("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n", f);
        fputs(tcp, f);
        fclose(f);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    ASSERT(fd >= 0);
    return fd;
}

static void remove_dir(int fd, const char *dir)
{
    char cmd[128];

    close(fd);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ASSERT(system(cmd) == 0);
}

/* A pid that does not exist: its namespace cannot be entered, so the
 * tables (here, the canned ones) are what is left. */
#define NOPID ((pid_t)0x7ffffff0)

/* 127.0.0.1:8080 LISTEN, inode 777. */
#define LISTEN_8080 "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0\n"

TEST(portcheck_held_listener_is_verified)
{
    char dir[64], note[256], err[CG_ERR_LEN];
    int fd = fake_pid_dir(dir, sizeof dir, 900001, 777, LISTEN_8080);

    ASSERT_EQ(portcheck_verify(fd, NOPID, 8080, "PF", note, sizeof note, err), 1);
    remove_dir(fd, dir);
}

TEST(portcheck_port_of_another_is_stale)
{
    char dir[64], note[256], err[CG_ERR_LEN];
    int fd = fake_pid_dir(dir, sizeof dir, 900002, 778, LISTEN_8080);

    /* Someone listens on 8080, but not this process; nobody on 8081. */
    ASSERT_EQ(portcheck_verify(fd, NOPID, 8080, "PF", note, sizeof note, err), -ESTALE);
    ASSERT_STR_EQ(err, "port 8080 from PF is not held by pid 2147483632 (stale port file?)");
    ASSERT_EQ(portcheck_verify(fd, NOPID, 8081, "PF", note, sizeof note, err), -ESTALE);
    remove_dir(fd, dir);
}

/* Neither sock_diag (the namespace cannot be entered) nor the tables
 * (missing) answer: the check cannot be made, which is not "stale". */
TEST(portcheck_unreadable_listeners_is_unverifiable)
{
    char dir[64], note[256], err[CG_ERR_LEN];
    int fd = fake_pid_dir(dir, sizeof dir, 900003, 777, NULL);

    ASSERT_EQ(portcheck_verify(fd, NOPID, 8080, "PF", note, sizeof note, err), 0);
    ASSERT_CONTAINS(note, "cannot verify that pid 2147483632 holds port 8080: listeners of its network namespace: ");
    ASSERT_CONTAINS(note, "cannot enter network namespace of pid 2147483632");
    ASSERT_CONTAINS(note, "net/tcp: No such file or directory");
    remove_dir(fd, dir);
}

/* A process that is gone: its links are gone too. */
TEST(portcheck_gone_process)
{
    char dir[64], p[128], note[256], err[CG_ERR_LEN];
    int fd = fake_pid_dir(dir, sizeof dir, 900004, 777, LISTEN_8080);

    snprintf(p, sizeof p, "%s/ns/net", dir);
    ASSERT(unlink(p) == 0);
    ASSERT_EQ(portcheck_verify(fd, NOPID, 8080, "PF", note, sizeof note, err), -ESRCH);
    remove_dir(fd, dir);
}

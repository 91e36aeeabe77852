/* test-portfile.c -- config-dir rules, port-file contents, target syntax */
#include "test.h"
#include "cgops/common.h"
#include "cgops/portfile.h"
#include "cgops/rootpath.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *gops, *xdg, *home;
} env_t;

static const char *fake_getenv(const char *name, void *ctx)
{
    const env_t *e = ctx;

    if (strcmp(name, "GOPS_CONFIG_DIR") == 0)
        return e->gops;
    if (strcmp(name, "XDG_CONFIG_HOME") == 0)
        return e->xdg;
    if (strcmp(name, "HOME") == 0)
        return e->home;
    return NULL;
}

TEST(portfile_config_dir_rules)
{
    char dir[4096];
    env_t all = {"/g", "/x", "/h"}, xdg = {NULL, "/x", "/h"}, relxdg = {NULL, "rel", "/h"},
          home = {"", NULL, "/h"}, none = {NULL, NULL, NULL};
    struct passwd *pw = getpwuid(0);

    ASSERT_EQ(portfile_config_dir(fake_getenv, &all, 0, dir, sizeof dir), 0);
    ASSERT_STR_EQ(dir, "/g");
    ASSERT_EQ(portfile_config_dir(fake_getenv, &xdg, 0, dir, sizeof dir), 0);
    ASSERT_STR_EQ(dir, "/x/gops");
    /* Go's os.UserConfigDir ignores a relative XDG_CONFIG_HOME */
    ASSERT_EQ(portfile_config_dir(fake_getenv, &relxdg, 0, dir, sizeof dir), 0);
    ASSERT_STR_EQ(dir, "/h/.config/gops");
    ASSERT_EQ(portfile_config_dir(fake_getenv, &home, 0, dir, sizeof dir), 0);
    ASSERT_STR_EQ(dir, "/h/.config/gops");
    ASSERT(pw != NULL);
    ASSERT_EQ(portfile_config_dir(fake_getenv, &none, 0, dir, sizeof dir), 0);
    {
        char want[4096];
        snprintf(want, sizeof want, "%s/.config/gops", pw->pw_dir);
        ASSERT_STR_EQ(dir, want);
    }
}

TEST(portfile_parse_contents)
{
    int port = 0;
    char err[CG_ERR_LEN];

    ASSERT_EQ(portfile_parse("41259", &port, err), 0);
    ASSERT_EQ(port, 41259);
    ASSERT_EQ(portfile_parse("  8080\n", &port, err), 0);
    ASSERT_EQ(port, 8080);
    ASSERT_EQ(portfile_parse("", &port, err), -EINVAL);
    ASSERT_STR_EQ(err, "empty port file");
    ASSERT_EQ(portfile_parse(" \n", &port, err), -EINVAL);
    ASSERT_STR_EQ(err, "empty port file");
    ASSERT_EQ(portfile_parse("0", &port, err), -EINVAL);
    ASSERT_STR_EQ(err, "port 0 out of range 1-65535");
    ASSERT_EQ(portfile_parse("65536", &port, err), -EINVAL);
    ASSERT_STR_EQ(err, "port 65536 out of range 1-65535");
    ASSERT_EQ(portfile_parse("-1", &port, err), -EINVAL);
    ASSERT_EQ(portfile_parse("12ab", &port, err), -EINVAL);
    ASSERT_STR_EQ(err, "not a port number");
    ASSERT_EQ(portfile_parse("\x01\x02garbage", &port, err), -EINVAL);
}

TEST(portfile_target_addresses)
{
    target_t t;
    char err[CG_ERR_LEN];
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY);

    ASSERT_EQ(portfile_target_resolve(procfd, "127.0.0.1:4321", &t, err), 0);
    ASSERT_STR_EQ(t.host, "127.0.0.1");
    ASSERT_STR_EQ(t.port, "4321");
    ASSERT_EQ(t.pid, 0);
    ASSERT_EQ(portfile_target_resolve(procfd, "[::1]:4321", &t, err), 0);
    ASSERT_STR_EQ(t.host, "::1");
    ASSERT_EQ(portfile_target_resolve(procfd, "example.com:80", &t, err), 0);
    ASSERT_STR_EQ(t.host, "example.com");
    ASSERT_EQ(portfile_target_resolve(procfd, ":4321", &t, err), 0);
    ASSERT_STR_EQ(t.host, "127.0.0.1");
    ASSERT_EQ(portfile_target_resolve(procfd, "host:", &t, err), -EINVAL);
    ASSERT_EQ(portfile_target_resolve(procfd, "[::1:80", &t, err), -EINVAL);
    ASSERT_EQ(portfile_target_resolve(procfd, "12x", &t, err), -EINVAL);
    ASSERT_STR_EQ(err, "couldn't resolve addr or pid 12x to TCPAddress: not a pid or host:port");
    /* A number outside 1-65535 is not a port (getaddrinfo would wrap
     * 65536 + P to P); a service name is looked up later, as Go does. */
    ASSERT_EQ(portfile_target_resolve(procfd, "127.0.0.1:69857", &t, err), -EINVAL);
    ASSERT_STR_EQ(err, "couldn't resolve addr or pid 127.0.0.1:69857 to TCPAddress: address 69857: invalid port");
    ASSERT_EQ(portfile_target_resolve(procfd, "127.0.0.1:0", &t, err), -EINVAL);
    ASSERT_EQ(portfile_target_resolve(procfd, "[::1]:65536", &t, err), -EINVAL);
    ASSERT_EQ(portfile_target_resolve(procfd, "127.0.0.1:65535", &t, err), 0);
    ASSERT_EQ(portfile_target_resolve(procfd, "127.0.0.1:http", &t, err), 0);
    ASSERT_STR_EQ(t.port, "http");
    ASSERT(portfile_target_resolve(procfd, "2147483000", &t, err) < 0);
    ASSERT_STR_EQ(err, "couldn't resolve addr or pid 2147483000 to TCPAddress: no such process");
    close(procfd);
}

/* A target's home comes from its own passwd text, by uid. */
TEST(portfile_passwd_home_by_uid)
{
    const char *pw = "root:x:0:0:root:/root:/bin/bash\n"
                     "broken line\n"
                     "svc:x:1001:1001:Some Service,,,:/srv/svc:/usr/sbin/nologin\n"
                     "nohome:x:1002:1002:::/bin/sh\n"
                     "last:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
    char home[64];

    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 0, home, sizeof home), 0);
    ASSERT_STR_EQ(home, "/root");
    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 1001, home, sizeof home), 0);
    ASSERT_STR_EQ(home, "/srv/svc");
    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 65534, home, sizeof home), 0);
    ASSERT_STR_EQ(home, "/nonexistent");
    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 1002, home, sizeof home), -ENOENT);
    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 4242, home, sizeof home), -ENOENT);
    ASSERT_EQ(portfile_passwd_home(pw, strlen(pw), 0, home, 4), -ENOENT);
    ASSERT_EQ(portfile_passwd_home("", 0, 0, home, sizeof home), -ENOENT);
}

/* The path walk inside a target's root: openat2(RESOLVE_IN_ROOT) and the
 * walk it falls back to give the same answers.  ".." and absolute links
 * stay inside the root; a link as the final component is refused. */
static ino_t ino_of(int fd)
{
    struct stat st;

    ASSERT(fd >= 0);
    ASSERT(fstat(fd, &st) == 0);
    close(fd);
    return st.st_ino;
}

TEST(portfile_open_in_root_stays_inside)
{
    char tmpl[] = "/tmp/cgops-root.XXXXXX", p[512], outside[600];
    static const int modes[] = {ROOTPATH__AUTO, ROOTPATH__OPENAT2, ROOTPATH__WALK};
    int rootfd, fd;
    ino_t passwd, port;
    struct stat st;

    ASSERT(mkdtemp(tmpl) != NULL);
#define MK(...) (snprintf(p, sizeof p, __VA_ARGS__), p)
    ASSERT(mkdir(MK("%s/root", tmpl), 0755) == 0);
    ASSERT(mkdir(MK("%s/root/etc", tmpl), 0755) == 0);
    ASSERT(mkdir(MK("%s/root/home", tmpl), 0755) == 0);
    ASSERT(mkdir(MK("%s/root/home/u", tmpl), 0755) == 0);
    ASSERT((fd = open(MK("%s/root/etc/passwd", tmpl), O_CREAT | O_WRONLY, 0644)) >= 0);
    close(fd);
    ASSERT((fd = open(MK("%s/root/home/u/123", tmpl), O_CREAT | O_WRONLY, 0644)) >= 0);
    close(fd);
    ASSERT(symlink("/home/u", MK("%s/root/abs", tmpl)) == 0);
    ASSERT(symlink("../../../../../home", MK("%s/root/etc/rel", tmpl)) == 0);
    ASSERT(symlink("/etc/passwd", MK("%s/root/home/u/777", tmpl)) == 0);
    ASSERT(symlink("loop", MK("%s/root/loop", tmpl)) == 0);
    /* Outside the root, named by its host path from inside. */
    ASSERT(mkdir(MK("%s/outside", tmpl), 0755) == 0);
    ASSERT((fd = open(MK("%s/outside/123", tmpl), O_CREAT | O_WRONLY, 0644)) >= 0);
    close(fd);
    snprintf(outside, sizeof outside, "%s/outside", tmpl);
    ASSERT(symlink(outside, MK("%s/root/esc", tmpl)) == 0);
    ASSERT(stat(MK("%s/root/etc/passwd", tmpl), &st) == 0);
    passwd = st.st_ino;
    ASSERT(stat(MK("%s/root/home/u/123", tmpl), &st) == 0);
    port = st.st_ino;
    rootfd = open(MK("%s/root", tmpl), O_PATH | O_DIRECTORY);
    ASSERT(rootfd >= 0);

    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        int mode = modes[m];

        fd = rootpath__open(rootfd, "/etc/passwd", O_RDONLY, mode);
        if (mode == ROOTPATH__OPENAT2 && fd == -ENOSYS)
            continue; /* a kernel before 5.6: the walk is all there is */
        ASSERT_EQ(ino_of(fd), passwd);
        ASSERT_EQ(ino_of(rootpath__open(rootfd, "/../../../etc/passwd", O_RDONLY, mode)), passwd);
        ASSERT_EQ(ino_of(rootpath__open(rootfd, "/abs/123", O_RDONLY, mode)), port);
        ASSERT_EQ(ino_of(rootpath__open(rootfd, "/etc/rel/u/123", O_RDONLY, mode)), port);
        ASSERT_EQ(rootpath__open(rootfd, "/esc/123", O_RDONLY, mode), -ENOENT);
        ASSERT_EQ(rootpath__open(rootfd, "/nope/123", O_RDONLY, mode), -ENOENT);
        ASSERT_EQ(rootpath__open(rootfd, "/home/u/777", O_RDONLY, mode),
                  mode == ROOTPATH__OPENAT2 ? -ELOOP : -EMLINK);
        ASSERT_EQ(rootpath__open(rootfd, "/loop/123", O_RDONLY, mode), -ELOOP);
    }
    close(rootfd);
#undef MK
    {
        char cmd[600];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        ASSERT(system(cmd) == 0);
    }
}

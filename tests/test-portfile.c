/* test-portfile.c -- config-dir rules, port-file contents, target syntax */
#include "test.h"
#include "cgops/common.h"
#include "cgops/portfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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

/* test-subcmd.c -- subcmd: real children of the cgops binary on a libuv loop
 *
 * The runner's own /proc/self/exe is run-tests, so each test names the
 * cgops the build made ($CGOPS) with subcmd_set_exe.  What the children
 * print is checked against what the test knows independently (the command
 * table, a file the child wrote, the kernel's view of a pid), never against
 * an expected copy of their output.
 */
#include "test.h"

#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/loop.h"
#include "cgops/subcmd.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void use_cgops(void)
{
    const char *cg = getenv("CGOPS");

    if (cg == NULL || access(cg, X_OK) != 0)
        SKIP("CGOPS is not set to the cgops binary");
    subcmd_set_exe(cg);
}

/* `cgops help` runs, exits 0, and lists every command of the table. */
TEST(subcmd_help)
{
    static const char *const argv[] = {"help", NULL};
    subcmd_t s;
    int rc;

    use_cgops();
    rc = subcmd_run(argv, 20000, 1 << 20, &s);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(s.exit_status, 0);
    ASSERT_EQ(s.term_signal, 0);
    ASSERT(s.outlen > 0);
    ASSERT_EQ(strlen(s.out), s.outlen);
    for (const cmd_t *c = commands; c->name; c++)
        ASSERT_CONTAINS(s.out, c->name);
    ASSERT_STR_EQ(s.errtext, "");
    subcmd_release(&s);
    ASSERT(s.out == NULL);
}

/* A bad command line: the child's exit status (2, CG_EXIT_USAGE) and its
 * message, one line each, the prefix dropped, nothing unprintable. */
TEST(subcmd_failing_command)
{
    static const char *const argv[] = {"no-such-command\x1b[2J", NULL};
    subcmd_t s;

    use_cgops();
    ASSERT_EQ(subcmd_run(argv, 20000, 1 << 20, &s), 0);
    ASSERT_EQ(s.exit_status, CG_EXIT_USAGE);
    ASSERT_EQ(s.outlen, 0);
    ASSERT_STR_EQ(s.out, "");
    ASSERT_CONTAINS(s.errtext, "no-such-command");
    ASSERT(strstr(s.errtext, "cgops: ") == NULL);
    ASSERT(strchr(s.errtext, '\x1b') == NULL);
    ASSERT(strchr(s.errtext, '\n') != NULL); /* the message, then the hint */
    ASSERT(s.errtext[strlen(s.errtext) - 1] != '\n');
    subcmd_release(&s);
}

/* Output over the cap: -EFBIG, and out keeps exactly the first max_out
 * bytes of what the child printed in full when allowed. */
TEST(subcmd_output_cap)
{
    static const char *const argv[] = {"help", NULL};
    subcmd_t full, cut;

    use_cgops();
    ASSERT_EQ(subcmd_run(argv, 20000, 1 << 20, &full), 0);
    ASSERT(full.outlen > 100);
    ASSERT_EQ(subcmd_run(argv, 20000, 100, &cut), -EFBIG);
    ASSERT_EQ(cut.outlen, 100);
    ASSERT_EQ(strlen(cut.out), 100);
    ASSERT(memcmp(cut.out, full.out, 100) == 0);
    subcmd_release(&full);
    subcmd_release(&cut);
}

/* A big stdout (well over the pipe's buffer and the first allocation)
 * arrives whole: a shell's `yes` bounded by head, through /bin/sh. */
TEST(subcmd_big_output)
{
    static const char *const argv[] = {"-c", "yes 0123456789abcdef | head -c 3000000", NULL};
    subcmd_t s;

    subcmd_set_exe("/bin/sh");
    ASSERT_EQ(subcmd_run(argv, 20000, 4u << 20, &s), 0);
    ASSERT_EQ(s.exit_status, 0);
    ASSERT_EQ(s.outlen, 3000000);
    ASSERT(memcmp(s.out, "0123456789abcdef\n0123456789abcdef\n", 34) == 0);
    subcmd_release(&s);
    ASSERT_EQ(subcmd_run(argv, 20000, 1000000, &s), -EFBIG);
    ASSERT_EQ(s.outlen, 1000000);
    subcmd_release(&s);
}

/* A listener that completes the handshake and never reads: an agent that
 * went silent.  Returns its port; the socket stays open until exit. */
static int silent_agent(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ASSERT(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* `cgops stack` on a silent agent with its own timeout far away: the child
 * is held, and killed at our deadline (it would wait 60 s). */
TEST(subcmd_deadline)
{
    char target[64];
    const char *argv[] = {"stack", "--timeout", "60s", target, NULL};
    subcmd_t s;
    uint64_t t0;

    use_cgops();
    snprintf(target, sizeof target, "127.0.0.1:%d", silent_agent());
    t0 = cg_now_ns();
    ASSERT_EQ(subcmd_run(argv, 500, 1 << 20, &s), -ETIMEDOUT);
    ASSERT_EQ(s.term_signal, SIGKILL);
    /* A bound, not a timing: far less than the child's own 60 s. */
    ASSERT(cg_now_ns() - t0 < 20000000000ull);
    subcmd_release(&s);
}

static int gone_or_zombie(pid_t pid)
{
    char path[64], *buf = NULL, *p;
    size_t len;
    int z;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (cg_read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL) < 0)
        return 1;
    p = strrchr(buf, ')');
    z = p && (p[2] == 'Z' || p[2] == 'X');
    free(buf);
    return z;
}

/* A child that forks: the grandchild (a sleep in the background, which
 * writes its pid to a file first) dies with it at the deadline. */
TEST(subcmd_kills_group)
{
    char file[256], script[1024], *buf = NULL;
    const char *argv[] = {"-c", script, NULL};
    long long pid = 0;
    size_t len;
    subcmd_t s;
    int i;

    snprintf(file, sizeof file, "%s/subcmd-group-%d", test_tmpdir(), (int)getpid());
    unlink(file);
    snprintf(script, sizeof script, "sleep 60 & echo $! > %s.tmp && mv %s.tmp %s; wait", file,
             file, file);
    subcmd_set_exe("/bin/sh");
    ASSERT_EQ(subcmd_run(argv, 1000, 1 << 20, &s), -ETIMEDOUT);
    subcmd_release(&s);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, file, 64, &buf, &len, NULL), 0);
    ASSERT_EQ(cg_parse_ll(cg_trim(buf), 1, 1 << 30, &pid), 0);
    free(buf);
    unlink(file);
    /* The kill is sent before on_done; the kernel may take a moment to
     * finish the process.  Bounded wait, 10 s. */
    for (i = 0; i < 1000 && !gone_or_zombie((pid_t)pid); i++)
        usleep(10000);
    ASSERT(gone_or_zombie((pid_t)pid));
}

/* A grandchild that keeps the pipes open after the child exited is
 * killed then, so the answer does not wait for the deadline. */
TEST(subcmd_leftover_holding_pipe)
{
    static const char *const argv[] = {"-c", "echo hi; sleep 60 & exit 3", NULL};
    subcmd_t s;

    subcmd_set_exe("/bin/sh");
    ASSERT_EQ(subcmd_run(argv, 30000, 1 << 20, &s), 0);
    ASSERT_EQ(s.exit_status, 3);
    ASSERT_STR_EQ(s.out, "hi\n");
    subcmd_release(&s);
}

TEST(subcmd_spawn_fails)
{
    static const char *const argv[] = {"help", NULL};
    subcmd_t s;

    subcmd_set_exe("/nonexistent/cgops");
    ASSERT_EQ(subcmd_run(argv, 1000, 1 << 20, &s), -ENOENT);
    ASSERT(s.out != NULL);
    subcmd_release(&s);
}

TEST(subcmd_bad_arguments)
{
    static const char *const argv[] = {"help", NULL};
    subcmd_t s;

    use_cgops();
    ASSERT_EQ(subcmd_run(argv, 0, 1 << 20, &s), -EINVAL);
    ASSERT_EQ(subcmd_run(argv, 1000, 0, &s), -EINVAL);
    ASSERT_EQ(subcmd_run(NULL, 1000, 1 << 20, &s), -EINVAL);
}

/* The default executable resolves, and is not reported as replaced. */
TEST(subcmd_self_exe)
{
    int deleted = -1;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(subcmd_exe_init(&deleted, err), 0);
    ASSERT_EQ(deleted, 0);
}

/* 50 children at once on one loop, each subcmd on the heap and freed in
 * its own on_done (ASan sees any use after). */
#define MANY 50
static int many_done, many_ok;
static char *many_first;

static void many_cb(subcmd_t *s, int status)
{
    if (status == 0 && s->exit_status == 0) {
        if (many_first == NULL)
            many_first = cg_xstrdup(s->out);
        else if (strcmp(many_first, s->out) == 0)
            many_ok++;
    }
    many_done++;
    subcmd_release(s);
    free(s);
}

TEST(subcmd_many_at_once)
{
    static const char *const argv[] = {"help", "goroutines", NULL};
    uv_loop_t *loop = loop_new(NULL);

    use_cgops();
    ASSERT(loop != NULL);
    for (int i = 0; i < MANY; i++) {
        subcmd_t *s = cg_xcalloc(1, sizeof *s);

        s->argv = argv;
        s->timeout_ms = 30000;
        s->max_out = 1 << 20;
        s->on_done = many_cb;
        ASSERT_EQ(subcmd_start(loop, s), 0);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    ASSERT_EQ(many_done, MANY);
    ASSERT(many_first != NULL);
    ASSERT_CONTAINS(many_first, "goroutines");
    ASSERT_EQ(many_ok, MANY - 1);
    free(many_first);
    ASSERT_EQ(loop_free(loop), 0);
}

static void cancel_cb(subcmd_t *s, int status)
{
    *(int *)s->data = status;
}

/* A cancelled child (held by a silent agent) ends at once, -ECANCELED. */
TEST(subcmd_cancel)
{
    char target[64];
    const char *argv[] = {"stack", "--timeout", "60s", target, NULL};
    uv_loop_t *loop = loop_new(NULL);
    int status = 1;
    subcmd_t s;

    use_cgops();
    snprintf(target, sizeof target, "127.0.0.1:%d", silent_agent());
    memset(&s, 0, sizeof s);
    s.argv = argv;
    s.timeout_ms = 60000;
    s.max_out = 1 << 20;
    s.on_done = cancel_cb;
    s.data = &status;
    ASSERT_EQ(subcmd_start(loop, &s), 0);
    subcmd_cancel(&s);
    uv_run(loop, UV_RUN_DEFAULT);
    ASSERT_EQ(status, -ECANCELED);
    subcmd_release(&s);
    ASSERT_EQ(loop_free(loop), 0);
}

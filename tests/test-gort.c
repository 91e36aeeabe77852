/* test-gort.c -- the agentless reader: a recording replays as the live
 * process read, and a damaged recording is refused or read partially,
 * never crashed on
 */
#include "test.h"

#include "cgops/common.h"
#include "cgops/gort.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Start a fixture with -noagent; returns its pid once it said ready. */
static pid_t start(const char *name)
{
    const char *fx = getenv("FIXTURES");
    char path[4096], line[256];
    int p[2];
    ssize_t got;
    pid_t pid;

    if (fx == NULL)
        SKIP("FIXTURES not set (run through ctest)");
    snprintf(path, sizeof path, "%s/%s", fx, name);
    if (access(path, X_OK) != 0)
        SKIP("%s not built", path);
    ASSERT(pipe(p) == 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(path, name, "-noagent", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    got = read(p[0], line, sizeof line - 1);
    close(p[0]);
    ASSERT(got > 0);
    line[got] = '\0';
    ASSERT(strncmp(line, "ready ", 6) == 0);
    return pid;
}

static void stop(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A goroutine as one line: id, state, frames. */
typedef struct {
    gort_t *r;
    char *text;
    size_t len, cap;
    int n;
} collect_t;

static int collect(void *ctx, const gort_g_t *g)
{
    collect_t *c = ctx;
    char line[8192];
    size_t n = (size_t)snprintf(line, sizeof line, "%llu [%s]", (unsigned long long)g->goid, gort_state(c->r, g));

    for (int i = 0; i < g->nframes && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s:%d", g->frames[i].function, (int)g->frames[i].line);
    if (n >= sizeof line)
        n = sizeof line - 1;
    if (c->len + n + 2 > c->cap) {
        c->cap = (c->len + n + 2) * 2;
        c->text = cg_xrealloc(c->text, c->cap);
    }
    memcpy(c->text + c->len, line, n);
    c->len += n;
    c->text[c->len++] = '\n';
    c->text[c->len] = '\0';
    c->n++;
    return 0;
}

static uint8_t *slurp(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *buf;

    ASSERT(fd >= 0);
    ASSERT(fstat(fd, &st) == 0);
    buf = cg_xmalloc((size_t)st.st_size + 1);
    ASSERT(read(fd, buf, (size_t)st.st_size) == st.st_size);
    close(fd);
    *size = (size_t)st.st_size;
    return buf;
}

/* Read live with recording on, replay the image: the same goroutines,
 * states and frames (the stripped build: globals found by scanning). */
static void replay_equals_live(const char *fixture)
{
    pid_t pid = start(fixture);
    char err[CG_ERR_LEN] = "", img[4096], exe[4096];
    collect_t live = {0}, again = {0};
    gort_t *r;
    uint8_t *ib, *eb;
    size_t is, es;
    int fd;

    ASSERT(gort_open(pid, GORT_RECORD, &r, err) == 0);
    live.r = r;
    ASSERT(gort_walk(r, GORT_DEPTH_MAX, collect, &live, err) == 0);
    snprintf(img, sizeof img, "%s/gort-%s.img", test_tmpdir(), fixture);
    fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT(fd >= 0);
    ASSERT(gort_save_image(r, fd, err) == 0);
    close(fd);
    gort_close(r);
    snprintf(exe, sizeof exe, "%s/%s", getenv("FIXTURES"), fixture);
    stop(pid);

    ASSERT(live.n >= 12);
    ASSERT_CONTAINS(live.text, "[chan receive] runtime.gopark:");
    ASSERT_CONTAINS(live.text, "main.parkChanRecv:");
    ib = slurp(img, &is);
    eb = slurp(exe, &es);
    ASSERT(gort_open_image(eb, es, ib, is, pid, &r, err) == 0);
    again.r = r;
    ASSERT(gort_walk(r, GORT_DEPTH_MAX, collect, &again, err) == 0);
    ASSERT_STR_EQ(again.text, live.text);

    /* Cut short, the recording loses ranges: the read fails with a
     * message or lists fewer goroutines, never crashes. */
    for (size_t cut = is / 2; cut > 48; cut /= 2) {
        if (gort_open_image(eb, es, ib, cut, pid, &r, err) == 0)
            TEST_FAIL("a truncated image (%zu of %zu bytes) was accepted", cut, is);
        ASSERT(err[0] != '\0');
    }
    gort_close(r);
    free(ib);
    free(eb);
    free(live.text);
    free(again.text);
}

TEST(gort_replay_equals_live)
{
    replay_equals_live("parkfix");
}

TEST(gort_replay_equals_live_stripped)
{
    replay_equals_live("parkfix-stripped");
}

/* Not Go, gone, and a kernel thread: a message each, no crash. */
TEST(gort_refuses_what_it_cannot_read)
{
    char err[CG_ERR_LEN] = "";
    gort_t *r;
    pid_t pid;

    ASSERT(gort_open(getpid(), 0, &r, err) == -ENOEXEC);
    ASSERT_CONTAINS(err, "not a Go program");
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    ASSERT(gort_open(pid, 0, &r, err) != 0);
    ASSERT_CONTAINS(err, "no such process");
    ASSERT(gort_open(2, 0, &r, err) != 0); /* kthreadd */
    ASSERT(err[0] != '\0');
}

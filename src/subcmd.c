/* subcmd.c -- run one cgops command in a child process and collect its stdout
 *
 * Four handles per child: the process, a pipe for stdout, one for stderr
 * and a timer for the deadline.  on_done runs once all four are closed, so
 * the caller may free s there.  The order of events is not fixed (the
 * exit may come before or after the last bytes of the pipes), so every
 * callback ends in settle(), which closes what is no longer needed.
 */
#include "cgops/subcmd.h"
#include "cgops/common.h"
#include "cgops/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* After SIGKILL, how long to wait for the exit before giving up on it: a
 * child in uninterruptible sleep (a read of a dying target's memory) may
 * take a while, and the answer must not. */
#define SUBCMD_REAP_GRACE_MS 2000

#define SELF_EXE "/proc/self/exe"
#define PARENT_ENV "CGOPS_SUBCMD_PARENT"

extern char **environ;

static char *exe_override;
static int exe_checked;

void subcmd_set_exe(const char *path)
{
    free(exe_override);
    exe_override = path ? cg_xstrdup(path) : NULL;
}

int subcmd_exe_init(int *deleted, char *err)
{
    char buf[4096];
    ssize_t n;
    static const char suffix[] = " (deleted)";

    if (deleted)
        *deleted = 0;
    n = readlink(SELF_EXE, buf, sizeof buf - 1);
    if (n < 0) {
        int e = errno;
        cg_seterr(err, "cannot find our own executable: readlink %s: %s", SELF_EXE, strerror(e));
        return -e;
    }
    buf[n] = '\0';
    if (deleted && (size_t)n >= sizeof suffix - 1 &&
        strcmp(buf + n - (sizeof suffix - 1), suffix) == 0)
        *deleted = 1;
    exe_checked = 1;
    return 0;
}

void subcmd_child_init(void)
{
    const char *v = getenv(PARENT_ENV);
    long long ppid;

    if (v == NULL)
        return;
    if (cg_parse_ll(v, 1, INT32_MAX, &ppid) == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The parent died before the prctl: nobody is waiting for us. */
        if (getppid() != (pid_t)ppid)
            _exit(1);
    }
    /* Our own children are not the parent's. */
    unsetenv(PARENT_ENV);
}

static void close_cb(uv_handle_t *h);

static void close_h(subcmd_t *s, void *h)
{
    (void)s;
    if (!uv_is_closing((uv_handle_t *)h))
        uv_close((uv_handle_t *)h, close_cb);
}

static int pipes_closed(subcmd_t *s)
{
    return uv_is_closing((uv_handle_t *)&s->outp_) && uv_is_closing((uv_handle_t *)&s->errp_);
}

/* The one place that decides what is finished: once the child is gone and
 * both pipes are closed, the timer goes too. */
static void settle(subcmd_t *s)
{
    if (s->exited_ && pipes_closed(s))
        close_h(s, &s->timer_);
}

static void timer_cb(uv_timer_t *t);

/* Kill the child's group and stop reading; if the child has not exited,
 * the timer now counts the reap grace. */
static void kill_all(subcmd_t *s)
{
    if (!s->killed_) {
        s->killed_ = 1;
        if (!s->exited_ && s->proc_.pid > 0)
            kill(-s->proc_.pid, SIGKILL);
        if (!s->exited_ && !uv_is_closing((uv_handle_t *)&s->timer_))
            uv_timer_start(&s->timer_, timer_cb, SUBCMD_REAP_GRACE_MS, 0);
    }
    close_h(s, &s->outp_);
    close_h(s, &s->errp_);
    settle(s);
}

static void timer_cb(uv_timer_t *t)
{
    subcmd_t *s = t->data;

    if (!s->killed_) { /* the deadline */
        if (s->status_ == 0)
            s->status_ = -ETIMEDOUT;
        kill_all(s);
        return;
    }
    /* The grace is over and the child still has not exited: stop waiting
     * (libuv no longer reaps a closed handle's child; it stays a zombie
     * until we exit, the price of an answer bounded in time). */
    s->exited_ = 1;
    close_h(s, &s->proc_);
    settle(s);
}

static void exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
    subcmd_t *s = p->data;

    s->exited_ = 1;
    s->exit_status = (int)exit_status;
    s->term_signal = term_signal;
    /* Whatever the child left in its group (a forked helper holding our
     * pipes) goes now: the group id stays reserved while it has members,
     * so this reaches no one else. */
    if (!s->killed_ && p->pid > 0)
        kill(-p->pid, SIGKILL);
    close_h(s, p);
    settle(s);
}

static void out_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    subcmd_t *s = h->data;

    (void)hint;
    if (s->outlen == s->outcap_) {
        /* One byte more than the cap, so that going over it shows. */
        size_t cap = s->outcap_ ? s->outcap_ * 2 : 16384;

        if (cap > s->max_out + 1)
            cap = s->max_out + 1;
        s->out = cg_xrealloc(s->out, cap + 1);
        s->outcap_ = cap;
    }
    buf->base = s->out + s->outlen;
    buf->len = s->outcap_ - s->outlen;
}

static void out_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    subcmd_t *s = st->data;

    (void)buf;
    if (n > 0) {
        s->outlen += (size_t)n;
        if (s->outlen > s->max_out) {
            s->outlen = s->max_out;
            if (s->status_ == 0)
                s->status_ = -EFBIG;
            kill_all(s);
        }
        return;
    }
    if (n < 0) { /* UV_EOF, or a read error: the same end */
        close_h(s, st);
        settle(s);
    }
}

static void err_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    subcmd_t *s = h->data;

    (void)hint;
    if (s->errlen_ < sizeof s->errraw_) {
        buf->base = s->errraw_ + s->errlen_;
        buf->len = sizeof s->errraw_ - s->errlen_;
    } else {
        buf->base = s->scratch_;
        buf->len = sizeof s->scratch_;
    }
}

static void err_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    subcmd_t *s = st->data;

    if (n > 0) {
        if (buf->base != s->scratch_)
            s->errlen_ += (size_t)n;
        return;
    }
    if (n < 0) {
        close_h(s, st);
        settle(s);
    }
}

/* errtext from the raw stderr: one line per message, each made safe for a
 * terminal, without the "cgops: " every message starts with. */
static void make_errtext(subcmd_t *s)
{
    size_t at = 0, i = 0;

    s->errtext[0] = '\0';
    while (i < s->errlen_) {
        size_t j = i, n;
        char *line, *safe;
        const char *p;

        while (j < s->errlen_ && s->errraw_[j] != '\n')
            j++;
        n = j - i;
        if (n > 0 && s->errraw_[i + n - 1] == '\r')
            n--;
        line = cg_xmalloc(n + 1);
        for (size_t k = 0; k < n; k++)
            line[k] = s->errraw_[i + k] ? s->errraw_[i + k] : '?';
        line[n] = '\0';
        i = j + 1;
        p = line;
        if (strncmp(p, "cgops: ", 7) == 0)
            p += 7;
        safe = cg_text_safe(p);
        free(line);
        if (*cg_trim(safe) != '\0' && at + 2 < sizeof s->errtext) {
            size_t len = strlen(safe), room = sizeof s->errtext - 1 - at - (at > 0);

            if (len > room) { /* cut on a character boundary */
                len = room;
                while (len > 0 && ((unsigned char)safe[len] & 0xC0) == 0x80)
                    len--;
            }
            if (at > 0)
                s->errtext[at++] = '\n';
            memcpy(s->errtext + at, safe, len);
            at += len;
            s->errtext[at] = '\0';
        }
        free(safe);
    }
}

static void close_cb(uv_handle_t *h)
{
    subcmd_t *s = h->data;

    if (--s->open_ > 0)
        return;
    if (s->out == NULL)
        s->out = cg_xmalloc(1);
    s->out[s->outlen] = '\0';
    make_errtext(s);
    s->on_done(s, s->status_);
}

int subcmd_start(uv_loop_t *loop, subcmd_t *s)
{
    uv_process_options_t o;
    uv_stdio_container_t io[3];
    const char *file = exe_override ? exe_override : SELF_EXE;
    char **args, **env, parent[sizeof PARENT_ENV + 16];
    size_t n = 0, ne;
    int rc;

    if (s->argv == NULL || s->timeout_ms == 0 || s->max_out == 0 || s->max_out > SIZE_MAX / 4 ||
        s->on_done == NULL)
        return -EINVAL;
    if (!exe_override && !exe_checked && (rc = subcmd_exe_init(NULL, NULL)) < 0)
        return rc;
    while (s->argv[n])
        n++;

    s->exit_status = 0;
    s->term_signal = 0;
    s->out = NULL;
    s->outlen = 0;
    s->outcap_ = 0;
    s->errtext[0] = '\0';
    s->errlen_ = 0;
    s->status_ = 0;
    s->exited_ = s->killed_ = 0;
    s->open_ = 4;

    uv_timer_init(loop, &s->timer_);
    uv_pipe_init(loop, &s->outp_, 0);
    uv_pipe_init(loop, &s->errp_, 0);
    s->timer_.data = s->outp_.data = s->errp_.data = s->proc_.data = s;

    /* Our environment plus PARENT_ENV=our pid (subcmd_child_init). */
    for (ne = 0; environ && environ[ne]; ne++)
        ;
    env = cg_xcalloc(ne + 2, sizeof *env);
    for (size_t i = 0, k = 0; i < ne; i++)
        if (strncmp(environ[i], PARENT_ENV "=", sizeof PARENT_ENV) != 0)
            env[k++] = environ[i];
    snprintf(parent, sizeof parent, PARENT_ENV "=%d", (int)getpid());
    for (ne = 0; env[ne]; ne++)
        ;
    env[ne] = parent;

    args = cg_xcalloc(n + 2, sizeof *args);
    args[0] = (char *)"cgops";
    for (size_t i = 0; i < n; i++)
        args[i + 1] = (char *)s->argv[i];

    memset(&o, 0, sizeof o);
    memset(io, 0, sizeof io);
    io[0].flags = UV_IGNORE; /* libuv opens /dev/null for it */
    io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[1].data.stream = (uv_stream_t *)&s->outp_;
    io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    io[2].data.stream = (uv_stream_t *)&s->errp_;
    o.file = file;
    o.args = args;
    o.env = env;
    o.exit_cb = exit_cb;
    o.stdio = io;
    o.stdio_count = 3;
    /* setsid in the child: its own process group, to kill as one. */
    o.flags = UV_PROCESS_DETACHED;

    /* libuv waits for the exec, so args may go right after. */
    rc = uv_spawn(loop, &s->proc_, &o);
    free(args);
    free(env);
    if (rc < 0) {
        s->status_ = rc;
        s->exited_ = 1;
        close_h(s, &s->proc_);
        close_h(s, &s->outp_);
        close_h(s, &s->errp_);
        close_h(s, &s->timer_);
        return 0;
    }
        uv_timer_start(&s->timer_, timer_cb, s->timeout_ms, 0);
    if (uv_read_start((uv_stream_t *)&s->outp_, out_alloc, out_read) < 0)
        close_h(s, &s->outp_);
    if (uv_read_start((uv_stream_t *)&s->errp_, err_alloc, err_read) < 0)
        close_h(s, &s->errp_);
    return 0;
}

void subcmd_cancel(subcmd_t *s)
{
    if (s->status_ == 0 && !s->exited_)
        s->status_ = -ECANCELED;
    kill_all(s);
}

void subcmd_release(subcmd_t *s)
{
    free(s->out);
    s->out = NULL;
    s->outlen = 0;
}

static void run_done_cb(subcmd_t *s, int status)
{
    *(int *)s->data = status;
}

int subcmd_run(const char *const *argv, uint64_t timeout_ms, size_t max_out, subcmd_t *s)
{
    uv_loop_t *loop = loop_new(NULL);
    int status = -EINPROGRESS, rc;

    if (loop == NULL)
        return -ENOMEM;
    s->argv = argv;
    s->timeout_ms = timeout_ms;
    s->max_out = max_out;
    s->on_done = run_done_cb;
    s->data = &status;
    rc = subcmd_start(loop, s);
    if (rc == 0)
        uv_run(loop, UV_RUN_DEFAULT);
    loop_free(loop);
    s->data = NULL;
    return rc < 0 ? rc : status;
}

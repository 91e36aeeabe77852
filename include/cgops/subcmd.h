/* subcmd.h -- run one cgops command in a child process and collect its stdout
 *
 * How `cgops serve` and `cgops mcp` compute every answer: each question is
 * the command line a user would type, run as a child of our own executable
 * on the caller's libuv loop.  The isolation is the point: a hostile target
 * whose memory makes a reader misbehave, or an agent that never answers,
 * can crash or hold only the child; the server's memory stays flat (the
 * child's allocations die with it); and every answer is bounded in time,
 * because at the deadline the child's whole process group is killed.
 *
 * The child runs with stdin on /dev/null and stdout and stderr on pipes, in
 * a new session (setsid: its own process group, no controlling terminal),
 * so that SIGKILL to the group also ends whatever the child forked (go
 * tool, a shell).  on_done comes at most timeout_ms plus 2 s (the wait
 * for a killed child's exit, then given up on) after the start.  When the child exits, whatever is left in its group is
 * killed too, so a grandchild holding the pipes cannot stretch the answer
 * to the deadline.
 *
 * The executable: by default the running binary through /proc/self/exe,
 * checked once (subcmd_exe_init, or on the first start).  After a package
 * upgrade readlink(/proc/self/exe) says "/usr/bin/cgops (deleted)": we
 * still exec /proc/self/exe, that is the old inode the server itself runs,
 * so the server and its children are always the same version (the JSON a
 * server parses is the JSON its children print); restarting the service
 * moves both to the new binary.  Tests (whose process is the test runner)
 * name the executable with subcmd_set_exe.
 *
 * Concurrency is the caller's business: each child costs a process, two
 * pipes and up to max_out bytes, so a server caps how many run at once
 * (cgops mcp runs at most 4 tool calls at once and queues the rest) and
 * queues the rest.  If the server itself is killed, its children are not:
 * each ends by its own bounds (every cgops command ends in bounded time;
 * a write to the closed pipe ends it sooner).
 */
#ifndef CGOPS_SUBCMD_H
#define CGOPS_SUBCMD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define SUBCMD_ERRTEXT_LEN 1024

typedef struct subcmd subcmd_t;

/* status: 0 the child ran and exited (see exit_status, term_signal);
 * -ETIMEDOUT killed at the deadline; -EFBIG stdout went over max_out (the
 * child was killed, out holds the first max_out bytes); -ECANCELED
 * subcmd_cancel; -errno the spawn
 * failed (-ENOENT: no such executable). */
typedef void (*subcmd_done_cb)(subcmd_t *s, int status);

struct subcmd {
    void *data;
    const char *const *argv; /* the command's words, no program name:
                                {"goroutines", "--json", "123", NULL} */
    uint64_t timeout_ms;     /* never 0 */
    size_t max_out;          /* stdout cap (bytes), never 0 */
    subcmd_done_cb on_done;  /* exactly once, after every handle is
                                closed: s may be freed there */
    int exit_status, term_signal;
    char *out;
    size_t outlen;           /* stdout, NUL-terminated; owned by s until
                                subcmd_release (never NULL after on_done) */
    char errtext[SUBCMD_ERRTEXT_LEN]; /* the child's stderr, first 1 KiB,
                                made safe (cg_text_safe) one line per
                                message, "cgops: " prefixes dropped */

    /* private */
    uv_process_t proc_;
    uv_pipe_t outp_, errp_;
    uv_timer_t timer_;
    int open_;          /* handles not yet closed */
    int status_;        /* what on_done will get */
    int exited_, killed_;
    size_t outcap_;
    char errraw_[SUBCMD_ERRTEXT_LEN];
    size_t errlen_;
    char scratch_[512]; /* stderr past the first 1 KiB is read and dropped */
};

/* Check the default executable (/proc/self/exe) once; called by the first
 * subcmd_start when the caller has not.  Returns 0 or -errno with err set.
 * *deleted (may be NULL) is set when the binary was replaced or removed
 * since the process started (still runnable, see above). */
int subcmd_exe_init(int *deleted, char *err);

/* Run path instead of our own executable (tests); NULL goes back to the
 * default.  The string is copied. */
void subcmd_set_exe(const char *path);

/* In a child started by subcmd_start (main calls it first thing): ask to be
 * killed when the parent dies, so that a SIGKILLed cgops serve or mcp
 * leaves no command running on for up to a minute (its own group, made by
 * setsid, gets no signal from the parent's terminal or killer).  libuv
 * runs nothing between fork and exec, so the child does it: the parent
 * names itself in CGOPS_SUBCMD_PARENT, and a child whose parent is already
 * gone exits at once.  Without that variable it does nothing. */
void subcmd_child_init(void);

/* Start s (its public fields filled; private ones need not be zeroed) on
 * loop.  Returns 0, then on_done comes exactly once; or -EINVAL (no argv,
 * timeout or cap 0, no on_done) or the error of subcmd_exe_init, and
 * on_done is not called.  s must stay put until on_done. */
int subcmd_start(uv_loop_t *loop, subcmd_t *s);

/* Stop s early (a request the client cancelled): its group is killed as at
 * the deadline and on_done gets -ECANCELED, unless it had already ended
 * otherwise.  Only between a successful subcmd_start and on_done. */
void subcmd_cancel(subcmd_t *s);

/* Free s->out (s itself is the caller's). */
void subcmd_release(subcmd_t *s);

/* subcmd_start on a loop of its own, run to the end: one command at a time
 * for a caller without a loop.  Returns the status on_done would get (or
 * subcmd_start's error); s is filled as for on_done (its data and on_done
 * are not used); subcmd_release it. */
int subcmd_run(const char *const *argv, uint64_t timeout_ms, size_t max_out,
               subcmd_t *s);

#endif

/* cmd_goroutines.c -- `cgops goroutines PID` and `cgops summary PID`
 *
 * Agentless: both read the runtime's structures from the target's memory
 * (gort.h).  `goroutines` prints a dump shaped like the runtime's own
 * traceback, so the tools people run on Go dumps work on it; `summary`
 * counts and groups.  Output is streamed one goroutine at a time: a
 * million goroutines are never held in memory.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/agentless.h"
#include "cgops/gort.h"
#include "cgops/gomem.h"
#include "cgops/out_json.h"
#include "cgops/proc.h"
#include "cgops/spool.h"
#include "cgops/procinfo.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int json;
    int stop;
    int user;
    const char *depth;
} goroutines_opts_t;

const opt_t cmd_goroutines_opts[] = {
    OPT_BOOL_('j', "json", goroutines_opts_t, json, "print JSON (schema: protocol/schemas/goroutines.schema.json)"),
    OPT_BOOL_(0, "stop", goroutines_opts_t, stop,
              "stop the process (ptrace) while reading, for a consistent snapshot; it runs on afterwards"),
    OPT_BOOL_(0, "user", goroutines_opts_t, user,
              "hide runtime goroutines and runtime frames, as the runtime's own dump does by default"),
    OPT_STRING_(0, "depth", "N", goroutines_opts_t, depth, "at most N frames per goroutine (1-100, default 100)"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

/* The pid argument of an agentless command: digits, a live process. */
int agentless_pid_arg(const cmd_t *cmd, const opt_args_t *args, pid_t *pid)
{
    long long v;

    if (args->n != 1)
        return cmd_usage_error(cmd, "%s needs exactly one PID", cmd->name);
    if (cg_parse_ll(args->v[0], 1, 0x7fffffff, &v) != 0)
        return cmd_usage_error(cmd, "'%s' is not a process id", args->v[0]);
    *pid = (pid_t)v;
    return OPT_GO_ON;
}

int agentless_depth_arg(const cmd_t *cmd, const char *s, int *depth)
{
    long long v;

    *depth = GORT_DEPTH_MAX;
    if (s == NULL)
        return OPT_GO_ON;
    if (cg_parse_ll(s, 1, GORT_DEPTH_MAX, &v) != 0)
        return cmd_usage_error(cmd, "--depth: '%s' is not a number from 1 to %d", s, GORT_DEPTH_MAX);
    *depth = (int)v;
    return OPT_GO_ON;
}

/* ---- the dump ------------------------------------------------------------- */

typedef struct {
    gort_t *r;
    FILE *out;
    int json;
    int user;
    int depth;
    size_t count;
    int io_error;
    struct frame_text *frames; /* FRAME_TEXT_SLOTS, text mode */
} dump_t;

/* A million goroutines make millions of frames, nearly all alike: each
 * distinct frame is formatted once and its text kept (printf was a third
 * of the dump's time). */
#define FRAME_TEXT_SLOTS 4096

typedef struct frame_text {
    const char *function, *file;
    uint64_t pc, entry;
    int32_t line;
    int inlined;
    char *text;
    size_t len;
} frame_text_t;

static int json_escape(char *dst, size_t size, const char *s);
static void json_str(FILE *f, const char *s);

/* A frame as text ("f(...)\n\tfile:line +0xOFF\n") or, in a JSON dump, as
 * its JSON object: formatted once per distinct frame. */
static void print_frame(dump_t *d, const gort_frame_t *fr)
{
    uint64_t h = ((uintptr_t)fr->function * 31 + fr->pc * 17 + (uint64_t)fr->line) * 0x9e3779b97f4a7c15ull;
    frame_text_t *e = &d->frames[h >> (64 - 12)];
    char buf[4096], fn[1500], file[1500];
    int n;

    if (e->text && e->function == fr->function && e->file == fr->file && e->pc == fr->pc &&
        e->entry == fr->entry && e->line == fr->line && e->inlined == fr->inlined) {
        fwrite_unlocked(e->text, 1, e->len, d->out);
        return;
    }
    if (d->json) {
        if (json_escape(fn, sizeof fn, fr->function) != 0 || json_escape(file, sizeof file, fr->file) != 0)
            n = -1;
        else
            n = snprintf(buf, sizeof buf, "{\"function\":\"%s\",\"file\":\"%s\",\"line\":%d,\"inlined\":%s}", fn,
                         file, (int)fr->line, fr->inlined ? "true" : "false");
    } else if (!fr->inlined && fr->pc > fr->entry) {
        n = snprintf(buf, sizeof buf, "%s(...)\n\t%s:%d +0x%llx\n", fr->function, fr->file, (int)fr->line,
                     (unsigned long long)(fr->pc - fr->entry));
    } else {
        n = snprintf(buf, sizeof buf, "%s(...)\n\t%s:%d\n", fr->function, fr->file, (int)fr->line);
    }
    if (n < 0 || (size_t)n >= sizeof buf) { /* a very long name: formatted each time */
        if (d->json) {
            fputs("{\"function\":", d->out);
            json_str(d->out, fr->function);
            fputs(",\"file\":", d->out);
            json_str(d->out, fr->file);
            fprintf(d->out, ",\"line\":%d,\"inlined\":%s}", (int)fr->line, fr->inlined ? "true" : "false");
        } else {
            fprintf(d->out, "%s(...)\n\t%s:%d\n", fr->function, fr->file, (int)fr->line);
        }
        return;
    }
    free(e->text);
    e->function = fr->function;
    e->file = fr->file;
    e->pc = fr->pc;
    e->entry = fr->entry;
    e->line = fr->line;
    e->inlined = fr->inlined;
    e->len = (size_t)n;
    e->text = cg_xmalloc(e->len + 1);
    memcpy(e->text, buf, e->len + 1);
    fwrite_unlocked(e->text, 1, e->len, d->out);
}

static void put_num(FILE *f, unsigned long long v, unsigned base)
{
    char b[24];
    int i = (int)sizeof b;

    do
        b[--i] = "0123456789abcdef"[v % base];
    while ((v /= base) != 0);
    fwrite_unlocked(b + i, 1, sizeof b - (size_t)i, f);
}

static void put_str(FILE *f, const char *s)
{
    fputs_unlocked(s, f);
}

/* A goroutine's block, put together by hand as the frames are (printf was
 * a tenth of a million-goroutine dump). */
static int dump_text(dump_t *d, const gort_g_t *g)
{
    FILE *f = d->out;
    int64_t minutes = gort_wait_minutes(g);

    if (d->count)
        putc_unlocked('\n', f);
    put_str(f, "goroutine ");
    put_num(f, g->goid, 10);
    put_str(f, " [");
    put_str(f, gort_state(d->r, g));
    if (minutes > 0) {
        put_str(f, ", ");
        put_num(f, (unsigned long long)minutes, 10);
        put_str(f, " minutes");
    }
    if (g->locked)
        put_str(f, ", locked to thread");
    if (g->changed)
        put_str(f, ", changed while read");
    put_str(f, "]:\n");
    if (g->running_unavailable)
        put_str(f, "\tgoroutine running on other thread; stack unavailable\n");
    for (int i = 0; i < g->nframes; i++) {
        if (d->user && gort_is_runtime_frame(g->frames[i].function))
            continue;
        print_frame(d, &g->frames[i]);
    }
    if (g->truncated)
        put_str(f, "...additional frames elided...\n");
    if (g->created_by.function) {
        put_str(f, "created by ");
        put_str(f, g->created_by.function);
        if (g->parent_goid) {
            put_str(f, " in goroutine ");
            put_num(f, g->parent_goid, 10);
        }
        put_str(f, "\n\t");
        put_str(f, g->created_by.file);
        putc_unlocked(':', f);
        put_num(f, (unsigned long long)(g->created_by.line < 0 ? 0 : g->created_by.line), 10);
        if (g->created_by.pc > g->created_by.entry) {
            put_str(f, " +0x");
            put_num(f, g->created_by.pc - g->created_by.entry, 16);
        }
        putc_unlocked('\n', f);
    }
    return 0;
}

/* A string as JSON.  Names reach here made safe by gort (printable, valid
 * UTF-8), so only quotes, backslashes and controls need escapes. */
static void json_str(FILE *f, const char *s)
{
    putc_unlocked('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            putc_unlocked('\\', f);
            putc_unlocked(*p, f);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            putc_unlocked(*p, f);
        }
    }
    putc_unlocked('"', f);
}

/* s as JSON string content into dst: 0, or -1 when it does not fit. */
static int json_escape(char *dst, size_t size, const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (n + 7 >= size)
            return -1;
        if (*p == '"' || *p == '\\') {
            dst[n++] = '\\';
            dst[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(dst + n, size - n, "\\u%04x", *p);
        } else {
            dst[n++] = (char)*p;
        }
    }
    dst[n] = '\0';
    return 0;
}

static void json_key_str(FILE *f, const char *key, const char *v)
{
    fprintf(f, ",\"%s\":", key);
    if (v)
        json_str(f, v);
    else
        fputs("null", f);
}

/* One goroutine of goroutines.schema.json, written as it goes: building a
 * cJSON tree per goroutine made --json five times slower than text. */
static int dump_json(dump_t *d, const gort_g_t *g)
{
    FILE *f = d->out;
    int first = 1;

    fputs(d->count ? ",\n    " : "\n    ", f);
    fprintf(f, "{\"id\":%llu", (unsigned long long)g->goid);
    json_key_str(f, "status", gort_status_name(g->status));
    if (g->status == GORT_WAITING && gort_wait_reason(d->r, g->waitreason)[0])
        json_key_str(f, "wait_reason", gort_wait_reason(d->r, g->waitreason));
    fprintf(f, ",\"wait_minutes\":%lld,\"system\":%s", (long long)gort_wait_minutes(g),
            g->system ? "true" : "false");
    if (g->tid)
        fprintf(f, ",\"thread\":%d", (int)g->tid);
    else
        fputs(",\"thread\":null", f);
    fprintf(f, ",\"locked_to_thread\":%s,\"changed_while_read\":%s,\"stack_unavailable\":%s",
            g->locked ? "true" : "false", g->changed ? "true" : "false",
            g->running_unavailable ? "true" : "false");
    json_key_str(f, "start_function", g->start_function);
    if (g->created_by.function) {
        fputs(",\"created_by\":{\"function\":", f);
        json_str(f, g->created_by.function);
        json_key_str(f, "file", g->created_by.file);
        fprintf(f, ",\"line\":%d,\"goroutine\":", (int)g->created_by.line);
        if (g->parent_goid)
            fprintf(f, "%llu}", (unsigned long long)g->parent_goid);
        else
            fputs("null}", f);
    } else {
        fputs(",\"created_by\":null", f);
    }
    fputs(",\"frames\":[", f);
    for (int i = 0; i < g->nframes; i++) {
        const gort_frame_t *fr = &g->frames[i];

        if (d->user && gort_is_runtime_frame(fr->function))
            continue;
        if (!first)
            putc_unlocked(',', f);
        first = 0;
        print_frame(d, fr);
    }
    fprintf(f, "],\"frames_truncated\":%s}", g->truncated ? "true" : "false");
    return 0;
}

static int dump_cb(void *ctx, const gort_g_t *g)
{
    dump_t *d = ctx;

    if (d->user && g->system)
        return 0;
    if (d->json)
        dump_json(d, g);
    else
        dump_text(d, g);
    d->count++;
    if (ferror(d->out)) {
        d->io_error = 1;
        return 1;
    }
    return 0;
}

/* Suspended (Ctrl-Z, or a blocked pipeline's SIGTTOU) while it holds a
 * process stopped, cgops would keep it stopped for as long as it stays
 * suspended: let the process go first, then suspend as asked.  The rest
 * is read from the running process. */
static volatile sig_atomic_t released_on_suspend;

static void suspend_handler(int sig)
{
    gostop_release_all_signal_safe();
    released_on_suspend = 1;
    signal(sig, SIG_DFL);
    raise(sig); /* blocked until we return, then it suspends us */
}

static void release_on_suspend(void)
{
    static const int sigs[] = {SIGTSTP, SIGTTIN, SIGTTOU};
    struct sigaction sa, old;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = suspend_handler;
    sa.sa_flags = SA_RESTART; /* a write blocked on a full pipe goes on */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < CG_ARRAY_SIZE(sigs); i++) {
        /* An ignored signal (nohup, a job-control-less shell) stays so. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* Was a --stop snapshot let go early because cgops was suspended?  Says so
 * on stderr. */
int agentless_released_early(void)
{
    if (released_on_suspend)
        cmd_error("warning: the process was let go when cgops was suspended; what was read after "
                  "that is not a consistent snapshot");
    return released_on_suspend;
}

/* Open pid for an agentless command, saying why not on failure. */
int agentless_open(pid_t pid, unsigned flags, gort_t **r)
{
    char err[CG_ERR_LEN] = "";
    int rc;

    if (flags & GORT_STOP)
        release_on_suspend();
    rc = gort_open(pid, flags, r, err);

    if (rc != 0) {
        cmd_error("%s", err[0] ? err : strerror(-rc));
        return CG_EXIT_FAIL;
    }
    return CG_EXIT_OK;
}

/* The dump itself, shared by `goroutines` and the agentless `stack`. */
/* Copy what f holds (from its start) to stdout.  0 or -errno. */
static int copy_out(FILE *f)
{
    char buf[65536];
    size_t n;

    rewind(f);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            return -EIO;
    return ferror(f) ? -EIO : 0;
}

/* The dump itself, shared by `goroutines` and the agentless `stack`.
 * With --stop it is written to an unlinked temp file while the process is
 * stopped and copied out once it runs again: a pager or a full pipe on
 * stdout must not keep the process stopped. */
int agentless_dump(pid_t pid, int json, int stop, int user, int depth)
{
    gort_t *r;
    dump_t d = {0};
    char err[CG_ERR_LEN] = "";
    FILE *held = NULL;
    int rc;

    if (stop) {
        int fd = spool_anon_file(cg_tmp_dir());

        if (fd < 0 || (held = fdopen(fd, "w+")) == NULL) {
            if (fd >= 0)
                close(fd);
            return cmd_error("--stop: cannot make a temp file in %s for the snapshot: %s", cg_tmp_dir(),
                             strerror(fd < 0 ? -fd : errno));
        }
    }
    if (agentless_open(pid, stop ? GORT_STOP : 0, &r) != CG_EXIT_OK) {
        if (held)
            fclose(held);
        return CG_EXIT_FAIL;
    }
    d.r = r;
    d.out = held ? held : stdout;
    d.json = json;
    d.user = user;
    d.depth = depth;
    d.frames = cg_xcalloc(FRAME_TEXT_SLOTS, sizeof *d.frames); /* text or JSON, as d.json */
    if (json) {
        char *ver = cg_text_safe(gort_go_version(r));

        cJSON *s = cJSON_CreateString(ver);
        char *q = cJSON_PrintUnformatted(s);

        fprintf(d.out, "{\n  \"pid\": %d,\n  \"go_version\": %s,\n  \"stopped\": %s,\n  \"goroutines\": [",
                (int)pid, q ? q : "\"\"", stop ? "true" : "false");
        free(q);
        cJSON_Delete(s);
        free(ver);
    }
    rc = gort_walk(r, depth, dump_cb, &d, err);
    if (json) {
        fprintf(d.out, "\n  ],\n  \"count\": %zu", d.count);
        if (rc != 0) {
            cJSON *s = cJSON_CreateString(err);
            char *q = cJSON_PrintUnformatted(s);

            fprintf(d.out, ",\n  \"error\": %s", q ? q : "\"\"");
            free(q);
            cJSON_Delete(s);
        }
        fprintf(d.out, "\n}\n");
    }
    gort_close(r); /* a stopped process runs on from here */
    for (size_t i = 0; i < FRAME_TEXT_SLOTS; i++)
        free(d.frames[i].text);
    free(d.frames);
    if (stop)
        agentless_released_early();
    if (held) {
        if (fflush(held) != 0 || ferror(held)) {
            cmd_error("--stop: writing the snapshot to a temp file in %s failed", cg_tmp_dir());
            d.io_error = 1;
        } else if (copy_out(held) != 0) {
            d.io_error = 1;
        }
        fclose(held);
    }
    if (rc != 0) {
        cmd_error("%s", err);
        return CG_EXIT_FAIL;
    }
    return d.io_error ? CG_EXIT_FAIL : CG_EXIT_OK;
}

int cmd_goroutines(int argc, char **argv, const cmd_t *cmd)
{
    goroutines_opts_t o = {0};
    opt_args_t args = {0};
    pid_t pid = 0;
    int depth, rc;

    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON)
        return rc;
    rc = agentless_pid_arg(cmd, &args, &pid);
    free(args.v);
    if (rc != OPT_GO_ON || (rc = agentless_depth_arg(cmd, o.depth, &depth)) != OPT_GO_ON)
        return rc;
    return agentless_dump(pid, o.json, o.stop, o.user, depth);
}

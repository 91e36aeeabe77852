/* cmd_top.c -- `cgops top PID`: goroutines grouped, refreshed, with their CPU
 *
 * Each refresh reads the goroutines (gort_walk) and groups them; each
 * thread's CPU since the last refresh (/proc/PID/task/TID/stat) is charged
 * to the goroutine its M runs (m.procid -> m.curg), so a busy goroutine
 * shows by name without ptrace or eBPF.  A row's change in count since the
 * last refresh makes a leak visible as a growing row.
 *
 * The same rows feed three outputs: an ncurses screen on a terminal, plain
 * text with -b (like top -b), and one JSON document per refresh (--json).
 */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/gort.h"
#include "cgops/out_json.h"

#include <cjson/cJSON.h>
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TOP_DEPTH 32
#define FIRST_SAMPLE_NS 500000000ull /* CPU of the first refresh: over this */
#define NO_GOROUTINE "(threads with no goroutine: scheduler, GC, cgo)"

typedef struct {
    int json;
    int batch;
    const char *iterations;
    uint64_t delay;
    const char *by;
    const char *filter;
} top_opts_t;

const opt_t cmd_top_opts[] = {
    OPT_BOOL_('b', "batch", top_opts_t, batch, "plain text, one table per refresh, for scripts (like top -b)"),
    OPT_DURATION_('d', "delay", top_opts_t, delay, "time between refreshes (default 2s; plain seconds too)"),
    OPT_STRING_('n', "iterations", "COUNT", top_opts_t, iterations, "stop after COUNT refreshes"),
    OPT_STRING_(0, "by", "KEY", top_opts_t, by, "group by location (default), start, creator or wait"),
    OPT_STRING_(0, "filter", "TEXT", top_opts_t, filter, "show only groups whose name contains TEXT"),
    OPT_BOOL_('j', "json", top_opts_t, json,
              "one JSON document per refresh, one per line (schema: protocol/schemas/top.schema.json)"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

typedef enum { SORT_CPU, SORT_COUNT, SORT_DELTA, SORT_NAME, SORT_N } sort_t;
static const char *const sort_names[] = {"cpu", "count", "delta", "name"};

typedef struct {
    pid_t pid;
    gort_t *r;
    group_by_t by;
    sort_t sort;
    char filter[128];
    groups_t groups;
    thread_t *prev;
    size_t nprev;
    uint64_t prev_ns;
    uint64_t total, prev_total;
    int first;
    size_t nthreads;
    double cpu_total;
    /* per refresh: CPU of each thread, and the goroutine its M runs */
    struct tcpu {
        pid_t tid;
        double cpu;
        uint64_t curg;
        int charged;
    } *tc;
    size_t ntc;
} top_t;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int walk_cb(void *ctx, const gort_g_t *g)
{
    top_t *t = ctx;
    group_t *row = groups_get(&t->groups, agentless_group_key(t->r, g, t->by));

    row->count++;
    row->seen = 1;
    t->total++;
    for (size_t i = 0; g->m && i < t->ntc; i++) {
        if (t->tc[i].curg == g->addr && !t->tc[i].charged) {
            row->cpu += t->tc[i].cpu;
            t->tc[i].charged = 1;
        }
    }
    return 0;
}

/* One refresh: thread CPU since the last one, then the goroutines. */
static int top_refresh(top_t *t, char *err)
{
    thread_t *th = NULL;
    size_t nth = 0;
    uint64_t now = now_ns();
    double secs = t->prev_ns ? (double)(now - t->prev_ns) / 1e9 : 0;
    long hz = sysconf(_SC_CLK_TCK);
    const gort_m_t *ms;
    size_t nms = 0;
    int rc;

    if ((rc = agentless_threads(t->pid, &th, &nth)) != 0 || nth == 0) {
        free(th);
        cg_seterr(err, "process %d exited", (int)t->pid);
        return rc ? rc : -ESRCH;
    }
    if (gort_ms(t->r, &ms, &nms, NULL) != 0)
        nms = 0;
    free(t->tc);
    t->tc = cg_xcalloc(nth, sizeof *t->tc);
    t->ntc = nth;
    t->cpu_total = 0;
    for (size_t i = 0; i < nth; i++) {
        unsigned long long before = th[i].ticks;

        for (size_t k = 0; k < t->nprev; k++)
            if (t->prev[k].tid == th[i].tid)
                before = t->prev[k].ticks;
        t->tc[i].tid = th[i].tid;
        t->tc[i].cpu = secs > 0 && hz > 0 ? 100.0 * (double)(th[i].ticks - before) / (double)hz / secs : 0;
        t->cpu_total += t->tc[i].cpu;
        for (size_t k = 0; k < nms; k++)
            if (ms[k].tid == th[i].tid)
                t->tc[i].curg = ms[k].curg;
    }
    free(t->prev);
    t->prev = th;
    t->nprev = nth;
    t->prev_ns = now;
    t->nthreads = nth;
    for (size_t i = 0; i < t->groups.n; i++) {
        t->groups.v[i].prev = t->first ? 0 : t->groups.v[i].count;
        t->groups.v[i].count = 0;
        t->groups.v[i].cpu = 0;
        t->groups.v[i].seen = 0;
    }
    t->prev_total = t->total;
    t->total = 0;
    rc = gort_walk(t->r, t->by == GROUP_LOCATION ? TOP_DEPTH : 0, walk_cb, t, err);
    if (rc != 0)
        return rc;
    {
        double rest = 0;

        for (size_t i = 0; i < t->ntc; i++)
            if (!t->tc[i].charged)
                rest += t->tc[i].cpu;
        if (rest >= 0.05) {
            group_t *row = groups_get(&t->groups, NO_GOROUTINE);

            row->cpu = rest;
            row->seen = 1;
        }
    }
    if (t->first) {
        for (size_t i = 0; i < t->groups.n; i++)
            t->groups.v[i].prev = t->groups.v[i].count;
        t->prev_total = t->total;
    }
    return 0;
}

static sort_t sort_mode;

static int row_cmp(const void *a, const void *b)
{
    const group_t *x = a, *y = b;
    long long dx = (long long)x->count - (long long)x->prev, dy = (long long)y->count - (long long)y->prev;

    switch (sort_mode) {
    case SORT_CPU:
        if (x->cpu != y->cpu)
            return x->cpu < y->cpu ? 1 : -1;
        break;
    case SORT_DELTA:
        if (dx != dy)
            return dx < dy ? 1 : -1;
        break;
    case SORT_NAME:
        return strcmp(x->key, y->key);
    default:
        break;
    }
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* The rows to show, sorted: present now or gone since the last refresh,
 * and matching the filter.  Returns a new array of n rows (free it). */
static group_t *rows(top_t *t, size_t *n)
{
    group_t *v = cg_xcalloc(t->groups.n ? t->groups.n : 1, sizeof *v);

    *n = 0;
    for (size_t i = 0; i < t->groups.n; i++) {
        const group_t *g = &t->groups.v[i];

        if (!g->seen && g->prev == 0)
            continue;
        if (t->filter[0] && strstr(g->key, t->filter) == NULL)
            continue;
        v[(*n)++] = *g;
    }
    sort_mode = t->sort;
    qsort(v, *n, sizeof *v, row_cmp);
    return v;
}

static void header_text(top_t *t, char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    char clock[16];
    long long d = (long long)t->total - (long long)t->prev_total;

    localtime_r(&now, &tm);
    strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    snprintf(buf, size, "cgops top - %s  pid %d  %s  goroutines %llu (%+lld)  threads %zu  cpu %.1f%%",
             clock, (int)t->pid, gort_go_version(t->r), (unsigned long long)t->total, d, t->nthreads,
             t->cpu_total);
}

static void column_text(top_t *t, char *buf, size_t size)
{
    static const char *const heads[] = {"LOCATION", "START FUNCTION", "CREATED BY", "STATE"};

    snprintf(buf, size, "%8s %7s %6s  %s", "COUNT", "DELTA", "CPU%", heads[t->by]);
}

static void row_text(const group_t *g, char *buf, size_t size)
{
    char *safe = cg_text_safe(g->key);

    snprintf(buf, size, "%8llu %+7lld %6.1f  %s", (unsigned long long)g->count,
             (long long)g->count - (long long)g->prev, g->cpu, safe);
    free(safe);
}

static int print_batch(top_t *t, int json, int first_out)
{
    size_t n;
    group_t *v = rows(t, &n);
    char line[1024];

    if (json) {
        cJSON *o = cJSON_CreateObject(), *a;
        char *s;

        cJSON_AddNumberToObject(o, "time", (double)time(NULL));
        cJSON_AddNumberToObject(o, "pid", t->pid);
        cJSON_AddNumberToObject(o, "goroutines", (double)t->total);
        cJSON_AddNumberToObject(o, "delta", (double)((long long)t->total - (long long)t->prev_total));
        cJSON_AddNumberToObject(o, "threads", (double)t->nthreads);
        cJSON_AddNumberToObject(o, "cpu_percent", t->cpu_total);
        cJSON_AddStringToObject(o, "grouped_by", agentless_group_name(t->by));
        a = cJSON_AddArrayToObject(o, "groups");
        for (size_t i = 0; i < n; i++) {
            cJSON *g = cJSON_CreateObject();

            cJSON_AddStringToObject(g, "key", v[i].key);
            cJSON_AddNumberToObject(g, "count", (double)v[i].count);
            cJSON_AddNumberToObject(g, "delta", (double)((long long)v[i].count - (long long)v[i].prev));
            cJSON_AddNumberToObject(g, "cpu_percent", v[i].cpu);
            cJSON_AddItemToArray(a, g);
        }
        s = out_json_print(o, 0);
        if (s)
            printf("%s\n", s);
        free(s);
        cJSON_Delete(o);
    } else {
        if (!first_out)
            putchar('\n');
        header_text(t, line, sizeof line);
        puts(line);
        column_text(t, line, sizeof line);
        puts(line);
        for (size_t i = 0; i < n; i++) {
            row_text(&v[i], line, sizeof line);
            puts(line);
        }
    }
    free(v);
    fflush(stdout);
    return ferror(stdout) ? -EIO : 0;
}

static volatile sig_atomic_t top_quit;

static void on_signal(int sig)
{
    (void)sig;
    top_quit = 1;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};

    while (!top_quit && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void draw(top_t *t, int paused, const char *msg)
{
    size_t n;
    group_t *v = rows(t, &n);
    char line[1024];
    int h, w;

    getmaxyx(stdscr, h, w);
    erase();
    header_text(t, line, sizeof line);
    mvaddnstr(0, 0, line, w);
    snprintf(line, sizeof line, "by %s, sorted by %s%s%s%s   q quit  s sort  g group  p pause  / filter",
             agentless_group_name(t->by), sort_names[t->sort], paused ? "  [paused]" : "",
             t->filter[0] ? "  filter: " : "", t->filter);
    mvaddnstr(1, 0, line, w);
    column_text(t, line, sizeof line);
    attron(A_REVERSE);
    mvaddnstr(3, 0, line, w);
    for (int x = (int)strlen(line); x < w; x++)
        addch(' ');
    attroff(A_REVERSE);
    for (size_t i = 0; i < n && (int)i + 4 < h - 1; i++) {
        row_text(&v[i], line, sizeof line);
        mvaddnstr((int)i + 4, 0, line, w);
    }
    if (msg)
        mvaddnstr(h - 1, 0, msg, w);
    refresh();
    free(v);
}

static int interactive(top_t *t, uint64_t delay, long long iterations, char *err)
{
    int paused = 0, rc = 0;
    long long done = 1;

    if (initscr() == NULL) {
        cg_seterr(err, "cannot start the terminal screen (TERM=%s): use -b", getenv("TERM") ? getenv("TERM") : "");
        return -ENOTTY;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    draw(t, paused, NULL);
    while (!top_quit && (iterations == 0 || done < iterations)) {
        uint64_t until = now_ns() + delay;
        int refresh_now = 0;

        while (!top_quit && !refresh_now) {
            uint64_t now = now_ns();
            int ch;

            if (now >= until && !paused)
                break;
            timeout(paused ? 500 : (int)((until - now) / 1000000ull) + 1);
            ch = getch();
            if (ch == 'q' || ch == 'Q') {
                top_quit = 1;
            } else if (ch == 's') {
                t->sort = (sort_t)((t->sort + 1) % SORT_N);
                draw(t, paused, NULL);
            } else if (ch == 'g') {
                t->by = (group_by_t)((t->by + 1) % 4);
                groups_free(&t->groups);
                t->first = 1;
                refresh_now = 1;
            } else if (ch == 'p') {
                paused = !paused;
                draw(t, paused, NULL);
            } else if (ch == '/') {
                char buf[sizeof t->filter] = "";
                int h = getmaxy(stdscr);

                mvaddstr(h - 1, 0, "filter: ");
                clrtoeol();
                echo();
                curs_set(1);
                timeout(-1);
                getnstr(buf, (int)sizeof buf - 1);
                noecho();
                curs_set(0);
                cg_strlcpy(t->filter, buf, sizeof t->filter);
                draw(t, paused, NULL);
            } else if (ch == KEY_RESIZE) {
                draw(t, paused, NULL);
            }
        }
        if (top_quit)
            break;
        if ((rc = top_refresh(t, err)) != 0)
            break;
        t->first = 0;
        done++;
        draw(t, paused, NULL);
    }
    endwin();
    return rc;
}

int cmd_top(int argc, char **argv, const cmd_t *cmd)
{
    top_opts_t o = {0};
    opt_args_t args = {0};
    top_t t;
    long long iterations = 0;
    char err[CG_ERR_LEN] = "";
    struct sigaction sa;
    int rc;

    memset(&t, 0, sizeof t);
    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON)
        return rc;
    rc = agentless_pid_arg(cmd, &args, &t.pid);
    free(args.v);
    if (rc != OPT_GO_ON)
        return rc;
    if (o.by && agentless_group_parse(o.by, &t.by) != 0)
        return cmd_usage_error(cmd, "--by: '%s' is not one of location, start, creator, wait", o.by);
    if (o.iterations && cg_parse_ll(o.iterations, 1, 1000000000, &iterations) != 0)
        return cmd_usage_error(cmd, "-n: '%s' is not a positive count", o.iterations);
    if (o.delay == 0)
        o.delay = 2000000000ull;
    if (o.filter)
        cg_strlcpy(t.filter, o.filter, sizeof t.filter);
    /* Without a terminal there is no screen to draw: batch mode. */
    if (!o.json && !o.batch && (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)))
        o.batch = 1;
    if (agentless_open(t.pid, 0, &t.r) != CG_EXIT_OK)
        return CG_EXIT_FAIL;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    t.first = 1;
    /* The first refresh's CPU needs a start: a short sample before it. */
    rc = top_refresh(&t, err);
    if (rc == 0) {
        sleep_ns(o.delay < FIRST_SAMPLE_NS ? o.delay : FIRST_SAMPLE_NS);
        rc = top_refresh(&t, err);
    }
    t.first = 0;
    if (rc == 0 && (o.batch || o.json)) {
        for (long long i = 0; !top_quit && rc == 0; i++) {
            if ((rc = print_batch(&t, o.json, i == 0)) != 0) {
                cg_seterr(err, "write error on standard output");
                break;
            }
            if (iterations && i + 1 >= iterations)
                break;
            sleep_ns(o.delay);
            if (!top_quit)
                rc = top_refresh(&t, err);
        }
    } else if (rc == 0) {
        rc = interactive(&t, o.delay, iterations, err);
    }
    groups_free(&t.groups);
    free(t.prev);
    free(t.tc);
    gort_close(t.r);
    if (rc != 0) {
        cmd_error("%s", err[0] ? err : strerror(-rc));
        return CG_EXIT_FAIL;
    }
    return CG_EXIT_OK;
}

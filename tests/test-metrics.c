/* test-metrics.c -- the exposition renderer fed structs, and the state file */
#include "test.h"

#include "cgops/common.h"
#include "cgops/metrics.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *render(const metrics_run_t *run, int om)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ASSERT(f != NULL);
    ASSERT_EQ(metrics_render(f, run, om), 0);
    ASSERT_EQ(fclose(f), 0);
    return text;
}

static metrics_proc_t proc(pid_t pid, const char *name)
{
    metrics_proc_t p;

    memset(&p, 0, sizeof p);
    p.pid = pid;
    p.name = name;
    p.exe = "/usr/bin/x";
    p.go_version = "go1.19.8";
    return p;
}

static metrics_val_t ival(uint64_t u)
{
    return (metrics_val_t){1, 1, u, 0};
}

static metrics_val_t fval(double f)
{
    return (metrics_val_t){1, 0, 0, f};
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The grammar both formats share, checked line by line: every sample
 * belongs to the family of the last TYPE line (its name, or the name plus
 * _total for an OpenMetrics counter), no family is declared twice, HELP
 * comes just before TYPE of the same name, and every line ends. */
static void check_grouped(const char *text, int om)
{
    char fams[64][128], cur[128] = "", curtype[32] = "";
    size_t nf = 0;
    const char *p = text;

    ASSERT(text[0] != '\0' && text[strlen(text) - 1] == '\n');
    while (*p) {
        const char *nl = strchr(p, '\n');
        char line[2048];
        size_t len = (size_t)(nl - p);

        ASSERT(nl != NULL && len < sizeof line);
        memcpy(line, p, len);
        line[len] = '\0';
        p = nl + 1;
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[128];

            ASSERT_EQ(sscanf(line + 7, "%127s", name), 1);
            ASSERT(strncmp(p, "# TYPE ", 7) == 0 && strncmp(p + 7, name, strlen(name)) == 0 &&
                   p[7 + strlen(name)] == ' ');
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            ASSERT_EQ(sscanf(line + 7, "%127s %31s", cur, curtype), 2);
            for (size_t i = 0; i < nf; i++)
                if (strcmp(fams[i], cur) == 0)
                    TEST_FAIL("family %s declared twice", cur);
            ASSERT(nf < 64);
            strcpy(fams[nf++], cur);
        } else if (strcmp(line, "# EOF") == 0) {
            ASSERT(om);
            ASSERT(*p == '\0');
        } else {
            size_t n = strcspn(line, "{ ");
            char name[128];

            ASSERT(n < sizeof name);
            memcpy(name, line, n);
            name[n] = '\0';
            if (om && strcmp(curtype, "counter") == 0) {
                ASSERT(strlen(name) == strlen(cur) + 6 && strncmp(name, cur, strlen(cur)) == 0 &&
                       strcmp(name + strlen(cur), "_total") == 0);
            } else if (strcmp(name, cur) != 0) {
                TEST_FAIL("sample %s under family %s", name, cur);
            }
        }
    }
    if (om)
        ASSERT(strlen(text) >= 6 && strcmp(text + strlen(text) - 6, "# EOF\n") == 0);
}

TEST(metrics_label_escapes)
{
    metrics_proc_t p[2];
    metrics_run_t run = {.procs = p, .n = 2};
    char *text;

    p[0] = proc(7, "a\"b\\c\nd");
    p[0].exe = "/tmp/\xff\x1b[31mx\xc3\xa9";
    p[0].go_version = NULL;
    p[0].goroutines = ival(3);
    p[1] = proc(8, "plain");
    p[1].goroutines = ival(4);
    text = render(&run, 0);
    /* The three escapes of the format. */
    ASSERT_CONTAINS(text, "go_goroutines{pid=\"7\",name=\"a\\\"b\\\\c\\nd\",");
    /* Not UTF-8: U+FFFD; an escape character: '?'; UTF-8 kept. */
    ASSERT_CONTAINS(text, "exe=\"/tmp/\xef\xbf\xbd?[31mx\xc3\xa9\"");
    ASSERT_CONTAINS(text, "go_version=\"unknown\"} 3\n");
    ASSERT_CONTAINS(text, "go_goroutines{pid=\"8\",name=\"plain\",exe=\"/usr/bin/x\",go_version=\"go1.19.8\"} 4\n");
    ASSERT(strchr(text, '\x1b') == NULL);
    check_grouped(text, 0);
    free(text);
}

TEST(metrics_families_once_and_grouped)
{
    metrics_proc_t p[3];
    metrics_run_t run = {.procs = p, .n = 3};
    char *text;

    for (int i = 0; i < 3; i++) {
        p[i] = proc(100 + i, "x");
        p[i].goroutines = ival(1);
        p[i].threads = ival(2);
        p[i].cpu_seconds = fval(0.5);
        p[i].rss_bytes = ival(4096);
        for (int m = 0; m < METRICS_MS_N; m++)
            p[i].ms[m] = ival(5);
    }
    for (int om = 0; om < 2; om++) {
        text = render(&run, om);
        check_grouped(text, om);
        ASSERT_EQ(count(text, "# TYPE go_goroutines gauge\n"), 1);
        ASSERT_EQ(count(text, "# HELP go_goroutines Number of goroutines that currently exist.\n"), 1);
        ASSERT_EQ(count(text, "go_goroutines{"), 3);
        ASSERT_EQ(count(text, "go_memstats_heap_alloc_bytes{"), 3);
        ASSERT_CONTAINS(text, "cgops_processes 3\n");
        free(text);
    }
}

TEST(metrics_openmetrics_counter_names)
{
    metrics_proc_t p = proc(1, "x");
    metrics_run_t run = {.procs = &p, .n = 1};
    char *text;

    for (int m = 0; m < METRICS_MS_N; m++)
        p.ms[m] = ival(9);
    p.cpu_seconds = fval(1.25);
    run.errors[METRICS_ERR_TIMEOUT] = 2;

    text = render(&run, 0);
    ASSERT_CONTAINS(text, "# TYPE go_memstats_mallocs_total counter\n");
    ASSERT_CONTAINS(text, "# TYPE go_memstats_alloc_bytes_total counter\n");
    ASSERT_CONTAINS(text, "# TYPE cgops_scrape_errors_total counter\n");
    ASSERT(strstr(text, "# EOF") == NULL);
    free(text);

    text = render(&run, 1);
    /* OpenMetrics: the family without _total, its samples with it. */
    ASSERT_CONTAINS(text, "# HELP go_memstats_mallocs Total number of mallocs.\n# TYPE go_memstats_mallocs counter\n"
                          "go_memstats_mallocs_total{");
    ASSERT_CONTAINS(text, "# TYPE process_cpu_seconds counter\nprocess_cpu_seconds_total{");
    ASSERT_CONTAINS(text, "} 1.25\n");
    ASSERT_CONTAINS(text, "# TYPE cgops_scrape_errors counter\ncgops_scrape_errors_total{reason=\"timeout\"} 2\n");
    /* The one counter whose family would clash with a gauge. */
    ASSERT_CONTAINS(text, "# TYPE go_memstats_alloc_bytes gauge\n");
    ASSERT_CONTAINS(text, "# TYPE go_memstats_alloc_bytes_total unknown\ngo_memstats_alloc_bytes_total{");
    ASSERT(strcmp(text + strlen(text) - 6, "# EOF\n") == 0);
    check_grouped(text, 1);
    free(text);
}

TEST(metrics_absent_is_not_zero)
{
    metrics_proc_t p[2];
    metrics_run_t run = {.procs = p, .n = 2};
    char *text;

    p[0] = proc(11, "kept");
    p[0].goroutines = ival(0);
    p[1] = proc(12, "gone");
    p[1].dropped = 1;
    p[1].goroutines = ival(5);
    p[1].ms[METRICS_MS_SYS] = ival(5);
    text = render(&run, 0);
    /* A zero that was read is written; what was not read is not. */
    ASSERT_CONTAINS(text, "go_goroutines{pid=\"11\",name=\"kept\",exe=\"/usr/bin/x\",go_version=\"go1.19.8\"} 0\n");
    ASSERT(strstr(text, "go_memstats") == NULL);
    ASSERT(strstr(text, "go_threads") == NULL);
    ASSERT(strstr(text, "pid=\"12\"") == NULL);
    /* agent_up is always known for a process that has series. */
    ASSERT_CONTAINS(text, "cgops_agent_up{pid=\"11\",name=\"kept\",exe=\"/usr/bin/x\",go_version=\"go1.19.8\"} 0\n");
    /* Found, even if dropped. */
    ASSERT_CONTAINS(text, "cgops_processes 2\n");
    check_grouped(text, 0);
    free(text);
}

TEST(metrics_values)
{
    metrics_proc_t p = proc(1, "x");
    metrics_run_t run = {.procs = &p, .n = 1};
    char *text;

    p.ms[METRICS_MS_TOTAL_ALLOC] = ival(UINT64_MAX);
    p.ms[METRICS_MS_PAUSE_TOTAL] = fval(38837 / 1e9);
    p.ms[METRICS_MS_LAST_GC] = fval((double)1795563619163395994ull / 1e9);
    p.start_time = fval(0.1);
    run.duration_s = 0.25;
    run.timestamp_s = 1795804756.5;
    text = render(&run, 0);
    /* Expected digits: Python's repr, the shortest that reads back. */
    ASSERT_CONTAINS(text, "} 18446744073709551615\n");
    ASSERT_CONTAINS(text, "} 3.8837e-05\n");
    ASSERT_CONTAINS(text, "} 1795563619.1633961\n");
    ASSERT_CONTAINS(text, "process_start_time_seconds{pid=\"1\",name=\"x\",exe=\"/usr/bin/x\",go_version=\"go1.19.8\"} 0.1\n");
    ASSERT_CONTAINS(text, "cgops_refresh_duration_seconds 0.25\n");
    ASSERT_CONTAINS(text, "cgops_refresh_timestamp_seconds 1795804756.5\n");
    for (int r = 0; r < METRICS_ERR_N; r++) {
        char want[128];

        snprintf(want, sizeof want, "cgops_scrape_errors_total{reason=\"%s\"} 0\n", metrics_err_name(r));
        ASSERT_CONTAINS(text, want);
    }
    free(text);
}

TEST(metrics_states)
{
    metrics_proc_t p = proc(1, "x");
    metrics_run_t run = {.procs = &p, .n = 1};
    char *text;

    p.have_states = 1;
    p.by_status[GORT_WAITING] = 3;
    p.by_status[GORT_PREEMPTED] = 2;
    text = render(&run, 0);
    ASSERT_CONTAINS(text, ",state=\"waiting\"} 3\n");
    ASSERT_CONTAINS(text, ",state=\"preempted\"} 2\n");
    /* The usual states even at zero, the rare ones only when present. */
    ASSERT_CONTAINS(text, ",state=\"running\"} 0\n");
    ASSERT_CONTAINS(text, ",state=\"runnable\"} 0\n");
    ASSERT_CONTAINS(text, ",state=\"syscall\"} 0\n");
    ASSERT(strstr(text, "copystack") == NULL);
    ASSERT_EQ(count(text, "cgops_goroutines{"), 5);
    check_grouped(text, 0);
    free(text);
}

TEST(metrics_state_parse)
{
    uint64_t e[METRICS_ERR_N];
    char err[CG_ERR_LEN];
    const char *good = "cgops-metrics-state 1\ntimeout 3\nread 18446744073709551615\n";
    const char *bad[] = {
        "",
        "cgops-metrics-state 2\n",
        "cgops-metrics-state 1",
        "cgops-metrics-state 1\ntimeout 3",
        "cgops-metrics-state 1\ntimeout 18446744073709551616\n",
        "cgops-metrics-state 1\ntimeout -1\n",
        "cgops-metrics-state 1\ntimeout \n",
        "cgops-metrics-state 1\ntimeout 1\ntimeout 2\n",
        "cgops-metrics-state 1\nnosuch 1\n",
        "cgops-metrics-state 1\ntimeout  1\n",
        "cgops-metrics-state 1\n\n",
    };
    char *text;

    ASSERT_EQ(metrics_state_parse(good, strlen(good), e, err), 0);
    ASSERT_EQ(e[METRICS_ERR_TIMEOUT], 3);
    ASSERT(e[METRICS_ERR_READ] == UINT64_MAX);
    ASSERT_EQ(e[METRICS_ERR_AGENT], 0);
    for (size_t i = 0; i < CG_ARRAY_SIZE(bad); i++) {
        e[0] = 42;
        if (metrics_state_parse(bad[i], strlen(bad[i]), e, err) != -EINVAL)
            TEST_FAIL("accepted: \"%s\"", bad[i]);
        ASSERT_EQ(e[0], 0);
    }
    /* What format writes, parse reads back. */
    for (int r = 0; r < METRICS_ERR_N; r++)
        e[r] = (uint64_t)r * 1000 + 7;
    text = metrics_state_format(e);
    {
        uint64_t back[METRICS_ERR_N];

        ASSERT_EQ(metrics_state_parse(text, strlen(text), back, err), 0);
        ASSERT(memcmp(back, e, sizeof e) == 0);
    }
    free(text);
}

TEST(metrics_state_file)
{
    char path[512], err[CG_ERR_LEN];
    uint64_t e[METRICS_ERR_N] = {0}, back[METRICS_ERR_N];
    FILE *f;

    snprintf(path, sizeof path, "%s/metrics-state.%d", test_tmpdir(), (int)getpid());
    unlink(path);
    back[0] = 9;
    ASSERT_EQ(metrics_state_load(path, back, err), 0);
    ASSERT_EQ(back[0], 0);
    e[METRICS_ERR_VANISHED] = 12;
    ASSERT_EQ(metrics_state_save(path, e, err), 0);
    ASSERT_EQ(metrics_state_load(path, back, err), 0);
    ASSERT(memcmp(back, e, sizeof e) == 0);
    f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("not a state file\n", f);
    fclose(f);
    ASSERT_EQ(metrics_state_load(path, back, err), -EINVAL);
    ASSERT_CONTAINS(err, path);
    unlink(path);
}

/* test-fanout.c -- tests for fanout.c and spool.c: target order, spools,
 * caps, waves within the descriptor budget, one output error */
#include "test.h"
#include "cgops/fanout.h"
#include "cgops/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

static char *read_all(FILE *f)
{
    long n;
    char *s;

    fflush(f);
    n = ftell(f);
    s = calloc(1, (size_t)n + 1);
    rewind(f);
    ASSERT_EQ(fread(s, 1, (size_t)n, f), n);
    return s;
}

/* Items started so far, by the fake start function; none really runs. */
static size_t started[64];
static size_t nstarted;
static fanout_t *cur;

static int start_ok(void *item, size_t idx)
{
    (void)item;
    started[nstarted++] = idx;
    return 0;
}

static fanout_t *make(FILE *out, FILE *err, size_t max_files, uint64_t spool_max, uint64_t total_max)
{
    fanout_config_t c = {out, err, max_files, spool_max, total_max, test_tmpdir(), start_ok, NULL};
    nstarted = 0;
    return fanout_new(&c);
}

TEST(fanout_output_keeps_target_order)
{
    FILE *out = tmpfile(), *err = tmpfile();
    fanout_t *f = make(out, err, 16, 1 << 20, 1 << 20);
    char *o, *e;

    for (int i = 0; i < 3; i++)
        fanout_add(f, NULL);
    fanout_pump(f);
    ASSERT_EQ(nstarted, 3);
    /* The last answers first, then the second fails, then the first. */
    ASSERT_EQ(fanout_write(f, 2, "C", 1, 0), 0);
    fanout_finish(f, 2, NULL, "warn C");
    ASSERT_EQ(fanout_write(f, 1, "B", 1, 0), 0);
    fanout_finish(f, 1, "err B", NULL);
    ASSERT(!fanout_all_written(f));
    ASSERT_EQ(fanout_write(f, 0, "A", 1, 0), 0);
    fanout_finish(f, 0, NULL, NULL);
    ASSERT(fanout_all_written(f));
    o = read_all(out);
    e = read_all(err);
    ASSERT_STR_EQ(o, "ABC");
    ASSERT_STR_EQ(e, "cgops: err B\ncgops: warn C\n");
    ASSERT_EQ(fanout_failed(f), 1);
    free(o);
    free(e);
    fanout_free(f);
    fclose(out);
    fclose(err);
}

TEST(fanout_spills_past_memory_and_comes_back_whole)
{
    FILE *out = tmpfile(), *err = tmpfile();
    fanout_t *f = make(out, err, 16, 1 << 24, 1 << 24);
    size_t big = SPOOL_MEM_MAX * 3 + 17;
    char *buf = malloc(big), *o;

    for (size_t i = 0; i < big; i++)
        buf[i] = (char)('a' + i % 26);
    fanout_add(f, NULL);
    fanout_add(f, NULL);
    fanout_pump(f);
    /* Written in pieces that cross the in-memory limit. */
    ASSERT_EQ(fanout_write(f, 1, buf, 1000, 0), 0);
    ASSERT_EQ(fanout_write(f, 1, buf + 1000, big - 1000, 0), 0);
    fanout_finish(f, 1, NULL, NULL);
    fanout_write(f, 0, "head:", 5, 0);
    fanout_finish(f, 0, NULL, NULL);
    o = read_all(out);
    ASSERT_EQ(strlen(o), big + 5);
    ASSERT(memcmp(o, "head:", 5) == 0 && memcmp(o + 5, buf, big) == 0);
    free(o);
    free(buf);
    fanout_free(f);
    fclose(out);
    fclose(err);
}

TEST(fanout_caps_what_a_waiting_item_holds)
{
    FILE *out = tmpfile(), *err = tmpfile();
    fanout_t *f = make(out, err, 16, 100, 150);
    char buf[200] = {0};
    char *o;

    for (int i = 0; i < 3; i++)
        fanout_add(f, NULL);
    fanout_pump(f);
    ASSERT_EQ(fanout_write(f, 1, buf, 101, 0), -EFBIG);  /* one item's cap */
    ASSERT_EQ(fanout_write(f, 1, "x", 1, 0), 0);
    ASSERT_EQ(fanout_write(f, 1, buf, 99, 0), 0);
    ASSERT_EQ(fanout_write(f, 1, "y", 1, 0), -EFBIG);
    ASSERT_EQ(fanout_write(f, 1, "}", 1, 1), 0);          /* frames pass */
    ASSERT_EQ(fanout_write(f, 2, buf, 60, 0), -EFBIG);   /* all items' cap */
    ASSERT_EQ(fanout_write(f, 2, buf, 49, 0), 0);
    /* The current item is not held back: no cap applies. */
    ASSERT_EQ(fanout_write(f, 0, "0123456789", 10, 0), 0);
    fanout_finish(f, 0, NULL, NULL);
    fanout_finish(f, 1, NULL, NULL);
    fanout_finish(f, 2, NULL, NULL);
    o = read_all(out);
    ASSERT_EQ(strlen(o), 10 + 1); /* the zero bytes end the string */
    free(o);
    fanout_free(f);
    fclose(out);
    fclose(err);
}

TEST(fanout_starts_in_waves_within_the_budget)
{
    /* 4 descriptors: 2 items at once, each may spill (socket + spool). */
    FILE *out = tmpfile(), *err = tmpfile();
    fanout_t *f = make(out, err, 4, 1 << 20, 1 << 20);

    for (int i = 0; i < 5; i++)
        fanout_add(f, NULL);
    fanout_pump(f);
    ASSERT_EQ(nstarted, 2);
    fanout_finish(f, 1, NULL, NULL);
    ASSERT_EQ(nstarted, 3);
    ASSERT_EQ(started[2], 2);
    fanout_finish(f, 0, NULL, NULL);
    fanout_finish(f, 2, NULL, NULL);
    ASSERT_EQ(nstarted, 5);
    fanout_finish(f, 3, NULL, NULL);
    fanout_finish(f, 4, NULL, NULL);
    ASSERT(fanout_all_written(f));
    fanout_free(f);
    fclose(out);
    fclose(err);
}

static int start_fail(void *item, size_t idx)
{
    (void)item;
    nstarted++;
    fanout_finish(cur, idx, "cannot start", NULL);
    return -ECONNREFUSED;
}

TEST(fanout_many_failing_items_keep_the_stack_flat)
{
    /* 200,000 items that fail as they start: a recursive pump would
     * overflow the stack long before. */
    FILE *out = tmpfile(), *err = fopen("/dev/null", "w");
    fanout_config_t c = {out, err, 4, 1 << 20, 1 << 20, "/tmp", start_fail, NULL};
    size_t n = 200000;

    cur = fanout_new(&c);
    nstarted = 0;
    for (size_t i = 0; i < n; i++)
        fanout_add(cur, NULL);
    fanout_pump(cur);
    ASSERT_EQ(nstarted, n);
    ASSERT_EQ(fanout_failed(cur), n);
    ASSERT(fanout_all_written(cur));
    fanout_free(cur);
    fclose(out);
    fclose(err);
}

TEST(fanout_an_output_error_is_kept_and_stops_new_work)
{
    int p[2];
    FILE *out, *err = tmpfile();
    fanout_t *f;
    char *e;

    signal(SIGPIPE, SIG_IGN); /* as main does */
    ASSERT_EQ(pipe(p), 0);
    close(p[0]); /* the reader went away */
    out = fdopen(p[1], "w");
    setvbuf(out, NULL, _IONBF, 0);
    f = make(out, err, 1, 1 << 20, 1 << 20);
    for (int i = 0; i < 3; i++)
        fanout_add(f, NULL);
    fanout_pump(f);
    ASSERT_EQ(nstarted, 1);
    ASSERT_EQ(fanout_write(f, 0, "x", 1, 0), -EPIPE);
    ASSERT_EQ(fanout_write(f, 1, "y", 1, 0), -EPIPE);
    fanout_finish(f, 0, "", NULL);
    ASSERT_EQ(nstarted, 1); /* the rest is never started */
    ASSERT(fanout_all_written(f));
    ASSERT_EQ(fanout_out_error(f), -EPIPE);
    e = read_all(err);
    ASSERT_STR_EQ(e, ""); /* nothing said per item */
    free(e);
    fanout_free(f);
    fclose(out);
    fclose(err);
}

TEST(spool_reports_a_spill_failure_and_keeps_what_it_held)
{
    spool_t s;
    FILE *out = tmpfile();
    char *buf = calloc(1, SPOOL_MEM_MAX), *o;

    spool_init(&s, UINT64_MAX, "/nonexistent/dir");
    ASSERT_EQ(spool_write(&s, "abc", 3), 0);
    ASSERT_EQ(spool_write(&s, buf, SPOOL_MEM_MAX), -ENOENT);
    ASSERT_EQ(s.size, 3);
    ASSERT_EQ(spool_drain(&s, out), 0);
    o = read_all(out);
    ASSERT_STR_EQ(o, "abc");
    free(o);
    free(buf);
    spool_free(&s);
    fclose(out);
}

TEST(spool_drain_reports_a_write_error)
{
    spool_t s;
    FILE *full = fopen("/dev/full", "w");

    ASSERT(full != NULL);
    setvbuf(full, NULL, _IONBF, 0);
    spool_init(&s, UINT64_MAX, "/tmp");
    ASSERT_EQ(spool_write(&s, "abc", 3), 0);
    ASSERT_EQ(spool_drain(&s, full), -ENOSPC);
    ASSERT_EQ(s.size, 0);
    fclose(full);
}

TEST(fanout_a_frame_comes_out_when_the_spool_cannot_take_it)
{
    /* No place to spill: the item's reply is cut at what memory holds,
     * but its closing frame still follows it, so the document ends. */
    FILE *out = tmpfile(), *err = tmpfile();
    fanout_config_t c = {out, err, 16, 1 << 24, 1 << 24, "/nonexistent", start_ok, NULL};
    fanout_t *f = fanout_new(&c);
    char *big = malloc(SPOOL_MEM_MAX), *o;

    memset(big, 'x', SPOOL_MEM_MAX);
    fanout_add(f, NULL);
    fanout_add(f, NULL);
    fanout_pump(f);
    ASSERT_EQ(fanout_write(f, 1, "[", 1, 1), 0);
    ASSERT_EQ(fanout_write(f, 1, big, SPOOL_MEM_MAX - 1, 0), 0); /* memory is full */
    ASSERT_EQ(fanout_write(f, 1, big, 10, 0), -ENOENT);           /* would spill */
    ASSERT_EQ(fanout_write(f, 1, "]", 1, 1), 0);                  /* so must this */
    fanout_finish(f, 1, "cannot spool", NULL);
    fanout_finish(f, 0, NULL, NULL);
    o = read_all(out);
    ASSERT_EQ(strlen(o), SPOOL_MEM_MAX + 1);
    ASSERT(o[0] == '[' && o[SPOOL_MEM_MAX] == ']');
    free(o);
    free(big);
    fanout_free(f);
    fclose(out);
    fclose(err);
}

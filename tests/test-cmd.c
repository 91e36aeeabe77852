/* test-cmd.c -- the command layer without main: the option tables, one
 * duration rule, the dispatcher, the request deadlines, text made safe */
#include "test.h"
#include "cgops/cmd.h"
#include "cgops/out_list.h"
#include "cgops/proto.h"
#include "cgops/request.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct {
    int flag;
    const char *file;
    uint64_t dur;
} opts_t;

static const opt_t table[] = {
    OPT_BOOL_('v', "verbose", opts_t, flag, "a flag"),
    OPT_STRING_('o', "output", "FILE", opts_t, file, "a file"),
    OPT_DURATION_(0, "timeout", opts_t, dur, "a duration"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};
static const cmd_t fake = {"fake", NULL, 0, "ARGS", "a fake command", table};

/* Run opt_parse on a NULL-ended word list with stderr sent away. */
static int parse(opts_t *o, opt_args_t *a, char **words)
{
    int argc = 0, rc, saved = dup(2), null = open("/dev/null", O_WRONLY);

    while (words[argc])
        argc++;
    memset(o, 0, sizeof *o);
    dup2(null, 2);
    rc = opt_parse(&fake, argc, words, o, a);
    dup2(saved, 2);
    close(saved);
    close(null);
    return rc;
}

TEST(cmd_opt_parse_takes_options_anywhere)
{
    opts_t o;
    opt_args_t a;

    ASSERT_EQ(parse(&o, &a, (char *[]){"fake", "x", "-v", "--output=f", "y", "--timeout", "2.5", "-5", NULL}),
              OPT_GO_ON);
    ASSERT_EQ(o.flag, 1);
    ASSERT_STR_EQ(o.file, "f");
    ASSERT_EQ(o.dur, 2500000000ull);
    ASSERT_EQ(a.n, 3);
    ASSERT_STR_EQ(a.v[0], "x");
    ASSERT_STR_EQ(a.v[1], "y");
    ASSERT_STR_EQ(a.v[2], "-5"); /* a negative number is an argument */
    free(a.v);
    ASSERT_EQ(parse(&o, &a, (char *[]){"fake", "-vofile", "--", "-v", "--output", NULL}), OPT_GO_ON);
    ASSERT_STR_EQ(o.file, "file");
    ASSERT_EQ(a.n, 2);
    ASSERT_STR_EQ(a.v[0], "-v");
    free(a.v);
}

TEST(cmd_opt_parse_refuses_bad_command_lines)
{
    static char *bad[][5] = {
        {"fake", "--nope", NULL},
        {"fake", "-x", NULL},
        {"fake", "-o", NULL},
        {"fake", "-o", "", NULL},           /* an empty file name */
        {"fake", "--output=", NULL},
        {"fake", "--verbose=1", NULL},
        {"fake", "--timeout", "1e3", NULL}, /* strtod's forms are not durations */
        {"fake", "--timeout", "0", NULL},
        {"fake", "--timeout", "-1s", NULL},
        {"fake", "--timeout", "inf", NULL},
    };
    opts_t o;
    opt_args_t a;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(&o, &a, bad[i]) != CG_EXIT_USAGE)
            TEST_FAIL("accepted: %s %s", bad[i][1], bad[i][2] ? bad[i][2] : "");
}

TEST(cmd_durations_follow_one_rule)
{
    static const struct {
        const char *s;
        uint64_t ns; /* 0: refused */
    } cases[] = {
        {"10s", 10000000000ull}, {"500ms", 500000000ull}, {"2.5", 2500000000ull},
        {"1m30s", 90000000000ull}, {"1e3", 0}, {"0x10", 0}, {"", 0}, {"0s", 0}, {"nan", 0}, {"+1s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ns = 0;
        int rc = opt_parse_duration(cases[i].s, &ns);

        if (cases[i].ns ? rc != 0 || ns != cases[i].ns : rc == 0)
            TEST_FAIL("'%s': rc %d ns %llu", cases[i].s, rc, (unsigned long long)ns);
    }
}

TEST(cmd_every_table_row_is_documented)
{
    for (const cmd_t *c = commands; c->name; c++) {
        ASSERT(c->opts != NULL);
        ASSERT(cmd_lookup(c->name) == c);
        for (const opt_t *o = c->opts; o->kind != OPT_END; o++) {
            ASSERT(o->help && o->help[0]);
            ASSERT(o->kind == OPT_SEPARATOR || (o->long_name && o->long_name[0]));
            ASSERT((o->kind == OPT_STRING || o->kind == OPT_STRINGS || o->kind == OPT_DURATION) == (o->argh != NULL));
        }
    }
    ASSERT(cmd_lookup("nosuch") == NULL);
}

TEST(cmd_main_runs_without_main)
{
    int saved = dup(1), null = open("/dev/null", O_WRONLY), rc;

    dup2(null, 1);
    rc = cmd_main(3, (char *[]){"cgops", "help", "stats", NULL});
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    ASSERT_EQ(rc, CG_EXIT_OK);
}

TEST(cmd_every_request_has_a_total_deadline)
{
    static const int cmds[] = {PROTO_STACK, PROTO_GC, PROTO_MEMSTATS, PROTO_VERSION, PROTO_HEAP,
                               PROTO_CPU, PROTO_STATS, PROTO_TRACE, PROTO_BINARY_DUMP, PROTO_SETGC};
    request_t r;

    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        memset(&r, 0, sizeof r);
        request_set_timeouts(&r, cmds[i], 0);
        ASSERT(r.total_timeout_ms > 0);
        ASSERT(r.connect_timeout_ms > 0 && r.connect_timeout_ms <= r.total_timeout_ms);
        ASSERT(r.idle_timeout_ms > 0 && r.idle_timeout_ms <= r.total_timeout_ms);
        request_set_timeouts(&r, cmds[i], 1500000000ull);
        ASSERT_EQ(r.total_timeout_ms, 1500);
        ASSERT_EQ(r.idle_timeout_ms, 1500);
    }
}

TEST(cmd_text_is_made_safe_for_a_terminal)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain name", "plain name"},
        {"red\x1b[31mname", "red?[31mname"},
        {"csi\xc2\x9b" "2J", "csi?2J"},       /* C1 CSI as UTF-8 */
        {"raw\x9b" "2J", "raw?2J"},           /* 8-bit CSI, not UTF-8 */
        {"tab\tbell\a", "tab?bell?"},
        {"del\x7f", "del?"},
        {"caf\xc3\xa9 \xe2\x94\x80", "caf\xc3\xa9 \xe2\x94\x80"}, /* UTF-8 kept */
        {"\xed\xa0\x80", "???"},              /* a surrogate is not UTF-8 */
        {"txt.\xe2\x80\xaegnp", "txt.?gnp"},  /* U+202E reverses what follows */
        {"a\xe2\x81\xa6" "b", "a?b"},            /* U+2066, an isolate */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = cg_text_safe(cases[i].in);
        ASSERT_STR_EQ(s, cases[i].out);
        free(s);
    }
}

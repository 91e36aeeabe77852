/* test-procinfo.c -- parsers and formatters behind `cgops PID` */
#include "test.h"
#include "cgops/procinfo.h"

#include <errno.h>

TEST(procinfo_parsers)
{
    unsigned long long mem;
    long long bt;
    uid_t uid;

    ASSERT_EQ(procinfo_parse_memtotal("MemTotal:       24568644 kB\nMemFree: 1 kB\n", &mem), 0);
    ASSERT_EQ(mem, 24568644ULL * 1024);
    ASSERT_EQ(procinfo_parse_memtotal("MemFree: 1 kB\n", &mem), -EINVAL);
    ASSERT_EQ(procinfo_parse_btime("cpu 1 2 3\nbtime 1764000000\nprocesses 5\n", &bt), 0);
    ASSERT_EQ(bt, 1764000000LL);
    ASSERT_EQ(procinfo_parse_btime("cpu 1\n", &bt), -EINVAL);
    ASSERT_EQ(procinfo_parse_uid("Name:\tx\nUid:\t1000\t1001\t1000\t1000\n", &uid), 0);
    ASSERT_EQ(uid, 1000);
    ASSERT_EQ(procinfo_parse_uid("Name:\tx\n", &uid), -EINVAL);
}

TEST(procinfo_etime_like_ps)
{
    char b[64];

    procinfo_format_etime(5, b, sizeof b);
    ASSERT_STR_EQ(b, "00:05");
    procinfo_format_etime(65, b, sizeof b);
    ASSERT_STR_EQ(b, "01:05");
    procinfo_format_etime(3600 + 61, b, sizeof b);
    ASSERT_STR_EQ(b, "01:01:01");
    procinfo_format_etime(2 * 86400 + 3 * 3600 + 4 * 60 + 5, b, sizeof b);
    ASSERT_STR_EQ(b, "2-03:04:05");
}

TEST(procinfo_go_duration_strings)
{
    char b[64];

    procinfo_format_go_duration(2000000000LL, b, sizeof b);
    ASSERT_STR_EQ(b, "2s");
    procinfo_format_go_duration(500000000LL, b, sizeof b);
    ASSERT_STR_EQ(b, "500ms");
    procinfo_format_go_duration(1500000000LL, b, sizeof b);
    ASSERT_STR_EQ(b, "1.5s");
    procinfo_format_go_duration(90000000000LL, b, sizeof b);
    ASSERT_STR_EQ(b, "1m30s");
    procinfo_format_go_duration(3600000000000LL, b, sizeof b);
    ASSERT_STR_EQ(b, "1h0m0s");
    procinfo_format_go_duration(1500, b, sizeof b);
    ASSERT_STR_EQ(b, "1.5\xc2\xb5s");
}

TEST(procinfo_period_argument)
{
    long long ns;

    ASSERT_EQ(procinfo_parse_period("2s", &ns), 0);
    ASSERT_EQ(ns, 2000000000LL);
    ASSERT_EQ(procinfo_parse_period("500ms", &ns), 0);
    ASSERT_EQ(ns, 500000000LL);
    ASSERT_EQ(procinfo_parse_period("3", &ns), 0);
    ASSERT_EQ(ns, 3000000000LL);
    ASSERT_EQ(procinfo_parse_period("0.25", &ns), 0);
    ASSERT_EQ(ns, 250000000LL);
    ASSERT_EQ(procinfo_parse_period("0", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("-1s", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("soon", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("", &ns), -EINVAL);
    /* Rounds to 0 ns: no period at all, so an error, not a silent skip. */
    ASSERT_EQ(procinfo_parse_period("1e-10", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("0.0000000004", &ns), -EINVAL);
    /* Only decimal seconds: strtod's other forms are not periods. */
    ASSERT_EQ(procinfo_parse_period("0x10", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("1e3", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("inf", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period("nan", &ns), -EINVAL);
    ASSERT_EQ(procinfo_parse_period(".5", &ns), 0);
    ASSERT_EQ(ns, 500000000LL);
    ASSERT_EQ(procinfo_parse_period("1.", &ns), 0);
    ASSERT_EQ(ns, 1000000000LL);
    ASSERT_EQ(procinfo_parse_period("1.5.5", &ns), -EINVAL);
}

TEST(procinfo_cmdline_join)
{
    char b[64];
    static const char c[] = "/bin/x\0-a\0b c\0";

    procinfo_join_cmdline(c, sizeof c - 1, b, sizeof b);
    ASSERT_STR_EQ(b, "/bin/x -a b c");
    procinfo_join_cmdline("", 0, b, sizeof b);
    ASSERT_STR_EQ(b, "");
}

/* The one parser of the "Uid:" line (the manual's real uid, the target's
 * passwd home): digits only, within a uid_t. */
TEST(procinfo_uid_line_strict)
{
    uid_t uid = 7;

    ASSERT_EQ(procinfo_parse_uid("Uid:\t0\t0\t0\t0\nGid:\t0\n", &uid), 0);
    ASSERT_EQ(uid, 0);
    ASSERT_EQ(procinfo_parse_uid("Name:\tUid: 5\nUid:\t4294967294\t1\t1\t1\n", &uid), 0);
    ASSERT_EQ(uid, 4294967294u);
    ASSERT_EQ(procinfo_parse_uid("Uid:\t-5\t0\t0\t0\n", &uid), -EINVAL);
    ASSERT_EQ(procinfo_parse_uid("Uid:\t4294967295\t0\t0\t0\n", &uid), -EINVAL);
    ASSERT_EQ(procinfo_parse_uid("Uid:\t99999999999\t0\n", &uid), -EINVAL);
    ASSERT_EQ(procinfo_parse_uid("Uid:\t12x\t0\n", &uid), -EINVAL);
    ASSERT_EQ(procinfo_parse_uid("Uid:\t\n", &uid), -EINVAL);
}

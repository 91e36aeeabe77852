/* test-common.c -- tests for common.c */
#include "test.h"
#include "cgops/common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(common_parse_ll_accepts_and_rejects)
{
    long long v = 0;

    ASSERT_EQ(cg_parse_ll("42", 0, 100, &v), 0);
    ASSERT_EQ(v, 42);
    ASSERT_EQ(cg_parse_ll("-7", -10, 10, &v), 0);
    ASSERT_EQ(v, -7);
    ASSERT_EQ(cg_parse_ll("", 0, 100, &v), -EINVAL);
    ASSERT_EQ(cg_parse_ll("4x", 0, 100, &v), -EINVAL);
    ASSERT_EQ(cg_parse_ll(" 4", 0, 100, &v), -EINVAL);
    ASSERT_EQ(cg_parse_ll("101", 0, 100, &v), -ERANGE);
    ASSERT_EQ(cg_parse_ll("99999999999999999999", 0, 100, &v), -ERANGE);
}

TEST(common_trim_strips_both_ends)
{
    char s[] = " \t 123\n\n";
    ASSERT_STR_EQ(cg_trim(s), "123");
    char e[] = "   ";
    ASSERT_STR_EQ(cg_trim(e), "");
}

TEST(common_read_file_grows_and_truncates)
{
    char path[256], *buf = NULL;
    size_t len = 0;
    int trunc = 0, fd;
    char data[5000];

    memset(data, 'x', sizeof data);
    snprintf(path, sizeof path, "%s/cg-read-%d", test_tmpdir(), (int)getpid());
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, data, sizeof data), (long long)sizeof data);
    close(fd);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, &trunc), 0);
    ASSERT_EQ(len, sizeof data);
    ASSERT_EQ(trunc, 0);
    ASSERT_EQ(buf[len], '\0');
    free(buf);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 100, &buf, &len, &trunc), 0);
    ASSERT_EQ(len, 100);
    ASSERT_EQ(trunc, 1);
    free(buf);
    unlink(path);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 100, &buf, &len, &trunc), -ENOENT);
}

/* environ of a process whose environment is larger than one read buffer
 * (16 KiB): the short-read shortcut must still return all of it. */
TEST(common_read_proc_mem_reads_a_large_environ_whole)
{
    static char big[40006];
    char *env[] = {big, "A=1", NULL}, *argv[] = {"sleep", "30", NULL};
    char *all = NULL, *fast = NULL, path[64], c;
    size_t alen = 0, flen = 0;
    int trunc = 1, p[2];
    pid_t pid;

    memcpy(big, "BIG=", 4);
    memset(big + 4, 'y', sizeof big - 5);
    big[sizeof big - 1] = '\0';
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        execve("/bin/sleep", argv, env);
        _exit(127);
    }
    close(p[1]);
    ASSERT_EQ(read(p[0], &c, 1), 0); /* closed by the exec */
    close(p[0]);
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    ASSERT_EQ(cg_read_file_at(AT_FDCWD, path, 1 << 20, &all, &alen, NULL), 0);
    ASSERT_EQ(cg_read_proc_mem_at(AT_FDCWD, path, 1 << 20, &fast, &flen, &trunc), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ASSERT_EQ(alen, sizeof big + 4);
    ASSERT_EQ(flen, alen);
    ASSERT_EQ(trunc, 0);
    ASSERT(memcmp(all, fast, alen) == 0);
    free(all);
    free(fast);
}

/* One UTF-8 rule for everything: Go's utf8.Valid. */
TEST(common_utf8_valid_is_strict)
{
    static const struct {
        const char *s;
        size_t len;
        int valid;
    } cases[] = {
        {"", 0, 1},
        {"plain ascii\t\r\n", 14, 1},
        {"\xc2\xb5s", 3, 1},                 /* U+00B5 */
        {"\xce\xbcs", 3, 1},                 /* U+03BC */
        {"\xef\xbf\xbd", 3, 1},              /* U+FFFD */
        {"\xf0\x9f\x90\xb9", 4, 1},          /* U+1F439 */
        {"\xf4\x8f\xbf\xbf", 4, 1},          /* U+10FFFF, the last */
        {"\xed\x9f\xbf", 3, 1},              /* U+D7FF, before the surrogates */
        {"a\0b", 3, 1},                      /* NUL is U+0000 */
        {"\xc0\xaf", 2, 0},                  /* overlong '/' */
        {"\xc1\xbf", 2, 0},                  /* overlong */
        {"\xe0\x80\xaf", 3, 0},              /* overlong 3-byte */
        {"\xf0\x80\x80\xaf", 4, 0},          /* overlong 4-byte */
        {"\xed\xa0\x80", 3, 0},              /* U+D800 surrogate */
        {"\xed\xbf\xbf", 3, 0},              /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 4, 0},          /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xff", 1, 0},
        {"\x80", 1, 0},                      /* lone continuation byte */
        {"\xe2\x82", 2, 0},                  /* cut at the end */
        {"\xe2\x82" "a", 3, 0},              /* cut in the middle */
        {"\xc3\xa9\xc3", 3, 0},
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(cases); i++)
        if (cg_utf8_valid(cases[i].s, cases[i].len) != cases[i].valid)
            TEST_FAIL("case %zu: want %d", i, cases[i].valid);
}

/* Go's binary.Uvarint: 1-10 bytes, truncation and 64-bit overflow are 0. */
TEST(common_uvarint_decode_bounds)
{
    static const unsigned char one[] = {0x01}, big[] = {0x90, 0x03};
    static const unsigned char max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    static const unsigned char eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    uint64_t v = 7;

    ASSERT_EQ(cg_uvarint_decode(one, 1, &v), 1);
    ASSERT_EQ(v, 1);
    ASSERT_EQ(cg_uvarint_decode(big, 2, &v), 2);
    ASSERT_EQ(v, 400);
    ASSERT_EQ(cg_uvarint_decode(max, sizeof max, &v), 10);
    ASSERT(v == UINT64_MAX);
    v = 7;
    ASSERT_EQ(cg_uvarint_decode(over, sizeof over, &v), 0);
    ASSERT_EQ(cg_uvarint_decode(eleven, sizeof eleven, &v), 0);
    ASSERT_EQ(cg_uvarint_decode(big, 1, &v), 0); /* truncated */
    ASSERT_EQ(cg_uvarint_decode(big, 0, &v), 0);
    ASSERT_EQ(v, 7);
}

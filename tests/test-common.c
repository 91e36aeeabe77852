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

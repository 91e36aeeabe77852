/* run-tests.c -- runs the unit tests registered with TEST()
 *
 * `run-tests` runs them all, `run-tests NAME...` only those named.  Each test
 * runs in a forked child, so a crash or an exit() in one test cannot hide
 * another's result, and is killed after TEST_TIMEOUT seconds (default 30).
 * A test that calls SKIP() is reported as skipped.  The exit status is 1 if
 * any test failed, TEST_SKIP_CODE if every test that ran was skipped (ctest
 * runs one test per entry and counts that as a skip), 0 otherwise.
 */
#include "test.h"

#include "cgops/common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 1024

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int ntests;

void test_register(const char *name, test_fn fn)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "run-tests: too many tests\n");
        abort();
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

const char *test_tmpdir(void)
{
    const char *d = getenv("TEST_TMPDIR");
    return d && *d ? d : "/tmp";
}

char *test_vector(const char *name, size_t *len)
{
    char path[1024], *buf = NULL;
    const char *src = getenv("CGOPS_SRC");

    snprintf(path, sizeof path, "%s/protocol/vectors/%s", src ? src : "..", name);
    if (cg_read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL) != 0)
        TEST_FAIL("cannot read vector %s", path);
    return buf;
}

enum { RESULT_OK, RESULT_FAIL, RESULT_SKIP, RESULT_KINDS };

static int run_one(int i, int timeout)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return RESULT_FAIL;
    }
    if (pid == 0) {
        alarm((unsigned)timeout);
        tests[i].fn();
        fflush(NULL);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        return RESULT_FAIL;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %s\n", tests[i].name);
        return RESULT_OK;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP_CODE) {
        printf("skip %s\n", tests[i].name);
        return RESULT_SKIP;
    }
    if (WIFSIGNALED(status))
        printf("FAIL %s (signal %d%s)\n", tests[i].name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ": timeout" : "");
    else
        printf("FAIL %s (exit %d)\n", tests[i].name, WEXITSTATUS(status));
    return RESULT_FAIL;
}

int main(int argc, char **argv)
{
    const char *t = getenv("TEST_TIMEOUT");
    int timeout = t ? atoi(t) : 30, count[RESULT_KINDS] = {0};

    if (timeout <= 0)
        timeout = 30;
    if (argc == 1) {
        for (int i = 0; i < ntests; i++)
            count[run_one(i, timeout)]++;
    } else {
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < ntests; i++)
                if (strcmp(tests[i].name, argv[a]) == 0) {
                    count[run_one(i, timeout)]++;
                    found = 1;
                }
            if (!found) {
                printf("FAIL %s (no such test)\n", argv[a]);
                count[RESULT_FAIL]++;
            }
        }
    }
    if (count[RESULT_FAIL])
        return 1;
    if (count[RESULT_SKIP] && !count[RESULT_OK])
        return TEST_SKIP_CODE;
    return 0;
}

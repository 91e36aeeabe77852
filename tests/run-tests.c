/* run-tests.c -- runs the unit tests registered with TEST()
 *
 * `run-tests` runs them all, `run-tests NAME...` only those named.  Each test
 * runs in a forked child, so a crash or an exit() in one test cannot hide
 * another's result, and is killed after TEST_TIMEOUT seconds (default 30).
 */
#include "test.h"

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

static int run_one(int i, int timeout)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        alarm((unsigned)timeout);
        tests[i].fn();
        fflush(NULL);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok %s\n", tests[i].name);
        return 0;
    }
    if (WIFSIGNALED(status))
        printf("FAIL %s (signal %d%s)\n", tests[i].name, WTERMSIG(status),
               WTERMSIG(status) == SIGALRM ? ": timeout" : "");
    else
        printf("FAIL %s (exit %d)\n", tests[i].name, WEXITSTATUS(status));
    return 1;
}

int main(int argc, char **argv)
{
    const char *t = getenv("TEST_TIMEOUT");
    int timeout = t ? atoi(t) : 30, failed = 0;

    if (timeout <= 0)
        timeout = 30;
    if (argc == 1) {
        for (int i = 0; i < ntests; i++)
            failed += run_one(i, timeout);
    } else {
        for (int a = 1; a < argc; a++) {
            int found = 0;
            for (int i = 0; i < ntests; i++)
                if (strcmp(tests[i].name, argv[a]) == 0) {
                    failed += run_one(i, timeout);
                    found = 1;
                }
            if (!found) {
                printf("FAIL %s (no such test)\n", argv[a]);
                failed++;
            }
        }
    }
    return failed ? 1 : 0;
}

/* test.h -- the unit-test harness
 *
 * A test is written `TEST(module_case) { ... }` in tests/test-<module>.c.  The
 * macro registers it at start-up, and CMake greps the same TEST(...) lines to
 * add one ctest entry per test, so there is no list to keep in sync.
 * tests/run-tests.c runs each test in a forked child with a timeout.
 *
 * A test that cannot run here (no root, no namespaces, ...) calls SKIP(why):
 * it exits with TEST_SKIP_CODE, which CMake declares as each entry's
 * SKIP_RETURN_CODE, so ctest counts it as skipped, never as passed.
 */
#ifndef CGOPS_TEST_H
#define CGOPS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void register_##name(void)        \
    {                                                                     \
        test_register(#name, test_##name);                                \
    }                                                                     \
    static void test_##name(void)

#define TEST_FAIL(...)                                                    \
    do {                                                                  \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                   \
        fprintf(stderr, __VA_ARGS__);                                     \
        fputc('\n', stderr);                                              \
        exit(1);                                                          \
    } while (0)

#define ASSERT(cond)                                                      \
    do {                                                                  \
        if (!(cond))                                                      \
            TEST_FAIL("assertion failed: %s", #cond);                     \
    } while (0)

#define ASSERT_EQ(a, b)                                                   \
    do {                                                                  \
        long long a_ = (long long)(a), b_ = (long long)(b);               \
        if (a_ != b_)                                                     \
            TEST_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);          \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                               \
    do {                                                                  \
        const char *a_ = (a), *b_ = (b);                                  \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)              \
            TEST_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,               \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");            \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                      \
    do {                                                                  \
        const char *h_ = (hay), *n_ = (needle);                           \
        if (h_ == NULL || strstr(h_, n_) == NULL)                         \
            TEST_FAIL("%s does not contain \"%s\": \"%s\"", #hay, n_,     \
                      h_ ? h_ : "(null)");                                \
    } while (0)

/* The exit status of a skipped test; also run-tests' status when every test
 * it ran was skipped.  77 is what automake and CMake users expect. */
#define TEST_SKIP_CODE 77

#define SKIP(...)                                                         \
    do {                                                                  \
        printf("skipped: ");                                              \
        printf(__VA_ARGS__);                                              \
        putchar('\n');                                                    \
        fflush(stdout);                                                   \
        exit(TEST_SKIP_CODE);                                             \
    } while (0)

/* Directory for scratch files of this test run (TEST_TMPDIR or /tmp). */
const char *test_tmpdir(void);

/* The bytes of protocol/vectors/PATH (under CGOPS_SRC, else ".."), a
 * malloc'd string of *len bytes; the test fails if it cannot be read. */
char *test_vector(const char *path, size_t *len);

#endif

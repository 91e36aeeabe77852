/* test-out_list.c -- the gops text layouts, from in-memory process models */
#include "test.h"
#include "cgops/out_list.h"

static gobin_info_t v19 = {.is_go = 1, .version = "go1.19.8"};
static gobin_info_t dev = {.is_go = 1, .version = "devel +abc123 Tue Jan 1 00:00:00 2030 +0000"};
static gobin_info_t unk = {.is_go = 1, .version = ""};

static char *render(void (*fn)(FILE *, const scan_proc_t *, size_t), const scan_proc_t *p, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    fn(f, p, n);
    fclose(f);
    return buf;
}

TEST(out_list_columns_like_gops)
{
    scan_proc_t p[3] = {
        {.pid = 7, .ppid = 1, .name = "a", .path = "/a", .bin = &v19, .agent = 1},
        {.pid = 1234, .ppid = 999, .name = "longer-name", .path = "/b", .bin = &dev},
        {.pid = 88, .ppid = 1, .name = "c", .path = "/c (deleted)", .bin = &unk},
    };
    char *s = render(out_list_text, p, 3);

    ASSERT_STR_EQ(s,
                  "7    1   a          * go1.19.8      /a\n"
                  "1234 999 longer-name  devel +abc123 /b\n"
                  "88   1   c            unknown       /c (deleted)\n");
    free(s);
}

TEST(out_tree_like_gops)
{
    scan_proc_t p[4] = {
        {.pid = 10, .ppid = 1, .name = "a", .bin = &v19},
        {.pid = 20, .ppid = 10, .name = "b", .bin = &v19, .agent = 1},
        {.pid = 30, .ppid = 5, .name = "c", .bin = &dev},
        {.pid = 40, .ppid = 10, .name = "d", .bin = &v19},
    };
    char *s = render(out_tree_text, p, 4);

    ASSERT_STR_EQ(s,
                  "...\n"
                  "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80 1\n"
                  "\xe2\x94\x82   \xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 10 (a) {go1.19.8}\n"
                  "\xe2\x94\x82       \xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80 [*]  20 (b) {go1.19.8}\n"
                  "\xe2\x94\x82       \xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 40 (d) {go1.19.8}\n"
                  "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 5\n"
                  "    \xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 30 (c) {devel +abc123 Tue Jan 1 00:00:00 2030 +0000}\n"
                  "\n");
    free(s);
}

TEST(out_list_empty)
{
    char *s = render(out_list_text, NULL, 0);
    ASSERT_STR_EQ(s, "");
    free(s);
    s = render(out_tree_text, NULL, 0);
    ASSERT_STR_EQ(s, "...\n\n");
    free(s);
}

/* A child with a lower pid than its Go parent (pids wrap) is drawn under
 * the parent, and the parent keeps its own entry. */
TEST(out_tree_child_with_lower_pid)
{
    scan_proc_t p[2] = {
        {.pid = 50, .ppid = 200, .name = "kid", .bin = &v19},
        {.pid = 200, .ppid = 1, .name = "parent", .bin = &v19},
    };
    char *s = render(out_tree_text, p, 2);

    ASSERT_STR_EQ(s, "...\n"
                     "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 1\n"
                     "    \xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 200 (parent) {go1.19.8}\n"
                     "        \xe2\x94\x94\xe2\x94\x80\xe2\x94\x80 50 (kid) {go1.19.8}\n"
                     "\n");
    free(s);
}

TEST(out_list_text_escapes_what_processes_and_binaries_control)
{
    /* Name, path and version all come from something another user can
     * write: none of them may reach the terminal raw. */
    static gobin_info_t evil = {.is_go = 1, .version = "go1\x1b]0;x\x07\xff"};
    scan_proc_t p[2] = {
        {.pid = 7, .ppid = 1, .name = "n\x1b[2J", .path = "/p\x9b" "1m", .bin = &evil},
        {.pid = 8, .ppid = 7, .name = "m", .path = "/m", .bin = &evil},
    };
    char *s = render(out_list_text, p, 2), *t = render(out_tree_text, p, 2);

    ASSERT_STR_EQ(s, "7 1 n?[2J  go1?]0;x?? /p?1m\n"
                     "8 7 m      go1?]0;x?? /m\n");
    ASSERT(strchr(t, '\x1b') == NULL && strchr(t, '\a') == NULL);
    ASSERT_CONTAINS(t, "{go1?]0;x??}");
    free(s);
    free(t);
}

/* test-flame.c -- tests for flame.c: merging stacks, values, bounds, the
 * folded-stack parser's errors, and the SVG's escaping, thin frames, labels
 * (tests/cli/68-flame.sh checks the document as a whole, and in a browser) */
#include "test.h"
#include "cgops/common.h"
#include "cgops/flame.h"

#include <errno.h>
#include <stdint.h>

#define PATH(...) ((const char *const[]){__VA_ARGS__}), \
    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* The SVG as a heap string. */
static char *svg(const flame_t *f, const char *title, const char *unit)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    ASSERT(m != NULL);
    ASSERT_EQ(flame_write_svg(f, m, title, unit), 0);
    fclose(m);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

TEST(flame_merge)
{
    flame_t *f = flame_new();

    ASSERT_EQ(flame_add(f, PATH("main", "a", "b"), 5), 0);
    ASSERT_EQ(flame_add(f, PATH("main", "a", "c"), 3), 0);
    ASSERT_EQ(flame_add(f, PATH("main", "a"), 2), 0);
    ASSERT_EQ(flame_add(f, PATH("main", "b"), 7), 0); /* same name, other parent */
    ASSERT_EQ(flame_add(f, PATH("main", "a", "b"), 1), 0);
    ASSERT_EQ(flame_count(f), 5);
    ASSERT_EQ(flame_total(f), 18);
    ASSERT_EQ(flame_value(f, NULL, 0), 18);
    ASSERT_EQ(flame_value(f, PATH("main")), 18);
    ASSERT_EQ(flame_value(f, PATH("main", "a")), 11);
    ASSERT_EQ(flame_value(f, PATH("main", "a", "b")), 6);
    ASSERT_EQ(flame_value(f, PATH("main", "a", "c")), 3);
    ASSERT_EQ(flame_value(f, PATH("main", "b")), 7);
    ASSERT_EQ(flame_value(f, PATH("a")), -1);
    ASSERT_EQ(flame_value(f, PATH("main", "c")), -1);
    flame_free(f);
}

TEST(flame_deterministic)
{
    /* The same stacks added in another order give the same document, with
     * children left to right by name. */
    flame_t *a = flame_new(), *b = flame_new();
    char *sa, *sb;

    ASSERT_EQ(flame_add(a, PATH("m", "zeta"), 4), 0);
    ASSERT_EQ(flame_add(a, PATH("m", "alpha"), 4), 0);
    ASSERT_EQ(flame_add(a, PATH("m", "mid"), 4), 0);
    ASSERT_EQ(flame_add(b, PATH("m", "mid"), 4), 0);
    ASSERT_EQ(flame_add(b, PATH("m", "alpha"), 4), 0);
    ASSERT_EQ(flame_add(b, PATH("m", "zeta"), 4), 0);
    sa = svg(a, NULL, NULL);
    sb = svg(b, NULL, NULL);
    ASSERT_STR_EQ(sa, sb);
    ASSERT(strstr(sa, "<title>alpha") < strstr(sa, "<title>mid"));
    ASSERT(strstr(sa, "<title>mid") < strstr(sa, "<title>zeta"));
    ASSERT_CONTAINS(sa, "<title>mid (4 samples, 33.33%)</title>");
    ASSERT_CONTAINS(sa, "<title>all (12 samples, 100.00%)</title>");
    free(sa);
    free(sb);
    flame_free(a);
    flame_free(b);
}

TEST(flame_values)
{
    flame_t *f = flame_new();
    const char *const nul[] = {"a", NULL};

    ASSERT_EQ(flame_add(f, PATH("a"), 0), 0);
    ASSERT_EQ(flame_count(f), 0); /* a zero adds no frame */
    ASSERT_EQ(flame_add(f, PATH("a"), -1), -EINVAL);
    ASSERT_EQ(flame_add(f, nul, 2, 1), -EINVAL);
    ASSERT_EQ(flame_add(f, NULL, 1, 1), -EINVAL);
    ASSERT_EQ(flame_add(f, NULL, 0, 4), 0); /* no frames: the root's own */
    ASSERT_EQ(flame_add(f, PATH("a"), INT64_MAX - 4), 0);
    ASSERT_EQ(flame_total(f), INT64_MAX);
    ASSERT_EQ(flame_add(f, PATH("b"), 1), -EOVERFLOW);
    ASSERT_EQ(flame_value(f, PATH("b")), -1);
    ASSERT_EQ(flame_total(f), INT64_MAX);
    flame_free(f);
}

TEST(flame_bounds)
{
    flame_t *f = flame_new();
    const char **deep = cg_xmalloc((FLAME_MAX_DEPTH + 1) * sizeof *deep);
    char *names = cg_xmalloc((size_t)(FLAME_MAX_DEPTH + 1) * 16);
    char *longname = cg_xmalloc(FLAME_MAX_NAME + 2);
    size_t left;

    memset(longname, 'x', FLAME_MAX_NAME + 1);
    longname[FLAME_MAX_NAME + 1] = '\0';
    ASSERT_EQ(flame_add(f, (const char *const *)&longname, 1, 1), -E2BIG);
    longname[FLAME_MAX_NAME] = '\0';
    ASSERT_EQ(flame_add(f, (const char *const *)&longname, 1, 1), 0);

    for (int i = 0; i <= FLAME_MAX_DEPTH; i++) {
        deep[i] = names + i * 16;
        snprintf(names + i * 16, 16, "d%d", i);
    }
    ASSERT_EQ(flame_add(f, deep, FLAME_MAX_DEPTH + 1, 1), -E2BIG);
    ASSERT_EQ(flame_count(f), 1);
    ASSERT_EQ(flame_add(f, deep, FLAME_MAX_DEPTH, 1), 0);
    ASSERT_EQ(flame_count(f), 1 + FLAME_MAX_DEPTH);

    /* Fill the tree up to FLAME_MAX_NODES with stacks of distinct roots. */
    for (int r = 0; (left = FLAME_MAX_NODES - flame_count(f)) > 0; r++) {
        size_t n = left < FLAME_MAX_DEPTH ? left : FLAME_MAX_DEPTH;
        snprintf(names, 16, "r%d", r);
        ASSERT_EQ(flame_add(f, deep, n, 1), 0);
    }
    ASSERT_EQ(flame_count(f), FLAME_MAX_NODES);
    int64_t total = flame_total(f);
    /* A stack that needs two new frames is refused whole: no frame with no
     * value is left behind, no value added. */
    ASSERT_EQ(flame_add(f, PATH("d0", "d1", "new", "new2"), 1), -E2BIG);
    ASSERT_EQ(flame_count(f), FLAME_MAX_NODES);
    ASSERT_EQ(flame_total(f), total);
    ASSERT_EQ(flame_value(f, PATH("d0", "d1")), 1);
    ASSERT_EQ(flame_value(f, PATH("d0", "d1", "new")), -1);
    /* Stacks made of known frames still merge. */
    ASSERT_EQ(flame_add(f, PATH("d0", "d1"), 5), 0);
    ASSERT_EQ(flame_value(f, PATH("d0", "d1")), 6);
    free(deep);
    free(names);
    free(longname);
    flame_free(f);
}

/* Parse text, expect rc and a message containing want. */
static void bad(const char *text, size_t len, int rc, const char *want)
{
    flame_t *f = flame_new();
    char err[CG_ERR_LEN] = "";

    if (flame_parse_folded(f, text, len, err) != rc)
        TEST_FAIL("parse \"%s\": not %d (%s)", text, rc, err);
    ASSERT_CONTAINS(err, want);
    flame_free(f);
}

TEST(flame_parse_errors)
{
    bad("a;b\n", 4, -EINVAL, "line 1: no value");
    bad("a;b \n", 5, -EINVAL, "line 1: no value");
    bad("a;b 1\n\na;b x1\n", 14, -EINVAL, "line 3: value \"x1\" is not a non-negative integer");
    bad("a;b -3\n", 7, -EINVAL, "line 1: value \"-3\"");
    bad("a;b +3\n", 7, -EINVAL, "line 1: value \"+3\"");
    bad("a;b 1.5\n", 8, -EINVAL, "line 1: value \"1.5\"");
    bad("a 99999999999999999999\n", 23, -ERANGE, "(too large)");
    bad("a 1\n 5\n", 7, -EINVAL, "line 2: empty stack");
    bad("a;;b 1\n", 7, -EINVAL, "line 1: empty frame name (frame 2)");
    bad(";a 1\n", 5, -EINVAL, "line 1: empty frame name (frame 1)");
    bad("a; 1\n", 5, -EINVAL, "line 1: empty frame name (frame 2)");
    bad("a\0b 1\n", 6, -EINVAL, "line 1: NUL byte");
    bad("a 9223372036854775807\nb 1\n", 26, -EOVERFLOW, "line 2: the values add up");

    /* Deeper than the bound: the error names the line. */
    size_t n = FLAME_MAX_DEPTH + 1, len = n * 2 + 3;
    char *deep = cg_xmalloc(len + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(deep + 2 * i, "x;", 2);
    memcpy(deep + 2 * n - 1, " 1\n", 4);
    bad(deep, strlen(deep), -E2BIG, "line 1: stack deeper than 1024 frames");
    free(deep);
}

TEST(flame_parse_good)
{
    flame_t *f = flame_new();
    const char text[] = "main;a;b 5\r\n\nmain;a 2\nop new(unsigned long);x 3\nmain;a;b\t 1";
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(flame_parse_folded(f, text, sizeof text - 1, err), 0);
    ASSERT_EQ(flame_total(f), 11);
    ASSERT_EQ(flame_value(f, PATH("main", "a", "b")), 6);
    ASSERT_EQ(flame_value(f, PATH("main", "a")), 8);
    /* Names may hold spaces: the value is after the last one. */
    ASSERT_EQ(flame_value(f, PATH("op new(unsigned long)", "x")), 3);
    ASSERT_EQ(flame_parse_folded(f, "", 0, err), 0);
    flame_free(f);
}

TEST(flame_escape)
{
    /* Names are outside bytes: markup, controls, invalid UTF-8 (bad lead,
     * truncated, overlong, surrogate) and XML's non-characters must neither
     * break the document nor reach it raw; valid UTF-8 stays as it is. */
    flame_t *f = flame_new();
    char *s;

    ASSERT_EQ(flame_add(f, PATH("a&b<c>\"d'e]]>"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("ctl\x01\x1b\x7f" "end"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("bad\xff\xfe" "x\xe2\x82" "y\xc0\xaf" "z\xed\xa0\x80"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("nonchar\xef\xbf\xbe"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5"), 100), 0);
    s = svg(f, "t<i>tle\x02", "by&tes");
    ASSERT_CONTAINS(s, "<title>a&amp;b&lt;c&gt;&quot;d&#39;e]]&gt; (100 by&amp;tes, 20.00%)</title>");
    ASSERT_CONTAINS(s, "<title>ctl\\x01\\x1b\\x7fend (");
    ASSERT_CONTAINS(s, "<title>bad\\xff\\xfex\\xe2\\x82y\\xc0\\xafz\\xed\\xa0\\x80 (");
    ASSERT_CONTAINS(s, "<title>nonchar\\xef\\xbf\\xbe (");
    ASSERT_CONTAINS(s, "<title>caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 (");
    ASSERT_CONTAINS(s, ">t&lt;i&gt;tle\\x02</text>");
    ASSERT_CONTAINS(s, "data-unit=\"by&amp;tes\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p == 0xff || *p == 0xfe || *p == 0xc0)
            TEST_FAIL("raw byte 0x%02x at offset %zu", *p, (size_t)(p - (const unsigned char *)s));
    ASSERT(strstr(s, "\xed\xa0") == NULL && strstr(s, "\xef\xbf\xbe") == NULL);
    /* Only the script's own CDATA section ends with "]]>". */
    ASSERT_EQ(count(s, "]]>"), 1);
    free(s);
    flame_free(f);
}

TEST(flame_thin_frames)
{
    /* flamegraph.pl leaves out frames too thin to see; ours: under 0.1% of
     * the total.  Their parents keep their whole width. */
    flame_t *f = flame_new();
    char *s;

    ASSERT_EQ(flame_add(f, PATH("main", "wide"), 9981), 0);
    ASSERT_EQ(flame_add(f, PATH("main", "edge"), 10), 0);        /* exactly 0.1% */
    ASSERT_EQ(flame_add(f, PATH("main", "thin", "below"), 9), 0); /* 0.09%, with a child */
    s = svg(f, NULL, NULL);
    ASSERT_CONTAINS(s, "<title>edge (10 samples, 0.10%)</title>");
    ASSERT(strstr(s, "<title>thin") == NULL);
    ASSERT(strstr(s, "<title>below") == NULL);
    ASSERT_CONTAINS(s, "<title>main (10000 samples, 100.00%)</title>");
    ASSERT_CONTAINS(s, ">2 frames narrower than 0.1% not drawn</text>");
    ASSERT_EQ(count(s, "<g class=\"f\">"), 4); /* all, main, edge, wide */
    free(s);
    flame_free(f);
}

TEST(flame_labels)
{
    /* A label never runs past its box: at 1180 px for the total and 12 px
     * text at 0.59 em a character, a 10% frame (118 px) holds 16 characters,
     * so a long name is cut to 14 and "..", a 0.2% frame (2.4 px) gets none. */
    flame_t *f = flame_new();
    char *s;

    ASSERT_EQ(flame_add(f, PATH("abcdefghijklmnopqrstuvwxyz"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("short"), 100), 0);
    ASSERT_EQ(flame_add(f, PATH("tiny"), 2), 0);
    ASSERT_EQ(flame_add(f, PATH("rest"), 698), 0);
    s = svg(f, NULL, NULL);
    ASSERT_CONTAINS(s, ">abcdefghijklmn..</text>");
    /* Cut between characters, not inside one. */
    ASSERT_CONTAINS(s, ">\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9..</text>");
    ASSERT_CONTAINS(s, ">short</text>");
    char *t = strstr(s, "<title>tiny");
    ASSERT(t != NULL);
    ASSERT(strstr(t, "></text>") == strchr(strstr(t, "<text"), '>'));
    free(s);
    flame_free(f);
}

TEST(flame_empty_and_write_error)
{
    flame_t *f = flame_new();
    char *s = svg(f, NULL, NULL);
    FILE *full;

    ASSERT_CONTAINS(s, ">no samples</text>");
    ASSERT_CONTAINS(s, "</svg>");
    free(s);
    ASSERT_EQ(flame_add(f, PATH("a"), 1), 0);
    full = fopen("/dev/full", "w");
    if (full == NULL)
        SKIP("no /dev/full");
    ASSERT_EQ(flame_write_svg(f, full, NULL, NULL), -EIO);
    fclose(full);
    flame_free(f);
}

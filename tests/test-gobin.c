/* test-gobin.c -- Go detection on synthetic ELF files (tests/helpers/mkelf.c)
 * and on the real fixtures built by Debian's Go */
#include "test.h"
#include "cgops/common.h"
#include "cgops/gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Write a synthetic file with mkelf and classify it.  *rss_kib gets how
 * much the peak RSS of this process grew during the read. */
static int classify_kind(const char *kind, gobin_info_t *info, char *err, long *rss_kib)
{
    char path[512], cmd[1200];
    const char *build = getenv("CGOPS_BUILD");
    struct rusage before, after;
    int fd, rc;

    snprintf(path, sizeof path, "%s/gobin-%s-%d", test_tmpdir(), kind, (int)getpid());
    snprintf(cmd, sizeof cmd, "%s/mkelf %s %s", build ? build : ".", kind, path);
    if (system(cmd) != 0)
        TEST_FAIL("mkelf %s failed", kind);
    fd = open(path, O_RDONLY);
    ASSERT(fd >= 0);
    getrusage(RUSAGE_SELF, &before);
    rc = gobin_read_fd(fd, info, err);
    getrusage(RUSAGE_SELF, &after);
    close(fd);
    unlink(path);
    *rss_kib = after.ru_maxrss - before.ru_maxrss;
    return rc;
}

/* What reading one mkelf kind must give.  signals -1: not checked. */
typedef struct {
    const char *family; /* the TEST below that runs the case */
    const char *kind;
    int rc;
    int is_go;
    int signals;
    const char *version, *mod_path, *build_id; /* NULL: not checked */
    const char *err_has;                       /* in err when rc < 0 */
} kind_case_t;

#define ANY (-1)
#define BI GOBIN_SIG_BUILDINFO
#define PCLN GOBIN_SIG_PCLNTAB
#define SCAN GOBIN_SIG_VERSION_SCAN

static const kind_case_t kind_cases[] = {
    /* Build info in both formats, in a section or found through the
     * segments when the section table is unusable. */
    {"buildinfo", "old", 0, 1, BI, "go1.16.15", "example.com/old", NULL, NULL},
    {"buildinfo", "inline", 0, 1, BI, "go1.21.4", "example.com/old", NULL, NULL},
    {"buildinfo", "elf32", 0, 1, BI, "go1.20.3", NULL, NULL, NULL},
    {"buildinfo", "shoff-past-eof", 0, 1, BI, "go1.21.4", NULL, NULL, NULL},
    /* Go without a version; not Go. */
    {"signals", "pclntab", 0, 1, PCLN, "", NULL, NULL, NULL},
    {"signals", "note", 0, 1, GOBIN_SIG_BUILDID_NOTE, "", NULL, "abcdefghij/klmnopqrst", NULL},
    {"signals", "plain", 0, 0, 0, "", NULL, NULL, NULL},
    /* Hostile files: no crash, no out-of-bounds read (ASan build), and no
     * version taken from bytes that are not a valid build info. */
    {"hostile", "badptr", 0, 0, 0, "", NULL, NULL, NULL},
    {"hostile", "hugelen", 0, 0, 0, "", NULL, NULL, NULL},
    {"hostile", "varint", 0, 0, 0, "", NULL, NULL, NULL},
    {"hostile", "sect-past-eof", 0, 0, 0, "", NULL, NULL, NULL},
    {"hostile", "truncated", -EINVAL, 0, ANY, "", NULL, NULL, "malformed ELF"},
    {"hostile", "empty", -ENOEXEC, 0, ANY, "", NULL, NULL, "not an ELF file"},
    {"hostile", "script", -ENOEXEC, 0, ANY, "", NULL, NULL, "not an ELF file"},
    /* No build info, no symbols: runtime.buildVersion's string header.
     * The file also holds a shorter prefix, a longer run, a version in
     * writable memory and one too old for its pclntab: none of them wins. */
    {"buildversion", "buildversion", 0, 1, PCLN | SCAN, "go1.26.5", NULL, NULL, NULL},
    {"buildversion", "buildversion-rc", 0, 1, PCLN | SCAN, "go1.27rc1", NULL, NULL, NULL},
    /* The linker appends non-default GOEXPERIMENTs. */
    {"buildversion", "buildversion-exp", 0, 1, PCLN | SCAN, "go1.26.5-X:nodwarf5", NULL, NULL,
     NULL},
    /* Two release versions equally plausible: no guess. */
    {"buildversion", "buildversion-ambiguous", 0, 1, PCLN, "", NULL, NULL, NULL},
    /* Not Go: its data is never searched. */
    {"buildversion", "buildversion-notgo", 0, 0, 0, "", NULL, NULL, NULL},
    /* Sparse files claiming 2 GiB symbol and string tables, note and
     * pclntab, or 2^24 section headers: what is over a cap is not read. */
    {"sparse", "sparse", 0, 0, 0, "", NULL, NULL, NULL},
    {"sparse", "sparse-go", 0, 1, BI | PCLN, "go1.21.4", "example.com/old", "", NULL},
    {"sparse", "sparse-shnum", -EINVAL, 0, ANY, "", NULL, NULL, "section headers"},
};

/* Peak RSS growth allowed for one read: the sparse kinds took 2-3 GiB
 * before sizes were capped; a read of a small file needs well under this. */
#define READ_RSS_MAX_KIB (32 * 1024)

static void run_family(const char *family)
{
    int n = 0;

    for (size_t i = 0; i < CG_ARRAY_SIZE(kind_cases); i++) {
        const kind_case_t *c = &kind_cases[i];
        gobin_info_t g;
        char err[CG_ERR_LEN] = "";
        long rss;
        int rc;

        if (strcmp(c->family, family) != 0)
            continue;
        n++;
        rc = classify_kind(c->kind, &g, err, &rss);
        fprintf(stderr, "%s: rc %d, go %d, signals 0x%x, version '%s', rss +%ld KiB%s%s\n",
                c->kind, rc, g.is_go, g.signals, g.version, rss, err[0] ? ", " : "", err);
        if (rc != c->rc)
            TEST_FAIL("%s: rc %d, want %d (%s)", c->kind, rc, c->rc, err);
        if (c->err_has)
            ASSERT_CONTAINS(err, c->err_has);
        if (g.is_go != c->is_go)
            TEST_FAIL("%s: is_go %d, want %d", c->kind, g.is_go, c->is_go);
        if (c->signals != ANY && g.signals != (unsigned)c->signals)
            TEST_FAIL("%s: signals 0x%x, want 0x%x", c->kind, g.signals, (unsigned)c->signals);
        ASSERT_STR_EQ(g.version, c->version);
        if (c->mod_path)
            ASSERT_STR_EQ(g.mod_path, c->mod_path);
        if (c->build_id)
            ASSERT_STR_EQ(g.build_id, c->build_id);
        if (rss > READ_RSS_MAX_KIB)
            TEST_FAIL("%s: peak RSS grew by %ld KiB reading it", c->kind, rss);
    }
    ASSERT(n > 0);
}

TEST(gobin_buildinfo_formats) { run_family("buildinfo"); }
TEST(gobin_signals_without_version) { run_family("signals"); }
TEST(gobin_hostile_files_are_rejected_or_not_go) { run_family("hostile"); }
TEST(gobin_buildversion_header_without_buildinfo) { run_family("buildversion"); }
TEST(gobin_sparse_huge_sizes_are_not_read) { run_family("sparse"); }

TEST(gobin_inline_buildinfo_file_traits)
{
    gobin_info_t g;
    long rss;

    ASSERT_EQ(classify_kind("inline", &g, NULL, &rss), 0);
    ASSERT(g.is_static);
    ASSERT(g.is_stripped);
    ASSERT(!g.is_pie);
}

TEST(gobin_mem_rejects_short_and_garbage)
{
    gobin_info_t g;
    unsigned char junk[256];

    memset(junk, 0xa5, sizeof junk);
    ASSERT_EQ(gobin_read_mem(junk, 3, &g, NULL), -ENOEXEC);
    ASSERT_EQ(gobin_read_mem(junk, sizeof junk, &g, NULL), -ENOEXEC);
    memcpy(junk, "\x7f" "ELF", 4);
    ASSERT(gobin_read_mem(junk, sizeof junk, &g, NULL) < 0 || !g.is_go);
}

TEST(gobin_version_short_cuts_devel)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"devel +b7a03d8 Tue Nov 29 20:08:33 2022 +0000", "devel +b7a03d8"},
        {"go1.19.8", "go1.19.8"},
        {"devel", "devel"},
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(cases); i++) {
        char b[64];

        gobin_version_short(cases[i].in, b, sizeof b);
        ASSERT_STR_EQ(b, cases[i].want);
    }
}

/* `go version FILE`'s answer (the second word). */
static void go_version_of(const char *path, char *want, size_t size)
{
    char cmd[700];
    FILE *p;

    snprintf(cmd, sizeof cmd, "go version '%s' | awk '{print $2}'", path);
    p = popen(cmd, "r");
    ASSERT(p != NULL);
    if (fgets(want, (int)size, p) == NULL)
        TEST_FAIL("go version %s printed nothing", path);
    pclose(p);
    cg_trim(want);
}

/* Every flavour Debian's Go builds is Go, with exactly `go version`'s
 * answer; ordinary system binaries are not. */
TEST(gobin_real_fixtures_match_go_version)
{
    static const char *fx[] = {"agentfix", "agentfix-stripped", "agentfix-pie", "agentfix-static",
                               "agentfix-cgo", "agentfix-trimpath", "sleeper",
                               /* big-endian 64-bit, 32-bit: read, not run */
                               "sleeper-s390x", "sleeper-386"};
    const char *dir = getenv("FIXTURES");

    ASSERT(dir != NULL);
    for (size_t i = 0; i < CG_ARRAY_SIZE(fx); i++) {
        char path[512], want[128] = "";
        gobin_info_t g;
        int fd;

        snprintf(path, sizeof path, "%s/%s", dir, fx[i]);
        go_version_of(path, want, sizeof want);
        fd = open(path, O_RDONLY);
        ASSERT(fd >= 0);
        ASSERT_EQ(gobin_read_fd(fd, &g, NULL), 0);
        close(fd);
        ASSERT(g.is_go);
        ASSERT_STR_EQ(g.version, want);
        ASSERT(g.build_id[0] != '\0');
    }
    {
        static const char *notgo[] = {"/bin/sh", "/bin/sleep", "/bin/ls"};
        for (size_t i = 0; i < CG_ARRAY_SIZE(notgo); i++) {
            gobin_info_t g;
            int fd = open(notgo[i], O_RDONLY);
            ASSERT(fd >= 0);
            ASSERT_EQ(gobin_read_fd(fd, &g, NULL), 0);
            close(fd);
            ASSERT(!g.is_go);
        }
    }
}

/* A release binary without build info or symbols (as some Go 1.26 builds
 * are): Debian's Go builds it with -s -w, objcopy takes .go.buildinfo
 * away, and the version must still be the original's, now from
 * runtime.buildVersion's string header.  amd64 (static, PIE) and 386. */
TEST(gobin_real_fixture_without_buildinfo_keeps_version)
{
    static const char *fx[] = {"agentfix-stripped", "agentfix-pie", "sleeper-386"};
    const char *dir = getenv("FIXTURES");

    ASSERT(dir != NULL);
    for (size_t i = 0; i < CG_ARRAY_SIZE(fx); i++) {
        char path[512], copy[512], cmd[1200], want[128] = "";
        gobin_info_t g;
        int fd;

        snprintf(path, sizeof path, "%s/%s", dir, fx[i]);
        snprintf(copy, sizeof copy, "%s/gobin-nobi-%s-%d", test_tmpdir(), fx[i], (int)getpid());
        snprintf(cmd, sizeof cmd, "objcopy --strip-all --remove-section .go.buildinfo '%s' '%s'",
                 path, copy);
        if (system(cmd) != 0)
            TEST_FAIL("%s failed", cmd);
        go_version_of(path, want, sizeof want);
        ASSERT(strncmp(want, "go1.", 4) == 0);
        fd = open(copy, O_RDONLY);
        ASSERT(fd >= 0);
        ASSERT_EQ(gobin_read_fd(fd, &g, NULL), 0);
        close(fd);
        unlink(copy);
        ASSERT(g.is_go);
        ASSERT(!(g.signals & (GOBIN_SIG_BUILDINFO | GOBIN_SIG_BUILDVERSION)));
        ASSERT(g.signals & GOBIN_SIG_VERSION_SCAN);
        ASSERT_STR_EQ(g.version, want);
    }
}

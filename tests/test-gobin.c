/* test-gobin.c -- Go detection on synthetic ELF files (tests/helpers/mkelf.c)
 * and on the real fixtures built by Debian's Go */
#include "test.h"
#include "cgops/common.h"
#include "cgops/gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Write a synthetic file with mkelf and classify it. */
static int classify_kind(const char *kind, gobin_info_t *info, char *err)
{
    char path[512], cmd[1200];
    const char *build = getenv("CGOPS_BUILD");
    int fd, rc;

    snprintf(path, sizeof path, "%s/gobin-%s-%d", test_tmpdir(), kind, (int)getpid());
    snprintf(cmd, sizeof cmd, "%s/mkelf %s %s", build ? build : ".", kind, path);
    if (system(cmd) != 0)
        TEST_FAIL("mkelf %s failed", kind);
    fd = open(path, O_RDONLY);
    ASSERT(fd >= 0);
    rc = gobin_read_fd(fd, info, err);
    close(fd);
    unlink(path);
    return rc;
}

TEST(gobin_old_pointer_buildinfo)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("old", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT(g.signals & GOBIN_SIG_BUILDINFO);
    ASSERT_STR_EQ(g.version, "go1.16.15");
    ASSERT_STR_EQ(g.mod_path, "example.com/old");
}

TEST(gobin_inline_buildinfo)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("inline", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT_STR_EQ(g.version, "go1.21.4");
    ASSERT_STR_EQ(g.mod_path, "example.com/old");
    ASSERT(g.is_static);
    ASSERT(g.is_stripped);
    ASSERT(!g.is_pie);
}

TEST(gobin_pclntab_without_buildinfo_is_go_with_unknown_version)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("pclntab", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT_EQ(g.signals, GOBIN_SIG_PCLNTAB);
    ASSERT_STR_EQ(g.version, "");
}

TEST(gobin_buildid_note_only)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("note", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT_EQ(g.signals, GOBIN_SIG_BUILDID_NOTE);
    ASSERT_STR_EQ(g.build_id, "abcdefghij/klmnopqrst");
}

TEST(gobin_elf32)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("elf32", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT_STR_EQ(g.version, "go1.20.3");
}

TEST(gobin_plain_elf_is_not_go)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("plain", &g, err), 0);
    ASSERT(!g.is_go);
}

/* Hostile files: no crash, no out-of-bounds read (ASan build), and no
 * version taken from bytes that are not a valid build info. */
TEST(gobin_hostile_files_are_rejected_or_not_go)
{
    static const char *kinds[] = {"badptr", "hugelen", "varint", "sect-past-eof"};
    gobin_info_t g;

    for (size_t i = 0; i < CG_ARRAY_SIZE(kinds); i++) {
        char err[CG_ERR_LEN] = "";
        int rc = classify_kind(kinds[i], &g, err);

        if (rc == 0 && g.is_go)
            TEST_FAIL("%s classified as Go (version '%s')", kinds[i], g.version);
        ASSERT_STR_EQ(g.version, "");
    }
}

TEST(gobin_section_table_past_eof_falls_back_to_segments)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("shoff-past-eof", &g, err), 0);
    ASSERT(g.is_go);
    ASSERT_STR_EQ(g.version, "go1.21.4");
}

TEST(gobin_truncated_empty_and_script_are_errors)
{
    gobin_info_t g;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(classify_kind("truncated", &g, err), -EINVAL);
    ASSERT_CONTAINS(err, "malformed ELF");
    ASSERT_EQ(classify_kind("empty", &g, err), -ENOEXEC);
    ASSERT_STR_EQ(err, "not an ELF file");
    ASSERT_EQ(classify_kind("script", &g, err), -ENOEXEC);
    ASSERT(!g.is_go);
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
    char b[64];

    gobin_version_short("devel +b7a03d8 Tue Nov 29 20:08:33 2022 +0000", b, sizeof b);
    ASSERT_STR_EQ(b, "devel +b7a03d8");
    gobin_version_short("go1.19.8", b, sizeof b);
    ASSERT_STR_EQ(b, "go1.19.8");
    gobin_version_short("devel", b, sizeof b);
    ASSERT_STR_EQ(b, "devel");
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
        char path[512], cmd[700], want[128] = "";
        gobin_info_t g;
        FILE *p;
        int fd;

        snprintf(path, sizeof path, "%s/%s", dir, fx[i]);
        snprintf(cmd, sizeof cmd, "go version '%s' | awk '{print $2}'", path);
        p = popen(cmd, "r");
        ASSERT(p != NULL);
        if (fgets(want, sizeof want, p) == NULL)
            TEST_FAIL("go version %s printed nothing", path);
        pclose(p);
        cg_trim(want);
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

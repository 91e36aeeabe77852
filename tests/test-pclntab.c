/* test-pclntab.c -- the PC table reader against Go's own tools
 *
 * Ground truth comes from Debian's Go at run time: `go tool nm` lists the
 * functions, `go tool addr2line` (debug/gosym, an independent reader of the
 * same table) names the function and file:line at sampled PCs, and
 * `go tool objdump` shows the prologue instructions that move SP.  Inlined
 * frames are checked against the runtime's own runtime.CallersFrames, which
 * the inlfix fixture prints.  Real binaries of other Go releases come from
 * tests/fixtures/gobins.sh when it is there.
 */
#include "test.h"
#include "cgops/common.h"
#include "cgops/goexe.h"
#include "cgops/pclntab.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    goexe_t *x;
    pcln_t *p;
} bin_t;

static void bin_open(const char *path, bin_t *b)
{
    char err[CG_ERR_LEN] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        TEST_FAIL("open %s: %s", path, strerror(errno));
    if (goexe_open_fd(fd, &b->x, err) != 0)
        TEST_FAIL("goexe_open_fd %s: %s", path, err);
    close(fd);
    if (pcln_open(b->x, &b->p, err) != 0)
        TEST_FAIL("pcln_open %s: %s", path, err);
}

static void bin_close(bin_t *b)
{
    pcln_close(b->p);
    goexe_close(b->x);
}

static const char *fixture(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("FIXTURES");
    struct stat st;

    snprintf(buf, size, "%s/%s", dir ? dir : "fixtures", name);
    if (stat(buf, &st) != 0)
        TEST_FAIL("fixture %s missing (built by the fixtures_build test)", buf);
    return buf;
}

/* go tool needs a cache directory; the test environment may have no HOME. */
static void need_go(void)
{
    const char *build = getenv("CGOPS_BUILD");
    char cache[600];

    if (system("command -v go >/dev/null 2>&1") != 0)
        SKIP("go not installed: the ground truth comes from go tool addr2line");
    if (getenv("GOCACHE") == NULL && build) {
        snprintf(cache, sizeof cache, "%s/gocache", build);
        setenv("GOCACHE", cache, 1);
    }
    setenv("GOTOOLCHAIN", "local", 1);
    setenv("GOTELEMETRY", "off", 1);
}

/* ---- expectations from go tool nm + addr2line ------------------------------- */

typedef struct {
    char name[256];  /* nm's symbol */
    uint64_t addr;   /* its address */
    uint64_t pc;     /* the PC asked about */
    char func[256];  /* addr2line: function, "?" when none */
    char file[512];  /* addr2line: file, "" when none */
    int line;
} expect_t;

static void chomp(char *s)
{
    s[strcspn(s, "\r\n")] = 0;
}

/* Sample about `want` text symbols of bin and ask addr2line about three
 * PCs of each (entry, middle, last byte).  Returns the count; *out is
 * heap-owned. */
static size_t expectations(const char *bin, size_t want, expect_t **out)
{
    char cmd[1400], line[1024], pcs[600];
    expect_t *e = NULL;
    size_t n = 0, cap = 0, nsym = 0, step;
    FILE *f, *w;

    /* Count first, to spread the sample over the whole text. */
    snprintf(cmd, sizeof cmd, "go tool nm -size -sort address '%s'", bin);
    if ((f = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, sz;
        char t;

        if (sscanf(line, "%llx %llu %c", &a, &sz, &t) == 3 && (t == 'T' || t == 't') && sz > 0)
            nsym++;
    }
    ASSERT_EQ(pclose(f), 0);
    ASSERT(nsym > 100);
    step = nsym / want ? nsym / want : 1;
    snprintf(pcs, sizeof pcs, "%s/pcln-pcs-%d", test_tmpdir(), (int)getpid());
    if ((w = fopen(pcs, "w")) == NULL)
        TEST_FAIL("fopen %s", pcs);
    if ((f = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    for (size_t i = 0; fgets(line, sizeof line, f);) {
        unsigned long long a, sz;
        char t, name[256];

        if (sscanf(line, "%llx %llu %c %255s", &a, &sz, &t, name) != 4 || (t != 'T' && t != 't') ||
            sz == 0)
            continue;
        if (i++ % step != 0)
            continue;
        for (int k = 0; k < 3; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                e = cg_xrealloc(e, cap * sizeof *e);
            }
            memset(&e[n], 0, sizeof *e);
            cg_strlcpy(e[n].name, name, sizeof e[n].name);
            e[n].addr = a;
            e[n].pc = a + (k == 0 ? 0 : k == 1 ? sz / 2 : sz - 1);
            fprintf(w, "0x%" PRIx64 "\n", e[n].pc);
            n++;
        }
    }
    pclose(f);
    fclose(w);
    snprintf(cmd, sizeof cmd, "go tool addr2line '%s' < '%s'", bin, pcs);
    if ((f = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    for (size_t i = 0; i < n; i++) {
        char *colon;

        if (!fgets(line, sizeof line, f))
            TEST_FAIL("addr2line: %zu answers for %zu PCs", i, n);
        chomp(line);
        cg_strlcpy(e[i].func, line, sizeof e[i].func);
        if (!fgets(line, sizeof line, f))
            TEST_FAIL("addr2line: cut short");
        chomp(line);
        colon = strrchr(line, ':');
        ASSERT(colon != NULL);
        *colon = 0;
        cg_strlcpy(e[i].file, line, sizeof e[i].file);
        e[i].line = atoi(colon + 1);
    }
    ASSERT_EQ(pclose(f), 0);
    unlink(pcs);
    *out = e;
    return n;
}

/* The function named name in p's table, by a walk of the whole table
 * (for the stripped binary, where nm has nothing). */
static int find_by_name(const pcln_t *p, const char *name, pcln_func_t *out)
{
    int found = 0;

    for (uint32_t i = 0; i < pcln_nfunc(p); i++) {
        pcln_func_t f;

        if (pcln_func_at(p, i, &f) == 0 && strcmp(pcln_name(p, &f), name) == 0) {
            *out = f;
            found++;
        }
    }
    return found == 1 ? 0 : -ENOENT;
}

/* How check_expectations finds the PCs in p. */
enum {
    SAME_BINARY,   /* p is the binary addr2line read */
    SAME_CODE,     /* another build with the same code (-s -w): by name, same offset */
    ENTRIES_ONLY,  /* other code (PIE): by name, function entries only */
};

/* Check p against e (groups of three PCs per function, entry first). */
static void check_expectations(const pcln_t *p, const expect_t *e, size_t n, int mode)
{
    int by_name = mode != SAME_BINARY;
    int no_table = 0;

    size_t checked = 0, lines = 0;

    for (size_t i = 0; i < n; i++) {
        pcln_func_t f;
        const char *file;
        int32_t line;
        uint64_t pc = e[i].pc;
        int rc;

        /* A function without a line table (C code cgo linked in): the
         * runtime answers "?" for all its PCs, while debug/gosym decodes
         * the empty table at offset 0 and reads on into the next one, so
         * only its answer at the entry (no line) is meaningful. */
        if (e[i].pc == e[i].addr)
            no_table = e[i].file[0] == 0 || e[i].line <= 0;
        if (mode == ENTRIES_ONLY && e[i].pc != e[i].addr)
            continue;
        if (strcmp(e[i].func, "?") == 0) {
            /* Not Go code (C linked in by cgo): no function here. */
            if (!by_name)
                ASSERT_EQ(pcln_find(p, pc, &f), -ENOENT);
            continue;
        }
        if (by_name) {
            pcln_func_t g;

            /* Names the table holds twice (none expected in Go code) and
             * PCs past the function's table entry are not comparable. */
            if (strcmp(e[i].func, e[i].name) != 0 || find_by_name(p, e[i].func, &g) != 0)
                continue;
            pc = g.entry + (e[i].pc - e[i].addr);
        }
        rc = pcln_find(p, pc, &f);
        if (rc != 0)
            TEST_FAIL("pcln_find 0x%" PRIx64 " (%s): %d", pc, e[i].func, rc);
        if (strcmp(pcln_name(p, &f), e[i].func) != 0)
            TEST_FAIL("0x%" PRIx64 ": function %s, addr2line says %s", pc, pcln_name(p, &f),
                      e[i].func);
        if (strcmp(e[i].func, e[i].name) == 0 && !by_name)
            ASSERT_EQ(f.entry, e[i].addr);
        ASSERT(f.entry <= pc && pc < f.end);
        rc = pcln_fileline(p, &f, pc, &file, &line);
        if (no_table) {
            ASSERT_EQ(rc, -ENOENT);
        } else {
            if (rc != 0)
                TEST_FAIL("pcln_fileline 0x%" PRIx64 " (%s): %d", pc, e[i].func, rc);
            if (strcmp(file, e[i].file) != 0 || line != e[i].line)
                TEST_FAIL("0x%" PRIx64 " (%s): %s:%d, addr2line says %s:%d", pc, e[i].func, file,
                          (int)line, e[i].file, e[i].line);
            lines++;
        }
        checked++;
    }
    /* Most of the sample must really have been compared. */
    if (mode == ENTRIES_ONLY)
        n /= 3;
    if (checked < n / 2 || lines < n / 3)
        TEST_FAIL("only %zu of %zu PCs compared (%zu with lines)", checked, n, lines);
}

/* Check fixture name against what addr2line says of reference (itself,
 * or another build of the same program). */
static void check_fixture(const char *name, const char *reference, int mode)
{
    char path[600], ref[600];
    expect_t *e;
    size_t n;
    bin_t b;

    need_go();
    fixture(name, path, sizeof path);
    fixture(reference, ref, sizeof ref);
    n = expectations(ref, 200, &e);
    bin_open(path, &b);
    ASSERT_EQ(pcln_magic_version(b.p), 118); /* Debian's Go 1.19 */
    check_expectations(b.p, e, n, mode);
    bin_close(&b);
    free(e);
}

TEST(pclntab_addr2line_default) { check_fixture("agentfix", "agentfix", SAME_BINARY); }
TEST(pclntab_addr2line_static) { check_fixture("agentfix-static", "agentfix-static", SAME_BINARY); }
TEST(pclntab_addr2line_cgo) { check_fixture("agentfix-cgo", "agentfix-cgo", SAME_BINARY); }
TEST(pclntab_addr2line_trimpath)
{
    check_fixture("agentfix-trimpath", "agentfix-trimpath", SAME_BINARY);
}

/* Go 1.19's tools cannot read a PIE's table (.data.rel.ro.gopclntab: they
 * answer "?"), and PIE code differs from the default build's, so the
 * default build is the reference at each function's entry. */
TEST(pclntab_addr2line_pie) { check_fixture("agentfix-pie", "agentfix", ENTRIES_ONLY); }

/* -s -w: no symbols, so addr2line cannot read it; the unstripped build of
 * the same program is the reference, function by function. */
TEST(pclntab_addr2line_stripped)
{
    char path[600], twin[600];
    expect_t *e;
    size_t n;
    bin_t b;

    need_go();
    fixture("agentfix", twin, sizeof twin);
    fixture("agentfix-stripped", path, sizeof path);
    n = expectations(twin, 200, &e);
    bin_open(path, &b);
    ASSERT(!goexe_has_symtab(b.x));
    /* Found without runtime.text or go.func.*: through the moduledata. */
    ASSERT(pcln_text(b.p) != 0);
    ASSERT(pcln_gofunc(b.p) != 0);
    check_expectations(b.p, e, n, SAME_CODE);
    {
        bin_t u;

        bin_open(twin, &u);
        ASSERT_EQ(pcln_text(b.p), pcln_text(u.p));
        ASSERT_EQ(pcln_gofunc(b.p), pcln_gofunc(u.p));
        bin_close(&u);
    }
    bin_close(&b);
    free(e);
}

/* Every function of the table is found again from its own entry, and its
 * last byte; PCs just outside the table are not found. */
static void check_roundtrip(const pcln_t *p, int min_version)
{
    uint32_t n = pcln_nfunc(p), named = 0, withline = 0;
    pcln_func_t f, g, first, last;

    ASSERT(pcln_magic_version(p) >= min_version);
    ASSERT(n > 100);
    for (uint32_t i = 0; i < n; i++) {
        const char *name, *file;
        int32_t line, sp;

        ASSERT_EQ(pcln_func_at(p, i, &f), 0);
        ASSERT(f.entry <= f.end);
        if (f.entry == f.end)
            continue; /* an alias of the next one */
        ASSERT_EQ(pcln_find(p, f.entry, &g), 0);
        ASSERT_EQ(g.func_off, f.func_off);
        ASSERT_EQ(pcln_find(p, f.end - 1, &g), 0);
        ASSERT_EQ(g.func_off, f.func_off);
        name = pcln_name(p, &f);
        ASSERT(name[0] != 0);
        if (strchr(name, '.') != NULL)
            named++;
        /* Printable (UTF-8 allowed: "type..eq.T·1"). */
        for (const char *c = name; *c; c++)
            ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
        if (pcln_fileline(p, &f, f.entry, &file, &line) == 0) {
            ASSERT(line > 0);
            ASSERT(file[0] != 0);
            withline++;
        }
        /* Nothing is pushed yet at a function's first instruction. */
        if (pcln_spdelta(p, &f, f.entry, &sp) == 0)
            ASSERT_EQ(sp, 0);
    }
    ASSERT(named > n * 9 / 10);
    ASSERT(withline > n * 8 / 10);
    ASSERT_EQ(pcln_func_at(p, 0, &first), 0);
    ASSERT_EQ(pcln_func_at(p, n - 1, &last), 0);
    ASSERT_EQ(pcln_find(p, first.entry - 1, &g), -ENOENT);
    ASSERT_EQ(pcln_find(p, last.end, &g), -ENOENT);
    ASSERT_EQ(pcln_func_at(p, n, &g), -ENOENT);
}

TEST(pclntab_roundtrip_fixtures)
{
    static const char *const names[] = {"agentfix", "agentfix-stripped", "agentfix-pie",
                                        "agentfix-static", "agentfix-cgo", "agentfix-trimpath"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(names); i++) {
        char path[600];
        bin_t b;

        bin_open(fixture(names[i], path, sizeof path), &b);
        check_roundtrip(b.p, 118);
        bin_close(&b);
    }
}

/* The symbols the reader prefers over its scans are really found (the
 * symbol table's string table is its sh_link section). */
TEST(pclntab_symbols)
{
    static const char *const names[] = {"runtime.text", "runtime.pclntab", "go.func.*"};
    char path[600], cmd[700], line[512];
    uint64_t addrs[3], want[3] = {0, 0, 0};
    FILE *f;
    bin_t b;

    need_go();
    fixture("agentfix", path, sizeof path);
    snprintf(cmd, sizeof cmd, "go tool nm '%s'", path);
    if ((f = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    while (fgets(line, sizeof line, f)) {
        unsigned long long a;
        char t, name[256];

        if (sscanf(line, "%llx %c %255s", &a, &t, name) != 3)
            continue;
        for (int i = 0; i < 3; i++)
            if (strcmp(name, names[i]) == 0)
                want[i] = a;
    }
    pclose(f);
    ASSERT(want[0] && want[1] && want[2]);
    bin_open(path, &b);
    ASSERT_EQ(goexe_symbols(b.x, names, 3, addrs, NULL), 3);
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(addrs[i], want[i]);
    ASSERT_EQ(pcln_addr(b.p), want[1]);
    ASSERT_EQ(pcln_text(b.p), want[0]);
    ASSERT_EQ(pcln_gofunc(b.p), want[2]);
    bin_close(&b);
}

/* ---- frame sizes ------------------------------------------------------------ */

/* The prologue of fn as go tool objdump prints it: SP moves by 8 at a
 * PUSHQ and by N at SUBQ $N, SP.  The pcsp value at each instruction up to
 * the one after the SUBQ is the sum of the moves before it. */
static int check_prologue(const char *bin, const pcln_t *p, const char *fn)
{
    char cmd[1200], line[1024];
    int32_t want = 0;
    int checked = 0, done = 0, framed = 0;
    pcln_func_t f;
    FILE *o;

    snprintf(cmd, sizeof cmd, "go tool objdump -s '^%s$' '%s'", fn, bin);
    if ((o = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    while (fgets(line, sizeof line, o)) {
        unsigned long long pc;
        char loc[256], hex[64], insn[512];
        int32_t sp;
        unsigned long long n;

        if (done || sscanf(line, " %255s 0x%llx %63s %511[^\n]", loc, &pc, hex, insn) != 4)
            continue;
        if (pcln_find(p, pc, &f) != 0 || strcmp(pcln_name(p, &f), fn) != 0)
            TEST_FAIL("%s: 0x%llx not found in the table", fn, pc);
        ASSERT_EQ(pcln_spdelta(p, &f, pc, &sp), 0);
        if (sp != want)
            TEST_FAIL("%s+0x%llx (%s): spdelta %d, objdump's prologue says %d", fn,
                      pc - f.entry, insn, (int)sp, (int)want);
        checked++;
        /* The instruction after the SUBQ is the last one checked. */
        if (framed)
            done = 1;
        else if (strncmp(insn, "PUSHQ BP", 8) == 0)
            want += 8;
        else if (sscanf(insn, "SUBQ $0x%llx, SP", &n) == 1) {
            want += (int32_t)n;
            framed = 1;
        }
    }
    pclose(o);
    return framed && checked >= 2;
}

TEST(pclntab_spdelta_prologue)
{
    static const char *const fns[] = {"main.main", "runtime.gopark", "runtime.chanrecv",
                                      "runtime.mallocgc", "runtime.schedule", "fmt.Fprintf"};
    static const char *const bins[] = {"agentfix", "agentfix-pie", "agentfix-cgo"};

    need_go();
    for (size_t b = 0; b < CG_ARRAY_SIZE(bins); b++) {
        char path[600];
        int framed = 0;
        bin_t x;

        bin_open(fixture(bins[b], path, sizeof path), &x);
        for (size_t i = 0; i < CG_ARRAY_SIZE(fns); i++)
            framed += check_prologue(path, x.p, fns[i]);
        /* Every one of these has a frame. */
        ASSERT_EQ(framed, (int)CG_ARRAY_SIZE(fns));
        bin_close(&x);
    }
}

/* ---- inlined frames ---------------------------------------------------------- */

/* inlfix prints a return PC inside two inlined calls and the frames the
 * runtime's CallersFrames makes of its stack, up to the physical caller.
 * It is a stripped, externally linked PIE: no symbols and no section of
 * its own for the table, which is found by the scan, the text start by its
 * header and the funcdata base through the moduledata. */
TEST(pclntab_frames_inlined)
{
    char path[600], cmd[700], line[1024];
    pcln_frame_t want[8], got[8];
    char names[8][256], files[8][512];
    unsigned long long pc = 0, entry = 0;
    goexe_range_t r;
    int nwant = 0, n;
    FILE *f;
    bin_t b;

    fixture("inlfix", path, sizeof path);
    snprintf(cmd, sizeof cmd, "'%s'", path);
    if ((f = popen(cmd, "r")) == NULL)
        TEST_FAIL("popen %s", cmd);
    while (fgets(line, sizeof line, f)) {
        int ln;

        if (sscanf(line, "pc %llx", &pc) == 1 || sscanf(line, "entry %llx", &entry) == 1)
            continue;
        if (nwant < 8 && sscanf(line, "frame %255s %511s %d", names[nwant], files[nwant], &ln) == 3) {
            want[nwant] = (pcln_frame_t){names[nwant], files[nwant], ln, 0};
            nwant++;
        }
    }
    ASSERT_EQ(pclose(f), 0);
    /* The fixture's own claim: two calls inlined into main.outer. */
    ASSERT_EQ(nwant, 3);
    ASSERT_STR_EQ(want[0].function, "main.inner");
    ASSERT_STR_EQ(want[2].function, "main.outer");

    bin_open(path, &b);
    ASSERT(!goexe_has_symtab(b.x));
    ASSERT(goexe_section(b.x, ".gopclntab", &r) != 0);
    ASSERT(goexe_section(b.x, ".data.rel.ro.gopclntab", &r) != 0);
    ASSERT(pcln_gofunc(b.p) != 0);
    /* Back to link-time addresses: subtract the load bias. */
    ASSERT(entry != 0 && pc > entry);
    pc -= entry - goexe_entry(b.x);
    n = pcln_frames(b.p, pc - 1, got, 8);
    ASSERT_EQ(n, nwant);
    for (int i = 0; i < n; i++) {
        ASSERT_STR_EQ(got[i].function, want[i].function);
        ASSERT_STR_EQ(got[i].file, want[i].file);
        ASSERT_EQ(got[i].line, want[i].line);
        ASSERT_EQ(got[i].inlined, i < n - 1);
    }
    /* Too little room: the innermost call, then always the physical
     * frame at its own call site. */
    ASSERT_EQ(pcln_frames(b.p, pc - 1, got, 2), 2);
    ASSERT_STR_EQ(got[0].function, "main.inner");
    ASSERT_STR_EQ(got[1].function, "main.outer");
    ASSERT_EQ(got[1].line, want[2].line);
    ASSERT_EQ(got[1].inlined, 0);
    ASSERT_EQ(pcln_frames(b.p, pc - 1, got, 1), 1);
    ASSERT_STR_EQ(got[0].function, "main.outer");
    ASSERT_EQ(got[0].line, want[2].line);
    ASSERT_EQ(pcln_frames(b.p, pc - 1, got, 0), -EINVAL);
    /* Without the funcdata base there is no inline tree: the physical
     * frame alone, at the innermost position. */
    pcln_set_gofunc(b.p, 0);
    ASSERT_EQ(pcln_frames(b.p, pc - 1, got, 8), 1);
    ASSERT_STR_EQ(got[0].function, "main.outer");
    ASSERT_EQ(got[0].line, want[0].line);
    bin_close(&b);
}

/* ---- other Go releases ------------------------------------------------------ */

/* The binary gobins.sh fetched for release `go`, or NULL when the script
 * is not there or cannot fetch it. */
static const char *gobin(const char *go, char *buf, size_t size)
{
    const char *src = getenv("CGOPS_SRC");
    char cmd[800];
    struct stat st;
    FILE *f;

    snprintf(cmd, sizeof cmd, "%s/tests/fixtures/gobins.sh", src ? src : ".");
    if (stat(cmd, &st) != 0)
        return NULL;
    snprintf(cmd, sizeof cmd, "sh '%s/tests/fixtures/gobins.sh' %s 2>/dev/null", src ? src : ".",
             go);
    if ((f = popen(cmd, "r")) == NULL)
        return NULL;
    if (!fgets(buf, (int)size, f))
        buf[0] = 0;
    pclose(f);
    chomp(buf);
    return buf[0] && stat(buf, &st) == 0 ? buf : NULL;
}

TEST(pclntab_other_releases)
{
    static const struct {
        const char *go;
        int version;
    } rel[] = {{"go1.16", 116}, {"go1.17", 116}, {"go1.20", 120}, {"go1.23", 120}, {"go1.26", 120}};
    int seen = 0;

    for (size_t i = 0; i < CG_ARRAY_SIZE(rel); i++) {
        char path[600];
        pcln_func_t f;
        bin_t b;

        if (gobin(rel[i].go, path, sizeof path) == NULL)
            continue;
        bin_open(path, &b);
        ASSERT_EQ(pcln_magic_version(b.p), rel[i].version);
        /* 1.18+ needs the text start: from the header, or for 1.26 (whose
         * header has 0) from .go.module. */
        if (rel[i].version != 116)
            ASSERT(pcln_text(b.p) != 0);
        check_roundtrip(b.p, rel[i].version);
        ASSERT_EQ(find_by_name(b.p, "runtime.goexit", &f), 0);
        ASSERT_EQ(find_by_name(b.p, "main.main", &f), 0);
        bin_close(&b);
        seen++;
    }
    if (seen == 0)
        SKIP("no binaries of other Go releases (tests/fixtures/gobins.sh)");
}

/* ---- hostile and odd input ------------------------------------------------- */

TEST(pclntab_not_found)
{
    char path[600], err[CG_ERR_LEN] = "";
    goexe_t *x;
    pcln_t *p;
    int fd;

    fd = open(fixture("csleeper", path, sizeof path), O_RDONLY);
    ASSERT(fd >= 0);
    ASSERT_EQ(goexe_open_fd(fd, &x, err), 0);
    close(fd);
    ASSERT_EQ(pcln_open(x, &p, err), -ENOENT);
    ASSERT(err[0] != 0);
    goexe_close(x);
}

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
#include "synelf.h"
#include "cgops/common.h"
#include "cgops/goexe.h"
#include "cgops/pclntab.h"

#include <elf.h>
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

/* ---- synthetic tables: every answer known by construction ------------------- */

typedef struct {
    uint8_t b[4096];
    size_t n;
} buf_t;

static size_t put(buf_t *w, const void *p, size_t n)
{
    size_t at = w->n;

    ASSERT(w->n + n <= sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
    return at;
}

static size_t put_le(buf_t *w, uint64_t v, int n)
{
    uint8_t b[8];

    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return put(w, b, (size_t)n);
}

static void align(buf_t *w, size_t a)
{
    while (w->n % a)
        put_le(w, 0, 1);
}

static void put_uvarint(buf_t *w, uint32_t v)
{
    while (v >= 0x80) {
        put_le(w, (v & 0x7f) | 0x80, 1);
        v >>= 7;
    }
    put_le(w, v, 1);
}

/* A pc-value table: n pairs (value, up-to pc offset), as the linker
 * encodes it (value deltas from -1, zig-zag; pc deltas). */
static uint32_t put_pcvalue(buf_t *w, size_t pctab, const int32_t *val, const uint32_t *upto, int n)
{
    size_t at = w->n;
    int32_t prev = -1;
    uint32_t pc = 0;

    for (int i = 0; i < n; i++) {
        int32_t d = val[i] - prev;

        put_uvarint(w, d < 0 ? ((uint32_t)~d << 1) | 1 : (uint32_t)d << 1);
        put_uvarint(w, upto[i] - pc);
        prev = val[i];
        pc = upto[i];
    }
    put_le(w, 0, 1);
    return (uint32_t)(at - pctab);
}

/* Write into w a table in the format of `version` (116, 118, 120; 115 for
 * Go 1.2-1.15's magic) with two functions:
 *   main.f [SYNELF_TEXT, +0x40): sp 0 / 8 from +4 / 0 from +0x3c; file a.go;
 *     line 10, 11 from +0x10, 12 from +0x20; main.g inlined at
 *     [+0x10, +0x20) with its call site at +0x08 (line 10); funcID 7.
 *   main.h [+0x40, +0x60): no tables at all.
 * text: the header's textStart (1.18+).  The funcdata base for 1.18+ is
 * the table's own address (SYNELF_BASE + SYNELF_TABLE). */
static void make_table(buf_t *w, int version, uint64_t text)
{
    size_t hdr, names, cutab, files, pctab, pcln, f0, f1, tree, off[5];
    size_t nw = version == 116 ? 7 : 8, hsize = 8 + 8 * nw;
    uint32_t sp, fl, ln, inl, n_f, n_g, n_h;
    uint64_t gofunc_off;
    static const int32_t spv[] = {0, 8, 0}, flv[] = {0}, lnv[] = {10, 11, 12}, inv[] = {-1, 0, -1};
    static const uint32_t spu[] = {4, 0x3c, 0x40}, flu[] = {0x40}, lnu[] = {0x10, 0x20, 0x40},
                          inu[] = {0x10, 0x20, 0x40};
    uint32_t magic = version == 116 ? 0xfffffffa : version == 118 ? 0xfffffff0
                   : version == 120 ? 0xfffffff1 : 0xfffffffb;

    memset(w, 0, sizeof *w);
    hdr = put_le(w, magic, 4);
    put_le(w, 0, 2);
    put_le(w, 1, 1); /* quantum */
    put_le(w, 8, 1); /* pointer size */
    for (size_t i = 0; i < nw; i++)
        put_le(w, 0, 8); /* filled below */
    names = w->n;
    n_f = (uint32_t)(put(w, "main.f", 7) - names);
    n_g = (uint32_t)(put(w, "main.g", 7) - names);
    n_h = (uint32_t)(put(w, "main.h", 7) - names);
    align(w, 4);
    cutab = put_le(w, 2, 4); /* CU 0, file 0: "a.go" at filetab + 2 */
    files = put(w, "x\0a.go", 7);
    pctab = put_le(w, 0, 1); /* offset 0: no table */
    sp = put_pcvalue(w, pctab, spv, spu, 3);
    fl = put_pcvalue(w, pctab, flv, flu, 1);
    ln = put_pcvalue(w, pctab, lnv, lnu, 3);
    inl = put_pcvalue(w, pctab, inv, inu, 3);
    align(w, 8);
    pcln = w->n;
    /* Function table: 2 functions + the end; funcoffs patched below. */
    for (int i = 0; i < 3; i++) {
        uint64_t entry = version == 116 ? SYNELF_TEXT + 0x20u * (i ? i + 1 : 0) : 0x20u * (i ? i + 1 : 0);

        put_le(w, entry, version == 116 ? 8 : 4);
        put_le(w, 0, version == 116 ? 8 : 4);
    }
    /* _func of main.f */
    align(w, 8);
    f0 = w->n;
    put_le(w, version == 116 ? SYNELF_TEXT : 0, version == 116 ? 8 : 4);
    put_le(w, n_f, 4);
    put_le(w, 0, 4);        /* args */
    put_le(w, 0, 4);        /* deferreturn */
    put_le(w, sp, 4);
    put_le(w, fl, 4);
    put_le(w, ln, 4);
    put_le(w, 3, 4);        /* npcdata */
    put_le(w, 0, 4);        /* cuOffset */
    if (version == 120)
        put_le(w, 9, 4);    /* startLine */
    put_le(w, 7, 1);        /* funcID */
    put_le(w, 0, 2);
    put_le(w, 4, 1);        /* nfuncdata */
    put_le(w, 0, 4);        /* pcdata 0, 1: none */
    put_le(w, 0, 4);
    put_le(w, inl, 4);      /* pcdata 2: inline tree index */
    if (version == 116) {
        align(w, 8);        /* the record starts 8-aligned, like its address */
        for (int i = 0; i < 3; i++)
            put_le(w, 0, 8);
        tree = put_le(w, 0, 8); /* patched: absolute address */
    } else {
        for (int i = 0; i < 3; i++)
            put_le(w, 0xffffffffu, 4);
        tree = put_le(w, 0, 4); /* patched: offset from the funcdata base */
    }
    /* _func of main.h: no tables, no pcdata, no funcdata */
    align(w, 8);
    f1 = w->n;
    put_le(w, version == 116 ? SYNELF_TEXT + 0x40 : 0x40, version == 116 ? 8 : 4);
    put_le(w, n_h, 4);
    for (int i = 0; i < 7; i++)
        put_le(w, 0, 4);
    if (version == 120)
        put_le(w, 0, 4);
    put_le(w, 0, 4);
    /* The inline tree: one call, main.g, call site at +0x08. */
    align(w, 8);
    gofunc_off = w->n;
    if (version == 120) {
        size_t e = put_le(w, 0, 4); /* funcID, pad */
        put_le(w, n_g, 4);
        put_le(w, 0x08, 4);
        put_le(w, 20, 4);           /* startLine */
        (void)e;
    } else {
        put_le(w, 0xffff, 2);       /* parent: none */
        put_le(w, 0, 2);
        put_le(w, 0, 4);            /* file */
        put_le(w, 11, 4);           /* line */
        put_le(w, n_g, 4);
        put_le(w, 0x08, 4);
    }
    /* Patch the function table and the tree pointer. */
    if (version == 116) {
        memcpy(w->b + pcln + 8, &(uint64_t){f0 - pcln}, 8);
        memcpy(w->b + pcln + 24, &(uint64_t){f1 - pcln}, 8);
        memcpy(w->b + tree, &(uint64_t){SYNELF_BASE + SYNELF_TABLE + gofunc_off}, 8);
    } else {
        memcpy(w->b + pcln + 4, &(uint32_t){(uint32_t)(f0 - pcln)}, 4);
        memcpy(w->b + pcln + 12, &(uint32_t){(uint32_t)(f1 - pcln)}, 4);
        /* The funcdata base is the table's start (as in fuzz-pclntab.c). */
        memcpy(w->b + tree, &(uint32_t){(uint32_t)gofunc_off}, 4);
    }
    off[0] = names, off[1] = cutab, off[2] = files, off[3] = pctab, off[4] = pcln;
    {
        uint64_t words[8] = {2, 1};
        size_t k = 2;

        if (version != 116)
            words[k++] = text;
        for (int i = 0; i < 5; i++)
            words[k++] = off[i] - hdr;
        memcpy(w->b + hdr + 8, words, 8 * nw);
    }
    ASSERT(hsize == names);
}

/* The ELF image around a table (synelf.h).  Returns the image size. */
static size_t make_elf(uint8_t *img, size_t cap, const uint8_t *table, size_t n, int with_section)
{
    size_t size = synelf_pclntab_size(n, with_section);

    ASSERT(size <= cap);
    memset(img, 0, size);
    synelf_pclntab(img, table, n, with_section);
    return size;
}

/* Open the synthetic table of `version`; the caller closes both. */
static int syn_open(int version, int with_section, uint8_t *img, size_t cap, goexe_t **x,
                    pcln_t **p, char *err)
{
    buf_t w;
    size_t size;
    int rc;

    make_table(&w, version, SYNELF_TEXT);
    size = make_elf(img, cap, w.b, w.n, with_section);
    ASSERT_EQ(goexe_open_mem(img, size, x, err), 0);
    if ((rc = pcln_open(*x, p, err)) == 0 && version != 116)
        pcln_set_gofunc(*p, SYNELF_BASE + SYNELF_TABLE);
    if (rc != 0)
        goexe_close(*x);
    return rc;
}

static void check_synthetic(int version, int with_section)
{
    static uint8_t img[8192];
    char err[CG_ERR_LEN] = "";
    goexe_t *x;
    pcln_t *p;
    pcln_func_t f, h;
    pcln_frame_t fr[4];
    const char *file;
    int32_t v, line;

    ASSERT_EQ(syn_open(version, with_section, img, sizeof img, &x, &p, err), 0);
    ASSERT_EQ(pcln_magic_version(p), version);
    ASSERT_EQ(pcln_addr(p), SYNELF_BASE + SYNELF_TABLE);
    ASSERT_EQ(pcln_nfunc(p), 2);
    /* Lookup. */
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT - 1, &f), -ENOENT);
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT + 0x60, &f), -ENOENT);
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT + 0x3f, &f), 0);
    ASSERT_EQ(f.entry, SYNELF_TEXT);
    ASSERT_EQ(f.end, SYNELF_TEXT + 0x40);
    ASSERT_STR_EQ(pcln_name(p, &f), "main.f");
    ASSERT_EQ(pcln_funcid(p, &f), 7);
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT + 0x40, &h), 0);
    ASSERT_STR_EQ(pcln_name(p, &h), "main.h");
    ASSERT_EQ(h.end, SYNELF_TEXT + 0x60);
    /* pcsp: 0, 8 from +4, 0 from +0x3c. */
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT, &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT + 3, &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT + 4, &v), 0);
    ASSERT_EQ(v, 8);
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT + 0x3b, &v), 0);
    ASSERT_EQ(v, 8);
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT + 0x3c, &v), 0);
    ASSERT_EQ(v, 0);
    ASSERT_EQ(pcln_spdelta(p, &f, SYNELF_TEXT + 0x40, &v), -ENOENT); /* not in f */
    /* Lines. */
    ASSERT_EQ(pcln_fileline(p, &f, SYNELF_TEXT + 0x0f, &file, &line), 0);
    ASSERT_STR_EQ(file, "a.go");
    ASSERT_EQ(line, 10);
    ASSERT_EQ(pcln_fileline(p, &f, SYNELF_TEXT + 0x10, &file, &line), 0);
    ASSERT_EQ(line, 11);
    ASSERT_EQ(pcln_fileline(p, &f, SYNELF_TEXT + 0x3f, &file, &line), 0);
    ASSERT_EQ(line, 12);
    /* main.h has no tables. */
    ASSERT_EQ(pcln_spdelta(p, &h, SYNELF_TEXT + 0x40, &v), -ENOENT);
    ASSERT_EQ(pcln_fileline(p, &h, SYNELF_TEXT + 0x40, &file, &line), -ENOENT);
    ASSERT_EQ(pcln_pcdata(p, &h, PCLN_PCDATA_INLTREEINDEX, SYNELF_TEXT + 0x40, &v), 0);
    ASSERT_EQ(v, -1);
    ASSERT_EQ(pcln_frames(p, SYNELF_TEXT + 0x41, fr, 4), 1);
    ASSERT_STR_EQ(fr[0].function, "main.h");
    ASSERT_STR_EQ(fr[0].file, "?");
    /* Inlining: main.g inside main.f at [+0x10, +0x20). */
    ASSERT_EQ(pcln_frames(p, SYNELF_TEXT + 0x0f, fr, 4), 1);
    ASSERT_EQ(fr[0].line, 10);
    ASSERT_EQ(pcln_frames(p, SYNELF_TEXT + 0x18, fr, 4), 2);
    ASSERT_STR_EQ(fr[0].function, "main.g");
    ASSERT_STR_EQ(fr[0].file, "a.go");
    ASSERT_EQ(fr[0].line, 11);
    ASSERT_EQ(fr[0].inlined, 1);
    ASSERT_STR_EQ(fr[1].function, "main.f");
    ASSERT_EQ(fr[1].line, 10); /* the call site, at +0x08 */
    ASSERT_EQ(fr[1].inlined, 0);
    ASSERT_EQ(pcln_frames(p, SYNELF_TEXT + 0x20, fr, 4), 1);
    ASSERT_EQ(fr[0].line, 12);
    ASSERT_EQ(pcln_frames(p, SYNELF_TEXT + 0x60, fr, 4), -ENOENT);
    pcln_close(p);
    goexe_close(x);
}

TEST(pclntab_synthetic_go116) { check_synthetic(116, 1); }
TEST(pclntab_synthetic_go118) { check_synthetic(118, 1); }
TEST(pclntab_synthetic_go120) { check_synthetic(120, 1); }

/* Without a section the table is found by the scan of the segments. */
TEST(pclntab_synthetic_scan)
{
    check_synthetic(116, 0);
    check_synthetic(118, 0);
    check_synthetic(120, 0);
}

/* Go 1.26 writes textStart 0: nothing is found until the caller says. */
TEST(pclntab_text_unknown)
{
    static uint8_t img[8192];
    char err[CG_ERR_LEN] = "";
    buf_t w;
    goexe_t *x;
    pcln_t *p;
    pcln_func_t f;
    size_t size;

    make_table(&w, 120, 0);
    size = make_elf(img, sizeof img, w.b, w.n, 1);
    ASSERT_EQ(goexe_open_mem(img, size, &x, err), 0);
    ASSERT_EQ(pcln_open(x, &p, err), 0);
    ASSERT_EQ(pcln_text(p), 0);
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT, &f), -ENOENT);
    ASSERT_EQ(pcln_func_at(p, 0, &f), -ENOENT);
    pcln_set_text(p, SYNELF_TEXT);
    ASSERT_EQ(pcln_find(p, SYNELF_TEXT + 0x41, &f), 0);
    ASSERT_STR_EQ(pcln_name(p, &f), "main.h");
    pcln_close(p);
    goexe_close(x);
}

/* Go 1.2-1.15 tables are refused by name, in a section or found by scan. */
TEST(pclntab_go115_refused)
{
    static uint8_t img[8192];
    char err[CG_ERR_LEN] = "";
    goexe_t *x;
    pcln_t *p;

    for (int sec = 0; sec < 2; sec++) {
        err[0] = 0;
        ASSERT_EQ(syn_open(115, sec, img, sizeof img, &x, &p, err), -ENOTSUP);
        ASSERT_CONTAINS(err, "Go 1.15 and older not supported");
    }
}

/* Every prefix of the table, and every byte of it inverted in turn: no
 * read outside the image (ASan), every string NUL-terminated, frames
 * always end with the physical one. */
TEST(pclntab_synthetic_hostile)
{
    static uint8_t img[8192];
    static const int versions[] = {116, 118, 120};

    for (size_t vi = 0; vi < CG_ARRAY_SIZE(versions); vi++) {
        buf_t w;

        make_table(&w, versions[vi], SYNELF_TEXT);
        for (size_t cut = 0; cut <= 2 * w.n; cut++) {
            buf_t m = w;
            size_t n = cut <= w.n ? cut : w.n;
            char err[CG_ERR_LEN];
            goexe_t *x;
            pcln_t *p;
            size_t size;

            if (cut > w.n)
                m.b[cut - w.n - 1] ^= 0xff;
            size = make_elf(img, sizeof img, m.b, n, 1);
            ASSERT_EQ(goexe_open_mem(img, size, &x, err), 0);
            if (pcln_open(x, &p, err) == 0) {
                if (versions[vi] != 116)
                    pcln_set_gofunc(p, SYNELF_BASE + SYNELF_TABLE);
                for (uint64_t pc = SYNELF_TEXT - 1; pc <= SYNELF_TEXT + 0x61; pc++) {
                    pcln_frame_t fr[3];
                    pcln_func_t f;
                    const char *file;
                    int32_t v, line;
                    int k;

                    if (pcln_find(p, pc, &f) == 0) {
                        ASSERT(strlen(pcln_name(p, &f)) < sizeof m.b);
                        pcln_funcid(p, &f);
                        pcln_spdelta(p, &f, pc, &v);
                        if (pcln_fileline(p, &f, pc, &file, &line) == 0)
                            ASSERT(strlen(file) < sizeof m.b);
                        pcln_pcdata(p, &f, 2, pc, &v);
                    }
                    k = pcln_frames(p, pc, fr, 3);
                    if (k > 0) {
                        ASSERT(k <= 3);
                        ASSERT_EQ(fr[k - 1].inlined, 0);
                        for (int i = 0; i < k; i++)
                            ASSERT(strlen(fr[i].function) + strlen(fr[i].file) < 2 * sizeof m.b);
                    }
                }
                pcln_close(p);
            }
            goexe_close(x);
        }
    }
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

/* Without ground truth for these: the logical frames at PCs all over the
 * text look like frames, and inlined calls are found (the inline tree of
 * the release's layout was read: pointers in 1.16-1.17, offsets from the
 * funcdata base since). */
static void check_frames_sane(const pcln_t *p)
{
    uint32_t inlined = 0;

    if (pcln_magic_version(p) != 116)
        ASSERT(pcln_gofunc(p) != 0);
    for (uint32_t i = 0; i < pcln_nfunc(p); i += 7) {
        pcln_func_t f;

        ASSERT_EQ(pcln_func_at(p, i, &f), 0);
        for (uint64_t pc = f.entry; pc < f.end; pc += 5) {
            pcln_frame_t fr[16];
            int n = pcln_frames(p, pc, fr, 16);

            ASSERT(n >= 1);
            ASSERT_STR_EQ(fr[n - 1].function, pcln_name(p, &f));
            for (int k = 0; k < n - 1; k++) {
                ASSERT_EQ(fr[k].inlined, 1);
                ASSERT(strchr(fr[k].function, '.') != NULL);
                ASSERT(strcmp(fr[k].file, "?") != 0);
                ASSERT(fr[k].line > 0);
                inlined++;
            }
        }
    }
    ASSERT(inlined > 1000);
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
        check_frames_sane(b.p);
        /* The text start is right: the ELF entry point (these are linked by
         * Go itself) is the entry of the runtime's _rt0 function. */
        ASSERT_EQ(pcln_find(b.p, goexe_entry(b.x), &f), 0);
        ASSERT_STR_EQ(pcln_name(b.p, &f), "_rt0_amd64_linux");
        ASSERT_EQ(f.entry, goexe_entry(b.x));
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

/* test-gotype.c -- module data and struct layouts read from Go executables,
 * compared with what libelf's symbol table and libdw's DWARF say about the
 * same binaries (the fixtures built by Debian's Go), and checked for sanity
 * on real binaries of other Go releases (tests/fixtures/gobins.sh). */
#include "test.h"
#include "synelf.h"
#include "cgops/common.h"
#include "cgops/godwarf.h"
#include "cgops/goexe.h"
#include "cgops/gotype.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const variants[] = {"agentfix",     "agentfix-stripped", "agentfix-pie",
                                       "agentfix-static", "agentfix-cgo",  "agentfix-trimpath"};

static void fixture_path(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("FIXTURES");

    if (dir == NULL)
        SKIP("FIXTURES not set");
    snprintf(buf, len, "%s/%s", dir, name);
    if (access(buf, R_OK) != 0)
        SKIP("fixture %s not built", buf);
}

static goexe_t *open_exe(const char *path, int *fdp)
{
    char err[CG_ERR_LEN];
    goexe_t *x;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        TEST_FAIL("open %s: %s", path, strerror(errno));
    if (goexe_open_fd(fd, &x, err) != 0)
        TEST_FAIL("goexe_open_fd %s: %s", path, err);
    if (fdp)
        *fdp = fd;
    else
        close(fd);
    return x;
}

/* Ground truth from libelf, independent of goexe: a symbol's value. */
static uint64_t elf_symbol(const char *path, const char *name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf *e;
    Elf_Scn *scn = NULL;
    uint64_t v = 0;

    ASSERT(fd >= 0);
    elf_version(EV_CURRENT);
    e = elf_begin(fd, ELF_C_READ, NULL);
    ASSERT(e != NULL);
    while (v == 0 && (scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        Elf_Data *d;

        if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_SYMTAB)
            continue;
        d = elf_getdata(scn, NULL);
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym s;
            const char *n;

            if (gelf_getsym(d, (int)i, &s) == NULL)
                continue;
            n = elf_strptr(e, sh.sh_link, s.st_name);
            if (n && strcmp(n, name) == 0) {
                v = s.st_value;
                break;
            }
        }
    }
    elf_end(e);
    close(fd);
    return v;
}

/* The pclntab's address from the section headers (-s -w keeps them). */
static uint64_t pclntab_addr(const goexe_t *x)
{
    goexe_range_t r;

    if (goexe_section(x, ".gopclntab", &r) == 0 ||
        goexe_section(x, ".data.rel.ro.gopclntab", &r) == 0)
        return r.addr;
    TEST_FAIL("no pclntab section");
}

static void find_mod(const goexe_t *x, int minor, gomod_t *m)
{
    char err[CG_ERR_LEN];
    int rc = gomod_find(x, pclntab_addr(x), minor, m, err);

    if (rc != 0)
        TEST_FAIL("gomod_find(minor %d): %d %s", minor, rc, err);
}

static gotypes_t *open_types(const goexe_t *x, const gomod_t *m)
{
    char err[CG_ERR_LEN];
    gotypes_t *t;

    if (gotypes_open(x, m, &t, err) != 0)
        TEST_FAIL("gotypes_open: %s", err);
    return t;
}

/* goexe_symbols used to pair .symtab with the section after its string
 * table (an index off by one), so no symbol was ever found. */
TEST(gotype_goexe_symbols)
{
    static const char *const names[] = {"runtime.firstmoduledata", "runtime.types",
                                        "runtime.pclntab", "runtime.etext"};
    char path[512];
    uint64_t addrs[4];
    goexe_t *x;

    fixture_path("agentfix", path, sizeof path);
    x = open_exe(path, NULL);
    ASSERT_EQ(goexe_symbols(x, names, 4, addrs, NULL), 4);
    for (int i = 0; i < 4; i++) {
        ASSERT(addrs[i] != 0);
        ASSERT_EQ(addrs[i], elf_symbol(path, names[i]));
    }
    goexe_close(x);
}

/* The module data of every build flavour: by symbol where there is one
 * (compared with libelf's symbols), by the pclntab scan in -s -w. */
TEST(gotype_moduledata_fixtures)
{
    for (size_t i = 0; i < CG_ARRAY_SIZE(variants); i++) {
        char path[512];
        goexe_t *x;
        gomod_t m, m0, wrong;
        goexe_range_t tl;

        fixture_path(variants[i], path, sizeof path);
        x = open_exe(path, NULL);
        find_mod(x, 19, &m);
        find_mod(x, 0, &m0); /* version unknown: every layout tried */
        ASSERT(memcmp(&m, &m0, sizeof m) == 0);
        /* A wrong version string still lands on the right layout: the
         * runtime.moduledata descriptor rejects the 1.16 and 1.20 rows. */
        find_mod(x, 16, &wrong);
        ASSERT(memcmp(&m, &wrong, sizeof m) == 0);
        find_mod(x, 20, &wrong);
        ASSERT(memcmp(&m, &wrong, sizeof m) == 0);
        /* Go 1.18+ has rodata and gofunc. */
        ASSERT(m.rodata != 0 && m.gofunc != 0);
        /* typelinks is the .typelink section, whatever the flavour. */
        ASSERT(goexe_section(x, ".typelink", &tl) == 0 ||
               goexe_section(x, ".data.rel.ro.typelink", &tl) == 0);
        ASSERT_EQ(m.typelinks, tl.addr);
        ASSERT_EQ(m.ntypelinks, tl.size / 4);
        if (goexe_has_symtab(x)) {
            ASSERT_EQ(m.addr, elf_symbol(path, "runtime.firstmoduledata"));
            ASSERT_EQ(m.types, elf_symbol(path, "runtime.types"));
            ASSERT_EQ(m.etypes, elf_symbol(path, "runtime.etypes"));
            ASSERT_EQ(m.text, elf_symbol(path, "runtime.text"));
            ASSERT_EQ(m.etext, elf_symbol(path, "runtime.etext"));
            ASSERT_EQ(m.noptrdata, elf_symbol(path, "runtime.noptrdata"));
            ASSERT_EQ(m.edata, elf_symbol(path, "runtime.edata"));
            ASSERT_EQ(m.ebss, elf_symbol(path, "runtime.ebss"));
            ASSERT_EQ(m.enoptrbss, elf_symbol(path, "runtime.enoptrbss"));
        }
        goexe_close(x);
    }
}

/* ---- DWARF ground truth (libdw, in the test) ----------------------------- */

/* The DIE of the struct type named name, searched in every unit. */
static int dwarf_struct(Dwarf *dw, const char *name, Dwarf_Die *out)
{
    Dwarf_Off off = 0, next;
    size_t hsize;

    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, child;

        if (dwarf_offdie(dw, off + hsize, &cu) != NULL && dwarf_child(&cu, &child) == 0) {
            do {
                const char *n;

                if (dwarf_tag(&child) == DW_TAG_structure_type &&
                    (n = dwarf_diename(&child)) != NULL && strcmp(n, name) == 0 &&
                    dwarf_hasattr(&child, DW_AT_byte_size)) {
                    *out = child;
                    return 0;
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        off = next;
    }
    return -1;
}

static uint64_t die_size(Dwarf_Die *d)
{
    Dwarf_Word sz;

    if (dwarf_aggregate_size(d, &sz) != 0)
        TEST_FAIL("no size for %s", dwarf_diename(d) ? dwarf_diename(d) : "?");
    return sz;
}

/* Compare every member DWARF lists for the struct with gotypes_field, and
 * the struct's size; returns how many fields were compared. */
static int compare_struct(Dwarf *dw, const gotypes_t *t, const char *type)
{
    Dwarf_Die st, mem;
    int n = 0;

    if (dwarf_struct(dw, type, &st) != 0)
        TEST_FAIL("DWARF has no %s", type);
    ASSERT_EQ(gotypes_size(t, type), die_size(&st));
    if (dwarf_child(&st, &mem) != 0)
        return 0;
    do {
        Dwarf_Attribute a;
        Dwarf_Word loc;
        Dwarf_Die ty;
        gofield_t f;
        const char *name = dwarf_diename(&mem);

        if (dwarf_tag(&mem) != DW_TAG_member || name == NULL || strcmp(name, "_") == 0)
            continue;
        ASSERT(dwarf_formudata(dwarf_attr(&mem, DW_AT_data_member_location, &a), &loc) == 0);
        ASSERT(dwarf_formref_die(dwarf_attr(&mem, DW_AT_type, &a), &ty) != NULL);
        if (gotypes_field(t, type, name, &f) != 0)
            TEST_FAIL("%s.%s: in DWARF, not found from the type descriptors", type, name);
        if (f.offset != loc || f.size != die_size(&ty))
            TEST_FAIL("%s.%s: descriptors %llu/%llu, DWARF %llu/%llu", type, name,
                      (unsigned long long)f.offset, (unsigned long long)f.size,
                      (unsigned long long)loc, (unsigned long long)die_size(&ty));
        n++;
    } while (dwarf_siblingof(&mem, &mem) == 0);
    return n;
}

static Dwarf *open_dwarf(const char *path, int *fd)
{
    Dwarf *dw;

    *fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT(*fd >= 0);
    dw = dwarf_begin(*fd, DWARF_C_READ);
    if (dw == NULL)
        TEST_FAIL("%s: no DWARF: %s", path, dwarf_errmsg(-1));
    return dw;
}

/* Every field of the runtime structs the agentless readers use, from the
 * type descriptors, equals DWARF's; -s -w gives the same (checked against
 * the unstripped build's DWARF, the same Go and the same runtime). */
TEST(gotype_layouts_match_dwarf)
{
    static const char *const structs[] = {"runtime.g",     "runtime.m",     "runtime.p",
                                          "runtime.gobuf", "runtime.stack", "runtime.sudog",
                                          "runtime.hchan", "runtime.mcache"};
    static const struct {
        const char *path, *outer, *type, *inner;
    } nested[] = {
        {"sched.pc", "sched", "runtime.gobuf", "pc"}, {"sched.sp", "sched", "runtime.gobuf", "sp"},
        {"sched.bp", "sched", "runtime.gobuf", "bp"}, {"stack.lo", "stack", "runtime.stack", "lo"},
        {"stack.hi", "stack", "runtime.stack", "hi"},
    };
    char ref[512];
    int reffd;
    Dwarf *refdw;

    fixture_path("agentfix", ref, sizeof ref);
    refdw = open_dwarf(ref, &reffd);
    for (size_t i = 0; i < CG_ARRAY_SIZE(variants); i++) {
        char path[512];
        goexe_t *x;
        gomod_t m;
        gotypes_t *t;
        Dwarf *dw = refdw;
        int fd = -1, total = 0;

        fixture_path(variants[i], path, sizeof path);
        x = open_exe(path, NULL);
        find_mod(x, 19, &m);
        t = open_types(x, &m);
        if (goexe_has_symtab(x))
            dw = open_dwarf(path, &fd); /* its own DWARF where it has some */
        for (size_t k = 0; k < CG_ARRAY_SIZE(structs); k++)
            total += compare_struct(dw, t, structs[k]);
        ASSERT(total > 150); /* g, m and p alone have well over that */
        for (size_t k = 0; k < CG_ARRAY_SIZE(nested); k++) {
            gofield_t whole, outer, inner;
            ASSERT_EQ(gotypes_field(t, "runtime.g", nested[k].path, &whole), 0);
            ASSERT_EQ(gotypes_field(t, "runtime.g", nested[k].outer, &outer), 0);
            ASSERT_EQ(gotypes_field(t, nested[k].type, nested[k].inner, &inner), 0);
            ASSERT_EQ(whole.offset, outer.offset + inner.offset);
            ASSERT_EQ(whole.size, inner.size);
        }
        if (dw != refdw) {
            dwarf_end(dw);
            close(fd);
        }
        gotypes_close(t);
        goexe_close(x);
    }
    dwarf_end(refdw);
    close(reffd);
}

/* What is not there is -ENOENT, never a guess. */
TEST(gotype_not_found)
{
    char path[512], err[CG_ERR_LEN];
    goexe_t *x;
    gomod_t m, bad;
    gotypes_t *t;
    gofield_t f;

    fixture_path("agentfix-stripped", path, sizeof path);
    x = open_exe(path, NULL);
    find_mod(x, 19, &m);
    t = open_types(x, &m);
    ASSERT_EQ(gotypes_field(t, "runtime.nosuch", "goid", &f), -ENOENT);
    ASSERT_EQ(gotypes_field(t, "runtime.g", "nosuch", &f), -ENOENT);
    ASSERT_EQ(gotypes_field(t, "runtime.g", "goid.x", &f), -ENOENT); /* not a struct */
    ASSERT_EQ(gotypes_field(t, "runtime.g", "sched.nosuch", &f), -ENOENT);
    ASSERT_EQ(gotypes_field(t, "runtime.g", "", &f), -ENOENT);
    ASSERT_EQ(gotypes_field(t, "runtime", "g", &f), -ENOENT);
    ASSERT_EQ(gotypes_size(t, "runtime.nosuch"), 0);
    /* Globals never allocated have no descriptor (DWARF's job). */
    ASSERT_EQ(gotypes_size(t, "runtime.schedt"), 0);
    gotypes_close(t);
    /* A pclntab address that is not the moduledata's first word. */
    ASSERT_EQ(gomod_find(x, pclntab_addr(x) + 8, 19, &bad, err), -ENOENT);
    ASSERT_CONTAINS(err, "no Go module data");
    /* A type region outside the file. */
    bad = m;
    bad.types = 0x10;
    bad.etypes = 0x20;
    ASSERT_EQ(gotypes_open(x, &bad, &t, err), -ENOENT);
    goexe_close(x);
}

/* ---- other Go releases ------------------------------------------------------ */

/* The path of a real binary of release ver (tests/fixtures/gobins.sh), or
 * NULL when it cannot be had here. */
static int gobin_path(const char *ver, char *buf, size_t len)
{
    const char *src = getenv("CGOPS_SRC");
    char cmd[1024];
    FILE *p;
    int st;

    snprintf(cmd, sizeof cmd, "%s/tests/fixtures/gobins.sh", src ? src : ".");
    if (access(cmd, R_OK) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "sh '%s/tests/fixtures/gobins.sh' %s", src ? src : ".", ver);
    if ((p = popen(cmd, "r")) == NULL)
        return -1;
    if (fgets(buf, (int)len, p) == NULL)
        buf[0] = '\0';
    st = pclose(p);
    buf[strcspn(buf, "\n")] = '\0';
    if (st != 0 || buf[0] == '\0' || access(buf, R_OK) != 0)
        return -1;
    return 0;
}

/* Stripped release builds of Go 1.16 (2-byte name lengths, offset<<1),
 * 1.17 (uvarint names), 1.20 (covctrs; atomicstatus a struct), 1.23 and
 * 1.26 (.go.module, epclntab): the module data validates and is confirmed
 * by its own descriptor; runtime.g's fields are there, in order, inside
 * the struct, with the sizes the runtime reads them with. */
TEST(gotype_other_releases)
{
    static const struct {
        const char *ver;
        int minor;
    } rel[] = {{"go1.16", 16}, {"go1.17", 17}, {"go1.20", 20}, {"go1.23", 23}, {"go1.26", 26}};
    static const char *const order[] = {"stack", "sched", "atomicstatus", "goid",
                                        "waitreason", "gopc", "startpc"};
    int tested = 0;

    for (size_t i = 0; i < CG_ARRAY_SIZE(rel); i++) {
        char path[1024];
        goexe_t *x;
        gomod_t m, m0;
        gotypes_t *t;
        gofield_t f, prev = {0, 0}, mf;
        uint64_t gsize;
        const uint8_t *w;

        if (gobin_path(rel[i].ver, path, sizeof path) != 0)
            continue;
        tested++;
        x = open_exe(path, NULL);
        find_mod(x, rel[i].minor, &m);
        find_mod(x, 0, &m0);
        ASSERT(memcmp(&m, &m0, sizeof m) == 0);
        ASSERT_EQ(m.rodata != 0, rel[i].minor >= 18);
        t = open_types(x, &m);
        /* The descriptor of runtime.moduledata itself says where types is,
         * and that word of the moduledata holds what we found. */
        ASSERT_EQ(gotypes_field(t, "runtime.moduledata", "types", &mf), 0);
        ASSERT((w = goexe_bytes(x, m.addr + mf.offset, 8)) != NULL);
        ASSERT_EQ(goexe_le(w, 8), m.types);
        ASSERT_EQ(gotypes_field(t, "runtime.moduledata", "etext", &mf), 0);
        ASSERT((w = goexe_bytes(x, m.addr + mf.offset, 8)) != NULL);
        ASSERT_EQ(goexe_le(w, 8), m.etext);

        gsize = gotypes_size(t, "runtime.g");
        ASSERT(gsize > 300 && gsize < 1000);
        for (size_t k = 0; k < CG_ARRAY_SIZE(order); k++) {
            if (gotypes_field(t, "runtime.g", order[k], &f) != 0)
                TEST_FAIL("%s: runtime.g.%s not found", rel[i].ver, order[k]);
            ASSERT(k == 0 ? f.offset == 0 : f.offset >= prev.offset + prev.size);
            ASSERT(f.offset + f.size <= gsize);
            prev = f;
        }
        ASSERT_EQ(gotypes_field(t, "runtime.g", "stack", &f), 0);
        ASSERT_EQ(f.size, 16);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "atomicstatus", &f), 0);
        ASSERT_EQ(f.size, 4);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "goid", &f), 0);
        ASSERT_EQ(f.size, 8);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "sched", &f), 0);
        ASSERT_EQ(f.size, gotypes_size(t, "runtime.gobuf"));
        ASSERT_EQ(gotypes_field(t, "runtime.g", "sched.pc", &f), 0);
        ASSERT_EQ(f.size, 8);
        ASSERT_EQ(gotypes_field(t, "runtime.m", "procid", &f), 0);
        ASSERT_EQ(f.size, 8);
        ASSERT_EQ(gotypes_field(t, "runtime.m", "curg", &f), 0);
        ASSERT_EQ(f.size, 8);
        ASSERT(gotypes_size(t, "runtime.p") > 1000);
        gotypes_close(t);
        goexe_close(x);
    }
    if (tested == 0)
        SKIP("no other Go release available (tests/fixtures/gobins.sh)");
}

/* One gomod_find + gotypes_open, as each target of a command costs: the
 * figure is printed, not asserted (no timed assertions). */
TEST(gotype_open_cost)
{
    char path[1024];
    goexe_t *x;
    gomod_t m;
    gotypes_t *t;
    uint64_t t0, t1, t2;

    if (gobin_path("go1.26", path, sizeof path) != 0)
        fixture_path("agentfix-stripped", path, sizeof path);
    x = open_exe(path, NULL);
    t0 = cg_now_ns();
    find_mod(x, 0, &m);
    t1 = cg_now_ns();
    t = open_types(x, &m);
    t2 = cg_now_ns();
    printf("%s: gomod_find %.2f ms, gotypes_open %.2f ms (%zu struct types)\n", path,
           (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6, gotypes_count(t));
    gotypes_close(t);
    goexe_close(x);
}

/* ---- synthetic type regions (the fuzz seeds) ------------------------------- */

/* Map a seed of fuzz/corpus/fuzz-gotype as the fuzz target does: one
 * read-only executable load at 0x401000 holding the whole file. */
static goexe_t *open_seed(const char *name, uint8_t **img, size_t *len)
{
    const char *src = getenv("CGOPS_SRC");
    char path[1024], err[CG_ERR_LEN];
    char *buf;
    size_t n;
    Elf64_Phdr *ph;
    goexe_t *x;

    snprintf(path, sizeof path, "%s/fuzz/corpus/fuzz-gotype/%s", src ? src : ".", name);
    if (cg_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &n, NULL) != 0)
        TEST_FAIL("read %s", path);
    *len = 0x1000 + n;
    *img = cg_xcalloc(1, *len);
    memcpy(*img + 0x1000, buf, n);
    free(buf);
    synelf_header(*img, 0, 1);
    ph = (Elf64_Phdr *)(*img + sizeof(Elf64_Ehdr));
    ph->p_type = PT_LOAD;
    ph->p_flags = PF_R | PF_X;
    ph->p_offset = 0x1000;
    ph->p_vaddr = 0x401000;
    ph->p_filesz = ph->p_memsz = n;
    if (goexe_open_mem(*img, *len, &x, err) != 0)
        TEST_FAIL("goexe_open_mem: %s", err);
    return x;
}

/* The seeds hold hand-made type descriptors of known layout: runtime.g
 * with stack{lo,hi} at 0, sched (a gobuf {sp, pc, bp}) at 16, atomicstatus
 * (uint32) at 40, goid at 48, size 64; runtime.m {procid, curg}.
 * Written with 2-byte big-endian name lengths and offset<<1 (Go 1.16),
 * uvarint lengths and offset<<1 (Go 1.17, 1.18) and plain (Go 1.19+):
 * each must read back the same layout. */
TEST(gotype_synthetic_encodings)
{
    static const char *const seeds[] = {"types-be16-offsetembed", "types-uvarint-offsetembed",
                                        "types-uvarint-plain"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(seeds); i++) {
        uint8_t *img;
        size_t len;
        goexe_t *x = open_seed(seeds[i], &img, &len);
        gomod_t m = {0};
        gotypes_t *t;
        gofield_t f;

        m.types = 0x401000;
        m.etypes = 0x401000 + len - 0x1000;
        t = open_types(x, &m);
        ASSERT_EQ(gotypes_count(t), 4);
        ASSERT_EQ(gotypes_size(t, "runtime.g"), 64);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "goid", &f), 0);
        ASSERT_EQ(f.offset, 48);
        ASSERT_EQ(f.size, 8);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "atomicstatus", &f), 0);
        ASSERT_EQ(f.offset, 40);
        ASSERT_EQ(f.size, 4);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "sched.pc", &f), 0);
        ASSERT_EQ(f.offset, 24);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "sched", &f), 0);
        ASSERT_EQ(f.size, 24);
        ASSERT_EQ(gotypes_field(t, "runtime.g", "stack.hi", &f), 0);
        ASSERT_EQ(f.offset, 8);
        ASSERT_EQ(gotypes_field(t, "runtime.m", "curg", &f), 0);
        ASSERT_EQ(f.offset, 8);
        gotypes_close(t);
        goexe_close(x);
        free(img);
    }
}

/* ---- DWARF (godwarf) ------------------------------------------------------------ */

static godwarf_t *open_godwarf(const char *path, int *fd)
{
    char err[CG_ERR_LEN];
    godwarf_t *d;

    *fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT(*fd >= 0);
    if (godwarf_open(*fd, &d, err) != 0)
        TEST_FAIL("godwarf_open %s: %s", path, err);
    return d;
}

TEST(gotype_dwarf_absent)
{
    char path[512], err[CG_ERR_LEN];
    godwarf_t *d;
    int fd;

    fixture_path("agentfix-stripped", path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT(fd >= 0);
    ASSERT_EQ(godwarf_open(fd, &d, err), -ENOENT);
    ASSERT_STR_EQ(err, "no DWARF (stripped with -s -w?)");
    close(fd);
}

/* Globals equal libelf's symbols; layouts equal the test's own libdw walk
 * (and the type descriptors'); constants are the runtime's. */
TEST(gotype_dwarf_lookups)
{
    static const char *const globals[] = {"runtime.allgs", "runtime.allglen", "runtime.allp",
                                          "runtime.memstats", "runtime.mheap_", "runtime.m0",
                                          "runtime.sched", "runtime.firstmoduledata"};
    static const char *const structs[] = {"runtime.g", "runtime.m", "runtime.p", "runtime.mstats",
                                          "runtime.mheap", "runtime.schedt"};
    char path[512];
    godwarf_t *d;
    goexe_t *x;
    gomod_t m;
    gotypes_t *t;
    Dwarf *dw;
    int fd, dfd;
    uint64_t addr;
    int64_t v;
    gofield_t f, g;

    fixture_path("agentfix", path, sizeof path);
    d = open_godwarf(path, &fd);
    for (size_t i = 0; i < CG_ARRAY_SIZE(globals); i++) {
        ASSERT_EQ(godwarf_global(d, globals[i], &addr), 0);
        ASSERT_EQ(addr, elf_symbol(path, globals[i]));
    }
    ASSERT_EQ(godwarf_global(d, "runtime.nosuch", &addr), -ENOENT);
    /* Every member of each struct, by the test's libdw walk. */
    dw = open_dwarf(path, &dfd);
    for (size_t i = 0; i < CG_ARRAY_SIZE(structs); i++) {
        Dwarf_Die st, mem;
        int n = 0;

        ASSERT(dwarf_struct(dw, structs[i], &st) == 0);
        ASSERT(dwarf_child(&st, &mem) == 0);
        do {
            Dwarf_Attribute a;
            Dwarf_Word loc;
            Dwarf_Die ty;
            const char *name = dwarf_diename(&mem);

            /* Blank fields ("_", padding) can repeat: no name to look up. */
            if (dwarf_tag(&mem) != DW_TAG_member || name == NULL || strcmp(name, "_") == 0)
                continue;
            ASSERT(dwarf_formudata(dwarf_attr(&mem, DW_AT_data_member_location, &a), &loc) == 0);
            ASSERT(dwarf_formref_die(dwarf_attr(&mem, DW_AT_type, &a), &ty) != NULL);
            if (godwarf_field(d, structs[i], name, &f) != 0)
                TEST_FAIL("godwarf_field %s.%s not found", structs[i], name);
            ASSERT_EQ(f.offset, loc);
            ASSERT_EQ(f.size, die_size(&ty));
            n++;
        } while (dwarf_siblingof(&mem, &mem) == 0);
        ASSERT(n > 5);
    }
    dwarf_end(dw);
    close(dfd);
    /* Nested paths agree with the type descriptors'. */
    x = open_exe(path, NULL);
    find_mod(x, 19, &m);
    t = open_types(x, &m);
    ASSERT_EQ(godwarf_field(d, "runtime.g", "sched.pc", &f), 0);
    ASSERT_EQ(gotypes_field(t, "runtime.g", "sched.pc", &g), 0);
    ASSERT(f.offset == g.offset && f.size == g.size);
    ASSERT_EQ(godwarf_field(d, "runtime.g", "stack.hi", &f), 0);
    ASSERT_EQ(gotypes_field(t, "runtime.g", "stack.hi", &g), 0);
    ASSERT(f.offset == g.offset && f.size == g.size);
    gotypes_close(t);
    goexe_close(x);
    ASSERT_EQ(godwarf_field(d, "runtime.g", "goid.x", &f), -ENOENT);
    ASSERT_EQ(godwarf_field(d, "runtime.g", "nosuch", &f), -ENOENT);
    ASSERT_EQ(godwarf_field(d, "runtime.nosuch", "goid", &f), -ENOENT);
    /* runtime2.go: _Gidle, _Grunnable, _Grunning, _Gsyscall, _Gwaiting. */
    ASSERT_EQ(godwarf_const(d, "runtime._Grunning", &v), 0);
    ASSERT_EQ(v, 2);
    ASSERT_EQ(godwarf_const(d, "runtime._Gwaiting", &v), 0);
    ASSERT_EQ(v, 4);
    ASSERT_EQ(godwarf_const(d, "runtime.nosuch", &v), -ENOENT);
    godwarf_close(d);
    close(fd);
}

TEST(gotype_dwarf_memstats_unsupported)
{
    char path[512], err[CG_ERR_LEN];
    godwarf_t *d;
    godwarf_msplan_t *p;
    int fd;

    fixture_path("agentfix", path, sizeof path);
    d = open_godwarf(path, &fd);
    ASSERT_EQ(godwarf_memstats_plan(d, 20, &p, err), -ENOTSUP);
    ASSERT_CONTAINS(err, "not supported for go1.20");
    ASSERT_EQ(godwarf_memstats_plan(d, 19, &p, err), 0);
    ASSERT(godwarf_memstats_missing(p)[0] == NULL); /* Go 1.19: every key */
    godwarf_memstats_plan_free(p);
    godwarf_close(d);
    close(fd);
}

/* ---- a live fixture with an agent ---- */

typedef struct {
    pid_t pid;
    int port;
} live_t;

static void live_start(const char *path, live_t *l)
{
    char dir[512], line[1024];
    int pfd[2];
    FILE *f;

    snprintf(dir, sizeof dir, "%s/gotype-cfg-%d", test_tmpdir(), (int)getpid());
    mkdir(dir, 0700);
    ASSERT(pipe(pfd) == 0);
    l->pid = fork();
    ASSERT(l->pid >= 0);
    if (l->pid == 0) {
        /* A failing test exits without live_stop: the fixture must not
         * outlive it (it holds the test's output pipe). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pfd[1], 1);
        close(pfd[0]);
        execl(path, path, "-configdir", dir, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    f = fdopen(pfd[0], "r");
    if (fgets(line, sizeof line, f) == NULL || sscanf(line, "ready %*d %d", &l->port) != 1)
        TEST_FAIL("%s did not start", path);
    fclose(f);
}

static void live_stop(live_t *l)
{
    kill(l->pid, SIGKILL);
    waitpid(l->pid, NULL, 0);
}

/* Run cgops on the agent; its stdout (malloc'd). */
static char *run_cgops(const live_t *l, const char *args)
{
    const char *cg = getenv("CGOPS");
    char cmd[1024], *out = cg_xmalloc(1 << 16);
    size_t n;
    FILE *p;

    if (cg == NULL)
        SKIP("CGOPS not set");
    snprintf(cmd, sizeof cmd, "'%s' %s 127.0.0.1:%d %s", cg, args[0] == 'g' ? "gc" : "memstats",
             l->port, args[0] == 'g' ? "" : "--json");
    ASSERT((p = popen(cmd, "r")) != NULL);
    n = fread(out, 1, (1 << 16) - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0)
        TEST_FAIL("%s failed", cmd);
    return out;
}

/* The exact digits of a JSON member (cJSON's doubles would round the
 * nanosecond times). */
static const char *json_raw(const char *json, const char *key)
{
    char pat[128];
    const char *p;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    if ((p = strstr(json, pat)) == NULL)
        TEST_FAIL("no %s in %s", key, json);
    p += strlen(pat);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static uint64_t json_u64(const char *json, const char *key)
{
    const char *p = json_raw(json, key);

    if (strncmp(p, "true", 4) == 0)
        return 1;
    if (strncmp(p, "false", 5) == 0)
        return 0;
    return strtoull(p, NULL, 10);
}

/* The JSON member name of a gops memstats key. */
static void json_name(const char *key, char *buf, size_t len)
{
    if (strcmp(key, "gc-pause-total") == 0 || strcmp(key, "gc-pause") == 0 ||
        strcmp(key, "gc-pause-end") == 0)
        snprintf(buf, len, "%s-ns", key);
    else
        snprintf(buf, len, "%s", key);
    for (char *c = buf; *c; c++)
        if (*c == '-')
            *c = '_';
}

typedef struct {
    int fd;
} memctx_t;

static int mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    ssize_t n = pread(((memctx_t *)ctx)->fd, buf, len, (off_t)addr);

    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

/* The load bias of a running PIE: AT_ENTRY minus the file's e_entry. */
static uint64_t load_bias(pid_t pid, const goexe_t *x)
{
    char path[64];
    uint64_t av[2];
    int fd;

    snprintf(path, sizeof path, "/proc/%d/auxv", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ASSERT(fd >= 0);
    while (read(fd, av, sizeof av) == (ssize_t)sizeof av && av[0] != 0) {
        if (av[0] == 9 /* AT_ENTRY */) {
            close(fd);
            return av[1] - goexe_entry(x);
        }
    }
    close(fd);
    TEST_FAIL("no AT_ENTRY");
}

/* The keys a request to the agent itself can change between its figures
 * and ours (its handler allocates and sweeps): checked to lie between the
 * agent's figures before and after ours.  Every other key must be equal
 * whenever the agent's two figures are. */
static int moves(const char *key)
{
    static const char *const k[] = {"alloc",  "total-alloc", "mallocs",     "frees",
                                    "heap-alloc", "heap-objects"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(k); i++)
        if (strcmp(key, k[i]) == 0)
            return 1;
    return 0;
}

static void memstats_live(const char *fixture)
{
    char path[512], err[CG_ERR_LEN], mpath[64];
    live_t l;
    godwarf_t *d;
    godwarf_msplan_t *p;
    goexe_t *x;
    memctx_t mc;
    int fd, compared = 0;
    uint64_t bias;

    fixture_path(fixture, path, sizeof path);
    d = open_godwarf(path, &fd);
    ASSERT_EQ(godwarf_memstats_plan(d, 19, &p, err), 0);
    x = open_exe(path, NULL);
    live_start(path, &l);
    bias = load_bias(l.pid, x);
    snprintf(mpath, sizeof mpath, "/proc/%d/mem", (int)l.pid);
    mc.fd = open(mpath, O_RDONLY | O_CLOEXEC);
    ASSERT(mc.fd >= 0);
    free(run_cgops(&l, "gc")); /* so the GC figures are not all zero */
    for (int attempt = 0; attempt < 5 && !compared; attempt++) {
        godwarf_msval_t vals[GODWARF_MS_KEYS];
        size_t n;
        char *a1 = run_cgops(&l, "memstats"), *a2;

        if (godwarf_memstats_read(p, bias, mem_read, &mc, vals, &n, err) != 0)
            TEST_FAIL("godwarf_memstats_read: %s", err);
        a2 = run_cgops(&l, "memstats");
        /* A GC between the figures changes nearly all of them: again. */
        if (json_u64(a1, "num_gc") == json_u64(a2, "num_gc")) {
            ASSERT_EQ(n, GODWARF_MS_KEYS);
            ASSERT(json_u64(a1, "num_gc") >= 1);
            for (size_t i = 0; i < n; i++) {
                char name[64];
                uint64_t v1, v2, ours = vals[i].u;

                if (strcmp(vals[i].key, "last-gc") == 0) {
                    /* A time string in the JSON; it is the last pause's end. */
                    ASSERT_EQ(ours, json_u64(a1, "gc_pause_end_ns"));
                    continue;
                }
                json_name(vals[i].key, name, sizeof name);
                if (vals[i].kind == GODWARF_MS_FLOAT) {
                    double f1 = strtod(json_raw(a1, name), NULL);

                    if (f1 != vals[i].f)
                        TEST_FAIL("%s: ours %.17g, the agent's %.17g", vals[i].key, vals[i].f,
                                  f1);
                    continue;
                }
                v1 = json_u64(a1, name);
                v2 = json_u64(a2, name);
                if (v1 == v2 && !moves(vals[i].key) && ours != v1)
                    TEST_FAIL("%s: ours %llu, the agent's %llu", vals[i].key,
                              (unsigned long long)ours, (unsigned long long)v1);
                if (moves(vals[i].key) && (ours < v1 || ours > v2))
                    TEST_FAIL("%s: ours %llu, not between the agent's %llu and %llu",
                              vals[i].key, (unsigned long long)ours, (unsigned long long)v1,
                              (unsigned long long)v2);
                /* The agent formats its reply after ReadMemStats flushed
                 * the mcaches: those allocations sit unpublished in an
                 * mcache, and only counting the mcaches as the flush
                 * would sees them. */
                if ((strcmp(vals[i].key, "mallocs") == 0 ||
                     strcmp(vals[i].key, "total-alloc") == 0) &&
                    ours <= v1)
                    TEST_FAIL("%s: ours %llu, not above the agent's %llu before", vals[i].key,
                              (unsigned long long)ours, (unsigned long long)v1);
            }
            compared = 1;
        }
        free(a1);
        free(a2);
    }
    ASSERT(compared);
    close(mc.fd);
    live_stop(&l);
    goexe_close(x);
    godwarf_memstats_plan_free(p);
    godwarf_close(d);
    close(fd);
}

/* The agent's memstats, read from the process's memory through DWARF
 * instead: equal key for key (non-PIE, and PIE through the load bias). */
TEST(gotype_dwarf_memstats_live)
{
    memstats_live("agentfix");
}

TEST(gotype_dwarf_memstats_live_pie)
{
    memstats_live("agentfix-pie");
}

static int fill_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)addr;
    memset(buf, *(const int *)ctx, len);
    return 0;
}

static int fail_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    (void)ctx;
    (void)addr;
    (void)buf;
    (void)len;
    return -ESRCH;
}

/* Memory that is not a Go runtime's: every word 0x7f7f... (the int64
 * stats deltas then overflow when summed: UBSan caught the signed sum),
 * then a process that is gone. */
TEST(gotype_dwarf_memstats_hostile_memory)
{
    char path[512], err[CG_ERR_LEN];
    godwarf_t *d;
    godwarf_msplan_t *p;
    godwarf_msval_t vals[GODWARF_MS_KEYS];
    size_t n;
    int fd, byte = 0x7f;

    fixture_path("agentfix", path, sizeof path);
    d = open_godwarf(path, &fd);
    ASSERT_EQ(godwarf_memstats_plan(d, 19, &p, err), 0);
    ASSERT_EQ(godwarf_memstats_read(p, 0, fill_read, &byte, vals, &n, err), -EIO);
    ASSERT_CONTAINS(err, "runtime.allp has length");
    ASSERT_EQ(n, 0);
    ASSERT_EQ(godwarf_memstats_read(p, 0, fail_read, NULL, vals, &n, err), -ESRCH);
    ASSERT_CONTAINS(err, "cannot read the target's memory");
    godwarf_memstats_plan_free(p);
    godwarf_close(d);
    close(fd);
}

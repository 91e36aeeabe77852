/* test-gotype.c -- the Go executable readers (goexe, gotype) compared with
 * what libelf says about the same binaries (the fixtures built by Debian's Go) */
#include "test.h"
#include "cgops/common.h"
#include "cgops/goexe.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <unistd.h>

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

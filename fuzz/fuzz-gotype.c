/* fuzz-gotype.c -- libFuzzer target for the moduledata and type-descriptor
 * readers (gotype.c)
 *
 * The input is mapped twice into a synthetic x86-64 ELF image: read-only
 * and executable at TEXT, writable at DATA, as a Go binary's text, type
 * region and module data would be.  The first 8 bytes are taken as the
 * pclntab address gomod_find looks for, so inputs that start with a
 * moduledata whose first word points back into the input reach the layout
 * checks; the whole input is also indexed as a type region directly and
 * queried for the fields the agentless readers ask for.
 *
 * The same bytes are then a target's memory image for the memstats reader
 * (godwarf_memstats_read): every address reads the input from
 * address % size, wrapping, so the pointers it follows (allp, the
 * mcaches, their spans) land on fuzzed bytes.  Its plan needs a binary
 * with DWARF: $FIXTURES/agentfix, when the fixtures are built.
 */
#include "cgops/godwarf.h"
#include "cgops/goexe.h"
#include "cgops/gotype.h"
#include "../tests/synelf.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 0x1000u
#define TEXT 0x401000u
#define DATA 0x601000u

static godwarf_msplan_t *plan;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("FIXTURES");
    char path[4096];
    godwarf_t *d;
    int fd;

    (void)argc;
    (void)argv;
    if (dir == NULL)
        return 0;
    snprintf(path, sizeof path, "%s/agentfix", dir);
    /* The plan holds resolved addresses and offsets only: the DWARF can
     * go once it is made. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || godwarf_open(fd, &d, NULL) != 0)
        return 0;
    if (godwarf_memstats_plan(d, 19, &plan, NULL) != 0)
        plan = NULL;
    godwarf_close(d);
    close(fd);
    return 0;
}

typedef struct {
    const uint8_t *data;
    size_t size;
    unsigned reads; /* left before the "process" is gone */
} image_t;

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    image_t *im = ctx;
    uint8_t *out = buf;

    /* A budget keeps a fuzzed allp of 10^5 Ps from costing seconds; a
     * target that exits mid-read looks the same. */
    if (im->reads == 0)
        return -ESRCH;
    im->reads--;
    if (im->size == 0 || addr < 4096)
        return -EFAULT; /* a nil pointer in the target */
    for (size_t i = 0; i < len; i++)
        out[i] = im->data[(addr + i) % im->size];
    return 0;
}

static void query(const gotypes_t *t)
{
    static const char *const q[][2] = {
        {"runtime.g", "goid"},      {"runtime.g", "sched.pc"},      {"runtime.g", "stack.lo"},
        {"runtime.g", "atomicstatus"}, {"runtime.m", "procid"},     {"runtime.gobuf", "pc"},
        {"runtime.g", "sched.pc.x"}, {"runtime.moduledata", "types"},
    };
    gofield_t f;

    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        gotypes_field(t, q[i][0], q[i][1], &f);
    gotypes_size(t, "runtime.g");
    gotypes_count(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img;
    Elf64_Phdr *ph;
    goexe_t *x;
    gomod_t m;
    gotypes_t *t;
    uint64_t pcln = 0;

    if (size > (1u << 20))
        return 0;
    img = calloc(1, PAGE + size);
    if (img == NULL)
        return 0;
    memcpy(img + PAGE, data, size);
    synelf_header(img, TEXT, 2);
    ph = (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr));
    for (int i = 0; i < 2; i++) {
        ph[i].p_type = PT_LOAD;
        ph[i].p_flags = i == 0 ? PF_R | PF_X : PF_R | PF_W;
        ph[i].p_offset = PAGE;
        ph[i].p_vaddr = ph[i].p_paddr = i == 0 ? TEXT : DATA;
        ph[i].p_filesz = ph[i].p_memsz = size;
        ph[i].p_align = PAGE;
    }
    if (goexe_open_mem(img, PAGE + size, &x, NULL) != 0) {
        free(img);
        return 0;
    }
    if (size >= 8)
        memcpy(&pcln, data, 8);
    if (gomod_find(x, pcln, size > 8 ? data[8] % 32 : 0, &m, NULL) == 0 &&
        gotypes_open(x, &m, &t, NULL) == 0) {
        query(t);
        gotypes_close(t);
    }
    memset(&m, 0, sizeof m);
    m.types = TEXT;
    m.etypes = TEXT + size;
    if (gotypes_open(x, &m, &t, NULL) == 0) {
        query(t);
        gotypes_close(t);
    }
    goexe_close(x);
    free(img);
    if (plan) {
        image_t im = {data, size, 4096};
        godwarf_msval_t vals[GODWARF_MS_KEYS];
        size_t n;

        godwarf_memstats_read(plan, 0, image_read, &im, vals, &n, NULL);
    }
    return 0;
}

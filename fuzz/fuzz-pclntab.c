/* fuzz-pclntab.c -- libFuzzer target for the PC table reader (pclntab.c)
 *
 * Input: a flags byte, then the table's bytes.  They are wrapped in a
 * minimal x86-64 ELF image: one read-only PT_LOAD at 0x400000 holding the
 * table at 0x400100, and, when flags bit 0 is set, a .gopclntab section
 * over it (else pcln_open finds it by its scan).  The funcdata base is the
 * table itself, so the inline tree comes from the input too; bit 1 leaves
 * the text start to the header instead of 0x401000.  Then every lookup
 * runs on each function of the table and on PCs around it.
 *
 * Oracles beyond "no crash": names and files are NUL-terminated strings,
 * pcln_find's function holds the PC, and pcln_frames returns 1..max
 * frames, the last the physical one.
 *
 * Seeds (fuzz/corpus/fuzz-pclntab/): the synthetic tables of
 * tests/test-pclntab.c (make_table) for Go 1.16, 1.18 and 1.20 and 1.2's
 * magic, with and without the section.
 */
#include "cgops/common.h"
#include "cgops/goexe.h"
#include "cgops/pclntab.h"
#include "../tests/synelf.h"

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* The ELF image around the table (synelf.h); returns its size, *img
 * heap-owned. */
static size_t wrap(const uint8_t *table, size_t n, int with_section, uint8_t **img)
{
    size_t size = synelf_pclntab_size(n, with_section);

    *img = cg_xcalloc(1, size);
    synelf_pclntab(*img, table, n, with_section);
    return size;
}

static void check_str(const char *s)
{
    if (s == NULL || strlen(s) > (64u << 20))
        abort();
}

static void probe(const pcln_t *p, uint64_t pc)
{
    pcln_frame_t fr[4];
    pcln_func_t f;
    const char *file;
    int32_t v, line;
    int n;

    if (pcln_find(p, pc, &f) == 0) {
        if (pc < f.entry || pc >= f.end)
            abort();
        check_str(pcln_name(p, &f));
        pcln_funcid(p, &f);
        pcln_spdelta(p, &f, pc, &v);
        if (pcln_fileline(p, &f, pc, &file, &line) == 0)
            check_str(file);
        pcln_pcdata(p, &f, PCLN_PCDATA_INLTREEINDEX, pc, &v);
    }
    n = pcln_frames(p, pc, fr, 4);
    if (n == 0 || n > 4 || (n > 0 && fr[n - 1].inlined))
        abort();
    for (int i = 0; i < n; i++) {
        check_str(fr[i].function);
        check_str(fr[i].file);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CG_ERR_LEN];
    uint8_t *img;
    size_t n;
    goexe_t *x;
    pcln_t *p;

    if (size < 1)
        return 0;
    n = wrap(data + 1, size - 1, data[0] & 1, &img);
    if (goexe_open_mem(img, n, &x, err) == 0) {
        if (pcln_open(x, &p, err) == 0) {
            uint32_t nf = pcln_nfunc(p);

            if (!(data[0] & 2))
                pcln_set_text(p, SYNELF_TEXT);
            pcln_set_gofunc(p, SYNELF_BASE + SYNELF_TABLE);
            pcln_addr(p);
            pcln_magic_version(p);
            for (uint32_t i = 0; i < nf && i < 64; i++) {
                pcln_func_t f;

                if (pcln_func_at(p, i, &f) == 0) {
                    probe(p, f.entry);
                    probe(p, f.entry + (f.end - f.entry) / 2);
                    probe(p, f.end - 1);
                    probe(p, f.end);
                }
            }
            for (uint64_t pc = SYNELF_TEXT - 1; pc < SYNELF_TEXT + 0x80; pc += 3)
                probe(p, pc);
            pcln_close(p);
        }
        goexe_close(x);
    }
    free(img);
    return 0;
}

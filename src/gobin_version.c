/* gobin_version.c -- the Go version of a binary without build info
 *
 * A release binary built without build info and stripped of symbols still
 * names its toolchain: the linker sets runtime.buildVersion, a Go string
 * header {ptr, len} in .data pointing at "go1.N.M" in read-only data.  This
 * file finds that header by its shape, bounded (GOBIN_DATASCAN_MAX) and
 * checked against the pclntab's generation, and gives no version rather
 * than a guess when two are equally plausible.
 */
#include "gobin_image.h"

#include <string.h>

/* One to three decimal digits without a leading zero at s[*i], as Go's
 * release numbers are; advances *i. */
static int release_number(const unsigned char *s, size_t n, size_t *i, unsigned *v)
{
    size_t start = *i;

    *v = 0;
    while (*i < n && *i - start < 4 && s[*i] >= '0' && s[*i] <= '9')
        *v = *v * 10 + (unsigned)(s[(*i)++] - '0');
    return *i > start && *i - start <= 3 && !(s[start] == '0' && *i - start > 1);
}

/* The linker appends the non-default GOEXPERIMENTs to runtime.buildVersion:
 * "go1.26.5-X:nodwarf5" (" X:" before Go 1.26).  Whether s[i..n) is such
 * a suffix, or empty. */
static int experiment_suffix(const unsigned char *s, size_t n, size_t i)
{
    if (i == n)
        return 1;
    if (n - i < 4 || (s[i] != ' ' && s[i] != '-') || s[i + 1] != 'X' || s[i + 2] != ':')
        return 0;
    for (i += 3; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == ',' ||
              s[i] == '_'))
            return 0;
    return 1;
}

/* How plausible s[0..n) is as a release toolchain's runtime.buildVersion:
 * 3 for "go1.N.M" (every release since Go 1.21 has the .M, "go1.21.0"), 2
 * for "go1.NrcK" / "go1.NbetaK", 1 for "go1.N", 0 for anything else, all
 * the n bytes counted (an experiment suffix allowed).  *minor is N. */
static int release_rank(const unsigned char *s, size_t n, unsigned *minor)
{
    size_t i = 4;
    unsigned v;
    int rank;

    if (n < 5 || memcmp(s, "go1.", 4) != 0 || !release_number(s, n, &i, minor))
        return 0;
    if (i == n || s[i] == ' ' || s[i] == '-') {
        rank = 1;
    } else if (s[i] == '.') {
        i++;
        if (!release_number(s, n, &i, &v))
            return 0;
        rank = 3;
    } else {
        if (n - i > 2 && memcmp(s + i, "rc", 2) == 0)
            i += 2;
        else if (n - i > 4 && memcmp(s + i, "beta", 4) == 0)
            i += 4;
        else
            return 0;
        if (!release_number(s, n, &i, &v))
            return 0;
        rank = 2;
    }
    return experiment_suffix(s, n, i) ? rank : 0;
}

/* Whether Go 1.minor wrote a pclntab with this magic (0: not known). */
static int minor_fits_pclntab(unsigned minor, uint32_t magic)
{
    switch (magic) {
    case 0xfffffffb: return minor >= 2 && minor <= 15;
    case 0xfffffffa: return minor == 16 || minor == 17;
    case 0xfffffff0: return minor == 18 || minor == 19;
    case 0xfffffff1: return minor >= 20;
    default: return 1;
    }
}

/* The best release version seen so far by scan_version_headers. */
typedef struct {
    const unsigned char *s;
    size_t n;
    int rank;      /* release_rank of s, 0 before any */
    int ambiguous; /* two different versions share the best rank */
} version_hit_t;

/* Longest release version accepted: "go1.NNNbetaNNN" is 14 bytes, and
 * experiment suffixes are a few names long. */
#define RELEASE_VERSION_MAX 64

/* Look through the string headers {ptr, len} in d[0..n) (ptrsize-aligned
 * words) for release versions: the pointer must land in a read-only
 * segment, at bytes that are a release version of exactly len bytes, of a
 * Go release that writes the pclntab seen (if one was).
 * runtime.buildVersion is such a header (the linker sets it, in .data,
 * pointing at rodata), and a binary without build info or symbols still
 * has it.  The best hit goes into *best. */
static void scan_version_headers(const image_t *im, const unsigned char *d, size_t n,
                                 version_hit_t *best)
{
    const size_t ps = im->is64 ? 8 : 4;

    for (size_t off = 0; n >= 2 * ps && off <= n - 2 * ps; off += ps) {
        uint64_t len = gobin__rd(d + off + ps, (int)ps, im->bigendian);
        const unsigned char *s;
        unsigned minor;
        int rank;

        /* Most words fail here, before any pointer is followed. */
        if (len < 5 || len > RELEASE_VERSION_MAX)
            continue;
        s = gobin__segment_bytes(im, gobin__rd(d + off, (int)ps, im->bigendian), len, 1);
        if (s == NULL || s[0] != 'g' || (rank = release_rank(s, (size_t)len, &minor)) == 0)
            continue;
        if (!minor_fits_pclntab(minor, im->pcln_magic))
            continue;
        if (rank > best->rank) {
            best->s = s;
            best->n = (size_t)len;
            best->rank = rank;
            best->ambiguous = 0;
        } else if (rank == best->rank && (len != best->n || memcmp(s, best->s, best->n) != 0)) {
            best->ambiguous = 1;
        }
    }
}

/* Find the version of a Go binary that has neither build info nor
 * symbols: scan .data and .noptrdata (data_scns, up to GOBIN_DATASCAN_MAX
 * bytes each), or without section headers the writable segments, for
 * runtime.buildVersion's string header.  Returns 1 when found. */
int gobin__find_version_in_data(const image_t *im, const GElf_Shdr *data_scns, size_t ndata,
                                gobin_info_t *out)
{
    version_hit_t best = {0};

    for (size_t i = 0; i < ndata; i++) {
        size_t n = 0;
        const unsigned char *d = gobin__section_bytes(im, &data_scns[i], GOBIN_DATASCAN_MAX, &n);

        if (d)
            scan_version_headers(im, d, n, &best);
    }
    for (size_t i = 0; ndata == 0 && i < im->nload; i++) {
        const GElf_Phdr *ph = &im->load[i];

        if (!(ph->p_flags & PF_W) || ph->p_filesz == 0 || ph->p_filesz > GOBIN_DATASCAN_MAX ||
            ph->p_offset > im->size || ph->p_filesz > im->size - ph->p_offset)
            continue;
        scan_version_headers(im, im->base + ph->p_offset, (size_t)ph->p_filesz, &best);
    }
    /* Two different versions equally plausible: better no version than a
     * guess. */
    if (best.rank == 0 || best.ambiguous)
        return 0;
    gobin__copy_str(out->version, sizeof out->version, best.s, best.n);
    return 1;
}


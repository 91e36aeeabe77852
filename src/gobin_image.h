/* gobin_image.h -- what the files of the gobin module share (private)
 *
 * gobin.c maps and checks an executable; gobin_version.c looks through its
 * data for runtime.buildVersion.  Both read the image with these helpers,
 * which check every offset and length against the mapping first.
 */
#ifndef CGOPS_GOBIN_IMAGE_H
#define CGOPS_GOBIN_IMAGE_H

#include "cgops/gobin.h"

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

/* The mapped image and its loadable segments, for pointer translation. */
typedef struct {
    const unsigned char *base;
    size_t size;
    int is64;
    int bigendian;
    GElf_Phdr *load;
    size_t nload;
    uint32_t pcln_magic; /* pclntab magic once seen, else 0 */
} image_t;

/* An n-byte (1-8) unsigned integer at p in the file's byte order (be). */
uint64_t gobin__rd(const unsigned char *p, int n, int be);

/* File bytes at virtual address [addr, addr+len) if one PT_LOAD segment
 * (a read-only one when ro is set) holds all of them in its file image;
 * NULL otherwise. */
const unsigned char *gobin__segment_bytes(const image_t *im, uint64_t addr, uint64_t len, int ro);

/* A section's bytes in the image, at most max of them (*n says how many);
 * NULL when it has none in the file or lies outside the image. */
const unsigned char *gobin__section_bytes(const image_t *im, const GElf_Shdr *sh, uint64_t max,
                                          size_t *n);

/* Copy n bytes of s into dst (size bytes, always NUL-terminated, cut to
 * fit). */
void gobin__copy_str(char *dst, size_t size, const unsigned char *s, uint64_t n);

/* Find the version of a Go binary that has neither build info nor
 * symbols in runtime.buildVersion's string header (gobin_version.c).
 * Returns 1 with out->version set, else 0. */
int gobin__find_version_in_data(const image_t *im, const GElf_Shdr *data_scns, size_t ndata,
                                gobin_info_t *out);

#endif

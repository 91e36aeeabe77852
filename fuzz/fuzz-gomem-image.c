/* fuzz-gomem-image.c -- libFuzzer target for recorded memory images
 *
 * Input: an image (format in include/cgops/gomem.h).  When it opens, every
 * map and range is probed with gomem_valid and gomem_read at its edges and
 * one byte past them, and the ranges read whole are recorded, saved and
 * opened again.  Oracles beyond "no crash": a read inside a recorded range
 * succeeds and returns the image's bytes; a read that starts before a
 * range's first byte and is not covered by the range before fails; the
 * saved image opens and serves the same bytes.
 */
#include "cgops/common.h"
#include "cgops/gomem.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[CG_ERR_LEN];
    const gomem_map_t *maps;
    gomem_t *m = NULL, *again = NULL;
    size_t nmaps, ranges_at, data_at, nranges;
    uint8_t buf[64];

    if (gomem_open_image(data, size, &m, err) != 0) {
        if (m != NULL || strnlen(err, sizeof err) == sizeof err)
            abort();
        return 0;
    }
    maps = gomem_maps(m, &nmaps);
    for (size_t i = 0; i < nmaps; i++) {
        if (maps[i].start >= maps[i].end || (i > 0 && maps[i].start < maps[i - 1].end))
            abort();
        (void)gomem_valid(m, maps[i].start, maps[i].end - maps[i].start);
        (void)gomem_valid(m, maps[i].end - 1, 2);
        (void)gomem_valid(m, maps[i].start, UINT64_MAX);
    }
    /* The ranges as the image states them (it opened, so they are sane). */
    nranges = le32(data + 32);
    ranges_at = GOMEM_IMAGE_HEADER_LEN + (size_t)le32(data + 20) * 24;
    data_at = ranges_at + nranges * 16;
    gomem_set_recording(m, 1);
    for (size_t i = 0, off = 0; i < nranges && i < 64; i++) {
        uint64_t addr = le64(data + ranges_at + i * 16), len = le64(data + ranges_at + i * 16 + 8);
        size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
        int rc = gomem_read(m, addr, buf, n);
        /* Inside the range: only the maps can refuse it. */
        if (rc == 0 && memcmp(buf, data + data_at + off, n) != 0)
            abort();
        if (rc != 0 && (rc != -EFAULT || gomem_valid(m, addr, n)))
            abort();
        if (addr > 0 && gomem_read(m, addr - 1, buf, 1) == 0) {
            /* Only if the range before ends right there. */
            if (i == 0 || le64(data + ranges_at + (i - 1) * 16) + le64(data + ranges_at + (i - 1) * 16 + 8) != addr)
                abort();
        }
        (void)gomem_read(m, addr + len - 1, buf, 2);
        {
            gomem_req_t r[2] = {{addr, buf, n, 0}, {addr + len, buf + 32, 8, 0}};
            long got = gomem_readv(m, r, 2);
            if (got < 0 || got > 2)
                abort();
        }
        off += (size_t)len;
    }
    /* What was read whole survives a save and a reopen. */
    {
        int fd = memfd_create("fuzz-gomem", 0);
        if (fd >= 0) {
            if (gomem_save_image(m, fd, err) == 0) {
                off_t len = lseek(fd, 0, SEEK_END);
                uint8_t *img = malloc(len > 0 ? (size_t)len : 1);
                if (pread(fd, img, (size_t)len, 0) != len)
                    abort();
                if (gomem_open_image(img, (size_t)len, &again, err) != 0)
                    abort();
                for (size_t i = 0, off = 0; i < nranges && i < 64; i++) {
                    uint64_t addr = le64(data + ranges_at + i * 16), rl = le64(data + ranges_at + i * 16 + 8);
                    size_t n = rl < sizeof buf ? (size_t)rl : sizeof buf;
                    if (gomem_valid(m, addr, n) &&
                        (gomem_read(again, addr, buf, n) != 0 || memcmp(buf, data + data_at + off, n) != 0))
                        abort();
                    off += (size_t)rl;
                }
                gomem_close(again);
                free(img);
            }
            close(fd);
        }
    }
    gomem_close(m);
    return 0;
}

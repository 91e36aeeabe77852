/* fuzz-gobin.c -- libFuzzer target for the ELF / Go build-info reader */
#include "cgops/gobin.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gobin_info_t info;
    char err[512];

    gobin_read_mem(data, size, &info, err);
    return 0;
}

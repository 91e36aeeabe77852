/* gobin-read.c -- run the ELF reader on files, for bench/gobin-cost
 *
 * `gobin-read [-n N] FILE...` classifies each file N times (default 1) and
 * prints one line per file: rc, is_go, signals, version.  Under
 * `valgrind --tool=callgrind` its instruction count is a repeatable figure
 * for the per-executable cost of the listing, free of /proc noise.
 */
#include "cgops/common.h"
#include "cgops/gobin.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = 1, i = 1;

    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        n = atoi(argv[2]);
        i = 3;
    }
    for (; i < argc; i++) {
        gobin_info_t g;
        char err[CG_ERR_LEN] = "";
        int rc = -1;

        for (int k = 0; k < n; k++) {
            int fd = open(argv[i], O_RDONLY);

            if (fd < 0) {
                perror(argv[i]);
                return 1;
            }
            rc = gobin_read_fd(fd, &g, err);
            close(fd);
        }
        printf("%s rc=%d go=%d signals=0x%02x version=%s%s%s\n", argv[i], rc, g.is_go, g.signals,
               g.version[0] ? g.version : "-", err[0] ? " err=" : "", err);
    }
    return 0;
}

/* flamegen.c -- test helper: folded stacks on stdin, flame graph SVG on stdout
 *
 * `flamegen [TITLE [UNIT]]` reads flamegraph.pl's input ("a;b;c 123" lines)
 * with flame_parse_folded and writes flame_write_svg's document, so the CLI
 * tests can check the renderer on its own, before any profile decoding.
 * Exit status 1 with the parser's message on bad input.
 */
#include "cgops/common.h"
#include "cgops/flame.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char err[CG_ERR_LEN], *text;
    size_t len;
    int trunc = 0, rc;
    flame_t *f;

    if (argc > 3) {
        fprintf(stderr, "usage: flamegen [TITLE [UNIT]] <folded >svg\n");
        return 2;
    }
    rc = cg_read_fd(STDIN_FILENO, (size_t)1 << 30, &text, &len, &trunc);
    if (rc != 0 || trunc) {
        fprintf(stderr, "flamegen: cannot read stdin%s\n", trunc ? ": over 1 GiB" : "");
        return 1;
    }
    f = flame_new();
    rc = flame_parse_folded(f, text, len, err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "flamegen: %s\n", err);
        flame_free(f);
        return 1;
    }
    rc = flame_write_svg(f, stdout, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL);
    flame_free(f);
    if (rc != 0) {
        fprintf(stderr, "flamegen: writing the SVG failed\n");
        return 1;
    }
    return 0;
}

/* flame.h -- flame graphs: a tree of merged stacks, rendered as one SVG file
 *
 * Stacks (root frame first, a value each: samples, bytes, ns) are merged
 * into a tree, as flamegraph.pl merges its "a;b;c 123" lines.  The SVG is
 * self-contained: no script, style or font is fetched from anywhere; an
 * inline script gives search (highlights matches, shows the matched share)
 * and click-to-zoom.  Frame names come from profiles, that is from outside:
 * bytes that are not valid UTF-8 or not allowed in XML are shown as \xNN.
 *
 * Output is deterministic: children are drawn sorted by name (bytewise), so
 * the same stacks give the same file whatever order they were added in.
 */
#ifndef CGOPS_FLAME_H
#define CGOPS_FLAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bounds on what one graph holds; past them flame_add refuses (-E2BIG). */
#define FLAME_MAX_NODES 1000000 /* frames in the merged tree, root excluded */
#define FLAME_MAX_DEPTH 1024    /* frames in one stack */
#define FLAME_MAX_NAME 8192     /* bytes in one frame name */

typedef struct flame flame_t;

/* A new, empty graph; aborts on out-of-memory (cg_xmalloc).  flame_free. */
flame_t *flame_new(void);

/* Merge one stack of n frames (frames[0] is the root-most, e.g. main) with
 * value into the tree.  Names may be any bytes but NUL; an empty name is a
 * frame like any other.  A value of 0 adds nothing (and creates no frame);
 * n == 0 adds the value to the root's own ("all" is wider than its
 * children by it).
 * All or nothing: on error the tree is unchanged.  Returns 0, or
 *   -EINVAL  value < 0, n > 0 with frames NULL, or a NULL frame name
 *   -E2BIG   n > FLAME_MAX_DEPTH, a name longer than FLAME_MAX_NAME, or
 *            the tree would pass FLAME_MAX_NODES frames
 *   -EOVERFLOW the total would pass INT64_MAX */
int flame_add(flame_t *f, const char *const *frames, size_t n, int64_t value);

/* Parse folded stacks (flamegraph.pl's input, `go tool pprof -raw` through
 * stackcollapse, cgops profile --folded): one "frame;frame;frame VALUE" per
 * line, root first, VALUE a non-negative decimal integer after the last
 * space.  Empty lines are skipped and a "\r" before "\n" is allowed; any
 * other deviation is an error naming the line: no value, a value that is
 * not an integer, an empty stack or an empty frame name, a NUL byte, plus
 * flame_add's errors.  Stacks of the lines before a bad one stay added.
 * Returns 0 or a negative errno with err (CG_ERR_LEN, may be NULL) set. */
int flame_parse_folded(flame_t *f, const char *text, size_t len, char *err);

/* Write the graph as an SVG document to out.  title (NULL: "Flame Graph")
 * heads it; unit (NULL: "samples") names the values in the tooltips,
 * "name (VALUE UNIT, P%)".  Frames narrower than 0.1% of the total are not
 * drawn (their parents keep the full width), as flamegraph.pl drops frames
 * too thin to see; the file says how many.  Returns 0, or -EIO if writing
 * to out failed (ferror). */
int flame_write_svg(const flame_t *f, FILE *out, const char *title,
                    const char *unit);

/* The sum of all values added (the root's width). */
int64_t flame_total(const flame_t *f);

/* How many frames the merged tree holds, the root excluded. */
size_t flame_count(const flame_t *f);

/* The value of the frame reached by the path frames[0..n) (n == 0: the
 * root, i.e. the total): its own value plus its descendants'.  -1 when
 * there is no such frame. */
int64_t flame_value(const flame_t *f, const char *const *frames, size_t n);

void flame_free(flame_t *f);

#endif

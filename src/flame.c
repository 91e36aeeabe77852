/* flame.c -- flame graphs: merged stack tree, folded-stack parser, SVG writer
 *
 * The tree is a flat array of nodes (node 0 is the root, "all") linked to
 * their parent, first child and next sibling, plus one open-addressing hash
 * table keyed by (parent, name) so that merging a stack costs one lookup per
 * frame however many children a node has.  Children are sorted by name only
 * when the SVG is written.
 *
 * The SVG follows flamegraph.pl's look (root at the bottom, "hot" colours,
 * a details line, labels cut with ".." to fit the box) with our own small
 * inline script for search and zoom, so the file works offline.
 */
#include "cgops/flame.h"
#include "cgops/common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct {
    char *name;
    size_t len;
    uint32_t parent, child, next;
    int64_t total; /* own value plus the descendants' */
} node_t;

struct flame {
    node_t *nodes;
    size_t n, cap;    /* n counts the root */
    uint32_t *slots;  /* node index, 0 = empty (the root is never stored) */
    size_t nslots;    /* a power of two */
};

static uint64_t hash_key(uint32_t parent, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL ^ parent; /* FNV-1a */

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static uint32_t lookup(const flame_t *f, uint32_t parent, const char *s, size_t len)
{
    size_t mask = f->nslots - 1;

    for (size_t i = hash_key(parent, s, len) & mask;; i = (i + 1) & mask) {
        uint32_t k = f->slots[i];
        if (k == 0)
            return 0;
        if (f->nodes[k].parent == parent && f->nodes[k].len == len &&
            memcmp(f->nodes[k].name, s, len) == 0)
            return k;
    }
}

static void slot_put(uint32_t *slots, size_t nslots, const node_t *nd, uint32_t k)
{
    size_t mask = nslots - 1;
    size_t i = hash_key(nd->parent, nd->name, nd->len) & mask;

    while (slots[i] != 0)
        i = (i + 1) & mask;
    slots[i] = k;
}

/* Room for `more` new nodes: the node array and a table kept at most half
 * full, so probes stay short. */
static void reserve(flame_t *f, size_t more)
{
    size_t need = f->n + more;

    if (need > f->cap) {
        size_t cap = f->cap * 2;
        while (cap < need)
            cap *= 2;
        f->nodes = cg_xrealloc(f->nodes, cap * sizeof *f->nodes);
        f->cap = cap;
    }
    if (need * 2 > f->nslots) {
        size_t ns = f->nslots * 2;
        while (need * 2 > ns)
            ns *= 2;
        uint32_t *slots = cg_xcalloc(ns, sizeof *slots);
        for (uint32_t k = 1; k < f->n; k++)
            slot_put(slots, ns, &f->nodes[k], k);
        free(f->slots);
        f->slots = slots;
        f->nslots = ns;
    }
}

flame_t *flame_new(void)
{
    flame_t *f = cg_xcalloc(1, sizeof *f);

    f->cap = 64;
    f->nodes = cg_xmalloc(f->cap * sizeof *f->nodes);
    f->nslots = 128;
    f->slots = cg_xcalloc(f->nslots, sizeof *f->slots);
    f->nodes[0] = (node_t){cg_xstrdup("all"), 3, NONE, NONE, NONE, 0};
    f->n = 1;
    return f;
}

void flame_free(flame_t *f)
{
    if (f == NULL)
        return;
    for (size_t k = 0; k < f->n; k++)
        free(f->nodes[k].name);
    free(f->nodes);
    free(f->slots);
    free(f);
}

int64_t flame_total(const flame_t *f)
{
    return f->nodes[0].total;
}

size_t flame_count(const flame_t *f)
{
    return f->n - 1;
}

int64_t flame_value(const flame_t *f, const char *const *frames, size_t n)
{
    uint32_t cur = 0;

    for (size_t i = 0; i < n; i++) {
        if (frames[i] == NULL)
            return -1;
        cur = lookup(f, cur, frames[i], strlen(frames[i]));
        if (cur == 0)
            return -1;
    }
    return f->nodes[cur].total;
}

int flame_add(flame_t *f, const char *const *frames, size_t n, int64_t value)
{
    size_t i, fresh;
    uint32_t cur;

    if (value < 0 || (n > 0 && frames == NULL))
        return -EINVAL;
    if (n > FLAME_MAX_DEPTH)
        return -E2BIG;
    for (i = 0; i < n; i++) {
        if (frames[i] == NULL)
            return -EINVAL;
        if (strnlen(frames[i], FLAME_MAX_NAME + 1) > FLAME_MAX_NAME)
            return -E2BIG;
    }
    if (value == 0)
        return 0;
    if (f->nodes[0].total > INT64_MAX - value)
        return -EOVERFLOW;

    /* Check every bound before changing anything, so a refused stack leaves
     * no half-made path of frames with no value behind. */
    cur = 0;
    for (i = 0; i < n; i++) {
        uint32_t k = lookup(f, cur, frames[i], strlen(frames[i]));
        if (k == 0)
            break;
        cur = k;
    }
    fresh = n - i;
    if (f->n - 1 + fresh > FLAME_MAX_NODES)
        return -E2BIG;
    reserve(f, fresh);

    cur = 0;
    f->nodes[0].total += value;
    for (i = 0; i < n; i++) {
        size_t len = strlen(frames[i]);
        uint32_t k = lookup(f, cur, frames[i], len);
        if (k == 0) {
            k = (uint32_t)f->n++;
            f->nodes[k] = (node_t){cg_xstrdup(frames[i]), len, cur,
                                   NONE, f->nodes[cur].child, 0};
            f->nodes[cur].child = k;
            slot_put(f->slots, f->nslots, &f->nodes[k], k);
        }
        f->nodes[k].total += value;
        cur = k;
    }
    return 0;
}

/* ---- folded stacks ---------------------------------------------------- */

/* One line, without its end of line: "a;b;c 123". */
static int parse_line(flame_t *f, char *line, size_t len, size_t lineno,
                      const char **frames, char *err)
{
    char *sp, *p;
    size_t n = 0;
    long long v;
    int rc;

    if (memchr(line, '\0', len) != NULL) {
        cg_seterr(err, "line %zu: NUL byte", lineno);
        return -EINVAL;
    }
    line[len] = '\0';
    sp = strrchr(line, ' ');
    if (sp == NULL || sp[1] == '\0') {
        cg_seterr(err, "line %zu: no value after the stack (want \"a;b;c 123\")", lineno);
        return -EINVAL;
    }
    /* cg_parse_ll takes a sign; the format has none. */
    rc = sp[1] >= '0' && sp[1] <= '9' ? cg_parse_ll(sp + 1, 0, INT64_MAX, &v) : -EINVAL;
    if (rc != 0) {
        cg_seterr(err, "line %zu: value \"%.40s\" is not a non-negative integer%s",
                  lineno, sp + 1, rc == -ERANGE ? " (too large)" : "");
        return rc;
    }
    /* flamegraph.pl allows any run of blanks before the value. */
    while (sp > line && (sp[-1] == ' ' || sp[-1] == '\t'))
        sp--;
    *sp = '\0';
    if (sp == line) {
        cg_seterr(err, "line %zu: empty stack", lineno);
        return -EINVAL;
    }
    for (p = line;; p++) {
        char *semi = strchr(p, ';');
        if (semi != NULL)
            *semi = '\0';
        if (*p == '\0') {
            cg_seterr(err, "line %zu: empty frame name (frame %zu)", lineno, n + 1);
            return -EINVAL;
        }
        if (n == FLAME_MAX_DEPTH) {
            cg_seterr(err, "line %zu: stack deeper than %d frames", lineno, FLAME_MAX_DEPTH);
            return -E2BIG;
        }
        frames[n++] = p;
        if (semi == NULL)
            break;
        p = semi;
    }
    rc = flame_add(f, frames, n, (int64_t)v);
    if (rc == -E2BIG)
        cg_seterr(err, "line %zu: too big: a frame name over %d bytes, or more than %d frames in all",
                  lineno, FLAME_MAX_NAME, FLAME_MAX_NODES);
    else if (rc == -EOVERFLOW)
        cg_seterr(err, "line %zu: the values add up past %" PRId64, lineno, INT64_MAX);
    else if (rc != 0)
        cg_seterr(err, "line %zu: %s", lineno, strerror(-rc));
    return rc;
}

int flame_parse_folded(flame_t *f, const char *text, size_t len, char *err)
{
    const char **frames = cg_xmalloc(FLAME_MAX_DEPTH * sizeof *frames);
    char *buf = NULL;
    size_t bufcap = 0, lineno = 0, off = 0;
    int rc = 0;

    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t l = end - off;

        lineno++;
        if (l > 0 && text[off + l - 1] == '\r')
            l--;
        if (l > 0) {
            if (l + 1 > bufcap) {
                bufcap = l + 1;
                buf = cg_xrealloc(buf, bufcap);
            }
            memcpy(buf, text + off, l);
            rc = parse_line(f, buf, l, lineno, frames, err);
            if (rc != 0)
                break;
        }
        off = end + 1;
    }
    free(buf);
    free(frames);
    return rc;
}

/* ---- SVG ---------------------------------------------------------------- */

#define IMG_W 1200
#define FRAME_H 16
#define FONT_SIZE 12
#define FONT_W 0.59 /* average glyph width in font sizes, as flamegraph.pl */
#define XPAD 10
#define YTOP 60
#define YBOT 40

/* Length of the character at s (n bytes left) if it is valid UTF-8 and a
 * character XML 1.0 allows that is not a C0 control or DEL; else 0.  Shown
 * as is, anything else becomes \xNN per byte (Python's "backslashreplace"),
 * so a hostile name can neither break the document nor hide in it. */
static size_t char_ok(const unsigned char *s, size_t n)
{
    uint32_t c = s[0], cp;

    if (c < 0x80)
        return c >= 0x20 && c != 0x7f;
    if (c < 0xc2 || c > 0xf4)
        return 0;
    size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (n < need)
        return 0;
    cp = c & (0x3f >> (need - 1));
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0; /* overlong, or past Unicode */
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0; /* surrogates and the two non-characters XML excludes */
    return need;
}

/* The name as shown: valid UTF-8, each bad byte spelled \xNN.  Heap
 * string; *nchars gets its length in characters. */
static char *display_name(const char *name, size_t len, size_t *nchars)
{
    const unsigned char *s = (const unsigned char *)name;
    char *out = cg_xmalloc(len * 4 + 1), *o = out;
    size_t chars = 0;

    for (size_t i = 0; i < len;) {
        size_t k = char_ok(s + i, len - i);
        if (k == 0) {
            o += sprintf(o, "\\x%02x", s[i]);
            chars += 4;
            i++;
        } else {
            memcpy(o, s + i, k);
            o += k;
            chars++;
            i += k;
        }
    }
    *o = '\0';
    *nchars = chars;
    return out;
}

/* Write valid UTF-8 text s (len bytes) escaped for XML text and attributes. */
static void put_xml(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: putc(s[i], out);
        }
    }
}

/* Any outside string (title, unit) goes through the same cleaning. */
static void put_text(FILE *out, const char *s)
{
    size_t nc;
    char *d = display_name(s, strlen(s), &nc);

    put_xml(out, d, strlen(d));
    free(d);
}

/* Byte length of the first k characters of valid UTF-8 s. */
static size_t utf8_prefix(const char *s, size_t k)
{
    size_t i = 0;

    for (; s[i] != '\0'; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && k-- == 0)
            break;
    return i;
}

typedef struct {
    const flame_t *f;
    FILE *out;
    const char *unit;
    uint32_t *kids;   /* children of node k: kids[kstart[k] .. kstart[k+1]) */
    size_t *kstart;
    int64_t min;      /* narrowest value drawn */
    double scale;     /* pixels per unit of value */
    int height;
    size_t drawn;
    int maxdepth;
} svg_t;

/* qsort has no context argument (qsort_r is a GNU extension), and the SVG is
 * written by one thread at a time. */
static const node_t *sort_nodes;

static int by_name(const void *a, const void *b)
{
    const node_t *x = &sort_nodes[*(const uint32_t *)a];
    const node_t *y = &sort_nodes[*(const uint32_t *)b];
    size_t l = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, l);

    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorted child lists for the whole tree, built once. */
static void build_kids(svg_t *g)
{
    const flame_t *f = g->f;

    g->kstart = cg_xcalloc(f->n + 1, sizeof *g->kstart);
    g->kids = cg_xmalloc((f->n > 1 ? f->n - 1 : 1) * sizeof *g->kids);
    for (size_t k = 1; k < f->n; k++)
        g->kstart[f->nodes[k].parent + 1]++;
    for (size_t k = 0; k < f->n; k++)
        g->kstart[k + 1] += g->kstart[k];
    size_t *fill = cg_xmalloc(f->n * sizeof *fill);
    memcpy(fill, g->kstart, f->n * sizeof *fill);
    for (size_t k = 1; k < f->n; k++)
        g->kids[fill[f->nodes[k].parent]++] = (uint32_t)k;
    free(fill);
    sort_nodes = f->nodes;
    for (size_t k = 0; k < f->n; k++)
        qsort(g->kids + g->kstart[k], g->kstart[k + 1] - g->kstart[k],
              sizeof *g->kids, by_name);
}

static void measure(svg_t *g, uint32_t k, int depth)
{
    if (depth > g->maxdepth)
        g->maxdepth = depth;
    for (size_t i = g->kstart[k]; i < g->kstart[k + 1]; i++) {
        uint32_t c = g->kids[i];
        if (g->f->nodes[c].total >= g->min) {
            g->drawn++;
            measure(g, c, depth + 1);
        }
    }
}

/* flamegraph.pl's "hot" palette, seeded by the name instead of rand() so
 * that the same stacks always give the same file. */
static void colour(const node_t *nd, int *r, int *gr, int *b)
{
    uint64_t h = hash_key(0, nd->name, nd->len);

    *r = 205 + (int)((h & 0xff) * 50 / 255);
    *gr = (int)(((h >> 8) & 0xff) * 230 / 255);
    *b = (int)(((h >> 16) & 0xff) * 55 / 255);
}

static void draw(svg_t *g, uint32_t k, int depth, int64_t off)
{
    const node_t *nd = &g->f->nodes[k];
    int64_t total = g->f->nodes[0].total;
    double x = XPAD + (double)off * g->scale;
    double w = (double)nd->total * g->scale;
    int y = g->height - YBOT - (depth + 1) * FRAME_H;
    size_t nchars, fit;
    char *name = display_name(nd->name, nd->len, &nchars);
    int r, gr, b;

    colour(nd, &r, &gr, &b);
    fputs("<g class=\"f\"><title>", g->out);
    put_xml(g->out, name, strlen(name));
    fprintf(g->out, " (%" PRId64 " ", nd->total);
    put_text(g->out, g->unit);
    fprintf(g->out, ", %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
            "fill=\"rgb(%d,%d,%d)\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">",
            (double)nd->total * 100.0 / (double)total, x, y, w, FRAME_H - 1, r, gr, b,
            x + 3, y + 10.5);
    /* The label must stay inside its box: as many characters as fit at the
     * font's average width, cut with "..", none below three. */
    fit = (size_t)((w > 3 ? w - 3 : 0) / (FONT_SIZE * FONT_W));
    if (fit >= 3) {
        if (nchars <= fit) {
            put_xml(g->out, name, strlen(name));
        } else {
            put_xml(g->out, name, utf8_prefix(name, fit - 2));
            fputs("..", g->out);
        }
    }
    fputs("</text></g>\n", g->out);
    free(name);

    for (size_t i = g->kstart[k]; i < g->kstart[k + 1]; i++) {
        uint32_t c = g->kids[i];
        if (g->f->nodes[c].total >= g->min)
            draw(g, c, depth + 1, off);
        off += g->f->nodes[c].total;
    }
}

/* The inline script: search (a regular expression, from the box, from
 * Ctrl-F or from the URL as #s=REGEX) and zoom (click a frame; "Reset Zoom"
 * or Escape undoes).  Geometry is read back from the drawn rectangles, the
 * names and values from the tooltips, so the C side writes each fact once. */
static const char script[] =
    "<script type=\"text/ecmascript\"><![CDATA[\n"
    "'use strict';\n"
    "var W = 1200, XPAD = 10, FW = 12 * 0.59, frames = [], total = 0, unit = '';\n"
    "var details, matched, box, reset;\n"
    "function init() {\n"
    "  var fr = document.getElementById('frames');\n"
    "  total = +fr.getAttribute('data-total'); unit = fr.getAttribute('data-unit');\n"
    "  details = document.getElementById('details');\n"
    "  matched = document.getElementById('matched');\n"
    "  reset = document.getElementById('reset');\n"
    "  box = document.getElementById('searchbox');\n"
    "  var gs = fr.getElementsByTagName('g');\n"
    "  for (var i = 0; i < gs.length; i++) {\n"
    "    var g = gs[i], r = g.getElementsByTagName('rect')[0];\n"
    "    var t = g.getElementsByTagName('title')[0].textContent;\n"
    "    var m = /^([\\s\\S]*) \\((\\d+) [\\s\\S]*, [0-9.]+%\\)$/.exec(t);\n"
    "    var f = {g: g, r: r, t: g.getElementsByTagName('text')[0], tip: t,\n"
    "      name: m ? m[1] : t, v: m ? +m[2] : 0,\n"
    "      x: +r.getAttribute('x'), w: +r.getAttribute('width'),\n"
    "      y: +r.getAttribute('y'), fill: r.getAttribute('fill')};\n"
    "    frames.push(f);\n"
    "    g.addEventListener('mouseover', show.bind(null, f));\n"
    "    g.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
    "    g.addEventListener('click', zoom.bind(null, f));\n"
    "  }\n"
    "  if (box) box.addEventListener('input', function () { search(box.value); });\n"
    "  reset.addEventListener('click', unzoom);\n"
    "  document.addEventListener('keydown', function (e) {\n"
    "    if ((e.ctrlKey || e.metaKey) && e.key === 'f' && box) { e.preventDefault(); box.focus(); }\n"
    "    else if (e.key === 'Escape') { unzoom(); if (box) box.value = ''; search(''); }\n"
    "  });\n"
    "  var h = /^#s=(.*)$/.exec(location.hash);\n"
    "  if (h) { var q = decodeURIComponent(h[1]); if (box) box.value = q; search(q); }\n"
    "}\n"
    "function show(f) { details.textContent = f.tip; }\n"
    "function label(f, w) {\n"
    "  var n = Math.floor((w - 3) / FW), s = f.name;\n"
    "  if (n < 3) s = ''; else if (s.length > n) s = s.slice(0, n - 2) + '..';\n"
    "  f.t.textContent = s;\n"
    "}\n"
    "function place(f, x, w) {\n"
    "  f.r.setAttribute('x', x.toFixed(2)); f.r.setAttribute('width', w.toFixed(2));\n"
    "  f.t.setAttribute('x', (x + 3).toFixed(2)); label(f, w);\n"
    "}\n"
    "function zoom(z) {\n"
    "  var e = 0.02, ratio = (W - 2 * XPAD) / z.w;\n"
    "  frames.forEach(function (f) {\n"
    "    var inside = f.x >= z.x - e && f.x + f.w <= z.x + z.w + e;\n"
    "    var above = f.x <= z.x + e && f.x + f.w >= z.x + z.w - e;\n"
    "    f.g.style.display = '';\n"
    "    f.g.style.opacity = '';\n"
    "    if (f.y <= z.y && inside) place(f, XPAD + (f.x - z.x) * ratio, f.w * ratio);\n"
    "    else if (f.y > z.y && above) { place(f, XPAD, W - 2 * XPAD); f.g.style.opacity = '0.5'; }\n"
    "    else f.g.style.display = 'none';\n"
    "  });\n"
    "  reset.style.display = '';\n"
    "}\n"
    "function unzoom() {\n"
    "  frames.forEach(function (f) {\n"
    "    f.g.style.display = ''; f.g.style.opacity = ''; place(f, f.x, f.w);\n"
    "  });\n"
    "  reset.style.display = 'none';\n"
    "}\n"
    "function search(q) {\n"
    "  var re = null, hits = [];\n"
    "  if (q) { try { re = new RegExp(q); } catch (err) { matched.textContent = 'bad expression'; return; } }\n"
    "  frames.forEach(function (f) {\n"
    "    var on = re !== null && re.test(f.name);\n"
    "    f.r.setAttribute('fill', on ? 'rgb(230,0,230)' : f.fill);\n"
    "    if (on) hits.push(f);\n"
    "  });\n"
    "  if (!re) { matched.textContent = ' '; return; }\n"
    "  /* Frames nest or are apart: count each outermost match once. */\n"
    "  hits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });\n"
    "  var sum = 0, end = -1;\n"
    "  hits.forEach(function (f) { if (f.x >= end - 0.02) { sum += f.v; end = f.x + f.w; } });\n"
    "  matched.textContent = 'Matched: ' + (total ? 100 * sum / total : 0).toFixed(2) + '% (' + sum + ' ' + unit + ')';\n"
    "}\n"
    "window.addEventListener('load', init);\n"
    "]]></script>\n";

int flame_write_svg(const flame_t *f, FILE *out, const char *title, const char *unit)
{
    svg_t g = {.f = f, .out = out, .unit = unit ? unit : "samples"};
    int64_t total = f->nodes[0].total;

    if (title == NULL)
        title = "Flame Graph";
    build_kids(&g);
    /* Below 0.1% of the total a frame is about a pixel wide: not drawn. */
    g.min = total / 1000 + (total % 1000 != 0);
    if (g.min < 1)
        g.min = 1;
    if (total > 0)
        measure(&g, 0, 0);
    g.height = YTOP + (g.maxdepth + 1) * FRAME_H + YBOT;
    g.scale = total > 0 ? (double)(IMG_W - 2 * XPAD) / (double)total : 0;

    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
            "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\">\n",
            IMG_W, g.height, IMG_W, g.height);
    fputs("<!-- flame graph written by cgops: self-contained, nothing is fetched -->\n"
          "<defs><linearGradient id=\"bg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
          "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
          "</linearGradient></defs>\n"
          "<style type=\"text/css\">\n"
          "text { font-family: Verdana, 'DejaVu Sans', sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
          "#title { font-size: 17px; text-anchor: middle; }\n"
          "#matched, #omitted { text-anchor: end; }\n"
          "#reset { cursor: pointer; }\n"
          ".f { cursor: pointer; }\n"
          ".f:hover rect { stroke: black; stroke-width: 0.5; }\n"
          ".f text { pointer-events: none; }\n"
          "input { width: 100%; box-sizing: border-box; font: 12px Verdana, 'DejaVu Sans', sans-serif; }\n"
          "</style>\n",
          out);
    fputs(script, out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#bg)\"/>\n",
            IMG_W, g.height);
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"24\">", IMG_W / 2);
    put_text(out, title);
    fputs("</text>\n", out);
    fprintf(out,
            "<text id=\"reset\" x=\"%d\" y=\"24\" style=\"display:none\">Reset Zoom</text>\n"
            "<foreignObject x=\"%d\" y=\"8\" width=\"250\" height=\"24\">"
            "<input xmlns=\"http://www.w3.org/1999/xhtml\" id=\"searchbox\" type=\"search\" "
            "placeholder=\"Search (regular expression)\"/></foreignObject>\n"
            "<text id=\"matched\" x=\"%d\" y=\"48\"> </text>\n",
            XPAD, IMG_W - XPAD - 250, IMG_W - XPAD);
    fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", XPAD, g.height - 22);
    if (f->n - 1 > g.drawn)
        fprintf(out, "<text id=\"omitted\" x=\"%d\" y=\"%d\">%zu frame%s narrower than 0.1%% not drawn</text>\n",
                IMG_W - XPAD, g.height - 6, f->n - 1 - g.drawn,
                f->n - 1 - g.drawn == 1 ? "" : "s");
    fprintf(out, "<g id=\"frames\" data-total=\"%" PRId64 "\" data-unit=\"", total);
    put_text(out, g.unit);
    fputs("\">\n", out);
    if (total > 0)
        draw(&g, 0, 0, 0);
    else
        fprintf(out, "<text x=\"%d\" y=\"%d\">no samples</text>\n", XPAD, YTOP + 12);
    fputs("</g>\n</svg>\n", out);

    free(g.kids);
    free(g.kstart);
    if (fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}

/* profile_report.c -- what `go tool pprof -top` computes, from a decoded profile
 *
 * Follows the steps of pprof's report and graph packages (Go 1.19's copy):
 * the report total is the sum of |value| over the (merged) samples, taken
 * before focus/ignore; the graph has one node per function name (per
 * binary for frames without one); each sample adds its value to the cum of
 * every distinct node on its stack and to the flat of its leaf; nodes whose
 * |cum| is under nodefraction of the graph's flat total are dropped and the
 * graph rebuilt without them (a dropped leaf takes its flat with it); nodes
 * sort by |flat| (or |cum|), then name; an "(inline)" mark comes from the
 * in-edges that survive the edgefraction cutoff.  Number formatting is
 * pprof's measurement package: same unit tables, same %.2f and %.2g.
 */
#include "cgops/profile_report.h"
#include "cgops/common.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Go's int64 arithmetic wraps; so does pprof's, on hostile values.  C's
 * would be undefined, so every sum goes through these. */
static int64_t add64(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t mul64(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

static int64_t abs64(int64_t v)
{
    return v < 0 ? (int64_t)(0 - (uint64_t)v) : v;
}

/* Go's int64(f) on amd64: out of range (or NaN) gives the minimum. */
static int64_t f2i(double f)
{
    if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)f;
}

/* ---- pprof's measurement package ----------------------------------------------- */

typedef struct {
    const char *name;
    const char *aliases[4];
    double factor;
} unit_t;

typedef struct {
    const unit_t *units;
    size_t nunits;
    unit_t def;
} unit_type_t;

static const unit_t bytes_units[] = {
    {"B", {"b", "byte"}, 1},
    {"kB", {"kb", "kbyte", "kilobyte"}, 1024.0},
    {"MB", {"mb", "mbyte", "megabyte"}, 1048576.0},
    {"GB", {"gb", "gbyte", "gigabyte"}, 1073741824.0},
    {"TB", {"tb", "tbyte", "terabyte"}, 1099511627776.0},
    {"PB", {"pb", "pbyte", "petabyte"}, 1125899906842624.0},
};
static const unit_t time_units[] = {
    {"ns", {"ns", "nanosecond"}, 1},
    {"us", {"\xce\xbcs", "us", "microsecond"}, 1e3},
    {"ms", {"ms", "millisecond"}, 1e6},
    {"s", {"s", "sec", "second"}, 1e9},
    {"hrs", {"hour", "hr"}, 3600e9},
};
static const unit_t gcu_units[] = {
    {"n*GCU", {"nanogcu"}, 1e-9}, {"u*GCU", {"microgcu"}, 1e-6}, {"m*GCU", {"milligcu"}, 1e-3},
    {"GCU", {"gcu"}, 1},          {"k*GCU", {"kilogcu"}, 1e3},   {"M*GCU", {"megagcu"}, 1e6},
    {"G*GCU", {"gigagcu"}, 1e9},  {"T*GCU", {"teragcu"}, 1e12},  {"P*GCU", {"petagcu"}, 1e15},
};
static const unit_type_t unit_types[] = {
    {bytes_units, CG_ARRAY_SIZE(bytes_units), {"B", {"b", "byte"}, 1}},
    {time_units, CG_ARRAY_SIZE(time_units), {"s", {NULL}, 1e9}},
    {gcu_units, CG_ARRAY_SIZE(gcu_units), {"GCU", {NULL}, 1}},
};

/* pprof's sniffUnit: lower case, one trailing 's' off a longer name. */
static const unit_t *sniff_unit(const unit_type_t *ut, const char *name)
{
    char low[64];
    size_t n = strlen(name);

    if (n >= sizeof low)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    if (n > 2 && low[n - 1] == 's')
        low[n - 1] = '\0';
    for (size_t i = 0; i < ut->nunits; i++)
        for (size_t j = 0; j < 4 && ut->units[i].aliases[j]; j++)
            if (strcmp(low, ut->units[i].aliases[j]) == 0)
                return &ut->units[i];
    return NULL;
}

/* pprof's Scale: *unit is "" when the unit is not worth printing. */
static double scale(int64_t value, const char *from, const char *to, const char **unit)
{
    if (value < 0 && value != INT64_MIN)
        return -scale(-value, from, to, unit);
    for (size_t t = 0; t < CG_ARRAY_SIZE(unit_types); t++) {
        const unit_type_t *ut = &unit_types[t];
        const unit_t *fu = sniff_unit(ut, from), *tu;
        double v;

        if (fu == NULL)
            continue;
        v = (double)value * fu->factor;
        if (strcmp(to, "minimum") == 0 || strcmp(to, "auto") == 0) {
            double f = 0;
            const char *name = NULL;

            for (size_t i = 0; i < ut->nunits; i++)
                if (ut->units[i].factor >= f && v / ut->units[i].factor >= 1.0) {
                    f = ut->units[i].factor;
                    name = ut->units[i].name;
                }
            if (f != 0) {
                *unit = name;
                return v / f;
            }
            *unit = ut->def.name;
            return v / ut->def.factor;
        }
        if ((tu = sniff_unit(ut, to)) == NULL) {
            *unit = ut->def.name;
            return v / ut->def.factor;
        }
        *unit = tu->name;
        return v / tu->factor;
    }
    if (!strcmp(to, "count") || !strcmp(to, "sample") || !strcmp(to, "unit") ||
        !strcmp(to, "minimum") || !strcmp(to, "auto"))
        *unit = "";
    else
        *unit = to;
    return (double)value;
}

void profile_scaled_label(int64_t v, const char *from, const char *to, char *buf, size_t size)
{
    const char *unit;
    double x = scale(v, from, to, &unit);
    char num[128];
    size_t n;

    snprintf(num, sizeof num, "%.2f", x);
    n = strlen(num);
    if (n >= 3 && strcmp(num + n - 3, ".00") == 0)
        num[n - 3] = '\0';
    if (strcmp(num, "0") == 0 || strcmp(num, "-0") == 0) {
        snprintf(buf, size, "0");
        return;
    }
    snprintf(buf, size, "%s%s", num, unit);
}

void profile_percentage(int64_t v, int64_t total, char *buf, size_t size)
{
    double ratio = 0;

    if (total != 0)
        ratio = fabs((double)v / (double)total) * 100;
    if (ratio >= 99.95 && ratio <= 100.05)
        snprintf(buf, size, "  100%%");
    else if (ratio >= 1.0)
        snprintf(buf, size, "%5.2f%%", ratio);
    else
        snprintf(buf, size, "%5.2g%%", ratio);
}

/* ---- a hash table of byte strings ------------------------------------------------ */

typedef struct {
    char **keys;
    size_t *lens;
    uint32_t *slots; /* index+1 into keys, 0 empty */
    size_t n, cap, mask;
} strtab_t;

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int strtab_grow(strtab_t *t)
{
    size_t nmask = t->mask ? t->mask * 2 + 1 : 255;
    uint32_t *slots = calloc(nmask + 1, sizeof *slots);

    if (slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = fnv(t->keys[i], t->lens[i]) & nmask;
        while (slots[h])
            h = (h + 1) & nmask;
        slots[h] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = nmask;
    return 0;
}

/* The index of key, added if new (*added set).  Returns 0 or -ENOMEM. */
static int strtab_intern(strtab_t *t, const void *key, size_t len, uint32_t *idx, int *added)
{
    size_t h;

    if ((t->n + 1) * 2 > t->mask + 1 && strtab_grow(t) != 0)
        return -ENOMEM;
    h = fnv(key, len) & t->mask;
    while (t->slots[h]) {
        uint32_t i = t->slots[h] - 1;
        if (t->lens[i] == len && memcmp(t->keys[i], key, len) == 0) {
            *idx = i;
            if (added)
                *added = 0;
            return 0;
        }
        h = (h + 1) & t->mask;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        char **nk = realloc(t->keys, ncap * sizeof *nk);
        if (nk == NULL)
            return -ENOMEM;
        t->keys = nk;
        size_t *nl = realloc(t->lens, ncap * sizeof *nl);
        if (nl == NULL)
            return -ENOMEM;
        t->lens = nl;
        t->cap = ncap;
    }
    if ((t->keys[t->n] = malloc(len + 1)) == NULL)
        return -ENOMEM;
    memcpy(t->keys[t->n], key, len);
    t->keys[t->n][len] = '\0';
    t->lens[t->n] = len;
    t->slots[h] = (uint32_t)t->n + 1;
    *idx = (uint32_t)t->n++;
    if (added)
        *added = 1;
    return 0;
}

static void strtab_free(strtab_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- the graph ----------------------------------------------------------------- */

typedef struct {
    char *name;    /* printable name */
    char *sprint;  /* pprof's last tie-break: fmt.Sprint(NodeInfo) */
    int64_t flat, cum;
    uint32_t stamp;
    int kept;      /* in the current pass's kept set */
    int inl, noinl;
} node_t;

typedef struct {
    uint32_t src, dst;
    int64_t weight;
    int inline_; /* stays 1 only if every addition was inline */
    uint32_t stamp;
} edge_t;

typedef struct {
    const profile_t *p;
    int sign;
    uint32_t *loc_first; /* per location: its first node slot */
    uint32_t *slots;     /* node index per (location, line) */
    signed char *filter; /* per location: 1 focus, -1 ignore, 0 neither */
} src_t;

typedef struct {
    node_t *nodes;
    size_t nnodes, capnodes;
    strtab_t names;
    edge_t *edges;
    size_t nedges, capedges;
    uint32_t *eslots;
    size_t emask;
    uint32_t stamp;
    src_t src[2];
    size_t nsrc;
    int si;
    int all_kept;
} graph_t;

static int node_for(graph_t *g, const profile_t *p, const profile_loc_t *l, uint32_t line, uint32_t *idx)
{
    const profile_func_t *f = NULL;
    char key[512], buf[300];
    const char *name;
    size_t klen;
    int added, rc;

    if (line < l->nlines && l->lines[line].func >= 0)
        f = &p->funcs[l->lines[line].func];
    name = profile_frame_name(p, l, line, buf, sizeof buf);
    if (f && f->name[0]) {
        if ((rc = strtab_intern(&g->names, f->name, strlen(f->name), idx, &added)) != 0)
            return rc;
    } else {
        /* No name: pprof's node is the binary plus the function's start line. */
        const char *obj = l->mapping >= 0 ? p->mappings[l->mapping].file : "";
        int n = snprintf(key, sizeof key, "\001%s\001%lld", obj, f ? (long long)f->start_line : 0LL);
        klen = n < 0 ? 0 : (size_t)n >= sizeof key ? sizeof key - 1 : (size_t)n;
        if ((rc = strtab_intern(&g->names, key, klen, idx, &added)) != 0)
            return rc;
    }
    if (added) {
        if (g->nnodes == g->capnodes) {
            size_t ncap = g->capnodes ? g->capnodes * 2 : 256;
            node_t *nn = realloc(g->nodes, ncap * sizeof *nn);
            if (nn == NULL)
                return -ENOMEM;
            g->nodes = nn;
            g->capnodes = ncap;
        }
        node_t *n = &g->nodes[g->nnodes++];
        memset(n, 0, sizeof *n);
        n->name = cg_xstrdup(name);
        if (f && f->name[0]) {
            if (asprintf(&n->sprint, "{%s  0  0 0 }", f->name) < 0)
                n->sprint = NULL;
        } else {
            const char *obj = l->mapping >= 0 ? p->mappings[l->mapping].file : "";
            if (asprintf(&n->sprint, "{  0  %lld 0 %s}", f ? (long long)f->start_line : 0LL, obj) < 0)
                n->sprint = NULL;
        }
        if (n->sprint == NULL)
            return -ENOMEM;
    }
    return 0;
}

static int regex_match_loc(const profile_t *p, const profile_loc_t *l, const regex_t *re)
{
    for (uint32_t i = 0; i < l->nlines; i++) {
        if (l->lines[i].func < 0)
            continue;
        const profile_func_t *f = &p->funcs[l->lines[i].func];
        if (regexec(re, f->name, 0, NULL, 0) == 0 || regexec(re, f->filename, 0, NULL, 0) == 0)
            return 1;
    }
    return l->mapping >= 0 && regexec(re, p->mappings[l->mapping].file, 0, NULL, 0) == 0;
}

static int src_init(graph_t *g, src_t *s, const profile_t *p, int sign, const regex_t *focus,
                    const regex_t *ignore)
{
    size_t nslots = 0;
    int rc;

    s->p = p;
    s->sign = sign;
    s->loc_first = malloc((p->nlocs + 1) * sizeof *s->loc_first);
    s->filter = calloc(p->nlocs + 1, 1);
    if (s->loc_first == NULL || s->filter == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < p->nlocs; i++) {
        s->loc_first[i] = (uint32_t)nslots;
        nslots += p->locs[i].nlines ? p->locs[i].nlines : 1;
    }
    s->loc_first[p->nlocs] = (uint32_t)nslots;
    if ((s->slots = malloc((nslots + 1) * sizeof *s->slots)) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < p->nlocs; i++) {
        const profile_loc_t *l = &p->locs[i];
        uint32_t nl = l->nlines ? l->nlines : 1;

        for (uint32_t k = 0; k < nl; k++)
            if ((rc = node_for(g, p, l, k, &s->slots[s->loc_first[i] + k])) != 0)
                return rc;
        if (ignore && regex_match_loc(p, l, ignore))
            s->filter[i] = -1;
        else if (focus == NULL || regex_match_loc(p, l, focus))
            s->filter[i] = 1;
    }
    return 0;
}

/* pprof's focusedAndNotIgnored. */
static int sample_selected(const src_t *s, const profile_sample_t *smp)
{
    int f = 0;

    for (uint32_t j = 0; j < smp->nlocs; j++) {
        signed char v = s->filter[smp->locs[j]];
        if (v < 0)
            return 0;
        if (v > 0)
            f = 1;
    }
    return f;
}

static int edge_add(graph_t *g, uint32_t src, uint32_t dst, int64_t w, int inl)
{
    size_t h;

    if ((g->nedges + 1) * 2 > g->emask + 1) {
        size_t nmask = g->emask ? g->emask * 2 + 1 : 1023;
        uint32_t *ns = calloc(nmask + 1, sizeof *ns);
        if (ns == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < g->nedges; i++) {
            size_t k = fnv(&g->edges[i].src, 8) & nmask;
            while (ns[k])
                k = (k + 1) & nmask;
            ns[k] = (uint32_t)i + 1;
        }
        free(g->eslots);
        g->eslots = ns;
        g->emask = nmask;
    }
    uint32_t key[2] = {src, dst};
    h = fnv(key, 8) & g->emask;
    while (g->eslots[h]) {
        edge_t *e = &g->edges[g->eslots[h] - 1];
        if (e->src == src && e->dst == dst) {
            if (e->stamp != g->stamp) { /* once per sample */
                e->stamp = g->stamp;
                e->weight = add64(e->weight, w);
                if (!inl)
                    e->inline_ = 0;
            }
            return 0;
        }
        h = (h + 1) & g->emask;
    }
    if (g->nedges == g->capedges) {
        size_t ncap = g->capedges ? g->capedges * 2 : 1024;
        edge_t *ne = realloc(g->edges, ncap * sizeof *ne);
        if (ne == NULL)
            return -ENOMEM;
        g->edges = ne;
        g->capedges = ncap;
    }
    edge_t *e = &g->edges[g->nedges];
    e->src = src;
    e->dst = dst;
    e->weight = w;
    e->inline_ = inl;
    e->stamp = g->stamp;
    g->eslots[h] = (uint32_t)g->nedges + 1;
    g->nedges++;
    return 0;
}

/* One of pprof's newGraph passes over the samples, with the nodes whose
 * kept flag is set (all of them when g->all_kept).  Edges are only read
 * from the last pass (for the inline marks): the others skip them, which
 * on a large profile is most of the time. */
static int graph_pass(graph_t *g, int with_edges)
{
    int rc;

    for (size_t i = 0; i < g->nnodes; i++) {
        g->nodes[i].flat = g->nodes[i].cum = 0;
        g->nodes[i].stamp = 0;
    }
    g->nedges = 0;
    if (g->eslots)
        memset(g->eslots, 0, (g->emask + 1) * sizeof *g->eslots);
    g->stamp = 0;
    for (size_t s = 0; s < g->nsrc; s++) {
        const src_t *src = &g->src[s];
        const profile_t *p = src->p;

        for (size_t i = 0; i < p->nsamples; i++) {
            const profile_sample_t *smp = &p->samples[i];
            int64_t w = mul64(smp->values[g->si], src->sign);
            int64_t parent = -1;
            int residual = 0;

            if (w == 0 || !sample_selected(src, smp))
                continue;
            if (++g->stamp == 0) { /* wrapped: clear the stamps */
                for (size_t k = 0; k < g->nnodes; k++)
                    g->nodes[k].stamp = 0;
                for (size_t k = 0; k < g->nedges; k++)
                    g->edges[k].stamp = 0;
                g->stamp = 1;
            }
            for (uint32_t j = smp->nlocs; j-- > 0;) {
                uint32_t li = smp->locs[j], first = src->loc_first[li];
                uint32_t nl = src->loc_first[li + 1] - first;

                for (uint32_t k = nl; k-- > 0;) {
                    uint32_t ni = src->slots[first + k];
                    node_t *n = &g->nodes[ni];

                    if (!g->all_kept && !n->kept) {
                        residual = 1;
                        continue;
                    }
                    if (n->stamp != g->stamp) {
                        n->stamp = g->stamp;
                        n->cum = add64(n->cum, w);
                    }
                    if (with_edges && parent >= 0 && (uint32_t)parent != ni &&
                        (rc = edge_add(g, (uint32_t)parent, ni, w, k != nl - 1)) != 0)
                        return rc;
                    parent = ni;
                    residual = 0;
                }
            }
            if (parent >= 0 && !residual)
                g->nodes[parent].flat = add64(g->nodes[parent].flat, w);
        }
    }
    return 0;
}

static int cmp_flat(const void *a, const void *b, void *ctx)
{
    const graph_t *g = ctx;
    const node_t *l = &g->nodes[*(const uint32_t *)a], *r = &g->nodes[*(const uint32_t *)b];
    int c;

    if (abs64(l->flat) != abs64(r->flat))
        return abs64(l->flat) > abs64(r->flat) ? -1 : 1;
    if ((c = strcmp(l->name, r->name)) != 0)
        return c;
    if (abs64(l->cum) != abs64(r->cum))
        return abs64(l->cum) > abs64(r->cum) ? -1 : 1;
    return strcmp(l->sprint, r->sprint);
}

static int cmp_cum(const void *a, const void *b, void *ctx)
{
    const graph_t *g = ctx;
    const node_t *l = &g->nodes[*(const uint32_t *)a], *r = &g->nodes[*(const uint32_t *)b];
    int c;

    if (abs64(l->cum) != abs64(r->cum))
        return abs64(l->cum) > abs64(r->cum) ? -1 : 1;
    if ((c = strcmp(l->name, r->name)) != 0)
        return c;
    if (abs64(l->flat) != abs64(r->flat))
        return abs64(l->flat) > abs64(r->flat) ? -1 : 1;
    return strcmp(l->sprint, r->sprint);
}

/* The nodes of the current pass's graph (pprof's selectNodesForGraph). */
static size_t graph_nodes(const graph_t *g, uint32_t *out)
{
    size_t n = 0;

    for (size_t i = 0; i < g->nnodes; i++) {
        const node_t *x = &g->nodes[i];
        if ((g->all_kept || x->kept) && (x->flat != 0 || x->cum != 0))
            out[n++] = (uint32_t)i;
    }
    return n;
}

static void graph_free(graph_t *g)
{
    for (size_t i = 0; i < g->nnodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].sprint);
    }
    free(g->nodes);
    free(g->edges);
    free(g->eslots);
    strtab_free(&g->names);
    for (size_t s = 0; s < 2; s++) {
        free(g->src[s].loc_first);
        free(g->src[s].slots);
        free(g->src[s].filter);
    }
}

int profile_select(const profile_t *p, const char *focus, const char *ignore, unsigned char **keep,
                   char *err)
{
    regex_t fre, ire;
    src_t src;
    int rc = 0;

    *keep = NULL;
    memset(&src, 0, sizeof src);
    if (focus && regcomp(&fre, focus, REG_EXTENDED | REG_NOSUB) != 0) {
        cg_seterr(err, "--focus: '%s' is not a valid regular expression", focus);
        return -EINVAL;
    }
    if (ignore && regcomp(&ire, ignore, REG_EXTENDED | REG_NOSUB) != 0) {
        if (focus)
            regfree(&fre);
        cg_seterr(err, "--ignore: '%s' is not a valid regular expression", ignore);
        return -EINVAL;
    }
    src.filter = calloc(p->nlocs + 1, 1);
    *keep = malloc(p->nsamples + 1);
    if (src.filter == NULL || *keep == NULL) {
        rc = -ENOMEM;
        free(*keep);
        *keep = NULL;
    } else {
        for (size_t i = 0; i < p->nlocs; i++) {
            if (ignore && regex_match_loc(p, &p->locs[i], &ire))
                src.filter[i] = -1;
            else if (focus == NULL || regex_match_loc(p, &p->locs[i], &fre))
                src.filter[i] = 1;
        }
        for (size_t i = 0; i < p->nsamples; i++)
            (*keep)[i] = (unsigned char)sample_selected(&src, &p->samples[i]);
    }
    free(src.filter);
    if (focus)
        regfree(&fre);
    if (ignore)
        regfree(&ire);
    return rc;
}

/* ---- the report total, on merged samples ---------------------------------------------- */

static int append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n > *cap) {
        size_t ncap = (*len + n) * 2 + 64;
        char *nb = realloc(*buf, ncap);
        if (nb == NULL)
            return -ENOMEM;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* pprof merges samples of the same stack and labels (profile.Merge) before
 * it sums |value|; with a base subtracted, opposite values cancel first. */
static int merged_total(const profile_t *const *ps, const int *signs, size_t np, int si, int64_t *total)
{
    strtab_t locs = {0}, samples = {0};
    int64_t *vals = NULL;
    size_t nvals = 0;
    char *key = NULL;
    size_t klen = 0, kcap = 0;
    int rc = 0;

    *total = 0;
    for (size_t pi = 0; pi < np && rc == 0; pi++) {
        const profile_t *p = ps[pi];
        uint32_t *canon = malloc((p->nlocs + 1) * sizeof *canon);

        if (canon == NULL) {
            rc = -ENOMEM;
            break;
        }
        /* A location's identity across profiles: its address within its
         * mapping, the mapping, and its lines (pprof's locationKey). */
        for (size_t i = 0; i < p->nlocs && rc == 0; i++) {
            const profile_loc_t *l = &p->locs[i];
            char tmp[128];
            uint64_t addr = l->address;

            klen = 0;
            if (l->mapping >= 0) {
                const profile_mapping_t *m = &p->mappings[l->mapping];
                uint64_t size = m->limit - m->start;
                size = size + 0xfff;
                size -= size % 0x1000;
                addr -= m->start;
                int n = snprintf(tmp, sizeof tmp, "%llx|%llx|", (unsigned long long)size,
                                 (unsigned long long)m->offset);
                rc = append(&key, &klen, &kcap, tmp, (size_t)n);
                const char *id = m->build_id[0] ? m->build_id : m->file;
                if (rc == 0)
                    rc = append(&key, &klen, &kcap, id, strlen(id) + 1);
            }
            int n = snprintf(tmp, sizeof tmp, "%llx|%d|", (unsigned long long)addr, l->is_folded);
            if (rc == 0)
                rc = append(&key, &klen, &kcap, tmp, (size_t)n);
            for (uint32_t k = 0; k < l->nlines && rc == 0; k++) {
                const profile_line_t *ln = &l->lines[k];
                if (ln->func >= 0) {
                    const profile_func_t *f = &p->funcs[ln->func];
                    n = snprintf(tmp, sizeof tmp, "%lld|", (long long)f->start_line);
                    rc = append(&key, &klen, &kcap, tmp, (size_t)n);
                    if (rc == 0)
                        rc = append(&key, &klen, &kcap, f->name, strlen(f->name) + 1);
                    if (rc == 0)
                        rc = append(&key, &klen, &kcap, f->system_name, strlen(f->system_name) + 1);
                    if (rc == 0)
                        rc = append(&key, &klen, &kcap, f->filename, strlen(f->filename) + 1);
                }
                n = snprintf(tmp, sizeof tmp, "%lld;", (long long)ln->line);
                if (rc == 0)
                    rc = append(&key, &klen, &kcap, tmp, (size_t)n);
            }
            if (rc == 0)
                rc = strtab_intern(&locs, key, klen, &canon[i], NULL);
        }
        for (size_t i = 0; i < p->nsamples && rc == 0; i++) {
            const profile_sample_t *s = &p->samples[i];
            int zero = 1;
            uint32_t idx;
            int added;

            for (size_t v = 0; v < p->ntypes; v++)
                if (s->values[v])
                    zero = 0;
            if (zero)
                continue; /* pprof's isZeroSample */
            klen = 0;
            for (uint32_t j = 0; j < s->nlocs && rc == 0; j++)
                rc = append(&key, &klen, &kcap, &canon[s->locs[j]], sizeof(uint32_t));
            if (s->nlabels && rc == 0) {
                char **lb = calloc(s->nlabels, sizeof *lb);
                if (lb == NULL)
                    rc = -ENOMEM;
                for (uint32_t j = 0; j < s->nlabels && rc == 0; j++) {
                    const profile_label_t *x = &s->labels[j];
                    int n = x->str ? asprintf(&lb[j], "%s\1%s", x->key, x->str)
                                   : asprintf(&lb[j], "%s\2%lld\2%s", x->key, (long long)x->num, x->num_unit);
                    if (n < 0) {
                        lb[j] = NULL;
                        rc = -ENOMEM;
                    }
                }
                if (rc == 0) {
                    qsort(lb, s->nlabels, sizeof *lb, cmp_str);
                    rc = append(&key, &klen, &kcap, "\3", 1);
                    for (uint32_t j = 0; j < s->nlabels && rc == 0; j++)
                        rc = append(&key, &klen, &kcap, lb[j], strlen(lb[j]) + 1);
                }
                for (uint32_t j = 0; lb && j < s->nlabels; j++)
                    free(lb[j]);
                free(lb);
            }
            if (rc == 0)
                rc = strtab_intern(&samples, key, klen, &idx, &added);
            if (rc == 0 && idx >= nvals) {
                size_t nn = nvals ? nvals * 2 : 1024;
                while (nn <= idx)
                    nn *= 2;
                int64_t *nv = realloc(vals, nn * sizeof *nv);
                if (nv == NULL) {
                    rc = -ENOMEM;
                    break;
                }
                memset(nv + nvals, 0, (nn - nvals) * sizeof *nv);
                vals = nv;
                nvals = nn;
            }
            if (rc == 0)
                vals[idx] = add64(vals[idx], mul64(s->values[si], signs[pi]));
        }
        free(canon);
    }
    for (size_t i = 0; rc == 0 && i < samples.n; i++)
        *total = add64(*total, abs64(vals[i]));
    free(vals);
    free(key);
    strtab_free(&locs);
    strtab_free(&samples);
    return rc;
}

/* ---- the report -------------------------------------------------------------------- */

static int add_header(profile_top_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_header(profile_top_t *t, const char *fmt, ...)
{
    va_list ap;
    char *line;
    char **nh = realloc(t->header, (t->nheader + 1) * sizeof *nh);

    if (nh == NULL)
        return -ENOMEM;
    t->header = nh;
    va_start(ap, fmt);
    if (vasprintf(&line, fmt, ap) < 0) {
        va_end(ap);
        return -ENOMEM;
    }
    va_end(ap);
    t->header[t->nheader++] = line;
    return 0;
}

static int compatible(const profile_t *a, const profile_t *b, char *err)
{
    if (a->ntypes != b->ntypes)
        goto bad;
    for (size_t i = 0; i < a->ntypes; i++)
        if (strcmp(a->types[i].type, b->types[i].type) || strcmp(a->types[i].unit, b->types[i].unit))
            goto bad;
    if (strcmp(a->period_type.type, b->period_type.type) || strcmp(a->period_type.unit, b->period_type.unit))
        goto bad;
    return 0;
bad:
    cg_seterr(err, "the base is not the same kind of profile (sample or period types differ)");
    return -EINVAL;
}

int profile_top(const profile_t *p, const profile_report_opts_t *o, profile_top_t *t, char *err)
{
    graph_t g;
    regex_t focus, ignore;
    int have_focus = 0, have_ignore = 0, rc;
    uint32_t *order = NULL;
    size_t n, total_nodes;
    const char *stype, *sunit;
    char a[64], b[64], c[64];

    memset(t, 0, sizeof *t);
    memset(&g, 0, sizeof g);
    if (o->base && (rc = compatible(p, o->base, err)) != 0)
        return rc;
    /* pprof -base reports on the merge of the two (profile.Merge), whose
     * default sample type is the first one set: the base's when the
     * profile names none (a heap profile against an allocs one). */
    const char *si = o->sample_index;
    if ((si == NULL || si[0] == '\0') && o->base && p->default_type[0] == '\0' && o->base->default_type[0])
        si = o->base->default_type;
    if ((rc = profile_sample_index(p, si, &t->sample_index, err)) != 0)
        return rc;
    g.si = t->sample_index;
    stype = p->types[g.si].type;
    sunit = p->types[g.si].unit;

    /* The report total: all samples, before focus and ignore. */
    {
        const profile_t *ps[2] = {p, o->base};
        int signs[2] = {1, -1};
        if (o->base) {
            if ((rc = merged_total(ps, signs, 2, g.si, &t->total)) != 0)
                goto out;
        } else {
            for (size_t i = 0; i < p->nsamples; i++)
                t->total = add64(t->total, abs64(p->samples[i].values[g.si]));
        }
    }

    if (o->focus) {
        if (regcomp(&focus, o->focus, REG_EXTENDED | REG_NOSUB) != 0) {
            cg_seterr(err, "--focus: '%s' is not a valid regular expression", o->focus);
            rc = -EINVAL;
            goto out;
        }
        have_focus = 1;
    }
    if (o->ignore) {
        if (regcomp(&ignore, o->ignore, REG_EXTENDED | REG_NOSUB) != 0) {
            cg_seterr(err, "--ignore: '%s' is not a valid regular expression", o->ignore);
            rc = -EINVAL;
            goto out;
        }
        have_ignore = 1;
    }
    if ((rc = src_init(&g, &g.src[0], p, 1, have_focus ? &focus : NULL, have_ignore ? &ignore : NULL)) != 0)
        goto out;
    g.nsrc = 1;
    if (o->base) {
        if ((rc = src_init(&g, &g.src[1], o->base, -1, have_focus ? &focus : NULL,
                           have_ignore ? &ignore : NULL)) != 0)
            goto out;
        g.nsrc = 2;
    }
    if ((order = malloc((g.nnodes + 1) * sizeof *order)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }

    /* First pass: every node, to find the low-frequency ones. */
    g.all_kept = 1;
    if ((rc = graph_pass(&g, 0)) != 0)
        goto out;
    n = graph_nodes(&g, order);
    int64_t total_value = 0;
    for (size_t i = 0; i < n; i++)
        total_value = add64(total_value, g.nodes[order[i]].flat);
    int64_t node_cutoff = abs64(f2i((double)total_value * o->node_fraction));
    int64_t edge_cutoff = abs64(f2i((double)total_value * o->edge_fraction));
    int rebuilt = 0;
    if (node_cutoff > 0) {
        size_t kept = 0;
        for (size_t i = 0; i < g.nnodes; i++)
            g.nodes[i].kept = 0;
        for (size_t i = 0; i < n; i++)
            if (abs64(g.nodes[order[i]].cum) >= node_cutoff) {
                g.nodes[order[i]].kept = 1;
                kept++;
            }
        if (kept != n) {
            /* The kept nodes keep their cum (each still gets every sample
             * it is on), so kept is the next graph's size: that pass is
             * the last one unless --top trims it further. */
            int last = !(o->node_count > 0 && (size_t)o->node_count < kept);
            t->dropped_nodes = n - kept;
            g.all_kept = 0;
            if ((rc = graph_pass(&g, last)) != 0)
                goto out;
            rebuilt = last;
            n = graph_nodes(&g, order);
        }
    }
    t->orig_count = n;
    qsort_r(order, n, sizeof *order, o->cum_sort ? cmp_cum : cmp_flat, &g);
    if (o->node_count > 0 && (size_t)o->node_count < n) {
        for (size_t i = 0; i < g.nnodes; i++)
            g.nodes[i].kept = 0;
        for (size_t i = 0; i < (size_t)o->node_count; i++)
            g.nodes[order[i]].kept = 1;
        g.all_kept = 0;
        if ((rc = graph_pass(&g, 1)) != 0)
            goto out;
        n = graph_nodes(&g, order);
        qsort_r(order, n, sizeof *order, o->cum_sort ? cmp_cum : cmp_flat, &g);
    } else if (!rebuilt) {
        /* The graph stands as it is: one more pass for its edges. */
        if ((rc = graph_pass(&g, 1)) != 0)
            goto out;
    }
    total_nodes = n;

    /* In-edges above the edge cutoff decide the inline marks. */
    for (size_t i = 0; i < g.nnodes; i++)
        g.nodes[i].inl = g.nodes[i].noinl = 0;
    for (size_t i = 0; i < g.nedges; i++) {
        const edge_t *e = &g.edges[i];
        if (abs64(e->weight) < edge_cutoff)
            continue;
        if (e->inline_)
            g.nodes[e->dst].inl = 1;
        else
            g.nodes[e->dst].noinl = 1;
    }

    /* pprof's selectOutputUnit: the smallest nonzero value decides. */
    int64_t min_value = 0, max_value = t->total;
    for (size_t i = 0; i < n; i++) {
        const node_t *x = &g.nodes[order[i]];
        int64_t m = abs64(x->flat);
        if (m == 0)
            m = abs64(x->cum);
        if (m > 0 && (min_value == 0 || m < min_value))
            min_value = m;
    }
    if (min_value == 0)
        min_value = max_value;
    const char *min_unit, *max_unit, *unit;
    scale(min_value, sunit, "minimum", &min_unit);
    scale(max_value, sunit, "minimum", &max_unit);
    unit = min_unit;
    if (strcmp(min_unit, max_unit) != 0 && mul64(min_value, 100) < max_value)
        scale(mul64(100, min_value), sunit, "minimum", &unit);
    snprintf(t->out_unit, sizeof t->out_unit, "%s", unit[0] ? unit : sunit);

    if ((t->rows = calloc(n + 1, sizeof *t->rows)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    int64_t flat_sum = 0;
    for (size_t i = 0; i < n; i++) {
        node_t *x = &g.nodes[order[i]];
        profile_row_t *r = &t->rows[t->nrows++];

        r->name = x->name;
        x->name = NULL;
        r->flat = x->flat;
        r->cum = x->cum;
        r->inline_label = x->inl ? (x->noinl ? "(partial-inline)" : "(inline)") : "";
        flat_sum = add64(flat_sum, x->flat);
    }

    /* The header, as pprof's ProfileLabels and reportLabels. */
    if (p->nmappings > 0) {
        const char *file = p->mappings[0].file;
        if (file[0]) {
            const char *slash = strrchr(file, '/');
            if ((rc = add_header(t, "File: %s", slash && slash[1] ? slash + 1 : file)) != 0)
                goto out;
        }
        if (p->mappings[0].build_id[0] && (rc = add_header(t, "Build ID: %s", p->mappings[0].build_id)) != 0)
            goto out;
    }
    for (size_t i = 0; i < p->ncomments; i++)
        if (p->comments[i][0] != '#' && (rc = add_header(t, "%s", p->comments[i])) != 0)
            goto out;
    if (o->base)
        for (size_t i = 0; i < o->base->ncomments; i++) {
            int seen = 0;
            for (size_t j = 0; j < p->ncomments; j++)
                seen |= strcmp(p->comments[j], o->base->comments[i]) == 0;
            if (!seen && o->base->comments[i][0] != '#' &&
                (rc = add_header(t, "%s", o->base->comments[i])) != 0)
                goto out;
        }
    if ((rc = add_header(t, "Type: %s", stype)) != 0)
        goto out;
    int64_t tn = p->time_nanos, dn = p->duration_nanos;
    if (o->base) {
        /* profile.Merge's header: the earliest time (as it compares), the durations summed. */
        if (tn == 0 || o->base->time_nanos < tn)
            tn = o->base->time_nanos;
        dn = add64(dn, o->base->duration_nanos);
    }
    if (tn != 0) {
        time_t secs = (time_t)(tn / 1000000000);
        struct tm tm;
        char when[128];

        if (tn < 0 && tn % 1000000000)
            secs--;
        if (localtime_r(&secs, &tm) && strftime(when, sizeof when, "%b %-d, %Y at %-I:%M%P (%Z)", &tm) > 0 &&
            (rc = add_header(t, "Time: %s", when)) != 0)
            goto out;
    }
    if (dn != 0) {
        const char *tu;
        double total_ns = scale(t->total, sunit, "nanoseconds", &tu);
        char ratio[sizeof c + 2] = "";

        profile_scaled_label(dn, "nanoseconds", "auto", a, sizeof a);
        profile_scaled_label(t->total, sunit, t->out_unit, b, sizeof b);
        if (strcmp(tu, "ns") == 0 && total_ns != 0) {
            profile_percentage(f2i(total_ns), dn, c, sizeof c);
            snprintf(ratio, sizeof ratio, "(%s)", c);
        }
        if ((rc = add_header(t, "Duration: %s, Total samples = %s %s", a, b, ratio)) != 0)
            goto out;
    }
    if (o->focus || o->ignore) {
        if ((rc = add_header(t, "Active filters:")) != 0)
            goto out;
        const char *names[2] = {"focus", "ignore"}, *vals[2] = {o->focus, o->ignore};
        for (int i = 0; i < 2; i++) {
            if (!vals[i] || !vals[i][0])
                continue;
            size_t len = strlen(names[i]) + 1 + strlen(vals[i]);
            if (len > 80) /* pprof cuts at 80 bytes and adds an ellipsis */
                rc = add_header(t, "   %s=%.*s\xe2\x80\xa6", names[i], (int)(80 - strlen(names[i]) - 1), vals[i]);
            else
                rc = add_header(t, "   %s=%s", names[i], vals[i]);
            if (rc != 0)
                goto out;
        }
    }
    profile_scaled_label(flat_sum, sunit, t->out_unit, a, sizeof a);
    profile_percentage(flat_sum, t->total, c, sizeof c);
    profile_scaled_label(t->total, sunit, t->out_unit, b, sizeof b);
    {
        const char *pc = c;
        while (*pc == ' ')
            pc++;
        if ((rc = add_header(t, "Showing nodes accounting for %s, %s of %s total", a, pc, b)) != 0)
            goto out;
    }
    if (t->total != 0) {
        if (t->dropped_nodes > 0) {
            profile_scaled_label(abs64(f2i((double)t->total * o->node_fraction)), sunit, t->out_unit, a,
                                 sizeof a);
            if ((rc = add_header(t, "Dropped %zu node%s (cum <= %s)", t->dropped_nodes,
                                 t->dropped_nodes > 1 ? "s" : "", a)) != 0)
                goto out;
        }
        if (total_nodes > 0 && total_nodes < t->orig_count &&
            (rc = add_header(t, "Showing top %zu nodes out of %zu", total_nodes, t->orig_count)) != 0)
            goto out;
    }
    /* Kept for printing the rows. */
    snprintf(t->out_unit + 0, sizeof t->out_unit, "%s", unit[0] ? unit : sunit);
    t->sample_unit = sunit;
out:
    if (have_focus)
        regfree(&focus);
    if (have_ignore)
        regfree(&ignore);
    free(order);
    graph_free(&g);
    if (rc != 0) {
        if (rc == -ENOMEM)
            cg_seterr(err, "out of memory building the report");
        profile_top_free(t);
    }
    return rc;
}

void profile_top_free(profile_top_t *t)
{
    for (size_t i = 0; i < t->nrows; i++)
        free(t->rows[i].name);
    free(t->rows);
    for (size_t i = 0; i < t->nheader; i++)
        free(t->header[i]);
    free(t->header);
    memset(t, 0, sizeof *t);
}

int profile_top_print(FILE *f, const profile_top_t *t, size_t max_rows)
{
    int64_t flat_sum = 0;
    char fl[64], cu[64], p1[32], p2[32], p3[32];

    for (size_t i = 0; i < t->nheader; i++)
        fprintf(f, "%s\n", t->header[i]);
    fprintf(f, "%10s %5s%% %5s%% %10s %5s%%\n", "flat", "flat", "sum", "cum", "cum");
    for (size_t i = 0; i < t->nrows && (max_rows == 0 || i < max_rows); i++) {
        const profile_row_t *r = &t->rows[i];

        flat_sum = add64(flat_sum, r->flat);
        profile_scaled_label(r->flat, t->sample_unit, t->out_unit, fl, sizeof fl);
        profile_scaled_label(r->cum, t->sample_unit, t->out_unit, cu, sizeof cu);
        profile_percentage(r->flat, t->total, p1, sizeof p1);
        profile_percentage(flat_sum, t->total, p2, sizeof p2);
        profile_percentage(r->cum, t->total, p3, sizeof p3);
        fprintf(f, "%10s %s %s %10s %s  %s%s%s\n", fl, p1, p2, cu, p3, r->name,
                r->inline_label[0] ? " " : "", r->inline_label);
    }
    return ferror(f) ? -EIO : 0;
}

/* test-profile.c -- the pprof decoder's checks and pprof's -top arithmetic
 *
 * Profiles are written here byte by byte with a small protobuf writer of
 * the test's own (not the decoder, not protobuf-c), so each malformed case
 * is exactly the bytes it claims to be.  Expected numbers and strings are
 * worked out by hand from pprof's rules (measurement.go, graph.go).
 * tests/cli/67-profile.sh compares whole reports with `go tool pprof`.
 */
#include "test.h"
#include "cgops/common.h"
#include "cgops/profile.h"
#include "cgops/profile_report.h"

#include <errno.h>
#include <stdint.h>
#include <zlib.h>

/* ---- a protobuf writer ------------------------------------------------------ */

typedef struct {
    unsigned char *b;
    size_t n, cap;
} pb_t;

static void pb_raw(pb_t *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 64;
        o->b = realloc(o->b, o->cap);
        ASSERT(o->b != NULL);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void pb_varint(pb_t *o, uint64_t v)
{
    unsigned char c;

    do {
        c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        pb_raw(o, &c, 1);
    } while (v);
}

static void pb_uint(pb_t *o, unsigned field, uint64_t v)
{
    pb_varint(o, (uint64_t)field << 3);
    pb_varint(o, v);
}

static void pb_bytes(pb_t *o, unsigned field, const void *p, size_t n)
{
    pb_varint(o, (uint64_t)field << 3 | 2);
    pb_varint(o, n);
    pb_raw(o, p, n);
}

static void pb_msg(pb_t *o, unsigned field, pb_t *sub)
{
    pb_bytes(o, field, sub->b, sub->n);
    free(sub->b);
    memset(sub, 0, sizeof *sub);
}

static void pb_str(pb_t *o, const char *s)
{
    pb_bytes(o, 6, s, strlen(s));
}

/* Profile.sample_type (1) or period_type (11). */
static void pb_vtype(pb_t *o, unsigned field, int64_t type, int64_t unit)
{
    pb_t m = {0};

    pb_uint(&m, 1, (uint64_t)type);
    pb_uint(&m, 2, (uint64_t)unit);
    pb_msg(o, field, &m);
}

static void pb_func(pb_t *o, uint64_t id, int64_t name)
{
    pb_t m = {0};

    pb_uint(&m, 1, id);
    pb_uint(&m, 2, (uint64_t)name);
    pb_msg(o, 5, &m);
}

/* A location with n lines (function ids, inlined callee first). */
static void pb_loc(pb_t *o, uint64_t id, uint64_t mapping, size_t n, const uint64_t *fids)
{
    pb_t m = {0}, l = {0};

    pb_uint(&m, 1, id);
    if (mapping)
        pb_uint(&m, 2, mapping);
    for (size_t i = 0; i < n; i++) {
        pb_uint(&l, 1, fids[i]);
        pb_uint(&l, 2, 10 + i);
        pb_msg(&m, 4, &l);
    }
    pb_msg(o, 4, &m);
}

/* A sample: location ids leaf first (packed), values (packed). */
static void pb_sample(pb_t *o, size_t nl, const uint64_t *locs, size_t nv, const int64_t *vals)
{
    pb_t m = {0}, packed = {0};

    for (size_t i = 0; i < nl; i++)
        pb_varint(&packed, locs[i]);
    pb_bytes(&m, 1, packed.b, packed.n);
    free(packed.b);
    memset(&packed, 0, sizeof packed);
    for (size_t i = 0; i < nv; i++)
        pb_varint(&packed, (uint64_t)vals[i]);
    pb_bytes(&m, 2, packed.b, packed.n);
    free(packed.b);
    pb_msg(o, 2, &m);
}

static void pb_mapping(pb_t *o, uint64_t id, int64_t file)
{
    pb_t m = {0};

    pb_uint(&m, 1, id);
    pb_uint(&m, 2, 0x400000);
    pb_uint(&m, 3, 0x800000);
    pb_uint(&m, 5, (uint64_t)file);
    pb_msg(o, 3, &m);
}

/* Strings: 0 "", 1 cpu, 2 nanoseconds, 3 main.a, 4 main.b, 5 main.c,
 * 6 main.inl, 7 /usr/bin/prog, 8 samples, 9 count. */
static void strings(pb_t *o)
{
    static const char *const s[] = {"", "cpu", "nanoseconds", "main.a", "main.b", "main.c",
                                    "main.inl", "/usr/bin/prog", "samples", "count"};

    for (size_t i = 0; i < CG_ARRAY_SIZE(s); i++)
        pb_str(o, s[i]);
}

/* A small CPU-like profile: a -> b -> c, with main.inl inlined into c.
 *   sample 1: c+inl (leaf loc 3: inl inlined in c), b, a   value 600ms
 *   sample 2: b, a                                          value 300ms
 *   sample 3: a                                             value 100ms
 * plus `extra` samples of 1ns at a -> b (to be dropped or not). */
static void cpu_profile(pb_t *o, int64_t scale)
{
    uint64_t f_inl_c[2] = {4, 3}, f_b[1] = {2}, f_a[1] = {1};
    uint64_t s1[3] = {3, 2, 1}, s2[2] = {2, 1}, s3[1] = {1};
    int64_t v;

    memset(o, 0, sizeof *o);
    pb_vtype(o, 1, 8, 9);
    pb_vtype(o, 1, 1, 2);
    pb_mapping(o, 1, 7);
    pb_func(o, 1, 3);
    pb_func(o, 2, 4);
    pb_func(o, 3, 5);
    pb_func(o, 4, 6);
    pb_loc(o, 1, 1, 1, f_a);
    pb_loc(o, 2, 1, 1, f_b);
    pb_loc(o, 3, 1, 2, f_inl_c);
    v = 600000000 * scale;
    pb_sample(o, 3, s1, 2, (int64_t[]){60 * scale, v});
    v = 300000000 * scale;
    pb_sample(o, 2, s2, 2, (int64_t[]){30 * scale, v});
    v = 100000000 * scale;
    pb_sample(o, 1, s3, 2, (int64_t[]){10 * scale, v});
    strings(o);
    pb_uint(o, 10, 2000000000); /* duration_nanos: 2 s */
}

static int decode(pb_t *o, profile_t **p, char *err)
{
    return profile_decode(o->b, o->n, NULL, p, err);
}

/* ---- decoding ----------------------------------------------------------------- */

TEST(profile_decode_resolves_ids)
{
    pb_t o;
    profile_t *p;
    char err[CG_ERR_LEN] = "";

    cpu_profile(&o, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(p->ntypes, 2);
    ASSERT_STR_EQ(p->types[1].type, "cpu");
    ASSERT_STR_EQ(p->types[1].unit, "nanoseconds");
    ASSERT_EQ(p->nsamples, 3);
    ASSERT_EQ(p->samples[0].nlocs, 3);
    /* Location ids 3, 2, 1 are the third, second and first locations. */
    ASSERT_EQ(p->samples[0].locs[0], 2);
    ASSERT_EQ(p->samples[0].locs[2], 0);
    ASSERT_EQ(p->samples[0].values[1], 600000000);
    ASSERT_EQ(p->locs[2].nlines, 2);
    ASSERT_STR_EQ(p->funcs[p->locs[2].lines[0].func].name, "main.inl");
    ASSERT_STR_EQ(p->funcs[p->locs[2].lines[1].func].name, "main.c");
    ASSERT_STR_EQ(p->mappings[p->locs[0].mapping].file, "/usr/bin/prog");
    ASSERT_EQ(p->duration_nanos, 2000000000);
    profile_free(p);
    free(o.b);
}

static pb_t gzipped(const pb_t *in)
{
    pb_t out = {0};
    z_stream z;

    memset(&z, 0, sizeof z);
    ASSERT(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    out.cap = deflateBound(&z, in->n) + 64;
    out.b = malloc(out.cap);
    z.next_in = in->b;
    z.avail_in = (uInt)in->n;
    z.next_out = out.b;
    z.avail_out = (uInt)out.cap;
    ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.n = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

TEST(profile_decode_gzip)
{
    pb_t o, gz;
    profile_t *p;
    char err[CG_ERR_LEN] = "";

    cpu_profile(&o, 1);
    gz = gzipped(&o);
    ASSERT_EQ(profile_decode(gz.b, gz.n, NULL, &p, err), 0);
    ASSERT_EQ(p->nsamples, 3);
    profile_free(p);
    /* Cut anywhere inside the gzip stream: an error, never a crash. */
    for (size_t cut = 2; cut < gz.n; cut += 7) {
        ASSERT(profile_decode(gz.b, cut, NULL, &p, err) < 0);
        ASSERT(p == NULL);
    }
    ASSERT_EQ(profile_decode(gz.b, gz.n - 4, NULL, &p, err), -EINVAL);
    free(gz.b);
    free(o.b);
}

/* Expect decoding o to fail with rc and a message containing what. */
static void expect_bad(pb_t *o, int rc, const char *what)
{
    profile_t *p = (profile_t *)1;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(decode(o, &p, err), rc);
    ASSERT(p == NULL);
    ASSERT_CONTAINS(err, what);
    free(o->b);
    memset(o, 0, sizeof *o);
}

TEST(profile_decode_rejects_bad_references)
{
    pb_t o;
    uint64_t one = 1, nine = 9;

    /* A function name past the string table. */
    cpu_profile(&o, 1);
    pb_func(&o, 5, 99);
    expect_bad(&o, -EINVAL, "string index 99");
    /* A negative string index. */
    cpu_profile(&o, 1);
    pb_func(&o, 5, -1);
    expect_bad(&o, -EINVAL, "string index -1");
    /* A sample naming a location that does not exist. */
    cpu_profile(&o, 1);
    pb_sample(&o, 1, &nine, 2, (int64_t[]){1, 1});
    expect_bad(&o, -EINVAL, "location 9, which does not exist");
    /* A line naming a missing function. */
    cpu_profile(&o, 1);
    pb_loc(&o, 7, 0, 1, &nine);
    expect_bad(&o, -EINVAL, "function 9, which does not exist");
    /* A location naming a missing mapping. */
    cpu_profile(&o, 1);
    pb_loc(&o, 8, 5, 1, &one);
    expect_bad(&o, -EINVAL, "mapping 5, which does not exist");
    /* The same id twice: a location that is two places at once. */
    cpu_profile(&o, 1);
    pb_loc(&o, 2, 0, 1, &one);
    expect_bad(&o, -EINVAL, "location id 2 appears twice");
    cpu_profile(&o, 1);
    pb_func(&o, 1, 3);
    expect_bad(&o, -EINVAL, "function id 1 appears twice");
    /* Id 0 means "none": no object may have it. */
    cpu_profile(&o, 1);
    pb_loc(&o, 0, 0, 1, &one);
    expect_bad(&o, -EINVAL, "has id 0");
    /* One value for two sample types. */
    cpu_profile(&o, 1);
    pb_sample(&o, 1, &one, 1, (int64_t[]){1});
    expect_bad(&o, -EINVAL, "1 values for 2 sample types");
    /* string_table[0] must be "". */
    memset(&o, 0, sizeof o);
    pb_str(&o, "x");
    expect_bad(&o, -EINVAL, "string_table[0]");
}

TEST(profile_decode_rejects_bad_wire_format)
{
    pb_t o = {0};
    static const unsigned char overlong[] = {0x48, 0xff, 0xff, 0xff, 0xff, 0xff,
                                             0xff, 0xff, 0xff, 0xff, 0x02};
    static const unsigned char zeros[64] = {0};
    static const unsigned char wire7[] = {0x4f, 0x00};
    static const unsigned char cut[] = {0x32, 0x05, 'a', 'b'};

    /* time_nanos (field 9) with a varint of 65 bits. */
    pb_raw(&o, overlong, sizeof overlong);
    expect_bad(&o, -EINVAL, "varint longer than 64 bits");
    pb_raw(&o, zeros, sizeof zeros);
    expect_bad(&o, -EINVAL, "field number 0");
    pb_raw(&o, wire7, sizeof wire7);
    expect_bad(&o, -EINVAL, "wire type 7");
    /* A string of 5 bytes with 2 present. */
    pb_raw(&o, cut, sizeof cut);
    expect_bad(&o, -EINVAL, "truncated");
}

TEST(profile_decode_limits)
{
    pb_t o, gz, big = {0};
    profile_t *p = NULL;
    char err[CG_ERR_LEN] = "";
    profile_limits_t two = {0, 2}, small = {4096, 0};
    unsigned char *zeros;
    pb_t zz = {0};

    cpu_profile(&o, 1);
    ASSERT_EQ(profile_decode(o.b, o.n, &two, &p, err), -EFBIG);
    ASSERT_CONTAINS(err, "more than 2 samples");
    /* Inflating past the limit stops there. */
    pb_str(&big, "");
    for (int i = 0; i < 100; i++)
        pb_str(&big, "a string of some length, repeated many times over and over");
    gz = gzipped(&big);
    ASSERT_EQ(profile_decode(gz.b, gz.n, &small, &p, err), -EFBIG);
    ASSERT_CONTAINS(err, "more than 4096 bytes");
    ASSERT_EQ(profile_decode(gz.b, gz.n, NULL, &p, err), 0);
    profile_free(p);
    free(gz.b);
    /* 64 MiB of zeros, gzipped: refused at its first bytes (field 0),
     * without inflating the rest. */
    zeros = calloc(1, 64 << 20);
    ASSERT(zeros != NULL);
    zz.b = zeros;
    zz.n = 64 << 20;
    gz = gzipped(&zz);
    free(zeros);
    ASSERT_EQ(profile_decode(gz.b, gz.n, NULL, &p, err), -EINVAL);
    ASSERT_CONTAINS(err, "field number 0");
    free(gz.b);
    free(big.b);
    free(o.b);
}

TEST(profile_sample_index_rules)
{
    pb_t o;
    profile_t *p;
    char err[CG_ERR_LEN] = "";
    int si = -1;

    cpu_profile(&o, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    /* No default_sample_type: the last type. */
    ASSERT_EQ(profile_sample_index(p, NULL, &si, err), 0);
    ASSERT_EQ(si, 1);
    ASSERT_EQ(profile_sample_index(p, "samples", &si, err), 0);
    ASSERT_EQ(si, 0);
    ASSERT_EQ(profile_sample_index(p, "0", &si, err), 0);
    ASSERT_EQ(si, 0);
    ASSERT_EQ(profile_sample_index(p, "2", &si, err), -EINVAL);
    ASSERT_EQ(profile_sample_index(p, "inuse_cpu", &si, err), 0); /* pprof's legacy prefix */
    ASSERT_EQ(si, 1);
    ASSERT_EQ(profile_sample_index(p, "alloc_space", &si, err), -EINVAL);
    ASSERT_CONTAINS(err, "samples cpu");
    profile_free(p);
    /* default_sample_type (14) names "samples". */
    pb_uint(&o, 14, 8);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_sample_index(p, "", &si, err), 0);
    ASSERT_EQ(si, 0);
    profile_free(p);
    free(o.b);
}

/* ---- pprof's numbers ------------------------------------------------------------- */

TEST(profile_number_formats)
{
    char b[64];

    profile_scaled_label(620000000, "nanoseconds", "ms", b, sizeof b);
    ASSERT_STR_EQ(b, "620ms");
    profile_scaled_label(1536, "bytes", "minimum", b, sizeof b);
    ASSERT_STR_EQ(b, "1.50kB");
    profile_scaled_label(-1048576, "bytes", "MB", b, sizeof b);
    ASSERT_STR_EQ(b, "-1MB");
    profile_scaled_label(0, "nanoseconds", "s", b, sizeof b);
    ASSERT_STR_EQ(b, "0");
    profile_scaled_label(12, "count", "count", b, sizeof b);
    ASSERT_STR_EQ(b, "12");
    profile_scaled_label(7200000000000LL, "nanoseconds", "auto", b, sizeof b);
    ASSERT_STR_EQ(b, "2hrs");
    profile_scaled_label(1100000000, "nanoseconds", "auto", b, sizeof b);
    ASSERT_STR_EQ(b, "1.10s");
    profile_scaled_label(5000, "microseconds", "ms", b, sizeof b);
    ASSERT_STR_EQ(b, "5ms");
    profile_scaled_label(3, "widgets", "widgets", b, sizeof b);
    ASSERT_STR_EQ(b, "3widgets");
    profile_percentage(1, 3, b, sizeof b);
    ASSERT_STR_EQ(b, "33.33%");
    profile_percentage(1, 1000, b, sizeof b);
    ASSERT_STR_EQ(b, "  0.1%");
    profile_percentage(1, 200000, b, sizeof b);
    ASSERT_STR_EQ(b, "0.0005%");
    profile_percentage(9996, 10000, b, sizeof b);
    ASSERT_STR_EQ(b, "  100%");
    profile_percentage(-5, 10, b, sizeof b);
    ASSERT_STR_EQ(b, "50.00%");
    profile_percentage(0, 0, b, sizeof b);
    ASSERT_STR_EQ(b, "    0%");
}

/* ---- the report ------------------------------------------------------------------- */

TEST(profile_top_flat_cum_inline)
{
    pb_t o;
    profile_t *p;
    profile_top_t t;
    profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
    char err[CG_ERR_LEN] = "";

    cpu_profile(&o, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.total, 1000000000);
    ASSERT_STR_EQ(t.out_unit, "ms");
    ASSERT_EQ(t.nrows, 4);
    /* By flat: inl 600ms (the leaf frame is the inlined one), b 300, a 100,
     * then c with no flat. */
    ASSERT_STR_EQ(t.rows[0].name, "main.inl");
    ASSERT_EQ(t.rows[0].flat, 600000000);
    ASSERT_STR_EQ(t.rows[0].inline_label, "(inline)");
    ASSERT_STR_EQ(t.rows[1].name, "main.b");
    ASSERT_EQ(t.rows[1].cum, 900000000);
    ASSERT_STR_EQ(t.rows[1].inline_label, "");
    ASSERT_STR_EQ(t.rows[2].name, "main.a");
    ASSERT_EQ(t.rows[2].cum, 1000000000);
    ASSERT_STR_EQ(t.rows[3].name, "main.c");
    ASSERT_EQ(t.rows[3].flat, 0);
    ASSERT_EQ(t.rows[3].cum, 600000000);
    ASSERT_EQ(t.nheader, 4);
    ASSERT_STR_EQ(t.header[0], "File: prog");
    ASSERT_STR_EQ(t.header[1], "Type: cpu");
    ASSERT_STR_EQ(t.header[2], "Duration: 2s, Total samples = 1000ms (50.00%)");
    ASSERT_STR_EQ(t.header[3], "Showing nodes accounting for 1000ms, 100% of 1000ms total");
    profile_top_free(&t);
    /* By cum: a, b, then c and inl tie at 600ms and sort by name. */
    ro.cum_sort = 1;
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_STR_EQ(t.rows[0].name, "main.a");
    ASSERT_STR_EQ(t.rows[1].name, "main.b");
    ASSERT_STR_EQ(t.rows[2].name, "main.c");
    ASSERT_STR_EQ(t.rows[3].name, "main.inl");
    profile_top_free(&t);
    /* Focus on b: samples 1 and 2 stay; the total does not change. */
    ro.cum_sort = 0;
    ro.focus = "main\\.b";
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.total, 1000000000);
    ASSERT_EQ(t.rows[2].cum, 900000000); /* main.a: only through b */
    profile_top_free(&t);
    ro.focus = NULL;
    ro.ignore = "main\\.inl";
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.nrows, 2);
    profile_top_free(&t);
    ro.ignore = "(";
    ASSERT_EQ(profile_top(p, &ro, &t, err), -EINVAL);
    ASSERT_CONTAINS(err, "not a valid regular expression");
    profile_free(p);
    free(o.b);
}

TEST(profile_top_drops_and_base)
{
    pb_t o, ob;
    profile_t *p, *base;
    profile_top_t t;
    profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
    char err[CG_ERR_LEN] = "";
    uint64_t f_x = 9, s[2] = {9, 1};

    /* A node at 0.4% of the total is dropped, and with it its flat. */
    cpu_profile(&o, 1);
    pb_str(&o, "main.x");           /* string 10 */
    pb_func(&o, 9, 10);
    pb_loc(&o, 9, 1, 1, &f_x);
    pb_sample(&o, 2, s, 2, (int64_t[]){1, 4016064}); /* x under a: 4016064/1004016064 < 0.005 */
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.dropped_nodes, 1);
    ASSERT_EQ(t.nrows, 4);
    ASSERT_EQ(t.rows[2].name[5], 'a');
    ASSERT_EQ(t.rows[2].flat, 100000000); /* x's flat went with it */
    ASSERT_EQ(t.rows[2].cum, 1004016064);
    ASSERT_CONTAINS(t.header[4], "Dropped 1 node (cum <= 5.02ms)");
    profile_top_free(&t);
    /* Against itself doubled as the base: every value is -1x. */
    cpu_profile(&ob, 2);
    ASSERT_EQ(decode(&ob, &base, err), 0);
    ro.base = base;
    profile_free(p);
    cpu_profile(&o, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.total, 1000000000);
    ASSERT_STR_EQ(t.rows[0].name, "main.inl");
    ASSERT_EQ(t.rows[0].flat, -600000000);
    profile_top_free(&t);
    /* Against itself: everything cancels. */
    ro.base = p;
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.total, 0);
    profile_top_free(&t);
    profile_free(base);
    /* No default sample type, the base's is "samples" (14 -> string 8):
     * pprof reports on the merge, whose default is the first one set. */
    pb_uint(&ob, 14, 8);
    ASSERT_EQ(decode(&ob, &base, err), 0);
    ro.base = base;
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    ASSERT_EQ(t.sample_index, 0);
    ASSERT_EQ(t.total, 100);
    profile_top_free(&t);
    /* The profile's own default, when set, wins over the base's. */
    ro.base = p;
    ASSERT_EQ(profile_top(base, &ro, &t, err), 0);
    ASSERT_EQ(t.sample_index, 0);
    profile_top_free(&t);
    profile_free(base);
    /* A base of another kind (one sample type, not two) is refused. */
    free(ob.b);
    memset(&ob, 0, sizeof ob);
    pb_vtype(&ob, 1, 8, 9);
    strings(&ob);
    ASSERT_EQ(decode(&ob, &base, err), 0);
    ro.base = base;
    ASSERT_EQ(profile_top(p, &ro, &t, err), -EINVAL);
    ASSERT_CONTAINS(err, "not the same kind of profile");
    profile_free(base);
    profile_free(p);
    free(o.b);
    free(ob.b);
}

typedef struct {
    char lines[8][256];
    int n;
    int64_t sum;
} folded_t;

static void collect(void *ctx, const char *const *frames, size_t n, int64_t value)
{
    folded_t *f = ctx;
    size_t off = 0;

    ASSERT(f->n < 8);
    for (size_t i = 0; i < n; i++)
        off += (size_t)snprintf(f->lines[f->n] + off, sizeof f->lines[0] - off, "%s%s", i ? ";" : "", frames[i]);
    f->n++;
    f->sum += value;
}

TEST(profile_folded_root_first)
{
    pb_t o;
    profile_t *p;
    char err[CG_ERR_LEN] = "";
    folded_t f = {0};

    cpu_profile(&o, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_folded(p, 1, collect, &f), 0);
    ASSERT_EQ(f.n, 3);
    ASSERT_STR_EQ(f.lines[0], "main.a;main.b;main.c;main.inl");
    ASSERT_STR_EQ(f.lines[1], "main.a;main.b");
    ASSERT_STR_EQ(f.lines[2], "main.a");
    ASSERT_EQ(f.sum, 1000000000);
    ASSERT_EQ(profile_folded(p, 2, collect, &f), -EINVAL);
    profile_free(p);
    free(o.b);
}

/* Values at the ends of int64 wrap as in Go (pprof's own arithmetic), and
 * never reach C's undefined overflow (the sanitizer build aborts on it). */
TEST(profile_top_extreme_values)
{
    pb_t o = {0};
    profile_t *p;
    profile_top_t t;
    profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
    char err[CG_ERR_LEN] = "";
    uint64_t f_a = 1, l_a = 1;

    pb_vtype(&o, 1, 1, 2);
    pb_func(&o, 1, 3);
    pb_loc(&o, 1, 0, 1, &f_a);
    pb_sample(&o, 1, &l_a, 1, (int64_t[]){INT64_MAX});
    pb_sample(&o, 1, &l_a, 1, (int64_t[]){INT64_MAX});
    pb_sample(&o, 1, &l_a, 1, (int64_t[]){INT64_MIN});
    strings(&o);
    pb_uint(&o, 10, 1);
    ASSERT_EQ(decode(&o, &p, err), 0);
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    /* MAX + MAX + |MIN| (= MIN) = -2 + MIN, wrapped: MAX - 1. */
    ASSERT_EQ(t.total, INT64_MAX - 1);
    profile_top_free(&t);
    ro.base = p;
    ASSERT_EQ(profile_top(p, &ro, &t, err), 0);
    profile_top_free(&t);
    profile_free(p);
    free(o.b);
}

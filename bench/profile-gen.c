/* profile-gen.c -- write a large synthetic CPU profile for bench/profile
 *
 * `profile-gen SAMPLES OUT.pb.gz`: a Go-like CPU profile (samples/count,
 * cpu/nanoseconds, period 10ms) with 20,000 functions, 200,000 locations
 * (one in eight with an inlined frame) and SAMPLES samples whose stacks
 * (8 to 48 frames, all under runtime.main) are mostly distinct.  The
 * protobuf is written by hand; the output is deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NFUNC 20000
#define NLOC 200000

typedef struct {
    unsigned char *b;
    size_t n, cap;
} buf_t;

static void put(buf_t *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        o->cap = (o->n + n) * 2 + 1024;
        if ((o->b = realloc(o->b, o->cap)) == NULL)
            exit(1);
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void varint(buf_t *o, uint64_t v)
{
    unsigned char c[10];
    size_t n = 0;

    do {
        c[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c[n] |= 0x80;
        n++;
    } while (v);
    put(o, c, n);
}

static void field(buf_t *o, unsigned f, uint64_t v)
{
    varint(o, (uint64_t)f << 3);
    varint(o, v);
}

static void bytes(buf_t *o, unsigned f, const void *p, size_t n)
{
    varint(o, (uint64_t)f << 3 | 2);
    varint(o, n);
    put(o, p, n);
}

static void sub(buf_t *o, unsigned f, buf_t *m)
{
    bytes(o, f, m->b, m->n);
    m->n = 0;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    long nsamples = argc > 2 ? atol(argv[1]) : 0;
    buf_t o = {0}, m = {0}, l = {0}, pk = {0};
    char name[128];
    gzFile gz;

    if (nsamples <= 0) {
        fprintf(stderr, "usage: profile-gen SAMPLES OUT.pb.gz\n");
        return 2;
    }
    /* Strings: 0 "", 1 samples, 2 count, 3 cpu, 4 nanoseconds, 5 binary,
     * 6 file, then the function names from 7. */
    field(&m, 1, 1), field(&m, 2, 2), sub(&o, 1, &m);
    field(&m, 1, 3), field(&m, 2, 4), sub(&o, 1, &m);
    field(&m, 1, 1), field(&m, 2, 0x400000), field(&m, 3, 0x2000000), field(&m, 5, 5);
    field(&m, 7, 1), field(&m, 8, 1), field(&m, 9, 1), field(&m, 10, 1), sub(&o, 3, &m);
    for (uint64_t f = 1; f <= NFUNC; f++) {
        field(&m, 1, f), field(&m, 2, 6 + f), field(&m, 3, 6 + f), field(&m, 4, 6), field(&m, 5, f % 900);
        sub(&o, 5, &m);
    }
    for (uint64_t i = 1; i <= NLOC; i++) {
        field(&m, 1, i), field(&m, 2, 1), field(&m, 3, 0x400000 + i * 16);
        if (i % 8 == 0) { /* an inlined callee first */
            field(&l, 1, 1 + (i * 7919) % NFUNC), field(&l, 2, 40), sub(&m, 4, &l);
        }
        field(&l, 1, 1 + i % NFUNC), field(&l, 2, (int64_t)(i % 5000)), sub(&m, 4, &l);
        sub(&o, 4, &m);
    }
    for (long s = 0; s < nsamples; s++) {
        int depth = 8 + (int)(next() % 41);
        uint64_t stack[64];
        /* Stacks share prefixes (a few hundred hot paths from the root)
         * and diverge towards the leaf. */
        uint64_t path = next() % 300;
        for (int d = depth - 1; d >= 0; d--) {
            int from_root = depth - 1 - d;
            if (from_root == 0)
                stack[d] = 1; /* runtime.main's location */
            else if (from_root < 6)
                stack[d] = 2 + (path * 31 + (uint64_t)from_root * 1009) % (NLOC - 2);
            else
                stack[d] = 2 + next() % (NLOC - 2);
        }
        for (int d = 0; d < depth; d++)
            varint(&pk, stack[d]);
        sub(&m, 1, &pk);
        uint64_t n = 1 + (next() % 16 == 0 ? next() % 5 : 0);
        varint(&pk, n), varint(&pk, n * 10000000);
        sub(&m, 2, &pk);
        sub(&o, 2, &m);
    }
    const char *fixed[] = {"", "samples", "count", "cpu", "nanoseconds", "/usr/local/bin/bigserver",
                           "/src/pkg/file.go"};
    for (size_t i = 0; i < 7; i++)
        bytes(&o, 6, fixed[i], strlen(fixed[i]));
    for (int f = 1; f <= NFUNC; f++) {
        int n = snprintf(name, sizeof name, "example.com/svc/pkg%03d.(*Type%d).Method%d", f % 300, f % 97, f);
        bytes(&o, 6, name, (size_t)n);
    }
    field(&o, 9, 1700000000000000000ULL);
    field(&o, 10, 30000000000ULL);
    field(&m, 1, 3), field(&m, 2, 4), sub(&o, 11, &m);
    field(&o, 12, 10000000);
    if ((gz = gzopen(argv[2], "wb6")) == NULL || gzwrite(gz, o.b, (unsigned)o.n) != (int)o.n || gzclose(gz) != Z_OK) {
        fprintf(stderr, "profile-gen: cannot write %s\n", argv[2]);
        return 1;
    }
    fprintf(stderr, "profile-gen: %ld samples, %zu bytes of protobuf\n", nsamples, o.n);
    free(o.b), free(m.b), free(l.b), free(pk.b);
    return 0;
}

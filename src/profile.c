/* profile.c -- decoding pprof profiles: gzip, protobuf, then every reference checked
 *
 * The bytes may come from anywhere (a file, an HTTP endpoint), so nothing in
 * them is trusted: the inflated size and the number of samples are capped
 * before protobuf-c allocates anything for them, varints are checked by a
 * scan of the top level first, and after unpacking each string index, each
 * id and each sample's value count is checked once.  What is handed out
 * (profile_t) holds array indexes only, so its users never check again.
 *
 * protobuf-c unpacks into an arena (one free for millions of small
 * messages); the compact profile_t is then built in a second arena and the
 * first is dropped, so the protobuf objects do not outlive decoding.
 */
#include "cgops/profile.h"
#include "cgops/common.h"

#include "profile.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* ---- arena ---------------------------------------------------------------- */

typedef struct chunk_s {
    struct chunk_s *next;
    size_t used, size;
    max_align_t data[];
} chunk_t;

typedef struct {
    chunk_t *head;
    size_t total;
    int failed;
} arena_t;

#define ARENA_CHUNK ((size_t)1 << 20)

static void *arena_alloc(arena_t *a, size_t n)
{
    chunk_t *c = a->head;

    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;

        c = malloc(sizeof *c + size);
        if (c == NULL) {
            a->failed = 1;
            return NULL;
        }
        c->size = size;
        c->used = 0;
        if (n > ARENA_CHUNK / 4 && a->head) {
            /* A big block goes behind the current chunk, which keeps its
             * free space for the small ones. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
        a->total += size;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(arena_t *a)
{
    chunk_t *c = a->head, *next;

    for (; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}

static void *pb_alloc(void *ctx, size_t n)
{
    return arena_alloc(ctx, n);
}

static void pb_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p; /* the arena goes at once */
}

/* ---- gzip ------------------------------------------------------------------ */

/* The wire-format walk (below) that runs as the data is inflated. */
typedef struct {
    size_t pos, nsample, max_samples;
} scan_t;
static int scan_step(scan_t *s, const unsigned char *buf, size_t len, int final, char *err);

static int gunzip(const unsigned char *in, size_t len, size_t max, scan_t *scan, unsigned char **out,
                  size_t *outlen, char *err)
{
    z_stream z;
    size_t cap = len * 4 < ((size_t)1 << 16) ? (size_t)1 << 16 : len * 4, n = 0;
    unsigned char *buf;
    int zr, rc;

    if (cap > max + 1)
        cap = max + 1;
    if ((buf = malloc(cap)) == NULL)
        return -ENOMEM;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) {
        free(buf);
        cg_seterr(err, "gzip: cannot initialise zlib");
        return -ENOMEM;
    }
    z.next_in = (unsigned char *)in;
    for (;;) {
        /* zlib counts in uInt: feed at most 1 GiB at a time. */
        size_t left_in = len - (size_t)(z.next_in - in);
        z.avail_in = left_in > (1u << 30) ? (1u << 30) : (uInt)left_in;
        if (n == cap) {
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            unsigned char *nb;

            if (ncap <= cap) {
                inflateEnd(&z);
                free(buf);
                cg_seterr(err, "profile inflates to more than %zu bytes: refused", max);
                return -EFBIG;
            }
            if ((nb = realloc(buf, ncap)) == NULL) {
                inflateEnd(&z);
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - n;
        z.next_out = buf + n;
        z.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
        size_t before = z.avail_out;
        zr = inflate(&z, Z_NO_FLUSH);
        n += before - z.avail_out;
        if (n > max) {
            inflateEnd(&z);
            free(buf);
            cg_seterr(err, "profile inflates to more than %zu bytes: refused", max);
            return -EFBIG;
        }
        if ((rc = scan_step(scan, buf, n, 0, err)) != 0) {
            inflateEnd(&z);
            free(buf);
            return rc;
        }
        if (zr == Z_STREAM_END) {
            /* Concatenated gzip members, as gzip(1) appends them. */
            if ((size_t)(z.next_in - in) < len && len - (size_t)(z.next_in - in) >= 2 &&
                z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
                if (inflateReset(&z) != Z_OK)
                    break;
                continue;
            }
            break;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0 && (size_t)(z.next_in - in) == len) {
            inflateEnd(&z);
            free(buf);
            cg_seterr(err, "gzip: truncated data");
            return -EINVAL;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            cg_seterr(err, "gzip: %s", z.msg ? z.msg : "corrupt data");
            inflateEnd(&z);
            free(buf);
            return -EINVAL;
        }
    }
    inflateEnd(&z);
    *out = buf;
    *outlen = n;
    return 0;
}

/* ---- a first look at the wire format ---------------------------------------- */

/* A varint at *pp, at most 10 bytes and 64 bits.  Returns 0, -1 for an
 * overlong one, -2 when the data ends inside it. */
static int varint(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
    const unsigned char *p = *pp;
    uint64_t x = 0;

    for (int i = 0; i < 10; i++) {
        if (p >= end)
            return -2;
        unsigned char b = *p++;
        if (i == 9 && b > 1)
            return -1; /* more than 64 bits */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *pp = p;
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* A walk over the top-level fields, fed as the data is inflated: every
 * tag, varint and length is well formed, and the number of samples is
 * within the limit before protobuf-c allocates for them.  Fed while
 * inflating, it stops a stream of zeros (field number 0) at its first
 * kilobytes instead of after a gigabyte. */
/* Scan buf[s->pos, len).  A field cut by the end of the data waits for
 * more unless final.  Returns 0, -EINVAL or -EFBIG (message in err). */
static int scan_step(scan_t *s, const unsigned char *buf, size_t len, int final, char *err)
{
    const unsigned char *end = buf + len;

    while (s->pos < len) {
        const unsigned char *p = buf + s->pos;
        uint64_t key, v;
        int r;

        if ((r = varint(&p, end, &key)) != 0)
            goto bad_varint;
        if ((key >> 3) == 0) {
            cg_seterr(err, "malformed protobuf at byte %zu: field number 0", s->pos);
            return -EINVAL;
        }
        switch (key & 7) {
        case 0:
            if ((r = varint(&p, end, &v)) != 0)
                goto bad_varint;
            break;
        case 1:
            if (end - p < 8)
                goto short_data;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                goto short_data;
            p += 4;
            break;
        case 2:
            if ((r = varint(&p, end, &v)) != 0)
                goto bad_varint;
            if (v > (uint64_t)(end - p))
                goto short_data;
            p += v;
            if ((key >> 3) == 2 && ++s->nsample > s->max_samples) {
                cg_seterr(err, "profile has more than %zu samples: refused", s->max_samples);
                return -EFBIG;
            }
            break;
        default:
            cg_seterr(err, "malformed protobuf at byte %zu: wire type %u", s->pos, (unsigned)(key & 7));
            return -EINVAL;
        }
        s->pos = (size_t)(p - buf);
        continue;
    bad_varint:
        if (r == -2)
            goto short_data;
        cg_seterr(err, "malformed protobuf at byte %zu: varint longer than 64 bits", s->pos);
        return -EINVAL;
    short_data:
        if (!final)
            return 0;
        cg_seterr(err, "malformed protobuf: truncated field at byte %zu", s->pos);
        return -EINVAL;
    }
    return 0;
}

/* ---- ids to indexes ------------------------------------------------------------ */

typedef struct {
    uint64_t *keys; /* 0 = empty: ids are nonzero */
    uint32_t *vals;
    size_t mask;
} idmap_t;

static int idmap_init(idmap_t *m, size_t n, arena_t *a)
{
    size_t cap = 16;

    while (cap < n * 2)
        cap <<= 1;
    m->keys = arena_alloc(a, cap * sizeof *m->keys);
    m->vals = arena_alloc(a, cap * sizeof *m->vals);
    if (m->keys == NULL || m->vals == NULL)
        return -ENOMEM;
    memset(m->keys, 0, cap * sizeof *m->keys);
    m->mask = cap - 1;
    return 0;
}

static size_t idhash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

/* Returns 0, or -EEXIST for a duplicate id. */
static int idmap_put(idmap_t *m, uint64_t id, uint32_t val)
{
    size_t i = idhash(id) & m->mask;

    while (m->keys[i]) {
        if (m->keys[i] == id)
            return -EEXIST;
        i = (i + 1) & m->mask;
    }
    m->keys[i] = id;
    m->vals[i] = val;
    return 0;
}

static int idmap_get(const idmap_t *m, uint64_t id, uint32_t *val)
{
    size_t i = idhash(id) & m->mask;

    if (id == 0)
        return -ENOENT;
    while (m->keys[i]) {
        if (m->keys[i] == id) {
            *val = m->vals[i];
            return 0;
        }
        i = (i + 1) & m->mask;
    }
    return -ENOENT;
}

/* ---- building profile_t ----------------------------------------------------------- */

typedef struct {
    profile_t p;
    arena_t arena;
    const char **strings; /* copies, in the arena */
    size_t nstrings;
} profile_priv_t;

static int str_at(profile_priv_t *pp, int64_t idx, const char *what, const char **out, char *err)
{
    if (idx < 0 || (uint64_t)idx >= pp->nstrings) {
        cg_seterr(err, "bad profile: %s has string index %lld, the table has %zu", what,
                  (long long)idx, pp->nstrings);
        return -EINVAL;
    }
    *out = pp->strings[idx];
    return 0;
}

static char *arena_strdup(arena_t *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = arena_alloc(a, n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static int build(profile_priv_t *pp, const Perftools__Profiles__Profile *m, char *err)
{
    arena_t *a = &pp->arena;
    profile_t *p = &pp->p;
    idmap_t fmap, lmap, mmap;
    int rc;

#define NEW(ptr, n)                                                                  \
    do {                                                                             \
        size_t count_ = (n);                                                         \
        if (count_ > SIZE_MAX / 2 / sizeof *(ptr))                                   \
            return -ENOMEM;                                                          \
        (ptr) = arena_alloc(a, (count_ ? count_ : 1) * sizeof *(ptr));               \
        if ((ptr) == NULL)                                                           \
            return -ENOMEM;                                                          \
    } while (0)
#define STR(idx, what, dst)                                                          \
    do {                                                                             \
        if ((rc = str_at(pp, (idx), (what), &(dst), err)) != 0)                      \
            return rc;                                                               \
    } while (0)

    /* Strings: entry 0 must be "" (pprof requires it). */
    pp->nstrings = m->n_string_table;
    if (pp->nstrings > 0 && m->string_table[0][0] != '\0') {
        cg_seterr(err, "bad profile: string_table[0] is not empty");
        return -EINVAL;
    }
    if (pp->nstrings == 0) {
        static const char *const empty[] = {""};
        pp->strings = (const char **)empty;
        pp->nstrings = 1;
    } else {
        NEW(pp->strings, pp->nstrings);
        for (size_t i = 0; i < pp->nstrings; i++)
            if ((pp->strings[i] = arena_strdup(a, m->string_table[i])) == NULL)
                return -ENOMEM;
    }

    /* Sample types. */
    profile_vtype_t *types;
    NEW(types, m->n_sample_type);
    for (size_t i = 0; i < m->n_sample_type; i++) {
        STR(m->sample_type[i]->type, "sample_type.type", types[i].type);
        STR(m->sample_type[i]->unit, "sample_type.unit", types[i].unit);
    }
    p->types = types;
    p->ntypes = m->n_sample_type;
    p->period_type.type = p->period_type.unit = "";
    if (m->period_type) {
        STR(m->period_type->type, "period_type.type", p->period_type.type);
        STR(m->period_type->unit, "period_type.unit", p->period_type.unit);
    }
    STR(m->default_sample_type, "default_sample_type", p->default_type);
    STR(m->drop_frames, "drop_frames", p->drop_frames);
    STR(m->keep_frames, "keep_frames", p->keep_frames);
    p->time_nanos = m->time_nanos;
    p->duration_nanos = m->duration_nanos;
    p->period = m->period;
    const char **comments;
    NEW(comments, m->n_comment);
    for (size_t i = 0; i < m->n_comment; i++)
        STR(m->comment[i], "comment", comments[i]);
    p->comments = comments;
    p->ncomments = m->n_comment;

    /* Mappings. */
    profile_mapping_t *maps;
    NEW(maps, m->n_mapping);
    if ((rc = idmap_init(&mmap, m->n_mapping, a)) != 0)
        return rc;
    for (size_t i = 0; i < m->n_mapping; i++) {
        const Perftools__Profiles__Mapping *mm = m->mapping[i];

        if (mm->id == 0) {
            cg_seterr(err, "bad profile: mapping %zu has id 0", i);
            return -EINVAL;
        }
        if (idmap_put(&mmap, mm->id, (uint32_t)i) != 0) {
            cg_seterr(err, "bad profile: mapping id %llu appears twice", (unsigned long long)mm->id);
            return -EINVAL;
        }
        maps[i].id = mm->id;
        maps[i].start = mm->memory_start;
        maps[i].limit = mm->memory_limit;
        maps[i].offset = mm->file_offset;
        STR(mm->filename, "mapping.filename", maps[i].file);
        STR(mm->build_id, "mapping.build_id", maps[i].build_id);
    }
    p->mappings = maps;
    p->nmappings = m->n_mapping;

    /* Functions. */
    profile_func_t *funcs;
    NEW(funcs, m->n_function);
    if ((rc = idmap_init(&fmap, m->n_function, a)) != 0)
        return rc;
    for (size_t i = 0; i < m->n_function; i++) {
        const Perftools__Profiles__Function *f = m->function[i];

        if (f->id == 0) {
            cg_seterr(err, "bad profile: function %zu has id 0", i);
            return -EINVAL;
        }
        if (idmap_put(&fmap, f->id, (uint32_t)i) != 0) {
            cg_seterr(err, "bad profile: function id %llu appears twice", (unsigned long long)f->id);
            return -EINVAL;
        }
        funcs[i].id = f->id;
        STR(f->name, "function.name", funcs[i].name);
        STR(f->system_name, "function.system_name", funcs[i].system_name);
        STR(f->filename, "function.filename", funcs[i].filename);
        funcs[i].start_line = f->start_line;
    }
    p->funcs = funcs;
    p->nfuncs = m->n_function;

    /* Locations and their lines. */
    profile_loc_t *locs;
    size_t nlines = 0;
    NEW(locs, m->n_location);
    if ((rc = idmap_init(&lmap, m->n_location, a)) != 0)
        return rc;
    for (size_t i = 0; i < m->n_location; i++)
        nlines += m->location[i]->n_line;
    profile_line_t *lines;
    NEW(lines, nlines);
    nlines = 0;
    for (size_t i = 0; i < m->n_location; i++) {
        const Perftools__Profiles__Location *l = m->location[i];
        uint32_t idx;

        if (l->id == 0) {
            cg_seterr(err, "bad profile: location %zu has id 0", i);
            return -EINVAL;
        }
        if (idmap_put(&lmap, l->id, (uint32_t)i) != 0) {
            cg_seterr(err, "bad profile: location id %llu appears twice", (unsigned long long)l->id);
            return -EINVAL;
        }
        locs[i].id = l->id;
        locs[i].address = l->address;
        locs[i].is_folded = l->is_folded;
        locs[i].mapping = -1;
        if (l->mapping_id) {
            if (idmap_get(&mmap, l->mapping_id, &idx) != 0) {
                cg_seterr(err, "bad profile: location %llu names mapping %llu, which does not exist",
                          (unsigned long long)l->id, (unsigned long long)l->mapping_id);
                return -EINVAL;
            }
            locs[i].mapping = (int32_t)idx;
        }
        locs[i].lines = lines + nlines;
        locs[i].nlines = (uint32_t)l->n_line;
        for (size_t j = 0; j < l->n_line; j++) {
            profile_line_t *ln = &lines[nlines++];

            ln->line = l->line[j]->line;
            ln->func = -1;
            if (l->line[j]->function_id) {
                if (idmap_get(&fmap, l->line[j]->function_id, &idx) != 0) {
                    cg_seterr(err, "bad profile: location %llu names function %llu, which does not exist",
                              (unsigned long long)l->id, (unsigned long long)l->line[j]->function_id);
                    return -EINVAL;
                }
                ln->func = (int32_t)idx;
            }
        }
    }
    p->locs = locs;
    p->nlocs = m->n_location;

    /* Samples: one flat array of location indexes, one of values. */
    size_t nrefs = 0, nlabels = 0;
    for (size_t i = 0; i < m->n_sample; i++) {
        const Perftools__Profiles__Sample *s = m->sample[i];

        if (s->n_value != m->n_sample_type) {
            cg_seterr(err, "bad profile: sample %zu has %zu values for %zu sample types", i,
                      s->n_value, m->n_sample_type);
            return -EINVAL;
        }
        if (s->n_location_id > UINT32_MAX || s->n_label > UINT32_MAX)
            return -EFBIG;
        nrefs += s->n_location_id;
        nlabels += s->n_label;
    }
    profile_sample_t *samples;
    uint32_t *refs;
    int64_t *values;
    profile_label_t *labels;
    NEW(samples, m->n_sample);
    NEW(refs, nrefs);
    NEW(values, m->n_sample * m->n_sample_type);
    NEW(labels, nlabels);
    nrefs = nlabels = 0;
    for (size_t i = 0; i < m->n_sample; i++) {
        const Perftools__Profiles__Sample *s = m->sample[i];
        profile_sample_t *d = &samples[i];

        d->locs = refs + nrefs;
        d->nlocs = (uint32_t)s->n_location_id;
        for (size_t j = 0; j < s->n_location_id; j++) {
            if (idmap_get(&lmap, s->location_id[j], &refs[nrefs++]) != 0) {
                cg_seterr(err, "bad profile: sample %zu names location %llu, which does not exist", i,
                          (unsigned long long)s->location_id[j]);
                return -EINVAL;
            }
        }
        d->values = values + i * m->n_sample_type;
        if (m->n_sample_type)
            memcpy(values + i * m->n_sample_type, s->value, m->n_sample_type * sizeof *values);
        d->labels = labels + nlabels;
        d->nlabels = (uint32_t)s->n_label;
        for (size_t j = 0; j < s->n_label; j++) {
            const Perftools__Profiles__Label *lb = s->label[j];
            profile_label_t *dl = &labels[nlabels++];

            STR(lb->key, "label.key", dl->key);
            dl->str = NULL;
            if (lb->str)
                STR(lb->str, "label.str", dl->str);
            dl->num = lb->num;
            STR(lb->num_unit, "label.num_unit", dl->num_unit);
        }
    }
    p->samples = samples;
    p->nsamples = m->n_sample;
#undef NEW
#undef STR
    return 0;
}

int profile_decode(const void *data, size_t len, const profile_limits_t *limits, profile_t **out,
                   char *err)
{
    size_t max_inflated = limits && limits->max_inflated ? limits->max_inflated : PROFILE_MAX_INFLATED;
    size_t max_samples = limits && limits->max_samples ? limits->max_samples : PROFILE_MAX_SAMPLES;
    const unsigned char *buf = data;
    unsigned char *inflated = NULL;
    arena_t pbarena = {0};
    ProtobufCAllocator alloc = {pb_alloc, pb_free, &pbarena};
    Perftools__Profiles__Profile *m;
    profile_priv_t *pp;
    int rc;

    *out = NULL;
    scan_t scan = {0, 0, max_samples};

    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        if ((rc = gunzip(buf, len, max_inflated, &scan, &inflated, &len, err)) != 0)
            return rc;
        buf = inflated;
    } else if (len > max_inflated) {
        cg_seterr(err, "profile is larger than %zu bytes: refused", max_inflated);
        return -EFBIG;
    }
    if ((rc = scan_step(&scan, buf, len, 1, err)) != 0) {
        free(inflated);
        return rc;
    }
    m = perftools__profiles__profile__unpack(&alloc, len, buf);
    free(inflated);
    if (m == NULL) {
        arena_free(&pbarena);
        if (pbarena.failed)
            return -ENOMEM;
        cg_seterr(err, "malformed profile: not a profile.proto message");
        return -EINVAL;
    }
    if ((pp = calloc(1, sizeof *pp)) == NULL) {
        arena_free(&pbarena);
        return -ENOMEM;
    }
    rc = build(pp, m, err);
    arena_free(&pbarena);
    if (rc != 0) {
        if (rc == -ENOMEM)
            cg_seterr(err, "out of memory decoding the profile");
        arena_free(&pp->arena);
        free(pp);
        return rc;
    }
    pp->p.priv = pp;
    *out = &pp->p;
    return 0;
}

int profile_read_file(const char *path, const profile_limits_t *limits, profile_t **out, char *err)
{
    char *data = NULL;
    size_t len = 0;
    int truncated = 0, rc;

    *out = NULL;
    if ((rc = cg_read_file_at(AT_FDCWD, path, PROFILE_MAX_FILE, &data, &len, &truncated)) != 0) {
        cg_seterr(err, "cannot read '%s': %s", path, strerror(-rc));
        return rc;
    }
    if (truncated) {
        free(data);
        cg_seterr(err, "'%s' is larger than %zu bytes: refused", path, PROFILE_MAX_FILE);
        return -EFBIG;
    }
    rc = profile_decode(data, len, limits, out, err);
    free(data);
    if (rc != 0 && err) {
        char tmp[CG_ERR_LEN];

        snprintf(tmp, sizeof tmp, "%s", err);
        cg_seterr(err, "%s: %s", path, tmp);
    }
    return rc;
}

void profile_free(profile_t *p)
{
    profile_priv_t *pp;

    if (p == NULL)
        return;
    pp = p->priv;
    arena_free(&pp->arena);
    free(pp);
}

int profile_sample_index(const profile_t *p, const char *name, int *index, char *err)
{
    char *end;
    long v;

    if (p->ntypes == 0) {
        cg_seterr(err, "profile has no samples");
        return -EINVAL;
    }
    if (name == NULL || name[0] == '\0') {
        if (p->default_type[0])
            for (size_t i = 0; i < p->ntypes; i++)
                if (strcmp(p->types[i].type, p->default_type) == 0) {
                    *index = (int)i;
                    return 0;
                }
        *index = (int)p->ntypes - 1;
        return 0;
    }
    errno = 0;
    v = strtol(name, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (v < 0 || (size_t)v >= p->ntypes) {
            cg_seterr(err, "sample index %s is outside the range [0..%zu]", name, p->ntypes - 1);
            return -EINVAL;
        }
        *index = (int)v;
        return 0;
    }
    const char *noinuse = strncmp(name, "inuse_", 6) == 0 ? name + 6 : name;
    for (size_t i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].type, name) == 0 || strcmp(p->types[i].type, noinuse) == 0) {
            *index = (int)i;
            return 0;
        }
    char list[CG_ERR_LEN / 2] = "";
    size_t off = 0;
    for (size_t i = 0; i < p->ntypes && off < sizeof list; i++) {
        int n = snprintf(list + off, sizeof list - off, "%s%s", i ? " " : "", p->types[i].type);
        if (n < 0)
            break;
        off += (size_t)n;
    }
    cg_seterr(err, "sample index '%s' must be one of: %s", name, list);
    return -EINVAL;
}

const char *profile_frame_name(const profile_t *p, const profile_loc_t *loc, uint32_t line, char *buf,
                               size_t size)
{
    const profile_func_t *f = NULL;

    if (line < loc->nlines && loc->lines[line].func >= 0)
        f = &p->funcs[loc->lines[line].func];
    if (f && f->name[0])
        return f->name;
    if (loc->mapping >= 0 && p->mappings[loc->mapping].file[0]) {
        const char *file = p->mappings[loc->mapping].file, *slash = strrchr(file, '/');

        snprintf(buf, size, "[%s]", slash && slash[1] ? slash + 1 : file);
        return buf;
    }
    return "<unknown>";
}

int profile_folded(const profile_t *p, int sample_index,
                   void (*emit)(void *ctx, const char *const *frames, size_t n, int64_t value),
                   void *ctx)
{
    return profile_folded_selected(p, sample_index, NULL, emit, ctx);
}

int profile_folded_selected(const profile_t *p, int sample_index, const unsigned char *keep,
                            void (*emit)(void *ctx, const char *const *frames, size_t n, int64_t value),
                            void *ctx)
{
    const char **frames = NULL;
    char *names = NULL; /* "[binary]" names need room: 256 bytes per frame */
    size_t cap = 0;

    if (sample_index < 0 || (size_t)sample_index >= p->ntypes)
        return -EINVAL;
    for (size_t i = 0; i < p->nsamples; i++) {
        const profile_sample_t *s = &p->samples[i];
        int64_t v = s->values[sample_index];
        size_t n = 0, need = 0;

        if (v == 0 || (keep && !keep[i]))
            continue;
        for (uint32_t j = 0; j < s->nlocs; j++) {
            uint32_t nl = p->locs[s->locs[j]].nlines;
            need += nl ? nl : 1;
        }
        if (need > cap) {
            size_t ncap = need * 2;
            const char **nf = realloc(frames, ncap * sizeof *frames);
            char *nn;

            if (nf == NULL) {
                free(frames);
                free(names);
                return -ENOMEM;
            }
            frames = nf;
            if ((nn = realloc(names, ncap * 256)) == NULL) {
                free(frames);
                free(names);
                return -ENOMEM;
            }
            names = nn;
            cap = ncap;
        }
        for (uint32_t j = s->nlocs; j-- > 0;) {
            const profile_loc_t *l = &p->locs[s->locs[j]];
            uint32_t nl = l->nlines ? l->nlines : 1;

            for (uint32_t k = nl; k-- > 0; n++)
                frames[n] = profile_frame_name(p, l, k, names + n * 256, 256);
        }
        emit(ctx, frames, n, v);
    }
    free(frames);
    free(names);
    return 0;
}

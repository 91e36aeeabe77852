/* profile.h -- decoding pprof profiles (profile.proto, raw or gzipped)
 *
 * profile_decode() takes the bytes of a file as Go's runtime/pprof and
 * net/http/pprof write them: gzip is undone with zlib, the protobuf is
 * unpacked by protobuf-c (code generated from protocol/profile.proto), and
 * then every reference is checked, so that the rest of cgops can follow
 * indexes without checking them again: string indexes within the table,
 * location, function and mapping ids present and unique, one value per
 * sample type.  The ids in the message are replaced by array indexes.
 *
 * Limits (profile_limits_t): the inflated size, the number of samples and
 * the frames of one sample; a profile over them is refused with a message,
 * never truncated.  See profile_report.h for what is computed from it.
 */
#ifndef CGOPS_PROFILE_H
#define CGOPS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define PROFILE_MAX_INFLATED ((size_t)1 << 30) /* 1 GiB of protobuf */
#define PROFILE_MAX_SAMPLES 10000000u
#define PROFILE_MAX_FILE ((size_t)1 << 30)

typedef struct {
    size_t max_inflated; /* 0: PROFILE_MAX_INFLATED */
    size_t max_samples;  /* 0: PROFILE_MAX_SAMPLES */
} profile_limits_t;

/* A location's frames, as indexes: func is an index into funcs, or -1 for
 * a line without a function. */
typedef struct {
    int32_t func;
    int64_t line;
} profile_line_t;

typedef struct {
    const char *name, *system_name, *filename;
    int64_t start_line;
    uint64_t id;
} profile_func_t;

typedef struct {
    uint64_t id, start, limit, offset;
    const char *file, *build_id;
} profile_mapping_t;

typedef struct {
    uint64_t id, address;
    int32_t mapping;           /* index into mappings, -1 for none */
    int is_folded;
    uint32_t nlines;
    const profile_line_t *lines; /* inlined callee first, caller last */
} profile_loc_t;

typedef struct {
    const char *key, *str; /* str is NULL for a numeric label */
    int64_t num;
    const char *num_unit;
} profile_label_t;

typedef struct {
    uint32_t nlocs;
    const uint32_t *locs;  /* indexes into locs, leaf first */
    const int64_t *values; /* nvalues of them */
    uint32_t nlabels;
    const profile_label_t *labels;
} profile_sample_t;

typedef struct {
    const char *type, *unit;
} profile_vtype_t;

typedef struct profile_s {
    size_t ntypes;
    const profile_vtype_t *types;
    size_t nsamples;
    const profile_sample_t *samples;
    size_t nlocs;
    const profile_loc_t *locs;
    size_t nfuncs;
    const profile_func_t *funcs;
    size_t nmappings;
    const profile_mapping_t *mappings;
    size_t ncomments;
    const char *const *comments;
    const char *default_type; /* "" when unset */
    const char *drop_frames, *keep_frames;
    int64_t time_nanos, duration_nanos, period;
    profile_vtype_t period_type;
    void *priv; /* owned storage */
} profile_t;

/* Decode data (len bytes, gzip or raw protobuf) into *out.  limits may be
 * NULL for the defaults.  Returns 0, -EINVAL (malformed: message in err),
 * -EFBIG (over a limit) or -ENOMEM.  Free the result with profile_free. */
int profile_decode(const void *data, size_t len, const profile_limits_t *limits,
                   profile_t **out, char *err);

/* profile_decode on the contents of a file (at most PROFILE_MAX_FILE). */
int profile_read_file(const char *path, const profile_limits_t *limits, profile_t **out,
                      char *err);

void profile_free(profile_t *p);

/* The index of a sample type by name (or decimal number), as pprof's
 * -sample_index: NULL or "" picks default_sample_type, else the last type;
 * "inuse_X" also matches a type "X".  Returns 0 or -EINVAL (err lists the
 * types). */
int profile_sample_index(const profile_t *p, const char *name, int *index, char *err);

/* The printable name of frame `line` of location loc, as pprof names a
 * node at function granularity: the function's name, else "[binary]" (the
 * mapping's file, base name), else "<unknown>".  Returns a pointer into p
 * or to buf (at least 256 bytes). */
const char *profile_frame_name(const profile_t *p, const profile_loc_t *loc, uint32_t line,
                               char *buf, size_t size);

/* The stacks of p for a flame graph: emit is called once per sample whose
 * value at sample_index is not 0, with its frames root first (inlined
 * frames expanded, named as profile_frame_name) and that value.  The frames
 * array is valid only during the call.  Samples are not merged: the same
 * stack may come more than once (flamegraph.pl, inferno and speedscope sum
 * them).  Returns 0, -EINVAL for a bad sample_index or -ENOMEM. */
int profile_folded(const profile_t *p, int sample_index,
                   void (*emit)(void *ctx, const char *const *frames, size_t n, int64_t value),
                   void *ctx);

/* profile_folded for the samples whose keep[i] is nonzero (all if keep is
 * NULL): see profile_select in profile_report.h. */
int profile_folded_selected(const profile_t *p, int sample_index, const unsigned char *keep,
                            void (*emit)(void *ctx, const char *const *frames, size_t n, int64_t value),
                            void *ctx);

#endif

/* proto.h -- the gops wire protocol: command bytes, the setgc argument, and
 * parsers for the text replies (no I/O here; see protocol/PROTOCOL.md)
 *
 * Text replies are copied to stdout unchanged in text mode (that is what
 * gops prints), so the parsers only serve --json.  They are pure: they take
 * the reply text and build cJSON values, so tests feed them strings.
 */
#ifndef CGOPS_PROTO_H
#define CGOPS_PROTO_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define PROTO_STACK       0x01
#define PROTO_GC          0x02
#define PROTO_MEMSTATS    0x03
#define PROTO_VERSION     0x04
#define PROTO_HEAP        0x05
#define PROTO_CPU         0x06
#define PROTO_STATS       0x07
#define PROTO_TRACE       0x08
#define PROTO_BINARY_DUMP 0x09
#define PROTO_SETGC       0x10

/* gops sends setgc's argument as the full binary.MaxVarintLen64 buffer. */
#define PROTO_SETGC_ARG_LEN 10

/* Parse the user's setgc value: a decimal integer within C int range (the Go
 * agent converts to int), or "off" meaning -1.  Returns 0 or -EINVAL/-ERANGE
 * with err set ("invalid GC percent 'x': ..."). */
int proto_setgc_value_parse(const char *s, long long *value, char *err);

/* Encode a setgc request: the command byte followed by the zig-zag varint of
 * value, zero-padded to PROTO_SETGC_ARG_LEN bytes, exactly as gops sends it.
 * buf must hold 1 + PROTO_SETGC_ARG_LEN bytes; returns the bytes to send. */
size_t proto_setgc_request(long long value, unsigned char *buf);

/* Decode a zig-zag varint (tests, and the agent side of the spec).  Returns
 * the bytes consumed, or 0 if buf is truncated or overflows 64 bits. */
size_t proto_varint_decode(const unsigned char *buf, size_t len, long long *value);

/* "New GC percent set to N. Previous value was M.\n" -> {"new":N,"previous":M}.
 * Returns NULL with err set when the reply does not have that form. */
cJSON *proto_setgc_reply_json(const char *text, size_t len, char *err);

/* memstats reply -> object with typed members: sizes and counts as integers
 * (bytes), next-gc as an integer byte count, last-gc as a string or null,
 * gc-pause-total in ns (parsed from Go's duration syntax), gc-cpu-fraction as
 * a number, enable-gc/debug-gc as booleans.  JSON member names replace '-'
 * with '_' (heap_alloc).  Unknown keys are kept (as integers when they parse,
 * else strings); missing keys are simply absent.  NULL + err when the text
 * has no "key: value" line at all. */
cJSON *proto_memstats_json(const char *text, size_t len, char *err);

/* stats reply -> {"goroutines":N,"os_threads":N,"gomaxprocs":N,"num_cpu":N}
 * (unknown keys kept as above).  NULL + err if nothing parsed. */
cJSON *proto_stats_json(const char *text, size_t len, char *err);

/* version reply "go1.19.8\n" -> the string without the newline. */
cJSON *proto_version_json(const char *text, size_t len, char *err);

/* The bytes every reply of a binary command starts with: gzip's magic for
 * pprof-heap and pprof-cpu, Go's trace header for trace, ELF's for the
 * binary dump.  1 when head (the reply's first n bytes, n >= what the
 * check needs, else all of the reply) starts right, 0 when not; *what
 * says what was wanted ("a gzip-compressed profile").  A reply cut short
 * after a right start cannot be told from a whole one: the formats carry
 * no length or end marker this client can check without decompressing. */
#define PROTO_HEAD_MAX 16
int proto_binary_head_ok(int byte, const unsigned char *head, size_t n, const char **what);

/* 1 when buf is text a Go agent could print: printable ASCII, tab, CR, LF
 * and well-formed UTF-8; 0 for binary data. */
int proto_is_text(const char *buf, size_t len);

/* Parse a Go duration string ("1.234ms", "2h3m0.5s", "0s") into ns.
 * Returns 0 or -EINVAL. */
int proto_go_duration_ns(const char *s, long long *ns);

/* Streaming parser for the goroutine dump (debug=2 format).  Feed it the
 * reply in chunks of any size as they arrive; each time a goroutine is
 * complete, cb receives it as a cJSON object
 *   {"id":N, "state":"chan receive", "wait_minutes":N (0 if absent),
 *    "locked_to_thread":bool, "frames":[{"function":..., "args":...,
 *    "file":..., "line":N, "pc_offset":"+0x1d"}...],
 *    "created_by":{"function":..., "goroutine":N|null, "file":..., "line":N}|null}
 * and owns it (must cJSON_Delete it).  Memory is bounded by the largest
 * single goroutine, not by the dump. */
typedef struct proto_stack_parser proto_stack_parser_t;
typedef void (*proto_goroutine_cb)(cJSON *goroutine, void *ctx);

proto_stack_parser_t *proto_stack_parser_new(proto_goroutine_cb cb, void *ctx);
/* Returns 0, or -EINVAL (err set) when the input is not a goroutine dump. */
int proto_stack_parser_feed(proto_stack_parser_t *p, const char *buf, size_t len, char *err);
/* Flush the last goroutine.  Returns 0 or -EINVAL (truncated mid-goroutine
 * is not an error: the goroutine is emitted with the frames seen). */
int proto_stack_parser_finish(proto_stack_parser_t *p, char *err);
/* Forget an unfinished last line (a dump the runtime cut at its limit). */
void proto_stack_parser_drop_partial_line(proto_stack_parser_t *p);
void proto_stack_parser_free(proto_stack_parser_t *p);

/* ---- reply checks (used in text mode and --json alike) ---- */

/* Most bytes of a reply that is held whole (gc, memstats, stats, version,
 * setgc): real ones are a few KiB. */
#define PROTO_REPLY_MAX (1u << 20)

/* runtime/pprof's limit for a goroutine dump (writeGoroutineStacks): a dump
 * that reaches it is cut there, and no agent sends more. */
#define PROTO_STACK_RUNTIME_CAP (64ull << 20)

/* 0 when the first len bytes of a reply can begin a goroutine dump
 * ("goroutine N ["), else -EPROTO with err set. */
int proto_stack_head_check(const char *buf, size_t len, char *err);

/* 0 when a gc reply is exactly "ok", else -EPROTO with err set. */
int proto_gc_reply_check(const char *buf, size_t len, char *err);

#endif

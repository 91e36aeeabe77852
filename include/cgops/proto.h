/* proto.h -- the gops wire protocol: command bytes, the setgc argument,
 * parsers for the text replies and the checks every reply must pass (no I/O
 * here; see protocol/PROTOCOL.md)
 *
 * Text replies are copied to stdout unchanged in text mode (that is what
 * gops prints), but only once proto_reply_check says they are what the
 * command returns, so text mode refuses what --json refuses.  Everything is
 * pure: functions take the reply bytes, so tests feed them strings.
 */
#ifndef CGOPS_PROTO_H
#define CGOPS_PROTO_H

#include <stddef.h>
#include <stdint.h>
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

/* Profiles only net/http/pprof serves: no agent byte, so codes above any
 * byte.  request.h refuses them for an agent target. */
#define PROTO_ALLOCS       0x101
#define PROTO_BLOCK        0x102
#define PROTO_MUTEX        0x103
#define PROTO_GOROUTINE    0x104
#define PROTO_THREADCREATE 0x105

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

/* "New GC percent set to N. Previous value was M.\n" -> {"new":N,"previous":M},
 * N and M exact (printed digit for digit, any int64).  Returns NULL with
 * err set when the reply does not have that form or a value is not an
 * integer within int64 range. */
cJSON *proto_setgc_reply_json(const char *text, size_t len, char *err);

/* memstats reply -> object with typed members, each key typed as the gops
 * agent prints it from runtime.MemStats: sizes ("N bytes", "1.00KB (N
 * bytes)") and counts as exact integers 0..2^64-1, num-gc and
 * num-forced-gc 0..2^32-1, next-gc as an integer byte count, last-gc a
 * string or null ("-"), gc-pause-total in ns (Go's duration syntax, >= 0),
 * gc-cpu-fraction a finite number >= 0 (the agent's digits kept),
 * enable-gc/debug-gc booleans.  Integers are cJSON raw items holding the
 * exact digits (cJSON's doubles round above 2^53).  JSON member names
 * replace '-' with '_' (heap_alloc).  Unknown keys are kept: integers
 * (within 64 bits), byte sizes, true/false and finite numbers typed, else
 * the string as sent; missing keys are simply absent.  NULL + err when the
 * text has no "key: value" line, a line is not one, or a known key's value
 * is not of its type or out of its range ("num-gc: -3", "gc-cpu-fraction:
 * NaN"): never passed on as a string or null. */
cJSON *proto_memstats_json(const char *text, size_t len, char *err);

/* stats reply -> {"goroutines":N,"os_threads":N,"gomaxprocs":N,"num_cpu":N},
 * exact integers (goroutines, os_threads >= 0; gomaxprocs, num_cpu >= 1;
 * Go ints, so at most 2^63-1).  Unknown keys: integers (within 64 bits),
 * else strings.  NULL + err as for memstats. */
cJSON *proto_stats_json(const char *text, size_t len, char *err);

/* version reply "go1.19.8\n" -> the string without the newline.  One line
 * of text (no control bytes) of at most PROTO_VERSION_MAX bytes starting
 * "go" and a digit, or "devel", as runtime.Version() does; else NULL + err. */
#define PROTO_VERSION_MAX 256
cJSON *proto_version_json(const char *text, size_t len, char *err);

/* ---- reply checks ----------------------------------------------------
 * What the command layer asks once a reply is in (the connection closed
 * normally), in text mode and with --json alike. */

/* The command's name as gops spells it, for messages: "memstats",
 * "pprof-heap", "binary dump"; "unknown" for other bytes.  Static string. */
const char *proto_command_name(int byte);

/* runtime/pprof's limit for a goroutine dump (writeGoroutineStacks): a
 * dump of exactly this many bytes without a final newline was cut there by
 * the runtime and is complete as sent. */
#define PROTO_STACK_RUNTIME_CAP (64ull << 20)

/* The largest gc, memstats, stats, version or setgc reply held whole;
 * real ones are a few KiB.  A bigger one is refused while reading. */
#define PROTO_REPLY_MAX (1u << 20)

/* Bytes of a stack reply's start that always decide
 * proto_stack_head_check: "goroutine " + 20 digits + " gp=". */
#define PROTO_STACK_HEAD_MAX 34

/* Streaming check of a stack reply's start, for text mode (which prints
 * the dump as it arrives and so must decide before the first write).
 * head: the reply's first n bytes so far.  Returns 1 when they start as a
 * goroutine dump does ("goroutine N [", or "goroutine N gp=" under
 * GOTRACEBACK=system), 0 when they are a correct beginning but too short
 * to tell (hold them and call again with more; n >= PROTO_STACK_HEAD_MAX
 * never gives 0), -EINVAL with err set ("malformed goroutine dump: ...")
 * as soon as they cannot be one. */
int proto_stack_head_check(const char *head, size_t n, char *err);

/* Check a reply once the agent closed the connection.
 *   byte       the command byte sent (PROTO_*)
 *   buf, len   gc, memstats, stats, version, setgc: the whole reply;
 *              stack: its first min(received, PROTO_STACK_HEAD_MAX) bytes;
 *              pprof-heap, pprof-cpu, trace, binary dump: its first
 *              min(received, PROTO_HEAD_MAX) bytes
 *   received   bytes the reply had in all
 *   last_byte  its last byte (0..255), or -1 when it was empty
 *   cut        optional: set to 1 for a stack dump the runtime cut at
 *              PROTO_STACK_RUNTIME_CAP (complete as sent: say so, and with
 *              --json call proto_stack_parser_drop_partial_line before
 *              proto_stack_parser_finish), else 0
 * In order: an empty reply fails ("the agent closed the connection without
 * a NAME reply"); gc must be exactly "ok"; a binary reply must start with
 * its format's magic (proto_binary_head_ok); a stack reply must start as a
 * goroutine dump; memstats, stats, version and setgc must parse as --json
 * parses them (an SSH banner sent to stats fails here, in text mode too);
 * every text reply must end with '\n' ("NAME reply truncated: connection
 * closed after N bytes") unless it is a stack dump cut by the runtime.
 * Returns 0, -EPROTO (a reply that is not the command's), -EFBIG (a small
 * reply over PROTO_REPLY_MAX), -EINVAL (unknown byte); err says why. */
int proto_reply_check(int byte, const char *buf, size_t len, uint64_t received,
                      int last_byte, int *cut, char *err);

/* The whole-reply --json value of gc ({"ok":true}), memstats, stats,
 * version or setgc: the parsers above by command byte.  Call after
 * proto_reply_check passed (it does not check the trailing newline).
 * Caller frees with cJSON_Delete; NULL + err for a bad reply or another
 * byte (stack is parsed by the streaming parser below). */
cJSON *proto_reply_json(int byte, const char *buf, size_t len, char *err);

/* The bytes every reply of a binary command starts with: gzip's magic for
 * pprof-heap and pprof-cpu, Go's trace header for trace, ELF's for the
 * binary dump.  1 when head (the reply's first n bytes, n >= what the
 * check needs, else all of the reply) starts right, 0 when not; *what
 * says what was wanted ("a gzip-compressed profile").  A reply cut short
 * after a right start cannot be told from a whole one: the formats carry
 * no length or end marker this client can check without decompressing. */
#define PROTO_HEAD_MAX 16
int proto_binary_head_ok(int byte, const unsigned char *head, size_t n, const char **what);

/* Text a Go agent prints: printable ASCII, tab, LF and well-formed UTF-8
 * (cg_utf8_seq_len, the rule the JSON writer uses) without C1 controls.
 * Not CR, an escape or any other control character: a reply holding one
 * would act on the terminal it is printed to, and no agent prints one.
 * The streaming form checks a reply chunk by chunk (a stack dump printed
 * as it arrives), carrying a UTF-8 sequence split between two chunks;
 * start from a zeroed state.  Returns 0, or -EPROTO with err set. */
typedef struct {
    unsigned char carry[4];
    size_t n;
    int want;
} proto_text_state_t;
int proto_text_stream_check(proto_text_state_t *st, const char *buf, size_t len, char *err);
/* The reply ended: -EPROTO when it ended inside a UTF-8 sequence. */
int proto_text_stream_end(const proto_text_state_t *st, char *err);

/* 1 when the whole of buf is such text, 0 otherwise. */
int proto_is_text(const char *buf, size_t len);

/* Parse a Go duration string ("1.234ms", "2h3m0.5s", "0s", "-1.5h") into
 * ns, exactly, with the rules of Go's time.ParseDuration.  Returns 0,
 * -EINVAL (not a duration) or -ERANGE (beyond int64 ns). */
int proto_go_duration_ns(const char *s, long long *ns);

/* Streaming parser for the goroutine dump (debug=2 format).  Feed it the
 * reply in chunks of any size as they arrive; each time a goroutine is
 * complete, cb receives it as a cJSON object
 *   {"id":N, "state":"chan receive", "wait_minutes":N (0 if absent),
 *    "locked_to_thread":bool, "frames":[{"function":..., "args":...,
 *    "file":..., "line":N, "pc_offset":"+0x1d"}...],
 *    "created_by":{"function":..., "goroutine":N|null, "file":..., "line":N}|null}
 * and owns it (must cJSON_Delete it).
 *
 * Memory is bounded for any input, whatever the agent sends: the parser
 * holds one line (at most PROTO_STACK_LINE_MAX bytes) and one goroutine
 * (at most PROTO_STACK_FRAMES_MAX frames, function lines without a location
 * included, and PROTO_STACK_GOROUTINE_MAX bytes of text); input past a cap
 * is refused as a malformed dump.  The runtime prints at most 100 frames
 * per goroutine (the rest elided) and lines of at most a few KiB, so real
 * dumps are far inside the caps. */
#define PROTO_STACK_LINE_MAX      (64u << 10)
#define PROTO_STACK_FRAMES_MAX    1000u
#define PROTO_STACK_GOROUTINE_MAX (4u << 20)
typedef struct proto_stack_parser proto_stack_parser_t;
typedef void (*proto_goroutine_cb)(cJSON *goroutine, void *ctx);

proto_stack_parser_t *proto_stack_parser_new(proto_goroutine_cb cb, void *ctx);
/* Returns 0, or -EINVAL (err set: "malformed goroutine dump...") when the
 * input is not a goroutine dump or passes a cap.  A refusal is final: later
 * feed and finish calls return -EINVAL with the same message and emit
 * nothing (the goroutine being built is dropped); then free the parser. */
int proto_stack_parser_feed(proto_stack_parser_t *p, const char *buf, size_t len, char *err);
/* Flush the last goroutine.  Returns 0 or -EINVAL (truncated mid-goroutine
 * is not an error: the goroutine is emitted with the frames seen; an empty
 * dump is: "empty goroutine dump"). */
int proto_stack_parser_finish(proto_stack_parser_t *p, char *err);
/* Forget an unfinished last line (a dump the runtime cut at its limit). */
void proto_stack_parser_drop_partial_line(proto_stack_parser_t *p);
void proto_stack_parser_free(proto_stack_parser_t *p);

#endif

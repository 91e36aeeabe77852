/* fuzz-reply.c -- libFuzzer target for the whole-reply parsers and checks
 *
 * Input: a selector byte, then the reply.  The selector picks memstats,
 * stats, version, setgc or gc (their --json parsers and proto_reply_check,
 * which must agree), the reply check for any command byte, Go durations,
 * or the varint decoders.  Oracles beyond "no crash": a parsed reply
 * prints as valid JSON (exact integers are raw cJSON items, so a bad digit
 * string would break the document), and a reply the check passes is one
 * the parser takes.
 */
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/proto.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int text_bytes[] = {PROTO_MEMSTATS, PROTO_STATS, PROTO_VERSION, PROTO_SETGC, PROTO_GC};

static void check_json(const cJSON *v)
{
    char *s = out_json_print(v, 0);
    cJSON *back;

    if (s == NULL)
        abort();
    back = cJSON_Parse(s);
    if (back == NULL)
        abort();
    cJSON_Delete(back);
    free(s);
}

static void text_reply(int byte, const char *d, size_t n)
{
    char err[CG_ERR_LEN] = "";
    cJSON *v = proto_reply_json(byte, d, n, err);
    int rc = proto_reply_check(byte, d, n, n, n ? (unsigned char)d[n - 1] : -1, NULL, NULL);

    if (v == NULL && err[0] == '\0')
        abort(); /* every refusal says why */
    if (v)
        check_json(v);
    /* The check passes exactly the replies --json takes whole, that end
     * in a newline (gc: exactly "ok"). */
    if (rc == 0 && v == NULL)
        abort();
    if (v && byte != PROTO_GC && d[n - 1] == '\n' && n <= PROTO_REPLY_MAX && rc != 0)
        abort();
    cJSON_Delete(v);
}

static void durations(const char *d, size_t n)
{
    char buf[128];
    long long ns;
    int rc;

    if (n >= sizeof buf)
        n = sizeof buf - 1;
    memcpy(buf, d, n);
    buf[n] = '\0';
    rc = proto_go_duration_ns(buf, &ns);
    if (rc != 0 && rc != -EINVAL && rc != -ERANGE)
        abort();
}

static void varints(const unsigned char *d, size_t n)
{
    unsigned char req[1 + PROTO_SETGC_ARG_LEN];
    uint64_t u;
    long long v, w;
    size_t k = cg_uvarint_decode(d, n, &u), z = proto_varint_decode(d, n, &v);

    /* The same bytes make the same length either way. */
    if (k != z || k > 10 || k > n)
        abort();
    if (z) {
        /* What decodes re-encodes to a value that decodes the same. */
        proto_setgc_request(v, req);
        if (proto_varint_decode(req + 1, PROTO_SETGC_ARG_LEN, &w) == 0 || w != v)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data + 1;
    size_t n;
    int cut;

    if (size < 1)
        return 0;
    n = size - 1;
    switch (data[0] % 8) {
    case 0: case 1: case 2: case 3: case 4:
        text_reply(text_bytes[data[0] % 8], d, n);
        break;
    case 5:
        /* Any command byte (the next input byte), the rest as the reply's
         * start; received (up to the runtime's stack cap, and just
         * below it) and the last byte vary with the input too. */
        if (n >= 1) {
            unsigned k = data[0] >> 3;
            uint64_t received = k == 31 ? PROTO_STACK_RUNTIME_CAP
                              : k == 30 ? PROTO_STACK_RUNTIME_CAP - 1
                              : n - 1 + ((uint64_t)k << 20);
            int rc = proto_reply_check((unsigned char)d[0], d + 1, n - 1, received,
                                       n > 1 ? (unsigned char)d[n - 1] : -1, &cut, NULL);
            if (rc != 0 && rc != -EPROTO && rc != -EFBIG && rc != -EINVAL)
                abort();
            if (cut && (rc != 0 || (unsigned char)d[0] != PROTO_STACK))
                abort();
        }
        break;
    case 6:
        durations(d, n);
        break;
    default:
        varints(data + 1, n);
        break;
    }
    return 0;
}

/* fuzz-mcp.c -- libFuzzer target for the MCP messages of `cgops mcp`
 *
 * Input: an optional '!' (then as with --allow-write), request lines, then
 * optionally a NUL byte and what the tool's command printed.  Every line
 * goes through mcp_handle; each tool job it makes gets the
 * bytes after the NUL as its command's stdout, step after step.  Oracles
 * beyond "no crash, no leak": every reply is one line of JSON, a JSON-RPC
 * 2.0 message with an id member and exactly one of result and error, and
 * a tool result has content with a text.
 */
#include "cgops/mcp.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_reply(const char *s)
{
    cJSON *m, *content;
    int has_result, has_error;

    if (s == NULL)
        return;
    if (strchr(s, '\n') != NULL)
        abort();
    m = cJSON_Parse(s);
    if (!cJSON_IsObject(m) || !cJSON_HasObjectItem(m, "id"))
        abort();
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "jsonrpc")))
        abort();
    has_result = cJSON_HasObjectItem(m, "result");
    has_error = cJSON_HasObjectItem(m, "error");
    if (has_result == has_error)
        abort();
    content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "result"), "content");
    if (content && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(content, 0), "text")))
        abort();
    cJSON_Delete(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int write = size > 0 && data[0] == '!';
    const char *d = (const char *)data + write;
    const char *nul = memchr(d, '\0', size - write);
    size_t reqlen = nul ? (size_t)(nul - d) : size - write;
    const char *out = nul ? nul + 1 : "";
    size_t outlen = nul ? size - write - reqlen - 1 : 0;
    mcp_t m;
    size_t at = 0;

    mcp_init(&m, write, "/nonexistent-dir");
    while (at < reqlen) {
        const char *nl = memchr(d + at, '\n', reqlen - at);
        size_t n = nl ? (size_t)(nl - (d + at)) : reqlen - at;
        mcp_out_t o;

        mcp_handle(&m, d + at, n, &o);
        check_reply(o.reply);
        if (o.job) {
            char *reply = NULL;
            int steps = 0;

            while (mcp_job_step(&m, o.job, 0, 0, out, outlen, "", &reply) == 1 && ++steps < 4)
                ;
            check_reply(reply);
            free(reply);
            reply = mcp_job_fail(o.job, "x");
            check_reply(reply);
            free(reply);
        }
        mcp_out_free(&o);
        at += n + 1;
    }
    return 0;
}

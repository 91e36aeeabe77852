/* test-mcp.c -- mcp.c fed strings: the envelope, the arguments that become
 * command lines, and the steps of a tool job, without any process */
#include "test.h"

#include "cgops/mcp.h"

#include <errno.h>

static cJSON *handle(mcp_t *m, const char *line, mcp_out_t *o)
{
    cJSON *r;

    mcp_handle(m, line, strlen(line), o);
    if (o->reply == NULL)
        return NULL;
    r = cJSON_Parse(o->reply);
    ASSERT(r != NULL);
    return r;
}

static int error_code(const cJSON *r)
{
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "code");

    return cJSON_IsNumber(c) ? c->valueint : 0;
}

static const char *argv_joined(const mcp_job_t *j)
{
    static char buf[2048];

    buf[0] = '\0';
    for (int i = 0; j->argv[i]; i++) {
        strcat(buf, i ? " " : "");
        strcat(buf, j->argv[i]);
    }
    return buf;
}

/* A word from the client never becomes an option: a target or pid that
 * starts with '-' is refused, and the words go after "--". */
TEST(mcp_arguments_are_not_options)
{
    mcp_t m;
    mcp_out_t o;
    cJSON *r;

    mcp_init(&m, 0, "/tmp/x");
    r = handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"stack\","
                   "\"arguments\":{\"target\":\"--all\"}}}", &o);
    ASSERT_EQ(error_code(r), MCP_INVALID_PARAMS);
    ASSERT(o.job == NULL);
    cJSON_Delete(r);
    mcp_out_free(&o);

    r = handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"stack\","
                   "\"arguments\":{\"target\":\"127.0.0.1:9\"}}}", &o);
    ASSERT(r == NULL && o.job != NULL);
    ASSERT_STR_EQ(argv_joined(o.job), "stack --json --timeout 10s -- 127.0.0.1:9");
    mcp_out_free(&o);

    r = handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"profile_top\","
                   "\"arguments\":{\"file\":\"-rf\"}}}", &o);
    ASSERT(o.job != NULL);
    ASSERT_STR_EQ(argv_joined(o.job), "profile --json --top 20 -- -rf");
    mcp_out_free(&o);
}

/* profile_top on a target: save the profile into the caller's directory,
 * then read that file; the answer drops the temporary file's name. */
TEST(mcp_profile_top_steps)
{
    mcp_t m;
    mcp_out_t o;
    char *reply = NULL;
    cJSON *r, *sc;
    static const char prof[] = "{\"file\":\"/tmp/x/profile-1.pb.gz\",\"sample_type\":\"alloc_space\","
                               "\"unit\":\"bytes\",\"total\":100,\"functions\":[{\"name\":\"main.f\","
                               "\"flat\":60,\"cum\":100,\"inline\":false}]}";

    mcp_init(&m, 0, "/tmp/x");
    handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"tools/call\",\"params\":{\"name\":\"profile_top\","
               "\"arguments\":{\"target\":42,\"kind\":\"allocs\",\"top\":3}}}", &o);
    ASSERT(o.job != NULL);
    ASSERT_STR_EQ(o.job->tmpfile, "/tmp/x/profile-1.pb.gz");
    ASSERT_STR_EQ(argv_joined(o.job),
                  "pprof-heap --json --no-launch --timeout 20s -o /tmp/x/profile-1.pb.gz -- 42");
    ASSERT_EQ(mcp_job_step(&m, o.job, 0, 0, "{}", 2, "", &reply), 1);
    ASSERT_STR_EQ(argv_joined(o.job),
                  "profile --json --top 3 --sample-index alloc_space -- /tmp/x/profile-1.pb.gz");
    ASSERT_EQ(mcp_job_step(&m, o.job, 0, 0, prof, strlen(prof), "", &reply), 0);
    r = cJSON_Parse(reply);
    ASSERT_STR_EQ(cJSON_GetObjectItem(r, "id")->valuestring, "p");
    sc = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "structuredContent");
    ASSERT(cJSON_GetObjectItem(sc, "file") == NULL);
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "functions")), 1);
    ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "isError")));
    cJSON_Delete(r);
    free(reply);
    mcp_out_free(&o);
}

/* A command that failed, timed out or went over its cap is a tool error
 * (isError, no structuredContent) that says which. */
TEST(mcp_failures_are_tool_errors)
{
    static const struct {
        int status, exit;
        const char *errtext, *want;
    } cases[] = {
        {0, 1, "pid 9: no such process", "pid 9: no such process"},
        {-ETIMEDOUT, 0, "", "did not answer within 15 s"},
        {-EFBIG, 0, "", "more than 4 MiB"},
        {-ENOENT, 0, "", "cannot run cgops process"},
        {0, 0, "", "not the JSON"}, /* exit 0, but the output is not JSON */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcp_t m;
        mcp_out_t o;
        char *reply = NULL;
        cJSON *r, *res;

        mcp_init(&m, 0, NULL);
        handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"process_info\","
                   "\"arguments\":{\"pid\":9}}}", &o);
        ASSERT(o.job != NULL);
        ASSERT_EQ(mcp_job_step(&m, o.job, cases[i].status, cases[i].exit, "nope", 4, cases[i].errtext, &reply), 0);
        r = cJSON_Parse(reply);
        res = cJSON_GetObjectItem(r, "result");
        ASSERT(cJSON_IsTrue(cJSON_GetObjectItem(res, "isError")));
        ASSERT(cJSON_GetObjectItem(res, "structuredContent") == NULL);
        ASSERT_CONTAINS(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "content"), 0)->child->next->valuestring,
                        cases[i].want);
        cJSON_Delete(r);
        free(reply);
        mcp_out_free(&o);
    }
}

/* notifications: never a reply; cancelled gives the id to cancel. */
TEST(mcp_notifications)
{
    mcp_t m;
    mcp_out_t o;

    mcp_init(&m, 0, NULL);
    ASSERT(handle(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}", &o) == NULL);
    ASSERT(o.job == NULL && o.cancel == NULL);
    mcp_out_free(&o);
    ASSERT(handle(&m, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":\"r1\","
                      "\"reason\":\"user\"}}", &o) == NULL);
    ASSERT(cJSON_IsString(o.cancel));
    ASSERT_STR_EQ(o.cancel->valuestring, "r1");
    mcp_out_free(&o);
    /* A response from the client: we sent no request, nothing to say. */
    ASSERT(handle(&m, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}", &o) == NULL);
    mcp_out_free(&o);
}

/* A reply carries the request's id exactly: a number cJSON would print
 * with 15 digits (within an epsilon of it) must come back with all of its
 * digits, or the client cannot match the reply. */
TEST(mcp_reply_id_is_exact)
{
    static const char *const ids[] = {"9007199254740991", "5000000000000001", "4503599627370497",
                                      "-9007199254740991", "0.30000000000000004", "1e300", "7"};
    mcp_t m;
    mcp_out_t o;
    char line[256];

    mcp_init(&m, 0, NULL);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        cJSON *r, *id;

        snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"ping\"}", ids[i]);
        r = handle(&m, line, &o);
        ASSERT(r != NULL);
        id = cJSON_GetObjectItem(r, "id");
        ASSERT(cJSON_IsNumber(id));
        ASSERT(id->valuedouble == strtod(ids[i], NULL));
        cJSON_Delete(r);
        mcp_out_free(&o);
    }
}

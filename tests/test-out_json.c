/* test-out_json.c -- tests for out_json.c */
#include "test.h"
#include "cgops/common.h"
#include "cgops/out_json.h"

static char *print_string(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = out_json_print(j, 0);

    cJSON_Delete(j);
    return t;
}

/* Bytes that are not UTF-8 (a file name can hold any) become U+FFFD, so
 * the document stays valid JSON; valid text is left as it is. */
TEST(out_json_print_keeps_utf8_valid)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"plain /usr/bin/x", "\"plain /usr/bin/x\""},
        {"\xc2\xb5s caf\xc3\xa9 \xf0\x9f\x90\xb9", "\"\xc2\xb5s caf\xc3\xa9 \xf0\x9f\x90\xb9\""},
        {"\xffgo", "\"\xef\xbf\xbdgo\""},
        {"a\xc0\xaf" "b", "\"a\xef\xbf\xbd\xef\xbf\xbd" "b\""},       /* overlong '/' */
        {"\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate */
        {"cut \xe2\x82", "\"cut \xef\xbf\xbd\xef\xbf\xbd\""},          /* truncated */
        {"\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* > U+10FFFF */
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(cases); i++) {
        char *t = print_string(cases[i].in);
        ASSERT_STR_EQ(t, cases[i].want);
        free(t);
    }
}

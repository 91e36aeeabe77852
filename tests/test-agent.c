/* test-agent.c -- tests for agent.c's pure parts */
#include "test.h"
#include "cgops/agent.h"

/* Durations in messages are written as the user would: exact, short. */
TEST(agent_format_ms_is_exact)
{
    static const struct {
        uint64_t ms;
        const char *want;
    } cases[] = {
        {500, "500ms"},     {1000, "1s"},          {10000, "10s"},
        {1500, "1.5s"},     {1001, "1.001s"},      {1250, "1.25s"},
        {1234567, "1234.567s"}, {3600000, "3600s"}, {1, "1ms"},
    };
    char buf[32];

    for (size_t i = 0; i < CG_ARRAY_SIZE(cases); i++) {
        agent_format_ms(cases[i].ms, buf, sizeof buf);
        ASSERT_STR_EQ(buf, cases[i].want);
    }
}

/* cmd_memstats_agentless.c -- memstats read from the runtime's globals */
#include "cgops/agentless.h"
#include "cgops/cmd.h"

int agentless_memstats(pid_t pid, int json)
{
    (void)json;
    return cmd_error("pid %d: reading memstats without an agent is not written yet", (int)pid);
}

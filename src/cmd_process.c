/* cmd_process.c -- placeholder, replaced by the real command */
#include "cgops/cmd.h"
int cmd_process(int argc, char **argv, const cmd_t *cmd)
{
    (void)argc;
    (void)argv;
    return cmd_usage_error(cmd, "not implemented yet");
}

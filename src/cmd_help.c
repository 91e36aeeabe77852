/* cmd_help.c -- `cgops --help`, `cgops help COMMAND`, `cgops help --options`
 *
 * Everything here is generated from commands[] and each command's option
 * table, so the help cannot drift from what the dispatcher and the parsers
 * accept.  `cgops help --options COMMAND` prints the long options one per
 * line for the bash completion and the manual check.
 */
#include "cgops/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int options;
} help_opts_t;

const opt_t cmd_help_opts[] = {
    OPT_BOOL_(0, "options", help_opts_t, options, "list COMMAND's long options, one per line (completion)"),
    OPT_END_(),
};

static void overview(void)
{
    printf("usage: cgops [--json] [-v]\n"
           "       cgops PID [PERIOD] [--json]\n"
           "       cgops COMMAND [OPTIONS] [ARGS]\n"
           "\n"
           "Lists the Go processes of this host and talks to their gops agents.\n"
           "TARGET is a pid (found through its gops port file) or host:port.\n"
           "\n"
           "Commands:\n");
    for (const cmd_t *c = commands; c->name; c++)
        printf("  %-11s %-16s %s\n", c->name, c->args, c->summary);
    printf("\n"
           "Options:\n"
           "  -h, --help           show this help, or 'cgops help COMMAND' for one command\n"
           "  --version            print cgops's version\n"
           "\n"
           "Exit status: 0 success, 1 a target or operation failed, 2 usage error.\n"
           "See cgops(1) for target resolution, JSON output and examples.\n");
}

int cmd_help_command(const cmd_t *c)
{
    printf("usage: cgops %s [OPTIONS] %s\n\n%s.\n", c->name, c->args, c->summary);
    printf("\nOptions:\n");
    opt_print_help(stdout, c->opts);
    return CG_EXIT_OK;
}

int cmd_help(int argc, char **argv, const cmd_t *cmd)
{
    help_opts_t o = {0};
    opt_args_t args;
    const cmd_t *c;
    int rc = opt_parse(cmd, argc, argv, &o, &args);

    if (rc != OPT_GO_ON)
        return rc;
    if (args.n == 0) {
        free(args.v);
        if (o.options)
            return cmd_usage_error(cmd, "--options needs a command");
        overview();
        return CG_EXIT_OK;
    }
    c = cmd_lookup(args.v[0]);
    if (c == NULL || args.n > 1) {
        rc = c ? cmd_usage_error(cmd, "unexpected argument '%s'", args.v[1])
               : cmd_usage_error(cmd, "no help for '%s': not a cgops command", args.v[0]);
        free(args.v);
        return rc;
    }
    free(args.v);
    if (o.options) {
        opt_print_names(stdout, c->opts);
        return CG_EXIT_OK;
    }
    return cmd_help_command(c);
}

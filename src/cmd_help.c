/* cmd_help.c -- `cgops --help` and `cgops help COMMAND`
 *
 * Both are generated from commands[] and one table of options per group,
 * so the command list cannot drift from what the dispatcher accepts.
 */
#include "cgops/cmd.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *flags;
    const char *text;
} opt_help_t;

static const opt_help_t list_opts[] = {
    {"--json", "print a JSON document (protocol/schemas/list.schema.json, tree.schema.json)"},
    {"-v, --verbose", "say on stderr why a process was skipped or not marked"},
    {NULL, NULL},
};

static const opt_help_t agent_opts[] = {
    {"--json", "print one JSON document (protocol/schemas/agent-*.schema.json)"},
    {"--all", "every local process with a verified agent"},
    {"--timeout DURATION", "bound connect, silence and the whole exchange (10s, 500ms, 2.5)"},
    {"-v, --verbose", "say why a port could not be verified"},
    {"--", "end of options: every word after it is a target"},
    {NULL, NULL},
};

static const opt_help_t profile_opts[] = {
    {"-o, --output FILE", "save the reply to FILE (replaced only once whole), not a temp file"},
    {"--binary FILE", "also save the target's executable to FILE"},
    {"--no-launch", "do not start 'go tool pprof' / 'go tool trace'"},
    {"--json", "print {path, size} instead of the gops messages"},
    {"--timeout DURATION", "bound connect, silence and the whole exchange"},
    {"-v, --verbose", "say why a port could not be verified"},
    {NULL, NULL},
};

static const opt_help_t process_opts[] = {
    {"--json", "print a JSON document (protocol/schemas/process.schema.json)"},
    {NULL, NULL},
};

static const opt_help_t *options_of(const cmd_t *c)
{
    if (c->agent_byte == 0x05 || c->agent_byte == 0x06 || c->agent_byte == 0x08)
        return profile_opts;
    if (c->agent_byte)
        return agent_opts;
    if (strcmp(c->name, "process") == 0)
        return process_opts;
    if (strcmp(c->name, "list") == 0 || strcmp(c->name, "tree") == 0)
        return list_opts;
    return NULL;
}

static void print_opts(const opt_help_t *o)
{
    for (; o && o->flags; o++)
        printf("  %-20s %s\n", o->flags, o->text);
}

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

int cmd_help(int argc, char **argv, const cmd_t *cmd)
{
    const cmd_t *c;

    if (argc < 2) {
        overview();
        return CG_EXIT_OK;
    }
    c = cmd_lookup(argv[1]);
    if (c == NULL)
        return cmd_usage_error(cmd, "no help for '%s': not a cgops command", argv[1]);
    printf("usage: cgops %s [OPTIONS] %s\n\n%s.\n", c->name, c->args, c->summary);
    if (options_of(c)) {
        printf("\nOptions:\n");
        print_opts(options_of(c));
    }
    printf("  %-20s %s\n", "-h, --help", "show this help");
    return CG_EXIT_OK;
}

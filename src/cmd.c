/* cmd.c -- the command table and the dispatcher
 *
 * `cgops` alone lists Go processes, `cgops PID` describes one process, and
 * every other first word names a command in commands[].  The table only
 * wires the modules together; each cmd_* parses its own options with its
 * own table (opt.h).  This lives in the library, apart from main.c, so that
 * every command links, and can be tested, without main.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const cmd_t commands[] = {
    {"gc", cmd_agent, PROTO_GC, "TARGET...", "run a garbage collection and wait for it", cmd_agent_opts},
    {"goroutines", cmd_goroutines, 0, "PID", "print every goroutine of any Go process, read from its memory (no agent)", cmd_goroutines_opts},
    {"help", cmd_help, 0, "[COMMAND]", "show help for cgops or one command", cmd_help_opts},
    {"list", cmd_list, 0, "", "list Go processes (the default)", cmd_list_opts},
    {"mcp", cmd_mcp, 0, "", "serve the inspection commands as Model Context Protocol tools on stdio", cmd_mcp_opts},
    {"memstats", cmd_agent, PROTO_MEMSTATS, "TARGET...", "print the runtime's memory statistics", cmd_memstats_opts},
    {"pprof-allocs", cmd_profile, PROTO_ALLOCS, "URL", "save the allocations profile (net/http/pprof targets)", cmd_profile_opts},
    {"pprof-block", cmd_profile, PROTO_BLOCK, "URL", "save the blocking profile (net/http/pprof targets)", cmd_profile_opts},
    {"metrics", cmd_metrics, 0, "", "print the Prometheus metrics of every Go process of the host, once", cmd_metrics_opts},
    {"pprof-cpu", cmd_profile, PROTO_CPU, "TARGET", "record a 30 s CPU profile and save it", cmd_profile_opts},
    {"pprof-goroutine", cmd_profile, PROTO_GOROUTINE, "URL", "save the goroutine profile (net/http/pprof targets)", cmd_profile_opts},
    {"pprof-heap", cmd_profile, PROTO_HEAP, "TARGET", "save a heap profile", cmd_profile_opts},
    {"pprof-mutex", cmd_profile, PROTO_MUTEX, "URL", "save the mutex contention profile (net/http/pprof targets)", cmd_profile_opts},
    {"pprof-threadcreate", cmd_profile, PROTO_THREADCREATE, "URL", "save the thread creation profile (net/http/pprof targets)", cmd_profile_opts},
    {"process", cmd_process, 0, "PID [PERIOD]", "show details of one process", cmd_process_opts},
    {"profile", cmd_profile_file, 0, "SOURCE [KIND]", "print a pprof profile (a file, a URL, or TARGET KIND) as `go tool pprof -top` does (no Go needed)", cmd_profile_file_opts},
    {"serve", cmd_serve, 0, "", "serve the HTTP API and Prometheus /metrics of the host's Go processes", cmd_serve_opts},
    {"setgc", cmd_agent, PROTO_SETGC, "TARGET... N|off", "set the GC target percentage", cmd_agent_opts},
    {"stack", cmd_agent, PROTO_STACK, "TARGET...", "print the stack traces of all goroutines", cmd_stack_opts},
    {"stats", cmd_agent, PROTO_STATS, "TARGET...", "print goroutine, thread and CPU counts", cmd_agent_opts},
    {"summary", cmd_summary, 0, "PID", "a Go process at a glance: Ps, threads, goroutines by state and place (no agent)", cmd_summary_opts},
    {"top", cmd_top, 0, "PID", "live view of goroutine groups and the CPU each uses (no agent)", cmd_top_opts},
    {"trace", cmd_profile, PROTO_TRACE, "TARGET", "record a 5 s execution trace and save it", cmd_profile_opts},
    {"tree", cmd_tree, 0, "", "show Go processes as a tree of parents", cmd_list_opts},
    {"version", cmd_agent, PROTO_VERSION, "TARGET...", "print the Go version the target runs", cmd_agent_opts},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const cmd_t *cmd_lookup(const char *name)
{
    for (const cmd_t *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void vreport(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vreport(const char *fmt, va_list ap)
{
    char *msg = NULL;

    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    cmd_say(stderr, msg ? msg : "out of memory formatting a message");
    free(msg);
}

void cmd_say(FILE *f, const char *msg)
{
    /* Messages quote what others wrote (a target's config dir, a peer's
     * reply, a file name): never raw on the terminal, and one line. */
    char *safe = cg_text_safe(msg);

    fprintf(f, "cgops: %s\n", safe);
    free(safe);
}

int cmd_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    return -1;
}

int cmd_usage_error(const cmd_t *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    if (cmd && cmd->name)
        fprintf(stderr, "hint: see 'cgops help %s'\n", cmd->name);
    else
        fputs("hint: see 'cgops --help'\n", stderr);
    return CG_EXIT_USAGE;
}

void cmd_log(const char *msg, void *ctx)
{
    (void)ctx;
    cmd_say(stderr, msg);
}

void cmd_target_notes(const target_t *t, int verbose)
{
    if (!verbose || t->pid == 0)
        return;
    if (t->pf.fallback[0])
        cmd_say(stderr, t->pf.fallback);
    if (!t->pf.verified && t->pf.note[0])
        cmd_say(stderr, t->pf.note);
}

/* A word made of digits only is meant as a pid, whatever its value: the
 * process command then says whether such a process exists, so `cgops N`
 * and `cgops process N` answer alike. */
static int looks_like_pid(const char *s)
{
    return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

int cmd_main(int argc, char **argv)
{
    const cmd_t *cmd;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        return cmd_help(argc - 1, argv + 1, cmd_lookup("help"));
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("cgops %s\n", CGOPS_VERSION);
        return CG_EXIT_OK;
    }
    /* "cgops -- PID": the pid after the end of options. */
    if (argc >= 3 && strcmp(argv[1], "--") == 0 && looks_like_pid(argv[2]))
        return cmd_process(argc - 1, argv + 1, cmd_lookup("process"));
    /* Options before any command belong to the default listing. */
    if (argc < 2 || argv[1][0] == '-')
        return cmd_list(argc, argv, cmd_lookup("list"));
    if (looks_like_pid(argv[1]))
        return cmd_process(argc, argv, cmd_lookup("process"));
    cmd = cmd_lookup(argv[1]);
    if (cmd == NULL) {
        cmd_error("'%s' is not a cgops command", argv[1]);
        fputs("hint: see 'cgops --help' for the list of commands\n", stderr);
        return CG_EXIT_USAGE;
    }
    return cmd->fn(argc - 1, argv + 1, cmd);
}

int cmd_http_opts(const cmd_t *cmd, const opt_strings_t *headers, int insecure, const char *cacert,
                  http_opts_t *http)
{
    char err[CG_ERR_LEN];

    memset(http, 0, sizeof *http);
    for (size_t i = 0; i < headers->n; i++)
        if (http_opts_add_header(http, headers->v[i], err) < 0) {
            http_opts_free(http);
            return cmd_usage_error(cmd, "%s", err);
        }
    /* A CA file that cannot be read is said now, not as a TLS failure of
     * each target. */
    if (cacert && access(cacert, R_OK) != 0) {
        http_opts_free(http);
        return cmd_usage_error(cmd, "--cacert: %s: %s", cacert, strerror(errno));
    }
    http->insecure = insecure;
    http->cacert = cacert;
    return OPT_GO_ON;
}

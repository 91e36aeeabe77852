/* cmd.h -- the command table, the dispatcher and the cmd_* entry points
 *
 * Adding a command, the checklist:
 *   1. implement `int cmd_<name>(int argc, char **argv, const cmd_t *cmd)` in
 *      src/cmd_<name>.c with a static option table (opt.h) next to it;
 *   2. add a row to commands[] in src/cmd.c, pointing at that table;
 *   3. document it in man/cgops.1 (tests/cli/51 checks every command and
 *      every option of every table against it); help and completion come
 *      from the table;
 *   4. add tests (tests/cli/) and, for --json, a schema in protocol/schemas/.
 *
 * Exit status, the same for every command: CG_EXIT_OK (0) success,
 * CG_EXIT_FAIL (1) the target or the operation failed, CG_EXIT_USAGE (2) the
 * command line was wrong.  Commands print; nothing below them prints or
 * exits.
 */
#ifndef CGOPS_CMD_H
#define CGOPS_CMD_H

#include "cgops/opt.h"
#include "cgops/http.h"
#include "cgops/portfile.h"

#include <stdio.h>

#define CG_EXIT_OK 0
#define CG_EXIT_FAIL 1
#define CG_EXIT_USAGE 2

typedef struct cmd_s cmd_t;
typedef int (*cmd_fn)(int argc, char **argv, const cmd_t *cmd);

struct cmd_s {
    const char *name;
    cmd_fn fn;
    int agent_byte;      /* PROTO_* command byte for agent commands, else 0 */
    const char *args;    /* argument synopsis for help, e.g. "TARGET..." */
    const char *summary; /* one line for `cgops --help` */
    const opt_t *opts;   /* the command's option table */
};

/* The table, in src/cmd.c, ended by a row with name == NULL. */
extern const cmd_t commands[];
const cmd_t *cmd_lookup(const char *name);

/* The whole command line: `cgops` alone or with options lists, a pid (or
 * "-- PID") describes one process, any other first word names a command.
 * Returns the exit status; main only adds the checks on stdout. */
int cmd_main(int argc, char **argv);

int cmd_list(int argc, char **argv, const cmd_t *cmd);
int cmd_tree(int argc, char **argv, const cmd_t *cmd);
int cmd_process(int argc, char **argv, const cmd_t *cmd);
int cmd_agent(int argc, char **argv, const cmd_t *cmd);
int cmd_profile(int argc, char **argv, const cmd_t *cmd);
int cmd_help(int argc, char **argv, const cmd_t *cmd);
int cmd_goroutines(int argc, char **argv, const cmd_t *cmd);
int cmd_summary(int argc, char **argv, const cmd_t *cmd);
int cmd_top(int argc, char **argv, const cmd_t *cmd);
int cmd_profile_file(int argc, char **argv, const cmd_t *cmd);
int cmd_serve(int argc, char **argv, const cmd_t *cmd);
int cmd_metrics(int argc, char **argv, const cmd_t *cmd);
int cmd_mcp(int argc, char **argv, const cmd_t *cmd);

/* The option tables, defined next to their commands. */
extern const opt_t cmd_list_opts[];
extern const opt_t cmd_process_opts[];
extern const opt_t cmd_agent_opts[];
extern const opt_t cmd_profile_opts[];
extern const opt_t cmd_help_opts[];
extern const opt_t cmd_stack_opts[];
extern const opt_t cmd_memstats_opts[];
extern const opt_t cmd_goroutines_opts[];
extern const opt_t cmd_summary_opts[];
extern const opt_t cmd_top_opts[];
extern const opt_t cmd_profile_file_opts[];
extern const opt_t cmd_serve_opts[];
extern const opt_t cmd_metrics_opts[];
extern const opt_t cmd_mcp_opts[];

/* Under -v, say on stderr what resolving a pid target passed over: why the
 * caller's config dir was not used, why the port could not be verified. */
void cmd_target_notes(const target_t *t, int verbose);

/* The option-table entries of -H, --insecure and --cacert (for
 * cmd_http_opts) in a command whose TYPE has the fields headers, insecure
 * and cacert; WHAT ("HTTP targets") begins each help line. */
#define CMD_HTTP_OPTS_(type, what)                                                                      \
    OPT_STRINGS_('H', "header", "HEADER", type, headers,                                             \
                 what ": send 'Name: value' (or @FILE: one per line, kept out of ps); repeatable"),   \
        OPT_BOOL_(0, "insecure", type, insecure, what ": do not check the TLS certificate"),          \
        OPT_STRING_(0, "cacert", "FILE", type, cacert, what ": trust the CA certificates (PEM) in FILE")

/* -H, --insecure and --cacert of any command that takes HTTP targets into
 * http (zeroed first; http_opts_free it).  Returns OPT_GO_ON, or the exit
 * status after a usage error (http then freed). */
int cmd_http_opts(const cmd_t *cmd, const opt_strings_t *headers, int insecure, const char *cacert,
                  http_opts_t *http);

/* The profile commands (cmd_profile.c) share these with `cgops profile`:
 * -H/--insecure/--seconds into http and seconds (OPT_GO_ON, or the exit
 * status after a usage error), and one fetch of command's reply from the
 * target arg into a new file in $TMPDIR (path), kept only once whole.
 * profile_fetch returns 0 or -errno with err set. */
int profile_fetch_opts(const cmd_t *cmd, const opt_strings_t *headers, int insecure, const char *cacert,
                       const char *seconds_arg, http_opts_t *http, unsigned *seconds);
int profile_fetch(const char *arg, int command, const http_opts_t *http, unsigned seconds, uint64_t timeout_ns,
                  int verbose, char *path, size_t pathsize, char *err);

/* Print `cgops help NAME` for cmd on stdout; returns CG_EXIT_OK. */
int cmd_help_command(const cmd_t *cmd);

/* Print "cgops: msg" and a newline on f, msg made safe for a terminal
 * (cg_text_safe): what every message and -v note goes through. */
void cmd_say(FILE *f, const char *msg);

/* cmd_say on stderr in the shape of scan_log_fn, for the -v notes of a
 * listing (ctx unused). */
void cmd_log(const char *msg, void *ctx);

/* Print "cgops: msg" on stderr.  Returns -1 so `return cmd_error(...)` reads
 * naturally in helpers that return a status. */
int cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the one-line error for a bad command line plus a hint pointing at
 * `cgops help NAME`, and return CG_EXIT_USAGE. */
int cmd_usage_error(const cmd_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Version string of cgops itself. */
#define CGOPS_VERSION "0.1.0"

#endif

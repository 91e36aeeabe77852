/* cmd.h -- the command table and the cmd_* entry points
 *
 * Adding a command, the checklist:
 *   1. implement `int cmd_<name>(int argc, char **argv, const cmd_t *cmd)` in
 *      src/cmd_<name>.c (or reuse one, as the agent commands share cmd_agent);
 *      it parses its own options (getopt_long) with its usage next to it;
 *   2. add a row to commands[] in src/main.c;
 *   3. document it in man/cgops.1, in `cgops --help`/`cgops help NAME`
 *      (src/cmd_help.c) and in completions/cgops.bash;
 *   4. add tests (tests/cli/) and, for --json, a schema in protocol/schemas/.
 *
 * Exit status, the same for every command: CG_EXIT_OK (0) success,
 * CG_EXIT_FAIL (1) the target or the operation failed, CG_EXIT_USAGE (2) the
 * command line was wrong.
 */
#ifndef CGOPS_CMD_H
#define CGOPS_CMD_H

#define CG_EXIT_OK 0
#define CG_EXIT_FAIL 1
#define CG_EXIT_USAGE 2

typedef struct cmd_s cmd_t;
typedef int (*cmd_fn)(int argc, char **argv, const cmd_t *cmd);

struct cmd_s {
    const char *name;
    cmd_fn fn;
    int agent_byte;      /* gops command byte for agent commands, else 0 */
    const char *args;    /* argument synopsis for help, e.g. "TARGET..." */
    const char *summary; /* one line for `cgops --help` */
};

/* The table, in src/main.c, ended by a row with name == NULL. */
extern const cmd_t commands[];
const cmd_t *cmd_lookup(const char *name);

int cmd_list(int argc, char **argv, const cmd_t *cmd);
int cmd_tree(int argc, char **argv, const cmd_t *cmd);
int cmd_process(int argc, char **argv, const cmd_t *cmd);
int cmd_agent(int argc, char **argv, const cmd_t *cmd);
int cmd_help(int argc, char **argv, const cmd_t *cmd);

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

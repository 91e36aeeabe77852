/* opt.h -- one option table per command: parsing, help and completion
 *
 * Each command keeps a static table of its options (git's parse-options
 * idea).  The same table parses argv, prints `cgops help NAME`, lists the
 * options for the bash completion (`cgops help --options NAME`) and is what
 * the manual is checked against, so an option and its help cannot drift.
 * Values land in the command's own options struct, at the offset each row
 * names, so the table itself is constant and shared.
 */
#ifndef CGOPS_OPT_H
#define CGOPS_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    OPT_END = 0,
    OPT_BOOL,      /* int, set to 1 */
    OPT_STRING,    /* const char *, never empty */
    OPT_DURATION,  /* uint64_t nanoseconds, > 0: "500ms", "1m30s" or plain seconds "2.5" */
    OPT_SEPARATOR, /* "--": documented only, handled by the parser */
    OPT_STRINGS,   /* opt_strings_t: every value of a repeated option, in order */
} opt_kind_t;

/* The values of an OPT_STRINGS option (pointers into argv; free v). */
typedef struct {
    const char **v;
    size_t n;
} opt_strings_t;

typedef struct {
    opt_kind_t kind;
    char short_name;       /* 0 for none */
    const char *long_name; /* without the dashes */
    const char *argh;      /* the value's name in help ("FILE"), value kinds only */
    size_t offset;         /* of the value in the command's options struct */
    const char *help;
} opt_t;

#define OPT_BOOL_(s, l, type, field, h) {OPT_BOOL, s, l, NULL, offsetof(type, field), h}
#define OPT_STRING_(s, l, argh, type, field, h) {OPT_STRING, s, l, argh, offsetof(type, field), h}
#define OPT_STRINGS_(s, l, argh, type, field, h) {OPT_STRINGS, s, l, argh, offsetof(type, field), h}
#define OPT_DURATION_(s, l, type, field, h) {OPT_DURATION, s, l, "DURATION", offsetof(type, field), h}
#define OPT_SEPARATOR_() {OPT_SEPARATOR, 0, "", NULL, 0, "end of options: every word after it is an argument"}
#define OPT_END_() {OPT_END, 0, NULL, NULL, 0, NULL}

/* What is left of argv once the options are out: the other words, in
 * order (pointers into argv; free v, not the words). */
typedef struct {
    char **v;
    size_t n;
} opt_args_t;

/* Outcome of opt_parse other than "go on". */
#define OPT_GO_ON (-1)

struct cmd_s;

/* Parse argv[1..argc-1] of cmd against cmd->opts into values.  Options may
 * come anywhere among the arguments ("--name=value", "--name value",
 * "-o value", "-ovalue", bundled flags "-jv"); "--" ends them; a word that
 * is a negative integer ("-5", setgc's value) is an argument, as no option
 * is a digit.  "-h"/"--help" prints the command's help.  Returns OPT_GO_ON
 * with args filled (free args->v), or the exit status the command must
 * return at once: CG_EXIT_OK after --help, CG_EXIT_USAGE after a usage
 * error, which has been printed. */
int opt_parse(const struct cmd_s *cmd, int argc, char **argv, void *values, opt_args_t *args);

/* The help lines of a table: "  -o, --output FILE      text". */
void opt_print_help(FILE *f, const opt_t *opts);

/* The long options of a table, one per line ("--output"), for completion. */
void opt_print_names(FILE *f, const opt_t *opts);

/* A duration on the command line, as OPT_DURATION takes it; also a
 * command's positional PERIOD.  Returns 0 or -EINVAL. */
int opt_parse_duration(const char *s, uint64_t *ns);

#endif

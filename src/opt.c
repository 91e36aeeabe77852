/* opt.c -- one option table per command: parsing, help and completion
 *
 * A small parse-options in git's manner, so that what a command accepts,
 * what its help says and what the completion offers come from one table.
 */
#include "cgops/opt.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/procinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int opt_parse_duration(const char *s, uint64_t *ns)
{
    long long v;

    /* One rule for --timeout and PERIOD: a Go duration or plain decimal
     * seconds, never strtod's exponents, hex or "inf". */
    if (procinfo_parse_period(s, &v) != 0 || v <= 0)
        return -EINVAL;
    *ns = (uint64_t)v;
    return 0;
}

static int is_negative_integer(const char *s)
{
    return s[0] == '-' && s[1] != '\0' && strspn(s + 1, "0123456789") == strlen(s + 1);
}

static const opt_t *find_long(const opt_t *opts, const char *name, size_t len)
{
    for (const opt_t *o = opts; o && o->kind != OPT_END; o++)
        if (o->kind != OPT_SEPARATOR && strlen(o->long_name) == len &&
            strncmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const opt_t *find_short(const opt_t *opts, char c)
{
    for (const opt_t *o = opts; o && o->kind != OPT_END; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

/* Store value (NULL for a flag) for o.  Returns 0 or CG_EXIT_USAGE after
 * printing why.  spelled is the option as the user wrote it. */
static int set_value(const cmd_t *cmd, const opt_t *o, const char *spelled, const char *value,
                     void *values)
{
    char *field = (char *)values + o->offset;

    switch (o->kind) {
    case OPT_BOOL:
        *(int *)field = 1;
        return 0;
    case OPT_STRING:
        if (value[0] == '\0')
            return cmd_usage_error(cmd, "option '%s' needs a non-empty value", spelled);
        *(const char **)field = value;
        return 0;
    case OPT_STRINGS: {
        opt_strings_t *l = (opt_strings_t *)(void *)field;

        if (value[0] == '\0')
            return cmd_usage_error(cmd, "option '%s' needs a non-empty value", spelled);
        l->v = cg_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
        l->v[l->n++] = value;
        return 0;
    }
    case OPT_DURATION:
        if (opt_parse_duration(value, (uint64_t *)(void *)field) < 0)
            return cmd_usage_error(cmd, "invalid %s '%s': want a duration such as 10s, 500ms or 2.5",
                                   spelled, value);
        return 0;
    default:
        return cmd_usage_error(cmd, "option '%s' is not usable here", spelled);
    }
}

/* Take option o, spelled as the user wrote it: a flag, or a value given
 * inline ("--output=F", "-oF": inline not NULL) or as the next word (then
 * *i moves past it).  Returns 0 or CG_EXIT_USAGE after saying why. */
static int take(const cmd_t *cmd, const opt_t *o, const char *spelled, const char *inline_value,
                int argc, char **argv, int *i, void *values)
{
    if (o->kind == OPT_BOOL)
        return inline_value ? cmd_usage_error(cmd, "option '%s' takes no value", spelled)
                            : set_value(cmd, o, spelled, NULL, values);
    if (inline_value)
        return set_value(cmd, o, spelled, inline_value, values);
    if (*i + 1 < argc)
        return set_value(cmd, o, spelled, argv[++*i], values);
    return cmd_usage_error(cmd, "option '%s' needs a value", spelled);
}

int opt_parse(const cmd_t *cmd, int argc, char **argv, void *values, opt_args_t *args)
{
    int dashdash = 0, rc;

    args->v = cg_xcalloc((size_t)(argc > 0 ? argc : 1), sizeof *args->v);
    args->n = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];

        if (dashdash || a[0] != '-' || a[1] == '\0' || is_negative_integer(a)) {
            args->v[args->n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            dashdash = 1;
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const opt_t *o = find_long(cmd->opts, name, len);
            char spelled[64];

            snprintf(spelled, sizeof spelled, "--%.*s", (int)(len < 40 ? len : 40), name);
            if (o == NULL && len == 4 && strncmp(name, "help", 4) == 0) {
                free(args->v);
                return cmd_help_command(cmd);
            }
            if (o == NULL) {
                rc = cmd_usage_error(cmd, "unknown option '%s'", spelled);
                goto fail;
            }
            rc = take(cmd, o, spelled, eq ? eq + 1 : NULL, argc, argv, &i, values);
            if (rc)
                goto fail;
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            const opt_t *o = find_short(cmd->opts, *p);
            char spelled[3] = {'-', *p, '\0'};

            if (o == NULL && *p == 'h') {
                free(args->v);
                return cmd_help_command(cmd);
            }
            if (o == NULL) {
                rc = cmd_usage_error(cmd, "unknown option '%s'", spelled);
                goto fail;
            }
            /* A value option takes the rest of the word ("-oFILE"). */
            rc = take(cmd, o, spelled, o->kind != OPT_BOOL && p[1] ? p + 1 : NULL, argc, argv, &i, values);
            if (rc)
                goto fail;
            if (o->kind != OPT_BOOL)
                break;
        }
    }
    return OPT_GO_ON;
fail:
    free(args->v);
    args->v = NULL;
    args->n = 0;
    return rc;
}

void opt_print_help(FILE *f, const opt_t *opts)
{
    for (const opt_t *o = opts; o && o->kind != OPT_END; o++) {
        char flags[64];

        if (o->kind == OPT_SEPARATOR)
            snprintf(flags, sizeof flags, "--");
        else
            snprintf(flags, sizeof flags, "%s%c%s--%s%s%s", o->short_name ? "-" : "",
                     o->short_name ? o->short_name : ' ', o->short_name ? ", " : "", o->long_name,
                     o->argh ? " " : "", o->argh ? o->argh : "");
        /* A table without a short name gets no stray blank. */
        fprintf(f, "  %-22s %s\n", o->short_name || o->kind == OPT_SEPARATOR ? flags : flags + 1,
                o->help);
    }
    fprintf(f, "  %-22s %s\n", "-h, --help", "show this help");
}

void opt_print_names(FILE *f, const opt_t *opts)
{
    for (const opt_t *o = opts; o && o->kind != OPT_END; o++)
        if (o->kind != OPT_SEPARATOR)
            fprintf(f, "--%s\n", o->long_name);
    fputs("--help\n", f);
}

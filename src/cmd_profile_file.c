/* cmd_profile_file.c -- `cgops profile FILE`: read a pprof profile without Go
 *
 * The default output is the table `go tool pprof -top` prints, byte for
 * byte (profile_report.c); --folded gives collapsed stacks for flame graph
 * tools, --json the functions' flat and cum with the profile's metadata.
 * (cmd_profile.c is the other profile command: it fetches from an agent.)
 */
#include "cgops/cmd.h"
#include "cgops/flame.h"
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/outfile.h"
#include "cgops/profile.h"
#include "cgops/profile_report.h"
#include "cgops/proto.h"
#include "cgops/request.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *top;
    int cum;
    const char *sample_index;
    const char *base;
    int folded;
    const char *svg;
    int json;
    const char *focus;
    const char *ignore;
    const char *seconds;
    opt_strings_t headers;
    int insecure;
    const char *cacert;
    uint64_t timeout_ns;
} profile_file_opts_t;

const opt_t cmd_profile_file_opts[] = {
    OPT_STRING_(0, "top", "N", profile_file_opts_t, top,
                "keep the N heaviest functions (pprof -top -nodecount=N); default all"),
    OPT_BOOL_(0, "cum", profile_file_opts_t, cum, "sort by cumulative value (pprof -cum)"),
    OPT_STRING_(0, "sample-index", "NAME", profile_file_opts_t, sample_index,
                "the value to report: inuse_space, alloc_objects, delay, ... or its number"),
    OPT_STRING_(0, "base", "FILE", profile_file_opts_t, base, "subtract this profile first (pprof -base)"),
    OPT_BOOL_(0, "folded", profile_file_opts_t, folded, "print collapsed stacks: root;...;leaf VALUE"),
    OPT_STRING_(0, "svg", "FILE", profile_file_opts_t, svg,
                "write a self-contained flame graph (searchable, tooltips) to FILE ('-': standard output)"),
    OPT_BOOL_('j', "json", profile_file_opts_t, json, "print the functions' flat and cum, and the metadata, as JSON (schema: protocol/schemas/profile.schema.json)"),
    OPT_STRING_(0, "focus", "REGEX", profile_file_opts_t, focus,
                "only stacks with a function (or file) matching REGEX (pprof -focus)"),
    OPT_STRING_(0, "ignore", "REGEX", profile_file_opts_t, ignore,
                "drop stacks with a function (or file) matching REGEX (pprof -ignore)"),
    OPT_STRING_(0, "seconds", "N", profile_file_opts_t, seconds,
                "a CPU profile fetched from an HTTP target records N seconds (default 30)"),
    CMD_HTTP_OPTS_(profile_file_opts_t, "HTTP sources"),
    OPT_DURATION_(0, "timeout", profile_file_opts_t, timeout_ns, "bound a fetch: connect, silence and the whole exchange"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

typedef struct {
    FILE *out;
    int error;
} folded_ctx_t;

static void print_folded(void *ctx, const char *const *frames, size_t n, int64_t value)
{
    folded_ctx_t *c = ctx;

    for (size_t i = 0; i < n; i++) {
        /* ';' separates frames and ' ' ends the stack: keep both out of names. */
        for (const char *s = frames[i]; *s; s++)
            fputc(*s == ';' ? ':' : *s == '\n' ? ' ' : *s, c->out);
        if (i + 1 < n)
            fputc(';', c->out);
    }
    if (n == 0)
        fputs("<unknown>", c->out);
    fprintf(c->out, " %lld\n", (long long)value);
}

/* An exact integer: cJSON's numbers are doubles, which round past 2^53. */
static void add_int(cJSON *o, const char *key, int64_t v)
{
    char digits[32];

    snprintf(digits, sizeof digits, "%lld", (long long)v);
    cJSON_AddRawToObject(o, key, digits);
}

static int print_json(const profile_t *p, const profile_top_t *t)
{
    cJSON *root = cJSON_CreateObject(), *types, *fns, *comments;
    char *text;

    if (root == NULL)
        return -ENOMEM;
    cJSON_AddStringToObject(root, "file", p->nmappings ? p->mappings[0].file : "");
    cJSON_AddStringToObject(root, "sample_type", p->types[t->sample_index].type);
    cJSON_AddStringToObject(root, "unit", p->types[t->sample_index].unit);
    add_int(root, "total", (int64_t)t->total);
    add_int(root, "time_nanos", (int64_t)p->time_nanos);
    add_int(root, "duration_nanos", (int64_t)p->duration_nanos);
    add_int(root, "period", (int64_t)p->period);
    cJSON_AddStringToObject(root, "period_type", p->period_type.type);
    cJSON_AddStringToObject(root, "period_unit", p->period_type.unit);
    add_int(root, "samples", (int64_t)p->nsamples);
    types = cJSON_AddArrayToObject(root, "sample_types");
    for (size_t i = 0; types && i < p->ntypes; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", p->types[i].type);
        cJSON_AddStringToObject(o, "unit", p->types[i].unit);
        cJSON_AddItemToArray(types, o);
    }
    comments = cJSON_AddArrayToObject(root, "comments");
    for (size_t i = 0; comments && i < p->ncomments; i++)
        cJSON_AddItemToArray(comments, cJSON_CreateString(p->comments[i]));
    add_int(root, "dropped_functions", (int64_t)t->dropped_nodes);
    fns = cJSON_AddArrayToObject(root, "functions");
    for (size_t i = 0; fns && i < t->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->rows[i].name);
        add_int(o, "flat", (int64_t)t->rows[i].flat);
        add_int(o, "cum", (int64_t)t->rows[i].cum);
        cJSON_AddBoolToObject(o, "inline", t->rows[i].inline_label[0] != '\0');
        cJSON_AddItemToArray(fns, o);
    }
    text = out_json_print(root, 0);
    cJSON_Delete(root);
    if (text == NULL)
        return -ENOMEM;
    puts(text);
    free(text);
    return 0;
}

/* Each stack of the profile into the flame graph's tree. */
typedef struct {
    flame_t *f;
    int rc;
} flame_ctx_t;

static void add_flame(void *ctx, const char *const *frames, size_t n, int64_t value)
{
    flame_ctx_t *c = ctx;

    if (c->rc == 0 && value > 0)
        c->rc = flame_add(c->f, frames, n, value);
}

/* --svg: the selected stacks as a flame graph.  The SVG is made in memory
 * (frames under 0.1% are not drawn, so it stays small) and then saved by
 * outfile's rules: an existing FILE is replaced only once it is whole, a
 * planted symlink is refused. */
static int write_svg(const profile_t *p, int si, const unsigned char *keep, const char *path)
{
    flame_ctx_t fc = {flame_new(), 0};
    const char *unit = p->types[si].unit && p->types[si].unit[0] ? p->types[si].unit : "samples";
    const char *title = p->types[si].type && p->types[si].type[0] ? p->types[si].type : "profile";
    char *svg = NULL, err[CG_ERR_LEN] = "";
    size_t len = 0;
    FILE *mem;
    outfile_t of = OUTFILE_INIT;
    int rc;

    rc = profile_folded_selected(p, si, keep, add_flame, &fc);
    if (rc == 0)
        rc = fc.rc;
    if (rc != 0) {
        flame_free(fc.f);
        return cmd_error("--svg: %s", rc == -E2BIG ? "the profile has too many frames for a flame graph"
                                                  : strerror(-rc));
    }
    mem = open_memstream(&svg, &len);
    rc = mem ? flame_write_svg(fc.f, mem, title, unit) : -ENOMEM;
    if (mem && fclose(mem) != 0 && rc == 0)
        rc = -ENOMEM;
    flame_free(fc.f);
    if (rc != 0) {
        free(svg);
        return cmd_error("--svg: %s", strerror(-rc));
    }
    if (strcmp(path, "-") == 0) {
        rc = fwrite(svg, 1, len, stdout) == len ? 0 : cmd_error("write error on standard output");
    } else if ((rc = outfile_open(&of, path, NULL, err)) != 0 || (rc = outfile_write_all(&of, svg, len, err)) != 0 ||
               (rc = outfile_commit(&of, err)) != 0) {
        outfile_abandon(&of);
        rc = cmd_error("--svg: %s", err[0] ? err : strerror(-rc));
    }
    free(svg);
    return rc;
}

/* A profile kind as `cgops profile TARGET KIND` and pprof's endpoints
 * name it. */
static int kind_command(const char *kind, size_t len)
{
    static const struct {
        const char *name;
        int command;
    } kinds[] = {
        {"heap", PROTO_HEAP}, {"cpu", PROTO_CPU}, {"profile", PROTO_CPU}, {"allocs", PROTO_ALLOCS},
        {"block", PROTO_BLOCK}, {"mutex", PROTO_MUTEX}, {"goroutine", PROTO_GOROUTINE},
        {"threadcreate", PROTO_THREADCREATE},
    };

    for (size_t i = 0; i < CG_ARRAY_SIZE(kinds); i++)
        if (strlen(kinds[i].name) == len && memcmp(kinds[i].name, kind, len) == 0)
            return kinds[i].command;
    return 0;
}

typedef struct {
    const http_opts_t *http;
    unsigned seconds;
    uint64_t timeout_ns;
} fetch_cfg_t;

/* Read the profile at src: a file; "TARGET" with kind (a pid, host:port
 * or base URL and "heap", "cpu", ...); or the URL of a pprof endpoint
 * (".../debug/pprof/heap", "...profile?seconds=5").  A fetched profile
 * goes to a temp file that is removed once read. */
static int load_source(const char *src, const char *kind, const fetch_cfg_t *cfg, profile_t **p, char *err)
{
    char base[2048], path[PATH_MAX], why[CG_ERR_LEN] = "";
    const char *orig = src;
    unsigned seconds = cfg->seconds;
    int command, rc, fd;

    if (kind == NULL && !http_is_url(src)) {
        if (cfg->seconds) {
            cg_seterr(err, "--seconds is for a CPU profile fetched from a target, not the file %.200s", src);
            return -EINVAL;
        }
        return profile_read_file(src, NULL, p, err);
    }
    if (kind == NULL) {
        const char *at = strstr(src, "/debug/pprof/"), *name, *q;
        size_t len;

        if (at == NULL) {
            cg_seterr(err, "%.200s: name the endpoint (.../debug/pprof/heap) or give a kind: cgops profile URL heap",
                      src);
            return -EINVAL;
        }
        name = at + strlen("/debug/pprof/");
        q = strchr(name, '?');
        len = q ? (size_t)(q - name) : strlen(name);
        command = kind_command(name, len);
        if (q && strncmp(q, "?seconds=", 9) == 0 && command == PROTO_CPU) {
            long long n;

            if (cg_parse_ll(q + 9, 1, 3600, &n) != 0) {
                cg_seterr(err, "%.200s: seconds must be from 1 to 3600", src);
                return -EINVAL;
            }
            seconds = (unsigned)n;
        } else if (q) {
            cg_seterr(err, "%.200s: of the query only ?seconds=N (for profile) is understood", src);
            return -EINVAL;
        }
        if ((size_t)(at - src) >= sizeof base) {
            cg_seterr(err, "the URL is too long");
            return -ENAMETOOLONG;
        }
        memcpy(base, src, (size_t)(at - src));
        base[at - src] = '\0';
        src = base;
        kind = name;
        if (command == 0) {
            cg_seterr(err, "%.200s: not a profile endpoint (heap, profile, allocs, block, mutex, goroutine, threadcreate)",
                      kind);
            return -EINVAL;
        }
    } else if ((command = kind_command(kind, strlen(kind))) == 0) {
        cg_seterr(err, "unknown profile kind '%.60s': heap, cpu, allocs, block, mutex, goroutine or threadcreate", kind);
        return -EINVAL;
    }
    if (cfg->seconds && command != PROTO_CPU) {
        /* pprof-heap refuses it too: a heap profile has no length. */
        cg_seterr(err, "--seconds is for a CPU profile, not %.40s", kind);
        return -EINVAL;
    }
    if (command == PROTO_CPU)
        fprintf(stderr, "Profiling CPU now, will take %u secs...\n", seconds ? seconds : 30);
    rc = profile_fetch(src, command, cfg->http, seconds, cfg->timeout_ns, 0, path, sizeof path, why);
    if (rc < 0) {
        cg_strlcpy(err, why, CG_ERR_LEN);
        return rc;
    }
    /* Removed before it is read: a signal while a large profile decodes
     * leaves nothing behind.  Read from its descriptor (no /proc needed). */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path);
    if (fd < 0) {
        cg_seterr(err, "%.200s: cannot read the fetched profile: %s", orig, strerror(errno));
        return -EIO;
    }
    {
        char *data = NULL;
        size_t len = 0;
        int truncated = 0;

        rc = cg_read_fd(fd, PROFILE_MAX_FILE, &data, &len, &truncated);
        close(fd);
        if (rc == 0 && truncated) {
            free(data);
            snprintf(why, sizeof why, "larger than %zu bytes: refused", PROFILE_MAX_FILE);
            rc = -EFBIG;
        } else if (rc == 0) {
            rc = profile_decode(data, len, NULL, p, why);
            free(data);
        } else {
            snprintf(why, sizeof why, "cannot read the fetched profile: %s", strerror(-rc));
        }
    }
    /* The temp file is gone: name what was fetched instead. */
    if (rc != 0)
        cg_seterr(err, "%.200s%s%.40s: %.250s", orig, kind && orig == src ? " " : "", kind && orig == src ? kind : "",
                  why);
    return rc;
}

/* The options that exclude each other or need a value checked. */
static int usage_checks(const cmd_t *cmd, const profile_file_opts_t *opts, profile_report_opts_t *ro)
{
    profile_file_opts_t o = *opts;

    if (o.top) {
        char *end;
        long n;

        errno = 0;
        n = strtol(o.top, &end, 10);
        if (*end || errno || n <= 0 || n > INT_MAX)
            return cmd_usage_error(cmd, "--top: '%s' is not a positive number", o.top);
        ro->node_count = (int)n;
    }
    if (o.folded + o.json + (o.svg != NULL) > 1)
        return cmd_usage_error(cmd, "--folded, --json and --svg are different outputs: choose one");
    if (o.svg && (o.top || o.cum || o.base))
        return cmd_usage_error(cmd, "--svg draws every stack: --top, --cum and --base do not apply");
    if (o.folded && (o.top || o.cum || o.base))
        return cmd_usage_error(cmd, "--folded prints every stack: --top, --cum and --base do not apply");
    return OPT_GO_ON;
}

int cmd_profile_file(int argc, char **argv, const cmd_t *cmd)
{
    profile_file_opts_t o = {0};
    opt_args_t args = {0};
    profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
    profile_t *p = NULL, *base = NULL;
    profile_top_t t;
    char err[CG_ERR_LEN] = "";
    const char *path, *kind;
    http_opts_t http;
    fetch_cfg_t cfg;
    int rc, status = CG_EXIT_FAIL;

    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON) {
        free(o.headers.v);
        return rc;
    }
    rc = profile_fetch_opts(cmd, &o.headers, o.insecure, o.cacert, o.seconds, &http, &cfg.seconds);
    free(o.headers.v);
    if (rc != OPT_GO_ON) {
        free(args.v);
        return rc;
    }
    cfg.http = &http;
    cfg.timeout_ns = o.timeout_ns;
    if (args.n != 1 && args.n != 2) {
        free(args.v);
        http_opts_free(&http);
        return cmd_usage_error(cmd, args.n ? "one profile at a time: FILE, URL, or TARGET KIND"
                                           : "which profile? FILE, URL, or TARGET KIND");
    }
    path = args.v[0];
    kind = args.n == 2 ? args.v[1] : NULL;
    free(args.v);
    rc = usage_checks(cmd, &o, &ro);
    if (rc != OPT_GO_ON) {
        http_opts_free(&http);
        return rc;
    }
    if (load_source(path, kind, &cfg, &p, err) != 0) {
        cmd_error("%s", err);
        http_opts_free(&http);
        return CG_EXIT_FAIL;
    }
    if (o.base && load_source(o.base, NULL, &cfg, &base, err) != 0) {
        cmd_error("%s", err);
        goto out;
    }
    ro.sample_index = o.sample_index;
    ro.cum_sort = o.cum;
    ro.focus = o.focus;
    ro.ignore = o.ignore;
    ro.base = base;
    if (o.svg) {
        unsigned char *keep = NULL;
        int si;

        if (profile_sample_index(p, o.sample_index, &si, err) != 0 ||
            ((o.focus || o.ignore) && profile_select(p, o.focus, o.ignore, &keep, err) != 0)) {
            cmd_error("%s", err);
            goto out;
        }
        rc = write_svg(p, si, keep, o.svg);
        free(keep);
        status = rc == 0 ? CG_EXIT_OK : CG_EXIT_FAIL;
        goto out;
    }
    if (o.folded) {
        folded_ctx_t fc = {stdout, 0};
        int si;

        if (profile_sample_index(p, o.sample_index, &si, err) != 0) {
            cmd_error("%s", err);
            goto out;
        }
        unsigned char *keep = NULL;
        if ((o.focus || o.ignore) && profile_select(p, o.focus, o.ignore, &keep, err) != 0) {
            cmd_error("%s", err);
            goto out;
        }
        rc = profile_folded_selected(p, si, keep, print_folded, &fc);
        free(keep);
        if (rc != 0) {
            cmd_error("out of memory");
            goto out;
        }
        status = CG_EXIT_OK;
        goto out;
    }
    if (profile_top(p, &ro, &t, err) != 0) {
        cmd_error("%s", err);
        goto out;
    }
    if (o.json)
        rc = print_json(p, &t);
    else
        rc = profile_top_print(stdout, &t, 0);
    profile_top_free(&t);
    if (rc != 0) {
        cmd_error("cannot print the report: %s", strerror(-rc));
        goto out;
    }
    status = CG_EXIT_OK;
out:
    profile_free(p);
    profile_free(base);
    http_opts_free(&http);
    return status;
}

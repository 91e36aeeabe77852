/* cmd_profile.c -- pprof-heap, pprof-cpu, trace: a binary reply saved to a file
 *
 * One target; the reply is written to a file as it arrives (never held in
 * memory), must begin as its format does (gzip, Go trace header, ELF), and
 * is kept only once whole.  Like gops, the profile goes to a new file in
 * $TMPDIR unless -o names one, and `go tool pprof` is started on it when Go
 * is installed and stdout is a terminal.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/loop.h"
#include "cgops/out_json.h"
#include "cgops/outfile.h"
#include "cgops/profile.h"
#include "cgops/profile_report.h"
#include "cgops/portfile.h"
#include "cgops/proto.h"
#include "cgops/request.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest binary reply kept: profiles are a few MiB; the binary dump
 * is the target's executable. */
#define BINARY_REPLY_MAX (2ull << 30)

typedef struct {
    int json;
    int verbose;
    int no_launch;
    uint64_t timeout_ns;
    const char *outfile;
    const char *binfile;
    const char *seconds;
    opt_strings_t headers;
    int insecure;
    const char *cacert;
} profile_opts_t;

const opt_t cmd_profile_opts[] = {
    OPT_STRING_('o', "output", "FILE", profile_opts_t, outfile,
                "save the reply to FILE (replaced only once whole), not a temp file"),
    OPT_STRING_(0, "binary", "FILE", profile_opts_t, binfile, "also save the target's executable to FILE"),
    OPT_BOOL_(0, "no-launch", profile_opts_t, no_launch, "do not start 'go tool pprof' / 'go tool trace'"),
    OPT_BOOL_(0, "json", profile_opts_t, json, "print {path, size} instead of the gops messages"),
    OPT_DURATION_(0, "timeout", profile_opts_t, timeout_ns, "bound connect, silence and the whole exchange"),
    OPT_BOOL_('v', "verbose", profile_opts_t, verbose, "say why a port could not be verified"),
    OPT_STRING_(0, "seconds", "N", profile_opts_t, seconds,
                "HTTP targets: how long a CPU profile or trace records (default 30, 5)"),
    CMD_HTTP_OPTS_(profile_opts_t, "HTTP targets"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

/* One binary reply on its way to a file. */
typedef struct {
    request_t req;
    target_t target;
    outfile_t out;         /* where it goes (outfile.h: -o's rules) */
    unsigned char head[PROTO_HEAD_MAX];
    size_t headlen;
    int status;
    char err[CG_ERR_LEN];
} fetch_t;

/* Open where f's reply goes: path (-o, --binary) or, when NULL, a new file
 * in $TMPDIR named after tmpl.  Returns 0, or -1 with f->err set. */
static int output_open(fetch_t *f, const char *path, const char *tmpl)
{
    char why[CG_ERR_LEN] = "";
    int rc = outfile_open(&f->out, path, tmpl, why);

    if (rc < 0) {
        snprintf(f->err, sizeof f->err, "%s", why[0] ? why : strerror(-rc));
        return -1;
    }
    return 0;
}

static int on_data(request_t *r, const char *buf, size_t len, char *err)
{
    fetch_t *f = r->data;

    if (r->received > BINARY_REPLY_MAX) {
        cg_seterr(err, "%s reply larger than %llu GiB", r->what, BINARY_REPLY_MAX >> 30);
        return -EFBIG;
    }
    if (f->headlen < sizeof f->head) {
        size_t n = len < sizeof f->head - f->headlen ? len : sizeof f->head - f->headlen;
        const char *what;

        memcpy(f->head + f->headlen, buf, n);
        f->headlen += n;
        /* Judged as soon as the start is in, not after a peer streamed
         * gigabytes of something else into the file. */
        if (f->headlen == sizeof f->head && !proto_binary_head_ok(r->command, f->head, f->headlen, &what)) {
            cg_seterr(err, "the %s reply is not %s", r->what, what);
            return -EPROTO;
        }
    }
    return outfile_write_all(&f->out, buf, len, err);
}

static void on_done(request_t *r, int status)
{
    fetch_t *f = r->data;
    const char *what;

    uv_stop(request_loop(r)); /* a timed-out name lookup may still hold the loop */
    f->status = status;
    if (status != 0) {
        cg_strlcpy(f->err, r->err, sizeof f->err);
    } else if (r->received == 0) {
        snprintf(f->err, sizeof f->err, "%.100s: %s %s reply", f->target.display,
                 request_target_is_http(&f->target) ? "the server sent an empty body, not a"
                                                    : "the agent closed the connection without a",
                 r->what);
        f->status = -EPROTO;
    } else if (!proto_binary_head_ok(r->command, f->head, f->headlen, &what)) {
        snprintf(f->err, sizeof f->err, "%.100s: the %s reply is not %s", f->target.display, r->what,
                 what);
        f->status = -EPROTO;
    }
}

/* Fetch one binary reply into the output opened for f, and keep it only
 * if it is whole.  Returns 0 or -1 with f->err set. */
static int fetch_into(uv_loop_t *loop, fetch_t *f, int command, const char *what, uint64_t timeout_ns,
                      const http_opts_t *http, unsigned seconds)
{
    memset(&f->req, 0, sizeof f->req);
    f->headlen = 0;
    f->req.data = f;
    f->req.target = &f->target;
    f->req.command = command;
    f->req.what = what;
    f->req.http = http;
    f->req.seconds = seconds;
    f->req.on_data = on_data;
    f->req.on_done = on_done;
    request_set_timeouts(&f->req, command, timeout_ns);
    f->status = 0;
    if (request_start(loop, &f->req) < 0) {
        cg_strlcpy(f->err, f->req.err, sizeof f->err);
        f->status = -1;
    } else {
        uv_run(loop, UV_RUN_DEFAULT);
    }
    if (f->status == 0 && outfile_commit(&f->out, f->err) < 0)
        f->status = -1;
    if (f->status != 0) {
        /* Never leave a partial profile behind to be mistaken for one. */
        outfile_abandon(&f->out);
        return -1;
    }
    return 0;
}

/* Where writing to path ends up: its directory resolved ("./x" and "x"
 * alike) and a final symbolic link followed, even one that names nothing
 * yet (outfile follows it to create that file).  In out. */
static void write_target(const char *path, char *out, size_t size)
{
    char cur[PATH_MAX], link[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
    const char *slash;
    ssize_t n;

    cg_strlcpy(cur, path, sizeof cur);
    for (int hops = 0; hops < 40 && (n = readlink(cur, link, sizeof link - 1)) > 0; hops++) {
        link[n] = '\0';
        slash = strrchr(cur, '/');
        if (link[0] == '/' || slash == NULL)
            cg_strlcpy(cur, link, sizeof cur);
        else if ((size_t)snprintf(dir, sizeof dir, "%.*s/%s", (int)(slash - cur), cur, link) < sizeof dir)
            cg_strlcpy(cur, dir, sizeof cur);
    }
    slash = strrchr(cur, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - cur) + (slash == cur), cur);
    if (realpath(dir, real) == NULL)
        cg_strlcpy(real, dir, sizeof real);
    snprintf(out, size, "%s/%s", real, slash ? slash + 1 : cur);
}

/* Whether two output names are one file: names of one existing file (a
 * link, another spelling), or the same place once links are followed. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    char ra[2 * PATH_MAX], rb[2 * PATH_MAX];

    if (strcmp(a, b) == 0)
        return 1;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    write_target(a, ra, sizeof ra);
    write_target(b, rb, sizeof rb);
    return strcmp(ra, rb) == 0;
}

static int go_on_path(void)
{
    const char *path = getenv("PATH");
    char *dirs, *d, *save = NULL;
    int found = 0;

    if (path == NULL)
        return 0;
    dirs = cg_xstrdup(path);
    for (d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/go", *d ? d : ".");
        found = access(p, X_OK) == 0;
    }
    free(dirs);
    return found;
}

static int fail(uv_loop_t *loop, fetch_t *a, fetch_t *b, const char *msg)
{
    outfile_abandon(&a->out);
    outfile_abandon(&b->out);
    loop_free(loop);
    cmd_error("%s", msg);
    return CG_EXIT_FAIL;
}

/* The saved profile's top 20, as `go tool pprof -top -nodecount=20`. */
static int print_top(const char *path)
{
    profile_report_opts_t ro = PROFILE_REPORT_OPTS_INIT;
    profile_t *p = NULL;
    profile_top_t t;
    char err[CG_ERR_LEN] = "";
    int rc;

    ro.node_count = 20;
    if ((rc = profile_read_file(path, NULL, &p, err)) != 0 || (rc = profile_top(p, &ro, &t, err)) != 0) {
        profile_free(p);
        return cmd_error("the saved profile cannot be read: %s", err);
    }
    rc = profile_top_print(stdout, &t, 0);
    profile_top_free(&t);
    profile_free(p);
    return rc == 0 ? 0 : cmd_error("write error on standard output");
}

/* The file name a fetched reply of command gets in $TMPDIR. */
static const char *reply_template(int command)
{
    switch (command) {
    case PROTO_HEAP: return "heap_profile";
    case PROTO_CPU: return "cpu_profile";
    case PROTO_TRACE: return "trace";
    case PROTO_ALLOCS: return "allocs_profile";
    case PROTO_BLOCK: return "block_profile";
    case PROTO_MUTEX: return "mutex_profile";
    case PROTO_GOROUTINE: return "goroutine_profile";
    case PROTO_THREADCREATE: return "threadcreate_profile";
    default: return "reply";
    }
}

int profile_fetch_opts(const cmd_t *cmd, const opt_strings_t *headers, int insecure, const char *cacert,
                       const char *seconds_arg, http_opts_t *http, unsigned *seconds)
{
    int rc = cmd_http_opts(cmd, headers, insecure, cacert, http);

    *seconds = 0;
    if (rc != OPT_GO_ON)
        return rc;
    if (seconds_arg) {
        long long n;

        if (cg_parse_ll(seconds_arg, 1, 3600, &n) != 0) {
            http_opts_free(http);
            return cmd_usage_error(cmd, "--seconds: '%s' is not a number of seconds from 1 to 3600", seconds_arg);
        }
        *seconds = (unsigned)n;
    }
    return OPT_GO_ON;
}

int profile_fetch(const char *arg, int command, const http_opts_t *http, unsigned seconds, uint64_t timeout_ns,
                  int verbose, char *path, size_t pathsize, char *err)
{
    fetch_t f;
    uv_loop_t *loop;
    int procfd, rc;

    memset(&f, 0, sizeof f);
    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = request_target_resolve(procfd, arg, &f.target, err);
    if (procfd >= 0)
        close(procfd);
    if (rc < 0)
        return rc;
    cmd_target_notes(&f.target, verbose);
    if ((loop = loop_new(err)) == NULL)
        return -ENOMEM;
    /* Ctrl-C during a long fetch (a CPU profile) leaves no temp file. */
    if (outfile_install_signal_cleanup() < 0) {
        cg_seterr(err, "cannot install the signal handlers that remove partial files");
        loop_free(loop);
        return -EIO;
    }
    if (output_open(&f, NULL, reply_template(command)) < 0) {
        cg_strlcpy(err, f.err, CG_ERR_LEN);
        loop_free(loop);
        return -EIO;
    }
    rc = fetch_into(loop, &f, command, proto_command_name(command), timeout_ns, http, seconds);
    loop_free(loop);
    if (rc < 0) {
        cg_strlcpy(err, f.err, CG_ERR_LEN);
        return -EIO;
    }
    cg_strlcpy(path, f.out.path, pathsize);
    return 0;
}

int cmd_profile(int argc, char **argv, const cmd_t *cmd)
{
    profile_opts_t o = {0};
    opt_args_t args;
    int byte = cmd->agent_byte, procfd, rc, launch, http_target;
    fetch_t prof, bin;
    uv_loop_t *loop;
    const char *tmpl = reply_template(byte);
    http_opts_t http;
    unsigned seconds;
    struct stat st;
    char profile[PATH_MAX], err[CG_ERR_LEN];

    rc = opt_parse(cmd, argc, argv, &o, &args);
    if (rc != OPT_GO_ON) {
        free(o.headers.v);
        return rc;
    }
    rc = profile_fetch_opts(cmd, &o.headers, o.insecure, o.cacert, o.seconds, &http, &seconds);
    free(o.headers.v);
    if (rc != OPT_GO_ON) {
        free(args.v);
        return rc;
    }
    if (args.n != 1)
        rc = cmd_usage_error(cmd, args.n ? "%s takes exactly one target" : "%s needs a target: a pid, host:port or http://HOST:PORT",
                             cmd->name);
    else if (o.outfile && o.binfile && same_file(o.outfile, o.binfile))
        rc = cmd_usage_error(cmd, "-o and --binary name the same file: the binary would replace the profile");
    else if (seconds && byte != PROTO_CPU && byte != PROTO_TRACE)
        rc = cmd_usage_error(cmd, "--seconds is for pprof-cpu and trace");
    if (rc != OPT_GO_ON) {
        free(args.v);
        http_opts_free(&http);
        return rc;
    }
    memset(&prof, 0, sizeof prof);
    memset(&bin, 0, sizeof bin);
    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rc = request_target_resolve(procfd, args.v[0], &prof.target, prof.err);
    free(args.v);
    if (procfd >= 0)
        close(procfd);
    if (rc < 0) {
        http_opts_free(&http);
        cmd_error("%s", prof.err);
        return CG_EXIT_FAIL;
    }
    http_target = request_target_is_http(&prof.target);
    if (http_target && o.binfile) {
        http_opts_free(&http);
        return cmd_usage_error(cmd, "--binary: net/http/pprof does not serve the executable");
    }
    cmd_target_notes(&prof.target, o.verbose);
    bin.target = prof.target;
    launch = !o.no_launch && !o.json && isatty(STDOUT_FILENO) && go_on_path();
    loop = loop_new(err);
    if (loop == NULL) {
        http_opts_free(&http);
        cmd_error("%s", err);
        return CG_EXIT_FAIL;
    }
    /* Ctrl-C during a 30 s profile leaves no temp or partial file. */
    if (outfile_install_signal_cleanup() < 0)
        goto fail_prof;
    /* Both outputs are made before anything is fetched: a bad --binary
     * path is reported at once, not after a 30 s CPU profile. */
    if (output_open(&prof, o.outfile, tmpl) < 0)
        goto fail_prof;
    if (o.binfile && output_open(&bin, o.binfile, "binary") < 0)
        goto fail_bin;
    if (byte == PROTO_CPU)
        fprintf(stderr, "Profiling CPU now, will take %u secs...\n", seconds ? seconds : 30);
    else if (byte == PROTO_TRACE)
        fprintf(stderr, "Tracing now, will take %u secs...\n", seconds ? seconds : 5);
    if (fetch_into(loop, &prof, byte, cmd->name, o.timeout_ns, &http, seconds) < 0)
        goto fail_prof;
    cg_strlcpy(profile, prof.out.path, sizeof profile);
    if (!o.json)
        printf("%s dump saved to: %s\n", byte == PROTO_TRACE ? "Trace" : "Profile", profile);
    /* net/http/pprof profiles carry their function names: go tool pprof
     * needs no binary for them. */
    if (o.binfile || (launch && byte != PROTO_TRACE && !http_target)) {
        if (!o.binfile && output_open(&bin, NULL, "binary") < 0)
            goto fail_bin;
        if (fetch_into(loop, &bin, PROTO_BINARY_DUMP, "binary dump", o.timeout_ns, &http, 0) < 0)
            goto fail_bin;
        if (!o.json)
            printf("Binary file saved to: %s\n", bin.out.path);
    }
    loop_free(loop);
    http_opts_free(&http);
    /* --json last: it names only files that are written. */
    if (o.json) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "path", profile);
        cJSON_AddNumberToObject(v, "size", stat(profile, &st) == 0 ? (double)st.st_size : 0);
        if (o.binfile)
            cJSON_AddStringToObject(v, "binary", o.binfile);
        out_json_write(stdout, v);
        cJSON_Delete(v);
    }
    /* Without Go on the host, what `go tool pprof` would open first: the
     * top 20, read right here.  A trace has no native viewer: say where it
     * can be read. */
    if (!launch && !o.no_launch && !o.json && !go_on_path()) {
        if (byte == PROTO_TRACE)
            cmd_error("no Go here: read it with 'go tool trace %s' on a host with Go", profile);
        else if (print_top(profile) != 0)
            return CG_EXIT_FAIL;
    }
    if (launch) {
        fflush(stdout);
        if (byte == PROTO_TRACE)
            execlp("go", "go", "tool", "trace", profile, (char *)NULL);
        else if (http_target)
            execlp("go", "go", "tool", "pprof", profile, (char *)NULL);
        else
            execlp("go", "go", "tool", "pprof", bin.out.path, profile, (char *)NULL);
        cmd_error("cannot run go tool: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    return CG_EXIT_OK;
fail_prof:
    http_opts_free(&http);
    return fail(loop, &prof, &bin, prof.err[0] ? prof.err : "cannot install the signal handlers that remove partial files");
fail_bin:
    http_opts_free(&http);
    return fail(loop, &prof, &bin, bin.err);
}

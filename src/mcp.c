/* mcp.c -- the Model Context Protocol messages of `cgops mcp`, fed strings
 *
 * Three parts: the JSON-RPC envelope (mcp_handle: parse, check, dispatch,
 * errors), the tool table with each tool's schemas and the check of its
 * arguments into a job (the cgops command line to run), and the results
 * (mcp_job_step: the command's JSON turned into structuredContent and a
 * readable text, bounded, so that an assistant gets counts and the top of
 * each list, never a megabyte).  Nothing here runs a process or touches a
 * file: src/cmd_mcp.c does, with subcmd.h.
 */
#include "cgops/mcp.h"
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/gort.h"
#include "cgops/out_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The readable text of a result stops here; structuredContent has the rest. */
#define TEXT_MAX (24u << 10)
/* A string id longer than this is refused: each waiting call keeps its id
 * (and its reply repeats it), so 64 waiting calls with ids of nearly the
 * 1 MiB a line may hold kept some 80 MB.  Ids are counters or UUIDs. */
#define ID_MAX 1024

/* ---- the tool table --------------------------------------------------- */

enum { T_LIST, T_PROCESS, T_GOROUTINES, T_SUMMARY, T_MEMSTATS, T_STACK, T_PROFILE_TOP, T_GC, T_SETGC };

enum { K_HEAP, K_ALLOCS, K_CPU, K_TRACE };
static const char *const kind_names[] = {"heap", "allocs", "cpu", "trace"};

#define S_PID "\"pid\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"process id of a Go process on this host\"}"
#define S_TARGET                                                                                   \
    "\"target\":{\"type\":[\"integer\",\"string\"],\"description\":\"a PID, or HOST:PORT of a gops " \
    "agent\"}"
#define S_GROUP                                                                                    \
    "\"group_by\":{\"enum\":[\"location\",\"start\",\"creator\",\"wait\"],\"description\":\"location " \
    "(default): the first frame outside the runtime, where it waits; start: its start function; "   \
    "creator: the go statement's function; wait: its state or wait reason\"}"

typedef struct {
    const char *name, *title, *description;
    const char *input;  /* inputSchema */
    const char *output; /* outputSchema */
    int write;          /* changes the target: needs --allow-write */
} tool_t;

static const tool_t tools[] = {
    [T_LIST] = {"list_go_processes", "List Go processes",
                "Every Go process on this host: pid, parent, name, executable, Go version, whether a gops "
                "agent listens. With goroutines=true also each one's goroutine count, read from its "
                "memory.",
                "{\"type\":\"object\",\"properties\":{\"goroutines\":{\"type\":\"boolean\",\"description\":"
                "\"also count each process's goroutines (slower)\"}},\"additionalProperties\":false}",
                "{\"type\":\"object\",\"required\":[\"count\",\"processes\"],\"properties\":{\"count\":"
                "{\"type\":\"integer\"},\"processes\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
                "\"required\":[\"pid\",\"name\",\"path\",\"go_version\",\"agent\"]}}}}",
                0},
    [T_PROCESS] = {"process_info", "Process details",
                   "One process as `cgops PID` shows it: parent, threads, memory and CPU use, user, "
                   "command line, elapsed time, sockets, Go version, goroutine count, agent.",
                   "{\"type\":\"object\",\"properties\":{" S_PID "},\"required\":[\"pid\"],"
                   "\"additionalProperties\":false}",
                   "{\"type\":\"object\",\"required\":[\"pid\",\"ppid\",\"threads\",\"cmdline\"],"
                   "\"properties\":{\"pid\":{\"type\":\"integer\"},\"ppid\":{\"type\":\"integer\"},"
                   "\"threads\":{\"type\":\"integer\"}}}",
                   0},
    [T_GOROUTINES] = {"goroutines", "Goroutines, grouped",
                      "The goroutines of a Go process read from its memory (no agent needed), grouped "
                      "with counts, largest group first, each with one example stack. Use it to find "
                      "leaks (a group that keeps growing) and where goroutines block.",
                      "{\"type\":\"object\",\"properties\":{" S_PID "," S_GROUP
                      ",\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":"
                      "\"groups returned (default 20)\"}},\"required\":[\"pid\"],"
                      "\"additionalProperties\":false}",
                      "{\"type\":\"object\",\"required\":[\"pid\",\"count\",\"group_by\",\"groups_total\","
                      "\"groups\",\"by_status\"],\"properties\":{\"pid\":{\"type\":\"integer\"},\"count\":"
                      "{\"type\":\"integer\"},\"group_by\":{\"type\":\"string\"},\"groups_total\":{\"type\":"
                      "\"integer\"},\"by_status\":{\"type\":\"object\"},\"groups\":{\"type\":\"array\","
                      "\"items\":{\"type\":\"object\",\"required\":[\"key\",\"count\",\"example\"],"
                      "\"properties\":{\"key\":{\"type\":\"string\"},\"count\":{\"type\":\"integer\"}}}}}}",
                      0},
    [T_SUMMARY] = {"summary", "Go process summary",
                   "A Go process at a glance, read from its memory (no agent): binary, Go version, "
                   "uptime, GOMAXPROCS, Ps, threads by state, goroutines by status and wait reason and "
                   "grouped, scheduler and GC figures.",
                   "{\"type\":\"object\",\"properties\":{" S_PID "," S_GROUP "},\"required\":[\"pid\"],"
                   "\"additionalProperties\":false}",
                   "{\"type\":\"object\",\"required\":[\"pid\",\"go_version\",\"goroutines\"],"
                   "\"properties\":{\"pid\":{\"type\":\"integer\"}}}",
                   0},
    [T_MEMSTATS] = {"memstats", "Go memory statistics",
                    "runtime.MemStats of a Go process: from its gops agent, else read from its memory "
                    "(a PID, with DWARF).",
                    "{\"type\":\"object\",\"properties\":{" S_TARGET "},\"required\":[\"target\"],"
                    "\"additionalProperties\":false}",
                    "{\"type\":\"object\",\"properties\":{\"heap_alloc\":{\"type\":\"integer\"},"
                    "\"num_gc\":{\"type\":\"integer\"}}}",
                    0},
    [T_STACK] = {"stack", "Goroutine stacks",
                 "The stack of every goroutine: from the gops agent, else read from the process's "
                 "memory. Returns the first `limit` goroutines with their frames.",
                 "{\"type\":\"object\",\"properties\":{" S_TARGET ",\"limit\":{\"type\":\"integer\","
                 "\"minimum\":1,\"maximum\":10000,\"description\":\"goroutines returned (default 50)\"}},"
                 "\"required\":[\"target\"],\"additionalProperties\":false}",
                 "{\"type\":\"object\",\"required\":[\"source\",\"count\",\"goroutines\"],\"properties\":"
                 "{\"source\":{\"enum\":[\"agent\",\"memory\"]},\"count\":{\"type\":\"integer\"},"
                 "\"goroutines\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\","
                 "\"state\",\"frames\"]}}}}",
                 0},
    [T_PROFILE_TOP] = {"profile_top", "Profile top functions",
                       "The heaviest functions of a pprof profile, as `go tool pprof -top` prints them: "
                       "from a target's gops agent (kind heap or allocs; cpu records 30 s and needs "
                       "--allow-write) or from a saved profile file (any kind).",
                       "{\"type\":\"object\",\"properties\":{" S_TARGET ",\"file\":{\"type\":\"string\","
                       "\"description\":\"a pprof profile file instead of a target\"},\"kind\":{\"enum\":"
                       "[\"heap\",\"allocs\",\"cpu\",\"trace\"],\"description\":\"heap (in-use space, "
                       "default), allocs (allocated space), cpu (30 s, needs --allow-write); trace is "
                       "not a profile\"},\"top\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":500,"
                       "\"description\":\"functions returned (default 20)\"}},"
                       "\"additionalProperties\":false}",
                       "{\"type\":\"object\",\"required\":[\"sample_type\",\"unit\",\"total\",\"functions\"],"
                       "\"properties\":{\"sample_type\":{\"type\":\"string\"},\"unit\":{\"type\":\"string\"},"
                       "\"total\":{\"type\":\"integer\"},\"functions\":{\"type\":\"array\",\"items\":{"
                       "\"type\":\"object\",\"required\":[\"name\",\"flat\",\"cum\"]}}}}",
                       0},
    [T_GC] = {"gc", "Run a garbage collection",
              "Runs a garbage collection in the target through its gops agent and waits for it. "
              "Changes the target: needs cgops mcp --allow-write.",
              "{\"type\":\"object\",\"properties\":{" S_TARGET "},\"required\":[\"target\"],"
              "\"additionalProperties\":false}",
              "{\"type\":\"object\",\"required\":[\"ok\"],\"properties\":{\"ok\":{\"type\":\"boolean\"}}}", 1},
    [T_SETGC] = {"set_gc_percent", "Set GOGC",
                 "Sets the target's GC percentage (debug.SetGCPercent; -1 turns GC off) through its "
                 "gops agent. Changes the target: needs cgops mcp --allow-write.",
                 "{\"type\":\"object\",\"properties\":{" S_TARGET ",\"percent\":{\"type\":\"integer\","
                 "\"minimum\":-1,\"maximum\":2147483647}},\"required\":[\"target\",\"percent\"],"
                 "\"additionalProperties\":false}",
                 "{\"type\":\"object\",\"required\":[\"new\",\"previous\"],\"properties\":{\"new\":{\"type\":"
                 "\"integer\"},\"previous\":{\"type\":\"integer\"}}}",
                 1},
};

cJSON *mcp_tools_json(void)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < CG_ARRAY_SIZE(tools); i++) {
        const tool_t *t = &tools[i];
        cJSON *o = cJSON_CreateObject(), *ann = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "title", t->title);
        cJSON_AddStringToObject(o, "description", t->description);
        cJSON_AddItemToObject(o, "inputSchema", cJSON_Parse(t->input));
        cJSON_AddItemToObject(o, "outputSchema", cJSON_Parse(t->output));
        cJSON_AddBoolToObject(ann, "readOnlyHint", !t->write);
        cJSON_AddBoolToObject(ann, "openWorldHint", 0);
        cJSON_AddItemToObject(o, "annotations", ann);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* ---- a bounded text buffer ------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int full;
} sb_t;

static void sb_add(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->full)
        return;
    if (b->s == NULL) {
        b->cap = 1024;
        b->s = cg_xmalloc(b->cap);
        b->s[0] = '\0';
    }
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < b->cap - b->len)
            break;
        b->cap = b->cap * 2 + (size_t)n;
        b->s = cg_xrealloc(b->s, b->cap);
    }
    b->len += (size_t)n;
    if (b->len > TEXT_MAX) {
        /* Cut on a character boundary and say so. */
        size_t at = TEXT_MAX;

        while (at > 0 && ((unsigned char)b->s[at] & 0xC0) == 0x80)
            at--;
        b->len = at;
        b->s[at] = '\0';
        b->full = 1;
        b->cap = b->len + 64;
        b->s = cg_xrealloc(b->s, b->cap);
        strcat(b->s, "\n... (text cut; structuredContent has it all)");
        b->len = strlen(b->s);
    }
}

static char *sb_take(sb_t *b)
{
    char *s = b->s ? b->s : cg_xstrdup("");

    b->s = NULL;
    return s;
}

/* ---- replies ---------------------------------------------------------- */

/* The id as the client sent it.  cJSON prints a number with 15 digits
 * when that is within an epsilon of it, so 9007199254740991 came back as
 * 9.00719925474099e+15, an id the client never sent: a number is printed
 * here with the fewest digits that read back as exactly its value. */
static cJSON *id_copy(const cJSON *id)
{
    char buf[64];
    double v;

    if (!cJSON_IsNumber(id))
        return cJSON_Duplicate(id, 1);
    v = id->valuedouble;
    if (!isfinite(v))
        return cJSON_CreateNull();
    if (v == floor(v) && fabs(v) < 1e17) {
        snprintf(buf, sizeof buf, "%.0f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    return cJSON_CreateRaw(buf);
}

static char *message(const cJSON *id, const char *member, cJSON *value)
{
    cJSON *m = cJSON_CreateObject();
    char *s;

    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? id_copy(id) : cJSON_CreateNull());
    cJSON_AddItemToObject(m, member, value);
    s = out_json_print(m, 0);
    cJSON_Delete(m);
    if (s == NULL)
        abort(); /* out of memory, as cg_xmalloc */
    return s;
}

char *mcp_error_reply(const cJSON *id, int code, const char *msg)
{
    cJSON *e = cJSON_CreateObject();

    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    return message(id, "error", e);
}

static char *errorf(const cJSON *id, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *errorf(const cJSON *id, int code, const char *fmt, ...)
{
    char msg[CG_ERR_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mcp_error_reply(id, code, msg);
}

/* A tools/call result: text (taken) and, unless an error, structured. */
static char *tool_result(const cJSON *id, char *text, cJSON *structured, int is_error)
{
    cJSON *r = cJSON_CreateObject(), *content = cJSON_AddArrayToObject(r, "content");
    cJSON *t = cJSON_CreateObject();

    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(content, t);
    free(text);
    if (structured)
        cJSON_AddItemToObject(r, "structuredContent", structured);
    cJSON_AddBoolToObject(r, "isError", is_error);
    return message(id, "result", r);
}

char *mcp_job_fail(mcp_job_t *job, const char *msg)
{
    return tool_result(job->id, cg_xstrdup(msg), NULL, 1);
}

/* ---- arguments -------------------------------------------------------- */

/* Each getter returns 0, or -1 with *why set (a -32602 message). */

static int arg_int(const cJSON *args, const char *name, long long min, long long max, long long dflt,
                   int required, long long *v, char *why)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, name);

    if (a == NULL) {
        if (required) {
            cg_seterr(why, "missing argument '%s'", name);
            return -1;
        }
        *v = dflt;
        return 0;
    }
    if (cJSON_IsString(a) && cg_parse_ll(a->valuestring, min, max, v) == 0)
        return 0; /* "1234": lenient to clients that quote numbers */
    if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble) || a->valuedouble != floor(a->valuedouble) ||
        a->valuedouble < (double)min || a->valuedouble > (double)max) {
        cg_seterr(why, "argument '%s' must be an integer from %lld to %lld", name, min, max);
        return -1;
    }
    *v = (long long)a->valuedouble;
    return 0;
}

/* A word that becomes a command-line argument: never an option (it goes
 * after "--" too), no control characters, bounded. */
static int word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max || s[0] == '-' || !cg_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int arg_target(const cJSON *args, char **target, char *why)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, "target");
    char buf[32];

    if (a == NULL) {
        cg_seterr(why, "missing argument 'target'");
        return -1;
    }
    if (cJSON_IsNumber(a)) {
        long long pid;

        if (arg_int(args, "target", 1, 4194304, 0, 1, &pid, why) < 0)
            return -1;
        snprintf(buf, sizeof buf, "%lld", pid);
        *target = cg_xstrdup(buf);
        return 0;
    }
    if (!cJSON_IsString(a) || !word_ok(a->valuestring, 255) || strchr(a->valuestring, ' ')) {
        cg_seterr(why, "argument 'target' must be a PID or HOST:PORT");
        return -1;
    }
    *target = cg_xstrdup(a->valuestring);
    return 0;
}

static int arg_enum(const cJSON *args, const char *name, const char *const *names, size_t n, int dflt,
                    int *v, char *why)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, name);

    if (a == NULL) {
        *v = dflt;
        return 0;
    }
    for (size_t i = 0; cJSON_IsString(a) && i < n; i++) {
        if (strcmp(a->valuestring, names[i]) == 0) {
            *v = (int)i;
            return 0;
        }
    }
    cg_seterr(why, "argument '%s' must be one of:", name);
    for (size_t i = 0; i < n && why; i++)
        snprintf(why + strlen(why), CG_ERR_LEN - strlen(why), " %s", names[i]);
    return -1;
}

static const char *const group_names[] = {"location", "start", "creator", "wait"};

/* Only the arguments the tool's inputSchema names: a misspelt one is an
 * error, not silently ignored. */
static int args_known(const cJSON *args, const char *schema, char *why)
{
    cJSON *s = cJSON_Parse(schema);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *a;
    int ok = 1;

    cJSON_ArrayForEach(a, args)
    {
        if (!cJSON_GetObjectItemCaseSensitive(props, a->string)) {
            cg_seterr(why, "unknown argument '%.100s'", a->string);
            ok = 0;
            break;
        }
    }
    cJSON_Delete(s);
    return ok ? 0 : -1;
}

static void job_argv(mcp_job_t *j, ...)
{
    va_list ap;
    const char *w;
    int n = 0;

    for (int i = 0; i < MCP_ARGV_MAX && j->argv[i]; i++) {
        free(j->argv[i]);
        j->argv[i] = NULL;
    }
    va_start(ap, j);
    while ((w = va_arg(ap, const char *)) != NULL && n < MCP_ARGV_MAX)
        j->argv[n++] = cg_xstrdup(w);
    va_end(ap);
    j->argv[n] = NULL;
}

/* profile_top's second step, for a file the caller named and for the one
 * the first step saved alike: `cgops profile --json --top N` on PATH (the
 * allocs kind by the bytes allocated). */
static void job_read_profile(mcp_job_t *j, const char *path)
{
    char num[32];

    j->step = 1;
    snprintf(num, sizeof num, "%d", j->top);
    if (j->kind == K_ALLOCS)
        job_argv(j, "profile", "--json", "--top", num, "--sample-index", "alloc_space", "--", path, (char *)NULL);
    else
        job_argv(j, "profile", "--json", "--top", num, "--", path, (char *)NULL);
    j->timeout_ms = 30000;
    j->max_out = 16u << 20;
}

void mcp_job_free(mcp_job_t *j)
{
    if (j == NULL)
        return;
    for (int i = 0; i < MCP_ARGV_MAX && j->argv[i]; i++)
        free(j->argv[i]);
    cJSON_Delete(j->id);
    free(j->target);
    free(j->file);
    free(j->tmpfile);
    free(j);
}

/* The first command of a tools/call, or -1 with why (-32602) or with
 * *refusal (an isError result: not allowed read-only). */
static int job_prepare(mcp_t *m, mcp_job_t *j, const cJSON *args, char *why, char **refusal)
{
    const tool_t *t = &tools[j->tool];
    char pid[32], num[32];
    long long v;

    if (args_known(args, t->input, why) < 0)
        return -1;
    switch (j->tool) {
    case T_LIST: {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(args, "goroutines");

        if (g && !cJSON_IsBool(g)) {
            cg_seterr(why, "argument 'goroutines' must be a boolean");
            return -1;
        }
        if (cJSON_IsTrue(g))
            job_argv(j, "list", "--json", "--goroutines", (char *)NULL);
        else
            job_argv(j, "list", "--json", (char *)NULL);
        j->timeout_ms = 30000;
        j->max_out = 16u << 20;
        return 0;
    }
    case T_PROCESS:
    case T_GOROUTINES:
    case T_SUMMARY:
        if (arg_int(args, "pid", 1, 4194304, 0, 1, &j->pid, why) < 0 ||
            arg_enum(args, "group_by", group_names, 4, 0, &j->group_by, why) < 0 ||
            arg_int(args, "limit", 1, 1000, 20, 0, &v, why) < 0)
            return -1;
        j->limit = (int)v;
        snprintf(pid, sizeof pid, "%lld", j->pid);
        if (j->tool == T_PROCESS) {
            job_argv(j, "process", "--json", "--", pid, (char *)NULL);
            j->timeout_ms = 15000;
            j->max_out = 4u << 20;
        } else if (j->tool == T_GOROUTINES) {
            /* 32 frames find the first outside the runtime, as summary's. */
            job_argv(j, "goroutines", "--json", "--depth", "32", "--", pid, (char *)NULL);
            j->timeout_ms = 30000;
            j->max_out = 64u << 20;
        } else {
            job_argv(j, "summary", "--json", "--by", group_names[j->group_by], "--", pid, (char *)NULL);
            j->timeout_ms = 30000;
            j->max_out = 8u << 20;
        }
        return 0;
    case T_MEMSTATS:
    case T_STACK:
        if (arg_target(args, &j->target, why) < 0 || arg_int(args, "limit", 1, 10000, 50, 0, &v, why) < 0)
            return -1;
        j->limit = (int)v;
        job_argv(j, j->tool == T_STACK ? "stack" : "memstats", "--json", "--timeout", "10s", "--", j->target,
                 (char *)NULL);
        j->timeout_ms = 20000;
        j->max_out = j->tool == T_STACK ? 64u << 20 : 1u << 20;
        return 0;
    case T_PROFILE_TOP: {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(args, "file");
        int has_target = cJSON_GetObjectItemCaseSensitive(args, "target") != NULL;

        if (arg_enum(args, "kind", kind_names, 4, K_HEAP, &j->kind, why) < 0 ||
            arg_int(args, "top", 1, 500, 20, 0, &v, why) < 0)
            return -1;
        j->top = (int)v;
        if ((f != NULL) == has_target) {
            cg_seterr(why, "give either 'target' or 'file'");
            return -1;
        }
        if (f) {
            if (!cJSON_IsString(f) || f->valuestring[0] == '\0' || strlen(f->valuestring) > 4096) {
                cg_seterr(why, "argument 'file' must be a path");
                return -1;
            }
            j->file = cg_xstrdup(f->valuestring);
            job_read_profile(j, j->file); /* straight to reading it */
            return 0;
        }
        if (arg_target(args, &j->target, why) < 0)
            return -1;
        if (j->kind == K_TRACE) {
            *refusal = mcp_job_fail(j, "a trace is not a pprof profile: it has no top functions (use "
                                       "`cgops trace TARGET` and `go tool trace`)");
            return -1;
        }
        if (j->kind == K_CPU && !m->allow_write) {
            *refusal = mcp_job_fail(j, "refused: a CPU profile makes the target profile itself for 30 s; "
                                       "start cgops mcp with --allow-write to allow it");
            return -1;
        }
        if (m->tmpdir == NULL) {
            *refusal = mcp_job_fail(j, "no directory for temporary profiles");
            return -1;
        }
        {
            char path[4200];

            snprintf(path, sizeof path, "%s/profile-%lu.pb.gz", m->tmpdir, ++m->seq);
            j->tmpfile = cg_xstrdup(path);
        }
        if (j->kind == K_CPU) {
            job_argv(j, "pprof-cpu", "--json", "--no-launch", "-o", j->tmpfile, "--", j->target, (char *)NULL);
            j->timeout_ms = 60000;
        } else {
            job_argv(j, "pprof-heap", "--json", "--no-launch", "--timeout", "20s", "-o", j->tmpfile, "--",
                     j->target, (char *)NULL);
            j->timeout_ms = 30000;
        }
        j->max_out = 64u << 10;
        return 0;
    }
    case T_GC:
    case T_SETGC:
        if (arg_target(args, &j->target, why) < 0 ||
            (j->tool == T_SETGC && arg_int(args, "percent", -1, 2147483647, 0, 1, &j->percent, why) < 0))
            return -1;
        if (!m->allow_write) {
            *refusal = mcp_job_fail(j, j->tool == T_GC
                                           ? "refused: gc changes the target; start cgops mcp with "
                                             "--allow-write to allow it"
                                           : "refused: set_gc_percent changes the target; start cgops mcp "
                                             "with --allow-write to allow it");
            return -1;
        }
        snprintf(num, sizeof num, "%lld", j->percent);
        if (j->tool == T_GC)
            job_argv(j, "gc", "--json", "--timeout", "20s", "--", j->target, (char *)NULL);
        else
            job_argv(j, "setgc", "--json", "--timeout", "10s", "--", j->target, num, (char *)NULL);
        j->timeout_ms = 30000;
        j->max_out = 64u << 10;
        return 0;
    }
    cg_seterr(why, "unknown tool");
    return -1;
}

/* ---- the envelope ----------------------------------------------------- */

void mcp_init(mcp_t *m, int allow_write, const char *tmpdir)
{
    memset(m, 0, sizeof *m);
    m->allow_write = allow_write;
    m->tmpdir = tmpdir;
    cg_strlcpy(m->version, MCP_PROTOCOL_VERSION, sizeof m->version);
}

void mcp_out_free(mcp_out_t *out)
{
    free(out->reply);
    mcp_job_free(out->job);
    cJSON_Delete(out->cancel);
    memset(out, 0, sizeof *out);
}

static const char *const versions[] = {MCP_PROTOCOL_VERSION, "2025-03-26", "2024-11-05"};

static char *do_initialize(mcp_t *m, const cJSON *id, const cJSON *params)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
    cJSON *r, *caps, *info;

    if (!cJSON_IsString(v))
        return errorf(id, MCP_INVALID_PARAMS, "initialize: params.protocolVersion must be a string");
    /* The client's revision if we speak it, else our latest: the client
     * then decides whether it can go on. */
    cg_strlcpy(m->version, MCP_PROTOCOL_VERSION, sizeof m->version);
    for (size_t i = 0; i < CG_ARRAY_SIZE(versions); i++)
        if (strcmp(v->valuestring, versions[i]) == 0)
            cg_strlcpy(m->version, versions[i], sizeof m->version);
    m->initialized = 1;
    r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "protocolVersion", m->version);
    caps = cJSON_AddObjectToObject(r, "capabilities");
    cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", 0);
    info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", "cgops");
    cJSON_AddStringToObject(info, "title", "cgops: Go processes on this host");
    cJSON_AddStringToObject(info, "version", CGOPS_VERSION);
    cJSON_AddStringToObject(r, "instructions",
                            m->allow_write
                                ? "Inspect the Go processes of this host. Start with list_go_processes. "
                                  "Tools that change a target (gc, set_gc_percent, CPU profiles) are allowed."
                                : "Inspect the Go processes of this host. Start with list_go_processes. "
                                  "Read-only: gc, set_gc_percent and CPU profiles are refused.");
    return message(id, "result", r);
}

static int find_tool(const char *name)
{
    for (size_t i = 0; i < CG_ARRAY_SIZE(tools); i++)
        if (strcmp(tools[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void do_call(mcp_t *m, const cJSON *id, const cJSON *params, mcp_out_t *out)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    char why[CG_ERR_LEN] = "";
    char *refusal = NULL;
    mcp_job_t *j;
    int t;

    if (!cJSON_IsString(name)) {
        out->reply = errorf(id, MCP_INVALID_PARAMS, "tools/call: params.name must be a string");
        return;
    }
    if ((t = find_tool(name->valuestring)) < 0) {
        out->reply = errorf(id, MCP_INVALID_PARAMS, "unknown tool: %.100s", name->valuestring);
        return;
    }
    if (args != NULL && !cJSON_IsObject(args) && !cJSON_IsNull(args)) {
        out->reply = errorf(id, MCP_INVALID_PARAMS, "tools/call: params.arguments must be an object");
        return;
    }
    j = cg_xcalloc(1, sizeof *j);
    j->id = cJSON_Duplicate(id, 1);
    j->tool = t;
    if (job_prepare(m, j, cJSON_IsObject(args) ? args : NULL, why, &refusal) < 0) {
        out->reply = refusal ? refusal : errorf(id, MCP_INVALID_PARAMS, "%s: %s", tools[t].name, why);
        mcp_job_free(j);
        return;
    }
    out->job = j;
}

void mcp_handle(mcp_t *m, const char *line, size_t len, mcp_out_t *out)
{
    cJSON *req, *id, *method, *params, *v;

    memset(out, 0, sizeof *out);
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    if (len == 0)
        return; /* a blank line: nothing asked */
    req = cJSON_ParseWithLength(line, len);
    if (req == NULL) {
        out->reply = mcp_error_reply(NULL, MCP_PARSE_ERROR, "parse error: not JSON");
        return;
    }
    if (cJSON_IsArray(req)) {
        out->reply = mcp_error_reply(NULL, MCP_INVALID_REQUEST,
                                     "batches are not supported (MCP 2025-06-18 removed JSON-RPC batching)");
        goto done;
    }
    if (!cJSON_IsObject(req)) {
        out->reply = mcp_error_reply(NULL, MCP_INVALID_REQUEST, "invalid request: not an object");
        goto done;
    }
    id = cJSON_GetObjectItemCaseSensitive(req, "id");
    method = cJSON_GetObjectItemCaseSensitive(req, "method");
    params = cJSON_GetObjectItemCaseSensitive(req, "params");
    v = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
    /* A response to us: we never send requests, so there is nothing to
     * match it with. */
    if (method == NULL && (cJSON_HasObjectItem(req, "result") || cJSON_HasObjectItem(req, "error")))
        goto done;
    if (id != NULL && !cJSON_IsString(id) && !cJSON_IsNumber(id)) {
        /* MCP: an id is a string or a number, never null. */
        out->reply = mcp_error_reply(NULL, MCP_INVALID_REQUEST, "invalid request: id must be a string or a number");
        goto done;
    }
    if (cJSON_IsString(id) && strlen(id->valuestring) > ID_MAX) {
        out->reply = mcp_error_reply(NULL, MCP_INVALID_REQUEST, "invalid request: id longer than 1024 bytes");
        goto done;
    }
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0 || !cJSON_IsString(method) ||
        (params != NULL && !cJSON_IsObject(params))) {
        if (id)
            out->reply = mcp_error_reply(id, MCP_INVALID_REQUEST,
                                         "invalid request: needs jsonrpc \"2.0\", a method, params an object");
        goto done;
    }
    if (id == NULL) { /* a notification: never answered */
        if (strcmp(method->valuestring, "notifications/cancelled") == 0) {
            const cJSON *rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");

            if (cJSON_IsString(rid) || cJSON_IsNumber(rid))
                out->cancel = cJSON_Duplicate(rid, 1);
        }
        goto done; /* notifications/initialized and the rest: noted */
    }
    if (strcmp(method->valuestring, "initialize") == 0)
        out->reply = do_initialize(m, id, params);
    else if (strcmp(method->valuestring, "ping") == 0)
        out->reply = message(id, "result", cJSON_CreateObject());
    else if (strcmp(method->valuestring, "tools/list") == 0) {
        cJSON *r = cJSON_CreateObject();

        cJSON_AddItemToObject(r, "tools", mcp_tools_json());
        out->reply = message(id, "result", r);
    } else if (strcmp(method->valuestring, "tools/call") == 0)
        do_call(m, id, params, out);
    else
        out->reply = errorf(id, MCP_METHOD_NOT_FOUND, "method not found: %.100s", method->valuestring);
done:
    cJSON_Delete(req);
}

/* ---- results ---------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *k, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsString(v) ? v->valuestring : dflt;
}

static double num_of(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void scalar(sb_t *b, const cJSON *c)
{
    if (cJSON_IsString(c))
        sb_add(b, "%.300s", c->valuestring);
    else if (cJSON_IsNumber(c) && c->valuedouble == floor(c->valuedouble) &&
             fabs(c->valuedouble) < 9007199254740992.0)
        sb_add(b, "%.0f", c->valuedouble); /* exact below 2^53 */
    else if (cJSON_IsNumber(c))
        sb_add(b, "%.6g", c->valuedouble);
    else
        sb_add(b, "%s", cJSON_IsTrue(c) ? "true" : cJSON_IsFalse(c) ? "false" : "null");
}

static int flat_object(const cJSON *o)
{
    const cJSON *c;

    if (!cJSON_IsObject(o))
        return 0;
    cJSON_ArrayForEach(c, o) if (cJSON_IsObject(c) || cJSON_IsArray(c)) return 0;
    return 1;
}

/* Any JSON as indented "key: value" lines, arrays cut to their first 8
 * items, an object of plain values on one line: the readable text of tools
 * whose structure speaks for itself. */
static void render(sb_t *b, const cJSON *v, int depth)
{
    const cJSON *c, *m;
    int i = 0, n;

    cJSON_ArrayForEach(c, v)
    {
        const char *k = c->string;

        if (cJSON_IsArray(v) && ++i > 8) {
            n = cJSON_GetArraySize(v);
            sb_add(b, "%*s... %d more\n", depth * 2, "", n - 8);
            break;
        }
        if (k)
            sb_add(b, "%*s%s:", depth * 2, "", k);
        else
            sb_add(b, "%*s-", depth * 2, "");
        if (flat_object(c) && cJSON_GetArraySize(c) > 0) {
            const char *sep = " ";

            cJSON_ArrayForEach(m, c)
            {
                sb_add(b, "%s%s: ", sep, m->string);
                scalar(b, m);
                sep = ", ";
            }
            sb_add(b, "\n");
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            if (cJSON_GetArraySize(c) == 0)
                sb_add(b, " %s\n", cJSON_IsArray(c) ? "[]" : "{}");
            else if (depth >= 4)
                sb_add(b, " ...\n");
            else {
                sb_add(b, "\n");
                render(b, c, depth + 1);
            }
        } else {
            sb_add(b, " ");
            scalar(b, c);
            sb_add(b, "\n");
        }
    }
}

static int cmp_group(const void *a, const void *b)
{
    const group_t *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The same keys as agentless_group_key, from the goroutines JSON. */
static int is_runtime_shim(const char *f)
{
    const char *dot = strrchr(f, '.');

    return dot && strncmp(dot + 1, "runtime_", 8) == 0;
}

static const char *g_state(const cJSON *g)
{
    const char *w = str_of(g, "wait_reason", NULL);

    return w && *w ? w : str_of(g, "status", "?");
}

static const char *g_key(const cJSON *g, int by)
{
    const cJSON *f, *cb;
    const char *fn;

    switch (by) {
    case GROUP_LOCATION:
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "frames"))
        {
            fn = str_of(f, "function", NULL);
            if (fn && !gort_is_runtime_frame(fn) && !is_runtime_shim(fn))
                return fn;
        }
        if ((fn = str_of(g, "start_function", NULL)) != NULL)
            return fn;
        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g, "stack_unavailable")) ? "(running)"
                                                                                       : "(no stack)";
    case GROUP_START:
        return str_of(g, "start_function", "?");
    case GROUP_CREATOR:
        cb = cJSON_GetObjectItemCaseSensitive(g, "created_by");
        return str_of(cb, "function", "(runtime)");
    default:
        return g_state(g);
    }
}

/* "function file:line" for the first n frames of g. */
static cJSON *frames_json(const cJSON *g, int n)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *f;
    int i = 0;

    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(g, "frames"))
    {
        char line[1024];
        const char *file = str_of(f, "file", NULL);

        if (i++ == n)
            break;
        if (file)
            snprintf(line, sizeof line, "%.500s %.400s:%.0f", str_of(f, "function", "?"), file,
                     num_of(f, "line", 0));
        else
            snprintf(line, sizeof line, "%.500s", str_of(f, "function", "?"));
        cJSON_AddItemToArray(arr, cJSON_CreateString(line));
    }
    return arr;
}

static char *result_goroutines(mcp_job_t *j, cJSON *doc)
{
    const cJSON *gs = cJSON_GetObjectItemCaseSensitive(doc, "goroutines"), *g;
    groups_t groups = {0};
    const cJSON **examples;
    cJSON *st = cJSON_CreateObject(), *status = cJSON_CreateObject(), *arr;
    sb_t b = {0};
    int count = cJSON_GetArraySize(gs);

    cJSON_ArrayForEach(g, gs)
    {
        const char *s = g_state(g);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(status, s);

        if (c)
            cJSON_SetNumberValue(c, c->valuedouble + 1);
        else
            cJSON_AddNumberToObject(status, s, 1);
        groups_get(&groups, g_key(g, j->group_by))->count++;
    }
    if (groups.n)
        qsort(groups.v, groups.n, sizeof *groups.v, cmp_group);
    /* One example per shown group: the first goroutine with its key. */
    examples = cg_xcalloc(groups.n + 1, sizeof *examples);
    cJSON_ArrayForEach(g, gs)
    {
        const char *k = g_key(g, j->group_by);

        for (size_t i = 0; i < groups.n && i < (size_t)j->limit; i++)
            if (examples[i] == NULL && strcmp(groups.v[i].key, k) == 0)
                examples[i] = g;
    }
    cJSON_AddNumberToObject(st, "pid", num_of(doc, "pid", (double)j->pid));
    cJSON_AddStringToObject(st, "go_version", str_of(doc, "go_version", ""));
    cJSON_AddNumberToObject(st, "count", count);
    cJSON_AddStringToObject(st, "group_by", group_names[j->group_by]);
    cJSON_AddNumberToObject(st, "groups_total", (double)groups.n);
    cJSON_AddItemToObject(st, "by_status", status);
    arr = cJSON_AddArrayToObject(st, "groups");
    sb_add(&b, "%d goroutines in process %lld (%s), %zu groups by %s", count, j->pid,
           str_of(doc, "go_version", "?"), groups.n, group_names[j->group_by]);
    if (groups.n > (size_t)j->limit)
        sb_add(&b, ", the largest %d shown", j->limit);
    sb_add(&b, ".\nBy state:");
    {
        const cJSON *c;

        cJSON_ArrayForEach(c, status) sb_add(&b, " %s %.0f;", c->string, c->valuedouble);
    }
    sb_add(&b, "\n\n  COUNT  %s\n", group_names[j->group_by]);
    for (size_t i = 0; i < groups.n && i < (size_t)j->limit; i++) {
        cJSON *o = cJSON_CreateObject(), *ex = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "key", groups.v[i].key);
        cJSON_AddNumberToObject(o, "count", (double)groups.v[i].count);
        if (examples[i]) {
            cJSON_AddNumberToObject(ex, "id", num_of(examples[i], "id", 0));
            cJSON_AddStringToObject(ex, "state", g_state(examples[i]));
            cJSON_AddItemToObject(ex, "frames", frames_json(examples[i], 8));
        }
        cJSON_AddItemToObject(o, "example", ex);
        cJSON_AddItemToArray(arr, o);
        sb_add(&b, "%7llu  %s\n", (unsigned long long)groups.v[i].count, groups.v[i].key);
    }
    if (str_of(doc, "error", NULL)) {
        cJSON_AddStringToObject(st, "error", str_of(doc, "error", ""));
        sb_add(&b, "\nThe read stopped early: %s\n", str_of(doc, "error", ""));
    }
    free(examples);
    groups_free(&groups);
    return tool_result(j->id, sb_take(&b), st, 0);
}

static char *result_stack(mcp_job_t *j, cJSON *doc)
{
    /* An agent's dump is an array ("state"); a dump read from memory is
     * goroutines' object ("status", "wait_reason"). */
    int agent = cJSON_IsArray(doc);
    const cJSON *gs = agent ? doc : cJSON_GetObjectItemCaseSensitive(doc, "goroutines"), *g;
    cJSON *st = cJSON_CreateObject(), *arr;
    sb_t b = {0};
    int count = cJSON_GetArraySize(gs), i = 0;

    cJSON_AddStringToObject(st, "target", j->target);
    cJSON_AddStringToObject(st, "source", agent ? "agent" : "memory");
    cJSON_AddNumberToObject(st, "count", count);
    arr = cJSON_AddArrayToObject(st, "goroutines");
    sb_add(&b, "%d goroutines of %s (%s)%s\n", count, j->target,
           agent ? "from its agent" : "read from its memory", count > j->limit ? ", the first shown" : "");
    cJSON_ArrayForEach(g, gs)
    {
        cJSON *o, *fr;
        const char *state = agent ? str_of(g, "state", "?") : g_state(g);
        const cJSON *f;

        if (i++ == j->limit)
            break;
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", num_of(g, "id", 0));
        cJSON_AddStringToObject(o, "state", state);
        fr = frames_json(g, 100);
        cJSON_AddItemToObject(o, "frames", fr);
        cJSON_AddItemToArray(arr, o);
        sb_add(&b, "\ngoroutine %.0f [%s]:\n", num_of(g, "id", 0), state);
        int k = 0;
        cJSON_ArrayForEach(f, fr)
        {
            if (k++ == 12) {
                sb_add(&b, "    ... %d more frames\n", cJSON_GetArraySize(fr) - 12);
                break;
            }
            sb_add(&b, "    %s\n", f->valuestring);
        }
    }
    return tool_result(j->id, sb_take(&b), st, 0);
}

static char *result_list(mcp_job_t *j, cJSON *doc)
{
    cJSON *st = cJSON_CreateObject();
    const cJSON *p;
    sb_t b = {0};
    int n = cJSON_GetArraySize(doc), i = 0;

    sb_add(&b, "%d Go processes\n%8s %8s %-16s %-12s %-6s %s\n", n, "PID", "PPID", "NAME", "GO", "AGENT", "PATH");
    cJSON_ArrayForEach(p, doc)
    {
        const cJSON *gr = cJSON_GetObjectItemCaseSensitive(p, "goroutines");

        if (i++ == 200) {
            sb_add(&b, "... %d more\n", n - 200);
            break;
        }
        sb_add(&b, "%8.0f %8.0f %-16.64s %-12.32s %-6s %.300s", num_of(p, "pid", 0), num_of(p, "ppid", 0),
               str_of(p, "name", "?"), str_of(p, "go_version_short", "?"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "agent")) ? "yes" : "no",
               str_of(p, "path", ""));
        if (cJSON_IsNumber(gr))
            sb_add(&b, " (%.0f goroutines)", gr->valuedouble);
        sb_add(&b, "\n");
    }
    cJSON_AddNumberToObject(st, "count", n);
    cJSON_AddItemToObject(st, "processes", cJSON_Duplicate(doc, 1));
    return tool_result(j->id, sb_take(&b), st, 0);
}

static char *result_profile(mcp_job_t *j, cJSON *doc)
{
    const cJSON *f;
    sb_t b = {0};
    double total = num_of(doc, "total", 0), sum = 0;
    const char *unit = str_of(doc, "unit", "");

    /* The file of a profile fetched for this call is gone after it. */
    if (j->tmpfile)
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "file");
    sb_add(&b, "%s profile of %s, sample type %s (%s), total %.0f %s\n", j->file ? "pprof" : kind_names[j->kind],
           j->file ? j->file : j->target, str_of(doc, "sample_type", "?"), unit, total, unit);
    sb_add(&b, "%14s %7s %7s %14s %7s  %s\n", "flat", "flat%", "sum%", "cum", "cum%", "function");
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "functions"))
    {
        double flat = num_of(f, "flat", 0), cum = num_of(f, "cum", 0);

        sum += flat;
        sb_add(&b, "%14.0f %6.2f%% %6.2f%% %14.0f %6.2f%%  %s\n", flat, total ? 100 * flat / total : 0,
               total ? 100 * sum / total : 0, cum, total ? 100 * cum / total : 0, str_of(f, "name", "?"));
    }
    return tool_result(j->id, sb_take(&b), cJSON_Duplicate(doc, 1), 0);
}

/* Why the command gave no answer, in words for the assistant. */
static char *failure(mcp_job_t *j, int status, int exit_status, const char *errtext)
{
    sb_t b = {0};
    const char *cmd = j->argv[0] ? j->argv[0] : "?";

    if (status == -ETIMEDOUT)
        sb_add(&b, "cgops %s did not answer within %llu s and was stopped", cmd,
               (unsigned long long)(j->timeout_ms / 1000));
    else if (status == -EFBIG)
        sb_add(&b, "cgops %s printed more than %zu MiB and was stopped; ask for less", cmd, j->max_out >> 20);
    else if (status == -ECANCELED)
        sb_add(&b, "cancelled");
    else if (status < 0)
        sb_add(&b, "cannot run cgops %s: %s", cmd, strerror(-status));
    else if (errtext && *errtext)
        sb_add(&b, "%s", errtext);
    else
        sb_add(&b, "cgops %s failed (exit status %d)", cmd, exit_status);
    return tool_result(j->id, sb_take(&b), NULL, 1);
}

int mcp_job_step(mcp_t *m, mcp_job_t *j, int status, int exit_status, const char *out, size_t outlen,
                 const char *errtext, char **reply)
{
    cJSON *doc;

    (void)m;
    *reply = NULL;
    if (status != 0 || exit_status != 0) {
        *reply = failure(j, status, exit_status, errtext);
        return 0;
    }
    if (j->tool == T_PROFILE_TOP && j->step == 0) {
        /* The profile is saved: now read it. */
        job_read_profile(j, j->tmpfile);
        return 1;
    }
    j->step++;
    doc = cJSON_ParseWithLength(out, outlen);
    if (doc == NULL || (!cJSON_IsObject(doc) && !cJSON_IsArray(doc)) ||
        ((j->tool == T_LIST) != cJSON_IsArray(doc) && j->tool != T_STACK)) {
        cJSON_Delete(doc);
        *reply = tool_result(j->id, cg_xstrdup("cgops printed something that is not the JSON it documents"),
                             NULL, 1);
        return 0;
    }
    switch (j->tool) {
    case T_LIST:
        *reply = result_list(j, doc);
        break;
    case T_GOROUTINES:
        *reply = result_goroutines(j, doc);
        break;
    case T_STACK:
        *reply = result_stack(j, doc);
        break;
    case T_PROFILE_TOP:
        *reply = result_profile(j, doc);
        break;
    case T_GC:
        *reply = tool_result(j->id, cg_xstrdup("garbage collection done"), cJSON_Duplicate(doc, 1), 0);
        break;
    case T_SETGC: {
        sb_t b = {0};

        sb_add(&b, "GC percent now %.0f (was %.0f)", num_of(doc, "new", 0), num_of(doc, "previous", 0));
        *reply = tool_result(j->id, sb_take(&b), cJSON_Duplicate(doc, 1), 0);
        break;
    }
    default: { /* process_info, summary, memstats: the document as it is */
        sb_t b = {0};

        if (j->tool == T_MEMSTATS)
            sb_add(&b, "memory statistics of %s\n", j->target);
        else if (j->tool == T_SUMMARY)
            sb_add(&b, "summary of process %lld\n", j->pid);
        else
            sb_add(&b, "process %lld\n", j->pid);
        render(&b, doc, 0);
        *reply = tool_result(j->id, sb_take(&b), cJSON_Duplicate(doc, 1), 0);
        break;
    }
    }
    cJSON_Delete(doc);
    return 0;
}

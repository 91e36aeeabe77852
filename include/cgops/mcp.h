/* mcp.h -- the Model Context Protocol messages of `cgops mcp`, fed strings
 *
 * JSON-RPC 2.0 over newline-delimited JSON, MCP revision 2025-06-18
 * (2025-03-26 and 2024-11-05 are accepted too).  This module holds no
 * handles and runs nothing: a line goes in, and out come a reply to write,
 * or a tool job (the cgops command lines to run, through subcmd.h, in the
 * caller), or the id of a request the client cancelled.  When a job's
 * command has ended, mcp_job_step turns its output into the tool's result
 * (or the next command: profile_top saves a profile, then reads it).  So
 * the whole protocol, arguments and results included, is testable and
 * fuzzable without processes (fuzz/fuzz-mcp.c).
 *
 * Read-only unless allow_write: tools that change the target (gc,
 * set_gc_percent, a CPU profile, which costs the target 30 s of profiling)
 * answer isError saying so.
 */
#ifndef CGOPS_MCP_H
#define CGOPS_MCP_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MCP_PROTOCOL_VERSION "2025-06-18"

/* A request line longer than this is answered with an error and skipped. */
#define MCP_LINE_MAX (1u << 20)

/* JSON-RPC error codes. */
#define MCP_PARSE_ERROR -32700
#define MCP_INVALID_REQUEST -32600
#define MCP_METHOD_NOT_FOUND -32601
#define MCP_INVALID_PARAMS -32602
#define MCP_INTERNAL_ERROR -32603

#define MCP_ARGV_MAX 24

typedef struct {
    int allow_write;
    const char *tmpdir; /* where profile_top saves profiles (the caller's) */
    int initialized;    /* initialize answered */
    char version[16];   /* the protocol revision agreed */
    unsigned long seq;  /* names temporary files */
} mcp_t;

typedef struct mcp_job {
    cJSON *id;   /* the request's id: the answer's */
    int tool;    /* index in the tool table */
    int step;    /* commands run so far */
    /* The next command to run: words, NULL-terminated (subcmd argv). */
    char *argv[MCP_ARGV_MAX + 1];
    uint64_t timeout_ms;
    size_t max_out;
    /* The arguments, checked. */
    long long pid;
    char *target, *file;
    char *tmpfile; /* a profile saved by step 1, for the caller to unlink */
    int group_by, limit, top, kind;
    long long percent;
} mcp_job_t;

/* What one line asks of the caller; any may be NULL. */
typedef struct {
    char *reply;     /* a JSON-RPC message to write, one line, no newline */
    mcp_job_t *job;  /* a tool call to run (its reply comes from mcp_job_step) */
    cJSON *cancel;   /* notifications/cancelled: the id of the request */
} mcp_out_t;

void mcp_init(mcp_t *m, int allow_write, const char *tmpdir);

/* Handle one line (without its newline; need not be NUL-terminated).
 * Fills *out (free its parts with mcp_out_free, or take them). */
void mcp_handle(mcp_t *m, const char *line, size_t len, mcp_out_t *out);
void mcp_out_free(mcp_out_t *out);

/* The error reply for a line that could not be read whole (over
 * MCP_LINE_MAX): id null, -32600. */
char *mcp_error_reply(const cJSON *id, int code, const char *msg);

/* job's command ended with subcmd's status (0, -ETIMEDOUT, -EFBIG, ...),
 * the child's exit status, its stdout and errtext.  Returns 1 when job->argv
 * holds a next command to run; 0 when *reply is set: the job is over (free
 * it with mcp_job_free). */
int mcp_job_step(mcp_t *m, mcp_job_t *job, int status, int exit_status, const char *out,
                 size_t outlen, const char *errtext, char **reply);

/* The answer to a job that cannot run (no room to spawn, say): isError. */
char *mcp_job_fail(mcp_job_t *job, const char *msg);

void mcp_job_free(mcp_job_t *job);

/* The tools/list result, for documentation checks. */
cJSON *mcp_tools_json(void);

#endif

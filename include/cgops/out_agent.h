/* out_agent.h -- how the agent commands frame their output
 *
 * One target: its reply as gops prints it, or one JSON document.  Several
 * targets: each reply under a "==> TARGET <==" header (as head(1) does), or
 * one JSON array of {"target", "pid", "result" | "error"} objects.  Each
 * function returns the bytes to write next as a NUL-terminated heap string
 * (free it), so the command writes them wherever the target's output goes
 * (stdout, or a spool until its turn).
 */
#ifndef CGOPS_OUT_AGENT_H
#define CGOPS_OUT_AGENT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    int json;
    int multi;           /* several targets (or --all) */
} out_agent_mode_t;

/* What comes before a target's reply.  idx is the target's place (0 is
 * the first); pid 0 for a host:port.  "" when nothing does. */
char *out_agent_open(out_agent_mode_t m, size_t idx, const char *display, pid_t pid);

/* A whole parsed reply, after out_agent_open (JSON only). */
char *out_agent_result(out_agent_mode_t m, const cJSON *v);

/* One goroutine of a stack dump (JSON only); first for the first one. */
char *out_agent_goroutine(out_agent_mode_t m, int first, const cJSON *g);

/* The end of a target's block.  ngoroutines >= 0 for a stack dump (how
 * many out_agent_goroutine wrote), -1 otherwise.  error is NULL when the
 * target succeeded.  A single target that failed before any of its
 * output was written gets an error object, so `--json` never prints a
 * result that reads as empty (an empty stack dump) for a failure. */
char *out_agent_close(out_agent_mode_t m, const char *display, pid_t pid, int ngoroutines,
                      const char *error);

/* The end of the whole document ("\n]\n" for several targets in JSON). */
char *out_agent_end(out_agent_mode_t m, size_t ntargets);

#endif

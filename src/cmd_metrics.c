/* cmd_metrics.c -- `cgops metrics`: the Prometheus exposition of every Go
 * process of the host, once (protocol/METRICS.md)
 *
 * For node_exporter's textfile collector, cron, and `cgops serve`, which
 * runs it in a child and caches what it prints.  The whole text is built
 * before anything is written, so a reader never sees half of it.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each process's own bound, within the run's (--timeout): a silent agent
 * or a huge walk costs at most this much, and only its own figures. */
#define PROC_TIMEOUT_NS (2000000000ull)
#define RUN_TIMEOUT_NS (10000000000ull)

typedef struct {
    int openmetrics;
    uint64_t timeout_ns;
    const char *state;
} metrics_cmd_opts_t;

const opt_t cmd_metrics_opts[] = {
    OPT_BOOL_(0, "openmetrics", metrics_cmd_opts_t, openmetrics, "print OpenMetrics 1.0.0 text (ends with # EOF)"),
    OPT_DURATION_(0, "timeout", metrics_cmd_opts_t, timeout_ns,
                  "bound on the whole run (default 10s; each process gets at most 2s of it)"),
    OPT_STRING_(0, "state", "FILE", metrics_cmd_opts_t, state,
                "carry cgops_scrape_errors_total across runs in FILE (read, added to, written back)"),
    OPT_END_(),
};

int cmd_metrics(int argc, char **argv, const cmd_t *cmd)
{
    metrics_cmd_opts_t o = {0};
    metrics_opts_t mo;
    metrics_run_t run;
    opt_args_t args;
    uint64_t prev[METRICS_ERR_N] = {0};
    char err[CG_ERR_LEN] = "";
    char *text = NULL;
    size_t len = 0;
    FILE *mem;
    int rc, procfd, status = CG_EXIT_OK;

    rc = opt_parse(cmd, argc, argv, &o, &args);
    if (rc != OPT_GO_ON)
        return rc;
    if (args.n) {
        rc = cmd_usage_error(cmd, "unexpected argument '%s'", args.v[0]);
        free(args.v);
        return rc;
    }
    free(args.v);
    mo.timeout_ns = o.timeout_ns ? o.timeout_ns : RUN_TIMEOUT_NS;
    mo.proc_timeout_ns = mo.timeout_ns < PROC_TIMEOUT_NS ? mo.timeout_ns : PROC_TIMEOUT_NS;

    /* A state file that cannot be read as ours starts the counters from
     * zero again (Prometheus takes that as a counter reset), said once. */
    if (o.state && metrics_state_load(o.state, prev, err) < 0) {
        cmd_error("%s; counting from zero", err);
        memset(prev, 0, sizeof prev);
    }
    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        cmd_error("cannot open /proc: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    rc = metrics_collect(procfd, &mo, &run, err);
    close(procfd);
    if (rc < 0) {
        cmd_error("%s", err);
        metrics_run_free(&run);
        return CG_EXIT_FAIL;
    }
    for (int r = 0; r < METRICS_ERR_N; r++)
        run.errors[r] = prev[r] + run.errors[r] < prev[r] ? UINT64_MAX : prev[r] + run.errors[r];
    if (o.state && metrics_state_save(o.state, run.errors, err) < 0) {
        cmd_error("%s", err);
        status = CG_EXIT_FAIL;
    }
    mem = open_memstream(&text, &len);
    if (mem == NULL) {
        metrics_run_free(&run);
        cmd_error("out of memory");
        return CG_EXIT_FAIL;
    }
    rc = metrics_render(mem, &run, o.openmetrics);
    if (fclose(mem) != 0 || rc < 0) {
        cmd_error("out of memory");
        status = CG_EXIT_FAIL;
    } else {
        fwrite(text, 1, len, stdout);
    }
    free(text);
    metrics_run_free(&run);
    return status;
}

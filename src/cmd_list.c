/* cmd_list.c -- `cgops` (list) and `cgops tree`: the Go processes of the host */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/out_list.h"
#include "cgops/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int json;
    int verbose;
    int goroutines;
} list_opts_t;

const opt_t cmd_list_opts[] = {
    OPT_BOOL_(0, "json", list_opts_t, json,
              "print a JSON document (protocol/schemas/list.schema.json, tree.schema.json)"),
    OPT_BOOL_('v', "verbose", list_opts_t, verbose, "say on stderr why a process was skipped or not marked"),
    OPT_BOOL_('g', "goroutines", list_opts_t, goroutines,
              "also count each process's goroutines, read from its memory (no agent needed)"),
    OPT_END_(),
};

static int run(int argc, char **argv, const cmd_t *cmd, int tree)
{
    list_opts_t o = {0};
    opt_args_t args;
    int json, verbose, procfd, rc, status = CG_EXIT_OK;
    scan_result_t res;

    rc = opt_parse(cmd, argc, argv, &o, &args);
    if (rc != OPT_GO_ON)
        return rc;
    json = o.json;
    verbose = o.verbose;
    if (args.n) {
        rc = cmd_usage_error(cmd, "unexpected argument '%s'", args.v[0]);
        free(args.v);
        return rc;
    }
    free(args.v);

    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        cmd_error("cannot open /proc: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    rc = scan_run(procfd, &res, verbose ? cmd_log : NULL, NULL);
    close(procfd);
    if (rc < 0) {
        cmd_error("cannot list /proc: %s", strerror(-rc));
        return CG_EXIT_FAIL;
    }
    for (size_t i = 0; o.goroutines && i < res.n; i++) {
        char err[CG_ERR_LEN] = "";
        uint64_t count;

        res.procs[i].counted = 1;
        res.procs[i].goroutines = -1;
        if (agentless_count(res.procs[i].pid, &count, err) == 0)
            res.procs[i].goroutines = (long long)count;
        else if (verbose)
            cmd_error("pid %d: goroutines not counted: %s", (int)res.procs[i].pid, err);
    }
    if (json) {
        cJSON *doc = tree ? out_tree_json(res.procs, res.n) : out_list_json(res.procs, res.n);
        if (out_json_write(stdout, doc) < 0)
            status = CG_EXIT_FAIL;
        cJSON_Delete(doc);
    } else if (tree) {
        out_tree_text(stdout, res.procs, res.n);
    } else {
        out_list_text(stdout, res.procs, res.n);
    }
    scan_free(&res);
    return status;
}

int cmd_list(int argc, char **argv, const cmd_t *cmd)
{
    return run(argc, argv, cmd, 0);
}

int cmd_tree(int argc, char **argv, const cmd_t *cmd)
{
    return run(argc, argv, cmd, 1);
}

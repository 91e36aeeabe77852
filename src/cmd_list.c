/* cmd_list.c -- `cgops` (list) and `cgops tree`: the Go processes of the host */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/out_json.h"
#include "cgops/out_list.h"
#include "cgops/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void log_stderr(const char *msg, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "cgops: %s\n", msg);
}

static int run(int argc, char **argv, const cmd_t *cmd, int tree)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, verbose = 0, c, procfd, rc, status = CG_EXIT_OK;
    scan_result_t res;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+jvh", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            return cmd_help(2, (char *[]){"help", (char *)cmd->name, NULL}, cmd_lookup("help"));
        default:
            return cmd_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);

    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        cmd_error("cannot open /proc: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    rc = scan_run(procfd, &res, verbose ? log_stderr : NULL, NULL);
    close(procfd);
    if (rc < 0) {
        cmd_error("cannot list /proc: %s", strerror(-rc));
        return CG_EXIT_FAIL;
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

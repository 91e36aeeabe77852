/* cmd_serve.c -- `cgops serve`: the HTTP API and /metrics until SIGTERM
 *
 * Reads the options and the token, starts the server (serve.c) on the
 * command's loop, says where it listens on stdout (one line, so a script
 * started with --listen 127.0.0.1:0 learns the port), and runs until
 * SIGTERM or SIGINT: then it stops accepting, lets the running commands
 * end, and exits 0.
 */
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/loop.h"
#include "cgops/serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *listen;
    const char *token_file;
    int allow_write;
    uint64_t min_interval_ns;
} serve_cmd_opts_t;

const opt_t cmd_serve_opts[] = {
    OPT_STRING_(0, "listen", "ADDR", serve_cmd_opts_t, listen,
                "listen on IP:PORT or [IPv6]:PORT (default 127.0.0.1:9465; port 0: any free port)"),
    OPT_STRING_(0, "token-file", "FILE", serve_cmd_opts_t, token_file,
                "require 'Authorization: Bearer TOKEN', TOKEN read from FILE (needed off loopback)"),
    OPT_BOOL_(0, "allow-write", serve_cmd_opts_t, allow_write,
              "allow gc, setgc, CPU profiles and traces (read-only by default)"),
    OPT_DURATION_(0, "min-interval", serve_cmd_opts_t, min_interval_ns,
                  "refresh /metrics at most this often (default 5s)"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

typedef struct {
    serve_t *srv;
    uv_signal_t sig[2];
    int signalled;
} run_t;

static void sig_cb(uv_signal_t *h, int signum)
{
    run_t *run = h->data;

    (void)signum;
    run->signalled = 1;
    serve_shutdown(run->srv, NULL, NULL);
    /* A second signal is the default one: ends at once. */
    uv_signal_stop(&run->sig[0]);
    uv_signal_stop(&run->sig[1]);
}

int cmd_serve(int argc, char **argv, const cmd_t *cmd)
{
    serve_cmd_opts_t o = {0};
    opt_args_t args;
    serve_opts_t so = {0};
    char token[SERVE_TOKEN_MAX + 1] = "";
    char err[CG_ERR_LEN] = "";
    uv_loop_t *loop;
    run_t run = {0};
    int rc;

    if ((rc = opt_parse(cmd, argc, argv, &o, &args)) != OPT_GO_ON)
        return rc;
    rc = args.n;
    free(args.v);
    if (rc != 0)
        return cmd_usage_error(cmd, "serve takes no arguments");
    if (o.min_interval_ns && o.min_interval_ns < 1000000)
        return cmd_usage_error(cmd, "--min-interval must be at least 1ms");
    if (o.token_file && serve_token_read(o.token_file, token, err) < 0)
        return cmd_error("%s", err), CG_EXIT_FAIL;
    so.listen = o.listen;
    so.token = token;
    so.allow_write = o.allow_write;
    so.min_interval_ms = o.min_interval_ns ? o.min_interval_ns / 1000000 : 5000;
    if ((loop = loop_new(err)) == NULL)
        return cmd_error("%s", err), CG_EXIT_FAIL;
    if (serve_start(loop, &so, &run.srv, err) < 0) {
        explicit_bzero(token, sizeof token);
        cmd_error("%s", err);
        loop_free(loop);
        return CG_EXIT_FAIL;
    }
    explicit_bzero(token, sizeof token);
    for (int i = 0; i < 2; i++) {
        uv_signal_init(loop, &run.sig[i]);
        run.sig[i].data = &run;
        uv_signal_start(&run.sig[i], sig_cb, i == 0 ? SIGTERM : SIGINT);
    }
    printf("serving http://%s/\n", serve_address(run.srv));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&run.sig[i], NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    serve_free(run.srv);
    loop_free(loop);
    return CG_EXIT_OK;
}

/* loop.c -- the one libuv loop of a command, and who may free it */
#include "cgops/loop.h"
#include "cgops/agent.h"
#include "cgops/common.h"

#include <errno.h>
#include <stdlib.h>

uv_loop_t *loop_new(char *err)
{
    uv_loop_t *loop = cg_xmalloc(sizeof *loop);
    int rc = uv_loop_init(loop);

    if (rc < 0) {
        cg_seterr(err, "cannot start the event loop: %s", uv_strerror(rc));
        free(loop);
        return NULL;
    }
    return loop;
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int loop_free(uv_loop_t *loop)
{
    int rc;

    if (loop == NULL)
        return 0;
    if (agent_lookups_abandoned())
        return -EBUSY; /* a resolver thread will still wake it: keep it */
    rc = uv_loop_close(loop);
    if (rc == UV_EBUSY) {
        /* Handles a command left open (a bug, but not one to crash on):
         * close them, let their callbacks run, and close again. */
        uv_walk(loop, close_walk_cb, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        rc = uv_loop_close(loop);
    }
    if (rc < 0)
        return -EBUSY;
    free(loop);
    return 0;
}

/* loop.h -- the one libuv loop of a command, and who may free it
 *
 * A host-name lookup that timed out is abandoned while it still runs in
 * libuv's thread pool (agent.h); when it returns, that thread locks the
 * loop's work-queue mutex and wakes the loop.  So the loop lives on the
 * heap, never on a command's stack frame, and loop_free keeps it (never
 * closed, never freed) while such a lookup may still touch it; main then
 * ends the process with _exit so that libuv's exit handler does not wait
 * for the resolver.
 */
#ifndef CGOPS_LOOP_H
#define CGOPS_LOOP_H

#include <uv.h>

/* A new loop, or NULL with err set. */
uv_loop_t *loop_new(char *err);

/* Close and free loop (NULL is fine).  Returns 0; -EBUSY when something of
 * it is still pending (an abandoned lookup): the loop is then kept on
 * purpose and stays valid until the process ends. */
int loop_free(uv_loop_t *loop);

#endif

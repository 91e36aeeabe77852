/* fanout.h -- many targets at once, their output in target order
 *
 * A command that queries many targets runs them concurrently but prints as
 * if it had run them one by one: the first unfinished item writes straight
 * to out, later ones write to a spool (spool.h) until their turn.  Each
 * item's messages for stderr (an error, a warning) are printed when its
 * turn comes, so they follow target order too.  Items are started in
 * waves within a descriptor budget (one descriptor per running item, one
 * per spilled spool), so a host with more targets than descriptors is
 * served rather than failing with "too many open files".
 *
 * The module knows nothing of sockets or loops: the command gives it a
 * start function and reports each item's end, so it is tested alone.
 * Everything is linear in the number of items.
 */
#ifndef CGOPS_FANOUT_H
#define CGOPS_FANOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct fanout fanout_t;

/* Start item idx's work (whose data is what fanout_add was given).  0 once
 * started; -errno when it could not start, after which the start function
 * itself has called fanout_finish for it. */
typedef int (*fanout_start_fn)(void *item, size_t idx);

typedef struct {
    FILE *out;                /* where the items' output goes (stdout) */
    FILE *err;                /* where their messages go (stderr) */
    size_t max_files;         /* descriptors for running items + spools, >= 1 */
    uint64_t spool_max;       /* bytes one waiting item may hold */
    uint64_t spool_total_max; /* bytes all waiting items may hold together */
    const char *tmpdir;       /* where spools spill */
    fanout_start_fn start;
    /* How a message is printed on err (the command's cmd_say, which makes
     * it safe for a terminal); NULL: "cgops: MSG" as it is. */
    void (*say)(FILE *f, const char *msg);
} fanout_config_t;

/* The config is copied. */
fanout_t *fanout_new(const fanout_config_t *cfg);
void fanout_free(fanout_t *f);

/* A new item at the end of the order, not started yet.  Returns its index. */
size_t fanout_add(fanout_t *f, void *item);

/* Start queued items, in order, while the budget allows.  Items added
 * after an output error are not started (finished as failed, silently). */
void fanout_pump(fanout_t *f);

/* Item idx writes n bytes: straight to out when it is its turn, else to its
 * spool.  Returns 0; -EFBIG when its spool (or all spools together) would
 * pass the max, unless frame is set (the few bytes that open and close an
 * item's block, so an item cut at its cap still ends its document); -errno
 * when out or the spool's temp file failed.  After out fails (EPIPE: the
 * reader went away), every write returns that error. */
int fanout_write(fanout_t *f, size_t idx, const void *buf, size_t n, int frame);

/* Item idx is over.  error (NULL: it succeeded) and warning (NULL: none)
 * are printed as "cgops: MSG" on err when its turn comes.  Started items
 * free their slot in the budget, and queued items start. */
void fanout_finish(fanout_t *f, size_t idx, const char *error, const char *warning);

/* 1 once every item added so far is finished and written out. */
int fanout_all_written(const fanout_t *f);

/* Number of items, and of items finished with an error. */
size_t fanout_count(const fanout_t *f);
size_t fanout_failed(const fanout_t *f);

/* The first write error on out (-errno), or 0. */
int fanout_out_error(const fanout_t *f);

#endif

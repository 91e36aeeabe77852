/* fanout.c -- many targets at once, their output in target order */
#include "cgops/fanout.h"
#include "cgops/common.h"
#include "cgops/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    void *data;
    spool_t spool;
    char *tail;    /* frames the spool could not take, written after it */
    size_t taillen;
    char *error;   /* printed in order */
    char *warning;
    int started;
    int running;   /* holds a descriptor */
    int finished;
    int spilled;   /* counted in f->spilled */
} item_t;

struct fanout {
    fanout_config_t cfg;
    item_t *items;
    size_t n, cap;
    size_t next_out;    /* first item not yet written out */
    size_t next_start;  /* first item not yet started */
    size_t running;     /* items holding a descriptor */
    size_t spilled;     /* spools holding a temp file */
    size_t spilled_done; /* of those, spools of finished items */
    uint64_t spooled;   /* bytes in all spools */
    size_t failed;
    int out_err;
    int pumping;        /* fanout_pump is on the stack */
};

static void say_plain(FILE *f, const char *msg)
{
    fprintf(f, "cgops: %s\n", msg);
}

fanout_t *fanout_new(const fanout_config_t *cfg)
{
    fanout_t *f = cg_xcalloc(1, sizeof *f);

    f->cfg = *cfg;
    if (f->cfg.say == NULL)
        f->cfg.say = say_plain;
    if (f->cfg.max_files == 0)
        f->cfg.max_files = 1;
    return f;
}

void fanout_free(fanout_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        spool_free(&f->items[i].spool);
        free(f->items[i].tail);
        free(f->items[i].error);
        free(f->items[i].warning);
    }
    free(f->items);
    free(f);
}

size_t fanout_add(fanout_t *f, void *data)
{
    item_t *it;

    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->items = cg_xrealloc(f->items, f->cap * sizeof *f->items);
    }
    it = &f->items[f->n];
    memset(it, 0, sizeof *it);
    it->data = data;
    /* The caps are the fanout's (frames pass them), not the spool's. */
    spool_init(&it->spool, UINT64_MAX, f->cfg.tmpdir);
    return f->n++;
}

static void note_spill(fanout_t *f, item_t *it)
{
    if (!it->spilled && spool_spilled(&it->spool)) {
        it->spilled = 1;
        f->spilled++;
    }
}

/* Give out to the next items in order, writing out what they hold and the
 * messages of those already finished. */
static void advance(fanout_t *f)
{
    while (f->next_out < f->n) {
        item_t *it = &f->items[f->next_out];
        uint64_t held = it->spool.size;
        int rc;

        if (held || it->spilled) {
            if (f->out_err) {
                spool_free(&it->spool);
                rc = 0;
            } else {
                rc = spool_drain(&it->spool, f->cfg.out);
            }
            f->spooled -= held;
            if (it->spilled) {
                it->spilled = 0;
                f->spilled--;
                if (it->finished)
                    f->spilled_done--;
            }
            if (rc < 0 && f->out_err == 0)
                f->out_err = rc;
        }
        if (it->taillen && f->out_err == 0 && fwrite(it->tail, 1, it->taillen, f->cfg.out) != it->taillen)
            f->out_err = -(errno ? errno : EIO);
        free(it->tail);
        it->tail = NULL;
        it->taillen = 0;
        if (!it->finished)
            return;
        if (f->out_err == 0 && (it->error || it->warning)) {
            /* stderr may be the same terminal: what came before goes first. */
            fflush(f->cfg.out);
            if (it->error)
                f->cfg.say(f->cfg.err, it->error);
            if (it->warning)
                f->cfg.say(f->cfg.err, it->warning);
        }
        free(it->error);
        free(it->warning);
        it->error = it->warning = NULL;
        f->next_out++;
    }
}

void fanout_pump(fanout_t *f)
{
    /* A start that fails finishes its item, which pumps again: the outer
     * call goes on instead, so the stack stays flat over any number of
     * failing items. */
    if (f->pumping)
        return;
    f->pumping = 1;
    /* A running item may spill, and then holds two descriptors (its
     * socket and its spool): count it twice.  One item always runs, or
     * nothing would ever be written. */
    while (f->next_start < f->n &&
           (f->running == 0 || 2 * (f->running + 1) + f->spilled_done <= f->cfg.max_files)) {
        size_t idx = f->next_start++;
        item_t *it = &f->items[idx];

        if (it->finished || it->started)
            continue;
        it->started = 1;
        if (f->out_err) {
            /* Nobody reads the output any more: do not start the work. */
            fanout_finish(f, idx, "", NULL);
            continue;
        }
        it->running = 1;
        f->running++;
        if (f->cfg.start(it->data, idx) < 0 && !it->finished)
            fanout_finish(f, idx, "cannot start", NULL);
    }
    f->pumping = 0;
}

int fanout_write(fanout_t *f, size_t idx, const void *buf, size_t n, int frame)
{
    item_t *it = &f->items[idx];
    int rc;

    if (f->out_err)
        return f->out_err;
    if (idx == f->next_out) {
        if (n && fwrite(buf, 1, n, f->cfg.out) != n) {
            f->out_err = -(errno ? errno : EIO);
            return f->out_err;
        }
        return 0;
    }
    if (!frame && (n > f->cfg.spool_max || it->spool.size > f->cfg.spool_max - n ||
                   n > f->cfg.spool_total_max || f->spooled > f->cfg.spool_total_max - n))
        return -EFBIG;
    /* Once a frame went to the tail, everything after it goes there too
     * (only frames: the item has failed), to keep their order. */
    rc = it->taillen ? -EIO : spool_write(&it->spool, buf, n);
    if (rc == 0)
        f->spooled += n;
    note_spill(f, it);
    if (rc < 0 && frame) {
        /* The few bytes that close an item's block must come out even
         * when its spool cannot take them (no $TMPDIR, a full disk), or
         * the document would be cut: they wait in memory. */
        it->tail = cg_xrealloc(it->tail, it->taillen + n);
        memcpy(it->tail + it->taillen, buf, n);
        it->taillen += n;
        return 0;
    }
    return rc;
}

void fanout_finish(fanout_t *f, size_t idx, const char *error, const char *warning)
{
    item_t *it = &f->items[idx];

    if (it->finished)
        return;
    it->finished = 1;
    it->started = 1;
    if (error) {
        f->failed++;
        /* An empty message: a failure already reported (an output error). */
        it->error = error[0] ? cg_xstrdup(error) : NULL;
    }
    if (warning)
        it->warning = cg_xstrdup(warning);
    if (it->running) {
        it->running = 0;
        f->running--;
    }
    if (it->spilled)
        f->spilled_done++;
    if (idx == f->next_out)
        advance(f);
    fanout_pump(f);
}

int fanout_all_written(const fanout_t *f)
{
    return f->next_out == f->n;
}

size_t fanout_count(const fanout_t *f)
{
    return f->n;
}

size_t fanout_failed(const fanout_t *f)
{
    return f->failed;
}

int fanout_out_error(const fanout_t *f)
{
    return f->out_err;
}

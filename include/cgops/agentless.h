/* agentless.h -- what the agentless commands (goroutines, summary, top,
 * memstats --agentless, stack without an agent) share: argument checks,
 * opening a target with a message, the dump, grouping and thread CPU
 */
#ifndef CGOPS_AGENTLESS_H
#define CGOPS_AGENTLESS_H

#include "cgops/cmd.h"
#include "cgops/godwarf.h"
#include "cgops/gort.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

int agentless_pid_arg(const cmd_t *cmd, const opt_args_t *args, pid_t *pid);
int agentless_depth_arg(const cmd_t *cmd, const char *s, int *depth);
/* gort_open with the error said on stderr; CG_EXIT_OK or CG_EXIT_FAIL. */
int agentless_open(pid_t pid, unsigned flags, gort_t **r);
/* After a GORT_STOP read: 1 (said on stderr) when the process was let go
 * early because cgops was suspended (SIGTSTP, SIGTTIN, SIGTTOU). */
int agentless_released_early(void);
/* The goroutine dump (text like the runtime's traceback, or JSON). */
int agentless_dump(pid_t pid, int json, int stop, int user, int depth);
/* The agent's memstats keys, read from the runtime's globals (needs DWARF). */
int agentless_memstats(pid_t pid, int json);

/* Live goroutines of pid, read from its memory: the cheap walk (no
 * stacks).  0, or -errno with err. */
int agentless_count(pid_t pid, uint64_t *n, char *err);

/* The goroutines of pid by status, read as agentless_count does, and
 * GOMAXPROCS (metrics).  user counts them as runtime.NumGoroutine does
 * (the runtime's own left out).  deadline: CLOCK_MONOTONIC ns (cg_now_ns)
 * after which the walk gives up with -ETIMEDOUT, 0 for none. */
typedef struct {
    uint64_t by_status[GORT_NSTATUS];
    uint64_t total, user;
    int have_gomaxprocs;
    int32_t gomaxprocs;
} agentless_counts_t;
int agentless_counts(pid_t pid, uint64_t deadline, agentless_counts_t *c, char *err);

/* The same with the executable's tables parsed once per executable
 * (device, inode, size, mtime: gort_exe_t) and kept in cache, failures
 * included, for many processes running the same binary. */
typedef struct agentless_execache agentless_execache_t;
agentless_execache_t *agentless_execache_new(void);
void agentless_execache_free(agentless_execache_t *cache);
int agentless_counts_cached(agentless_execache_t *cache, pid_t pid, uint64_t deadline, agentless_counts_t *c,
                            char *err);

/* What identifies an executable's contents, as the kernel has it open for
 * a process: a binary replaced or rebuilt in place has another inode or
 * mtime.  The caches (execache, dwcache) key their entries by it. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} agentless_fileid_t;
void agentless_fileid_set(agentless_fileid_t *id, const struct stat *st);
int agentless_fileid_is(const agentless_fileid_t *id, const struct stat *st);

/* What only DWARF locates (cmd_memstats_agentless.c): the scheduler's
 * counters (runtime.sched) for summary, and the memstats figures. */
typedef struct {
    int valid;
    int64_t runq;        /* global run queue */
    int64_t idle_ms, spinning_ms, idle_ps, system_ms;
} agentless_sched_t;

/* The memstats keys computed from memory (vals has GODWARF_MS_KEYS room);
 * *missing (if not NULL) the keys left out.  0 or -errno with err. */
int agentless_memstats_values(pid_t pid, godwarf_msval_t *vals, size_t *n, const char *const **missing,
                              char *err);
/* The same for many processes (metrics): what comes from the executable
 * (build info, DWARF, the plan of the fields) is parsed once per
 * executable (device, inode, size, mtime) and kept in c, failures
 * included; only the memory is read per process.  0 or -errno with err. */
typedef struct agentless_dwcache agentless_dwcache_t;
agentless_dwcache_t *agentless_dwcache_new(void);
void agentless_dwcache_free(agentless_dwcache_t *c);
int agentless_memstats_values_cached(agentless_dwcache_t *c, pid_t pid, godwarf_msval_t *vals, size_t *n,
                                     char *err);
/* Both for summary, the DWARF and the memory opened once.  0 or -errno with
 * err (sched->valid and *n say what was read). */
int agentless_dwarf_figures(pid_t pid, agentless_sched_t *sched, godwarf_msval_t *vals, size_t *n, char *err);

/* The agent's formats: formatBytes ("1.50KB (1536 bytes)") and Go's %v
 * of a float64. */
void agentless_format_bytes(uint64_t n, char *buf, size_t size);
/* vals as the agent prints them: "key: value\n" lines (heap string). */
char *agentless_memstats_text(const godwarf_msval_t *vals, size_t n);
void agentless_format_float(double v, char *buf, size_t size);

/* How goroutines are grouped (summary, top --by). */
typedef enum { GROUP_LOCATION, GROUP_START, GROUP_CREATOR, GROUP_WAIT } group_by_t;
int agentless_group_parse(const char *s, group_by_t *by);
const char *agentless_group_name(group_by_t by);
/* The key of g under `by`: the first frame outside the runtime
 * (location), its start function, its creator, or its state. */
const char *agentless_group_key(gort_t *r, const gort_g_t *g, group_by_t by);

/* Counts per key; keys are strings that live as long as the gort_t (names
 * from the executable, wait reasons), compared by content. */
typedef struct {
    const char *key;
    uint64_t count;
    uint64_t prev;     /* count at the previous refresh (top) */
    double cpu;        /* percent of one CPU charged to it (top) */
    int seen;          /* present in the current refresh */
} group_t;

typedef struct {
    group_t *v;
    size_t n, cap;
    size_t *slots; /* open addressing: index+1 into v, 0 empty */
    size_t nslots;
} groups_t;

group_t *groups_get(groups_t *gs, const char *key);
void groups_free(groups_t *gs);

/* Threads of pid from /proc/PID/task: state letter and CPU ticks each. */
typedef struct {
    pid_t tid;
    char state;
    unsigned long long ticks; /* utime + stime */
} thread_t;
int agentless_threads(pid_t pid, thread_t **out, size_t *n);

#endif

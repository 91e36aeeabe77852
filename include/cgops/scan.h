/* scan.h -- the Go processes of a host: /proc + gobin + portfile, joined once
 *
 * scan_run walks /proc and builds an array of Go processes sorted by pid.
 * Each distinct executable (device, inode, size, mtime) is parsed once per
 * run, and a process whose executable is already known not to be Go costs
 * one stat of /proc/PID/exe and nothing more.
 */
#ifndef CGOPS_SCAN_H
#define CGOPS_SCAN_H

#include "cgops/gobin.h"

#include <limits.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    pid_t ppid;
    char name[256];          /* gops's name rule (proc_name_from) */
    const char *path;        /* readlink of /proc/PID/exe, " (deleted)" kept;
                              * owned by the scan_result_t (heap, so the array
                              * of a few hundred processes stays small) */
    int deleted;             /* the executable was unlinked */
    const gobin_info_t *bin; /* shared by every process of that executable */
    int agent;               /* a port file was found and not disproved */
    int agent_port;
    int agent_verified;      /* the pid was seen to hold the port */
    int counted;             /* goroutines below was asked for (list --goroutines) */
    long long goroutines;    /* live goroutines read from memory, -1 unreadable */
} scan_proc_t;

typedef struct scan_cache scan_cache_t;

typedef struct {
    scan_proc_t *procs;
    size_t n;
    scan_cache_t *cache; /* owns the gobin_info_t the procs point to */
    size_t nexes;        /* distinct executables parsed during the run */
} scan_result_t;

/* Why a process was skipped or not marked, for -v.  msg is one line. */
typedef void (*scan_log_fn)(const char *msg, void *ctx);

/* Walk the /proc at procfd.  Vanished, unreadable, kernel and non-ELF
 * processes are skipped (log, when not NULL, says why).  Returns 0, or
 * -errno when /proc itself cannot be listed. */
int scan_run(int procfd, scan_result_t *out, scan_log_fn log, void *ctx);

/* scan_run, calling found (when not NULL) with each Go process as soon as
 * it is known, in pid order: a caller can act on it while the walk goes on.
 * p is valid during the call only. */
typedef void (*scan_found_fn)(const scan_proc_t *p, void *ctx);
int scan_run_each(int procfd, scan_result_t *out, scan_log_fn log, void *ctx,
                  scan_found_fn found, void *found_ctx);

void scan_free(scan_result_t *res);

#endif

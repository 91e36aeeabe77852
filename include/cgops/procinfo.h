/* procinfo.h -- what `cgops PID` shows, from /proc: pure parsers and
 * formatters (text in, values out) so tests feed them strings */
#ifndef CGOPS_PROCINFO_H
#define CGOPS_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* MemTotal of /proc/meminfo, in bytes.  Returns 0 or -EINVAL. */
int procinfo_parse_memtotal(const char *meminfo, unsigned long long *bytes);

/* btime of /proc/stat (boot time, unix seconds).  Returns 0 or -EINVAL. */
int procinfo_parse_btime(const char *stat, long long *btime);

/* Real uid (first field of "Uid:") of /proc/PID/status.  0 or -EINVAL. */
int procinfo_parse_uid(const char *status, uid_t *uid);

/* Elapsed seconds as ps's etime: [[DD-]HH:]MM:SS. */
void procinfo_format_etime(long long secs, char *buf, size_t size);

/* Go's time.Duration.String() for a non-negative duration in ns:
 * "500ms", "2s", "1m30s", "1.5s", "0s". */
void procinfo_format_go_duration(long long ns, char *buf, size_t size);

/* PERIOD argument: a Go duration ("2s", "500ms") or plain seconds ("2",
 * "0.5").  Returns 0 or -EINVAL; the result must be > 0. */
int procinfo_parse_period(const char *s, long long *ns);

/* argv from the NUL-separated cmdline, joined by spaces (gops's cmd+args). */
void procinfo_join_cmdline(const char *cmdline, size_t len, char *buf, size_t size);

#endif

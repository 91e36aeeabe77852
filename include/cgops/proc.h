/* proc.h -- reading processes from /proc
 *
 * The /proc root is passed in as a directory fd (procfd) so tests can point
 * it elsewhere.  Each process is read through one pid directory fd, so a row
 * comes from a single process; if it exits the read fails with -ENOENT or
 * -ESRCH, which callers treat as "gone", not as an error.  Parsers take text
 * so tests feed them strings.
 */
#ifndef CGOPS_PROC_H
#define CGOPS_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The fields of /proc/PID/stat that cgops uses (man 5 proc numbering). */
typedef struct {
    pid_t pid;                     /* (1) */
    char comm[64];                 /* (2) without the parentheses */
    char state;                    /* (3) R S D Z T t X I ... */
    pid_t ppid;                    /* (4) */
    unsigned long long utime;      /* (14) clock ticks */
    unsigned long long stime;      /* (15) clock ticks */
    long num_threads;              /* (20) */
    unsigned long long starttime;  /* (22) clock ticks after boot */
    long long rss_pages;           /* (24) */
} proc_stat_t;

/* Parse the text of /proc/PID/stat.  comm ends at the last ')', so names with
 * spaces or parentheses parse.  Returns 0 or -EINVAL. */
int proc_parse_stat(const char *text, proc_stat_t *out);

/* Open /proc/PID as a directory fd (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC).
 * Returns the fd or -errno (-ENOENT when the process is gone). */
int proc_pid_open(int procfd, pid_t pid);

/* Read and parse PIDDIR/stat.  Returns 0 or -errno. */
int proc_read_stat(int piddirfd, proc_stat_t *out, char *err);

/* The process name gops shows: the kernel's comm, extended to argv[0]'s base
 * name when the comm (cut by the kernel at 15 bytes) is a prefix of it.
 * cmdline is the raw NUL-separated /proc/PID/cmdline (may be NULL/empty).
 * A newline or backslash in it is escaped ("\n", "\\") as the kernel does in
 * /proc/PID/status, where gops reads the name. */
void proc_name_from(const char *comm, const char *cmdline, size_t cmdline_len,
                    char *name, size_t size);

/* The namespace NAME ("net", "mnt") of the process whose directory is
 * piddirfd, as the inode number its ns/NAME link names ("net:[4026531840]"):
 * every namespace is an inode of the one nsfs, so the number alone tells
 * them apart, and it equals st_ino of a stat through the link.  Reading the
 * link costs half of that stat (no nsfs dentry, no getattr).  Returns 0 or
 * -errno (-EACCES without ptrace read access to the process). */
int proc_ns_ino(int piddirfd, const char *name, unsigned long *ino);

/* qsort/bsearch comparison of two pid_t. */
int proc_pid_cmp(const void *a, const void *b);

/* Every numeric entry of the /proc directory, sorted ascending.  *pids is
 * heap-allocated (free()).  Returns 0 or -errno. */
int proc_list_pids(int procfd, pid_t **pids, size_t *n);

#endif

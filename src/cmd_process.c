/* cmd_process.c -- `cgops PID [PERIOD]` and `cgops process PID [PERIOD]`
 *
 * The gops lines come first, with gops's labels, tabs and number formats,
 * so scripts written for gops keep working; what gops lacks (Go version,
 * agent) follows them.  Everything is read from /proc directly.
 */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/gobin.h"
#include "cgops/out_json.h"
#include "cgops/out_list.h"
#include "cgops/portfile.h"
#include "cgops/proc.h"
#include "cgops/proc_net.h"
#include "cgops/procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    proc_stat_t st;
    double mem_percent;
    double cpu_percent;
    double period_percent;
    long long period_ns;
    char user[256];
    char *cmdline;          /* whole, however long (gops prints it all) */
    char **argv;
    size_t argc;
    long long elapsed;
    proc_sock_t *socks;
    size_t nsocks;
    gobin_info_t bin;
    int bin_ok;
    portfile_t pf;
    int agent;
    long long goroutines;          /* read from memory; -1 when not */
    char goroutines_err[CG_ERR_LEN];
} info_t;

static double cpu_seconds(const proc_stat_t *st, long ticks)
{
    return (double)(st->utime + st->stime) / (double)ticks;
}

/* The process's sockets.  A table that does not exist (IPv6 disabled) is
 * not an error; any other failure is said on stderr, so a short list is
 * never shown as if it were whole. */
static void read_sockets(int dirfd, pid_t pid, info_t *in)
{
    static const int kinds[][2] = {
        {IPPROTO_TCP, AF_INET}, {IPPROTO_TCP, AF_INET6}, {IPPROTO_UDP, AF_INET}, {IPPROTO_UDP, AF_INET6},
    };
    static const char *const names[] = {"tcp", "tcp6", "udp", "udp6"};
    proc_sock_t *all = NULL;
    size_t nall = 0, ninodes = 0;
    unsigned long *inodes = NULL;
    int rc;

    rc = proc_net_fd_inodes(dirfd, &inodes, &ninodes);
    if (rc < 0) {
        if (rc != -ENOENT && rc != -ESRCH)
            cmd_error("pid %d: cannot list its sockets: %s", (int)pid, strerror(-rc));
        return;
    }
    for (size_t k = 0; k < CG_ARRAY_SIZE(kinds); k++) {
        rc = proc_net_read(dirfd, kinds[k][0], kinds[k][1], &all, &nall);
        if (rc < 0 && rc != -ENOENT)
            cmd_error("pid %d: cannot read its %s sockets: %s", (int)pid, names[k], strerror(-rc));
    }
    /* The tables list the whole namespace; keep this process's sockets. */
    for (size_t i = 0; i < nall; i++) {
        if (all[i].inode == 0 || !proc_net_has_inode(inodes, ninodes, all[i].inode))
            continue;
        in->socks = cg_xrealloc(in->socks, (in->nsocks + 1) * sizeof *in->socks);
        in->socks[in->nsocks++] = all[i];
    }
    free(all);
    free(inodes);
}

static int gather(int procfd, pid_t pid, info_t *in, char *err)
{
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    char *buf = NULL;
    size_t len;
    int dirfd, rc, exefd;
    unsigned long long memtotal = 0;
    long long btime = 0;
    uid_t uid;
    struct passwd *pw;
    struct timespec now;

    dirfd = proc_pid_open(procfd, pid);
    if (dirfd < 0) {
        cg_seterr(err, "pid %d: %s", (int)pid, dirfd == -ENOENT ? "no such process" : strerror(-dirfd));
        return dirfd;
    }
    rc = proc_read_stat(dirfd, &in->st, err);
    if (rc < 0) {
        cg_seterr(err, "pid %d: %s", (int)pid, rc == -ENOENT || rc == -ESRCH ? "no such process" : strerror(-rc));
        close(dirfd);
        return rc;
    }
    if (cg_read_file_at(procfd, "meminfo", 65536, &buf, &len, NULL) == 0) {
        procinfo_parse_memtotal(buf, &memtotal);
        free(buf);
    }
    if (memtotal)
        in->mem_percent = 100.0 * (double)in->st.rss_pages * (double)page / (double)memtotal;
    if (cg_read_file_at(procfd, "stat", 1 << 20, &buf, &len, NULL) == 0) {
        procinfo_parse_btime(buf, &btime);
        free(buf);
    }
    clock_gettime(CLOCK_REALTIME, &now);
    {
        double start = (double)btime + (double)in->st.starttime / (double)ticks;
        double up = (double)now.tv_sec + now.tv_nsec / 1e9 - start;

        in->elapsed = up > 0 ? (long long)up : 0;
        if (up > 0)
            in->cpu_percent = 100.0 * cpu_seconds(&in->st, ticks) / up;
    }
    snprintf(in->user, sizeof in->user, "?");
    if (cg_read_file_at(dirfd, "status", 65536, &buf, &len, NULL) == 0) {
        if (procinfo_parse_uid(buf, &uid) == 0) {
            pw = getpwuid(uid);
            if (pw)
                cg_strlcpy(in->user, pw->pw_name, sizeof in->user);
            else
                snprintf(in->user, sizeof in->user, "%u", (unsigned)uid);
        }
        free(buf);
    }
    /* The kernel allows argument strings of several MiB in all. */
    if (cg_read_proc_mem_at(dirfd, "cmdline", 16u << 20, &buf, &len, NULL) == 0) {
        size_t i = 0;
        in->cmdline = cg_xmalloc(len + 1);
        procinfo_join_cmdline(buf, len, in->cmdline, len + 1);
        while (i < len) {
            size_t l = strnlen(buf + i, len - i);
            in->argv = cg_xrealloc(in->argv, (in->argc + 1) * sizeof *in->argv);
            in->argv[in->argc] = cg_xmalloc(l + 1);
            memcpy(in->argv[in->argc], buf + i, l);
            in->argv[in->argc++][l] = '\0';
            i += l + 1;
        }
        free(buf);
    }
    read_sockets(dirfd, pid, in);
    exefd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC);
    if (exefd >= 0) {
        in->bin_ok = gobin_read_fd(exefd, &in->bin, NULL) == 0;
        close(exefd);
    }
    close(dirfd);
    in->agent = portfile_find(procfd, pid, &in->pf, NULL) == 0;
    in->goroutines = -1;
    if (in->bin_ok && in->bin.is_go) {
        uint64_t n;

        /* What is known without an agent: a few ms of reading. */
        if (agentless_count(pid, &n, in->goroutines_err) == 0)
            in->goroutines = (long long)n;
    }
    return 0;
}

static void print_text(const info_t *in)
{
    char buf[64], *safe;

    printf("parent PID:\t%d\n", (int)in->st.ppid);
    printf("threads:\t%ld\n", in->st.num_threads);
    printf("memory usage:\t%.3f%%\n", in->mem_percent);
    printf("cpu usage:\t%.3f%%\n", in->cpu_percent);
    if (in->period_ns) {
        procinfo_format_go_duration(in->period_ns, buf, sizeof buf);
        printf("cpu usage (%s):\t%.3f%%\n", buf, in->period_percent);
    }
    safe = cg_text_safe(in->user);
    printf("username:\t%s\n", safe);
    free(safe);
    safe = cg_text_safe(in->cmdline ? in->cmdline : "");
    printf("cmd+args:\t%s\n", safe);
    free(safe);
    procinfo_format_etime(in->elapsed, buf, sizeof buf);
    printf("elapsed time:\t%s\n", buf);
    for (size_t i = 0; i < in->nsocks; i++) {
        char l[80], r[80];
        proc_net_addr_format(&in->socks[i], 0, l, sizeof l);
        proc_net_addr_format(&in->socks[i], 1, r, sizeof r);
        printf("local/remote:\t%s <-> %s (%s)\n", l, r,
               proc_net_state_name(in->socks[i].proto, in->socks[i].state));
    }
    if (in->bin_ok && in->bin.is_go) {
        safe = cg_text_safe(in->bin.version[0] ? in->bin.version : "unknown");
        printf("go version:\t%s\n", safe);
        free(safe);
    } else {
        printf("go version:\t-\n");
    }
    if (in->goroutines >= 0) {
        printf("goroutines:\t%lld\n", in->goroutines);
    } else if (in->bin_ok && in->bin.is_go) {
        safe = cg_text_safe(in->goroutines_err);
        printf("goroutines:\t- (%s)\n", safe);
        free(safe);
    }
    if (in->agent) {
        safe = cg_text_safe(in->pf.path);
        printf("agent:\tport %d (%s)\n", in->pf.port, safe);
        free(safe);
    } else {
        printf("agent:\tnone\n");
    }
}

static cJSON *to_json(pid_t pid, const info_t *in)
{
    cJSON *o = cJSON_CreateObject(), *a, *socks;
    char buf[64];

    cJSON_AddNumberToObject(o, "pid", pid);
    cJSON_AddNumberToObject(o, "ppid", in->st.ppid);
    cJSON_AddNumberToObject(o, "threads", (double)in->st.num_threads);
    cJSON_AddNumberToObject(o, "memory_percent", in->mem_percent);
    cJSON_AddNumberToObject(o, "cpu_percent", in->cpu_percent);
    if (in->period_ns) {
        cJSON *p = cJSON_AddObjectToObject(o, "cpu_period");
        procinfo_format_go_duration(in->period_ns, buf, sizeof buf);
        cJSON_AddStringToObject(p, "period", buf);
        cJSON_AddNumberToObject(p, "period_ns", (double)in->period_ns);
        cJSON_AddNumberToObject(p, "percent", in->period_percent);
    } else {
        cJSON_AddNullToObject(o, "cpu_period");
    }
    cJSON_AddStringToObject(o, "username", in->user);
    a = cJSON_AddArrayToObject(o, "cmdline");
    for (size_t i = 0; i < in->argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(in->argv[i]));
    cJSON_AddNumberToObject(o, "elapsed_seconds", (double)in->elapsed);
    socks = cJSON_AddArrayToObject(o, "sockets");
    for (size_t i = 0; i < in->nsocks; i++) {
        cJSON *s = cJSON_CreateObject();
        char l[80], r[80];
        proc_net_addr_format(&in->socks[i], 0, l, sizeof l);
        proc_net_addr_format(&in->socks[i], 1, r, sizeof r);
        cJSON_AddStringToObject(s, "proto", in->socks[i].proto == IPPROTO_TCP
                                                ? (in->socks[i].family == AF_INET6 ? "tcp6" : "tcp")
                                                : (in->socks[i].family == AF_INET6 ? "udp6" : "udp"));
        cJSON_AddStringToObject(s, "local", l);
        cJSON_AddStringToObject(s, "remote", r);
        cJSON_AddStringToObject(s, "state", proc_net_state_name(in->socks[i].proto, in->socks[i].state));
        cJSON_AddItemToArray(socks, s);
    }
    if (in->bin_ok && in->bin.is_go && in->bin.version[0])
        cJSON_AddStringToObject(o, "go_version", in->bin.version);
    else
        cJSON_AddNullToObject(o, "go_version");
    cJSON_AddBoolToObject(o, "go", in->bin_ok && in->bin.is_go);
    if (in->goroutines >= 0)
        cJSON_AddNumberToObject(o, "goroutines", (double)in->goroutines);
    else
        cJSON_AddNullToObject(o, "goroutines");
    if (in->goroutines < 0 && in->goroutines_err[0])
        cJSON_AddStringToObject(o, "goroutines_error", in->goroutines_err);
    else
        cJSON_AddNullToObject(o, "goroutines_error");
    if (in->agent) {
        cJSON *ag = cJSON_AddObjectToObject(o, "agent");
        cJSON_AddNumberToObject(ag, "port", in->pf.port);
        cJSON_AddStringToObject(ag, "portfile", in->pf.path);
        cJSON_AddBoolToObject(ag, "verified", in->pf.verified);
    } else {
        cJSON_AddNullToObject(o, "agent");
    }
    return o;
}

typedef struct {
    int json;
} process_opts_t;

const opt_t cmd_process_opts[] = {
    OPT_BOOL_(0, "json", process_opts_t, json, "print a JSON document (protocol/schemas/process.schema.json)"),
    OPT_SEPARATOR_(),
    OPT_END_(),
};

int cmd_process(int argc, char **argv, const cmd_t *cmd)
{
    process_opts_t o = {0};
    opt_args_t args;
    int json, procfd, rc;
    long long pid;
    uint64_t period = 0;
    info_t in;
    char err[CG_ERR_LEN] = "";

    rc = opt_parse(cmd, argc, argv, &o, &args);
    if (rc != OPT_GO_ON)
        return rc;
    json = o.json;
    rc = CG_EXIT_USAGE;
    if (args.n == 0)
        cmd_usage_error(cmd, "missing pid");
    else if (args.n > 2)
        cmd_usage_error(cmd, "unexpected argument '%s'", args.v[2]);
    else if (cg_parse_ll(args.v[0], 1, 0x7fffffff, &pid) != 0 || args.v[0][0] == '+' || args.v[0][0] == '-')
        cmd_usage_error(cmd, "invalid pid '%s'", args.v[0]);
    else if (args.n == 2 && opt_parse_duration(args.v[1], &period) != 0)
        cmd_usage_error(cmd, "invalid period '%s': want a duration such as 2s or 500ms, or seconds", args.v[1]);
    else
        rc = OPT_GO_ON;
    free(args.v);
    if (rc != OPT_GO_ON)
        return rc;

    procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        cmd_error("cannot open /proc: %s", strerror(errno));
        return CG_EXIT_FAIL;
    }
    memset(&in, 0, sizeof in);
    rc = gather(procfd, (pid_t)pid, &in, err);
    if (rc == 0 && period) {
        /* CPU time used over PERIOD, from two samples of stat. */
        int dirfd = proc_pid_open(procfd, (pid_t)pid);
        proc_stat_t a, b;
        uint64_t t0, t1;
        long ticks = sysconf(_SC_CLK_TCK);

        rc = dirfd < 0 ? dirfd : proc_read_stat(dirfd, &a, err);
        t0 = cg_now_ns();
        if (rc == 0) {
            struct timespec ts = {(time_t)(period / 1000000000u), (long)(period % 1000000000u)};
            nanosleep(&ts, NULL);
            rc = proc_read_stat(dirfd, &b, err);
            t1 = cg_now_ns();
            if (rc == 0)
                in.period_percent = 100.0 * (cpu_seconds(&b, ticks) - cpu_seconds(&a, ticks)) /
                                    ((double)(t1 - t0) / 1e9);
        }
        if (dirfd >= 0)
            close(dirfd);
        if (rc < 0)
            cg_seterr(err, "pid %d: exited while measuring", (int)pid);
        in.period_ns = (long long)period;
    }
    close(procfd);
    if (rc < 0) {
        cmd_error("%s", err);
        rc = CG_EXIT_FAIL;
    } else if (json) {
        cJSON *doc = to_json((pid_t)pid, &in);
        rc = out_json_write(stdout, doc) < 0 ? CG_EXIT_FAIL : CG_EXIT_OK;
        cJSON_Delete(doc);
    } else {
        print_text(&in);
        rc = CG_EXIT_OK;
    }
    for (size_t i = 0; i < in.argc; i++)
        free(in.argv[i]);
    free(in.argv);
    free(in.cmdline);
    free(in.socks);
    return rc;
}

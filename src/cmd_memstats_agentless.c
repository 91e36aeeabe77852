/* cmd_memstats_agentless.c -- `cgops memstats PID` without an agent
 *
 * The figures runtime.ReadMemStats would give, computed from the runtime's
 * globals in the process's memory (godwarf.h: located and laid out by the
 * binary's DWARF, by field name, per release).  The text is the agent's,
 * line for line, so that --json goes through the same parser as an
 * agent's reply (proto_memstats_json): one JSON shape for both.  Keys that
 * cannot be computed exactly from memory are left out and named on
 * stderr; without DWARF nothing is printed but the reason.
 */
#include "cgops/agentless.h"
#include "cgops/cmd.h"
#include "cgops/common.h"
#include "cgops/gobin.h"
#include "cgops/godwarf.h"
#include "cgops/goexe.h"
#include "cgops/gomem.h"
#include "cgops/gort.h"
#include "cgops/out_json.h"
#include "cgops/procinfo.h"
#include "cgops/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* The agent's formatBytes: "N bytes" under 1 KiB, else "%.2f<unit> (N bytes)". */
void agentless_format_bytes(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    size_t i = 0;

    if (n < 1024) {
        snprintf(buf, size, "%llu bytes", (unsigned long long)n);
        return;
    }
    while (v >= 1024 && i < CG_ARRAY_SIZE(units) - 1) {
        v /= 1024;
        i++;
    }
    snprintf(buf, size, "%.2f%s (%llu bytes)", v, units[i], (unsigned long long)n);
}

/* Go's %v of a float64: the shortest digits that read back the same, in
 * %e form when the exponent is < -4 or >= 6 (strconv 'g' with precision
 * -1 decides with precision 6: fmt.Println(1e6) prints 1e+06). */
void agentless_format_float(double v, char *buf, size_t size)
{
    char tmp[64];
    int prec, exp;

    if (v == 0) {
        snprintf(buf, size, "0");
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    exp = atoi(strchr(tmp, 'e') + 1);
    if (exp < -4 || exp >= 6) {
        /* Go writes at least two exponent digits, as C does. */
        snprintf(buf, size, "%s", tmp);
        return;
    }
    snprintf(buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
}

/* time.Unix(0, ns).String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
static void format_time(uint64_t ns, char *buf, size_t size)
{
    time_t secs = (time_t)(ns / 1000000000ull);
    unsigned long frac = (unsigned long)(ns % 1000000000ull);
    struct tm tm;
    char date[32], digits[16] = "";
    size_t n;

    gmtime_r(&secs, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    if (frac) {
        snprintf(digits, sizeof digits, ".%09lu", frac);
        for (n = strlen(digits); n > 1 && digits[n - 1] == '0'; n--)
            digits[n - 1] = '\0';
    }
    snprintf(buf, size, "%s%s +0000 UTC", date, digits);
}

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
    return gomem_read(ctx, addr, buf, len);
}

/* The agent's text for the computed keys (also what an HTTP target's
 * memstats are printed as: http_pprof.c). */
char *agentless_memstats_text(const godwarf_msval_t *v, size_t n)
{
    char *text = NULL, line[256], val[128];
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        switch (v[i].kind) {
        case GODWARF_MS_BYTES:
            agentless_format_bytes(v[i].u, val, sizeof val);
            break;
        case GODWARF_MS_NS:
            procinfo_format_go_duration((long long)v[i].u, val, sizeof val);
            break;
        case GODWARF_MS_UNIX_NS:
            if (v[i].u == 0)
                snprintf(val, sizeof val, "-");
            else
                format_time(v[i].u, val, sizeof val);
            break;
        case GODWARF_MS_FLOAT:
            agentless_format_float(v[i].f, val, sizeof val);
            break;
        case GODWARF_MS_BOOL:
            snprintf(val, sizeof val, "%s", v[i].u ? "true" : "false");
            break;
        default:
            snprintf(val, sizeof val, "%llu", (unsigned long long)v[i].u);
            break;
        }
        if (strcmp(v[i].key, "next-gc") == 0)
            snprintf(line, sizeof line, "next-gc: when heap-alloc >= %s\n", val);
        else
            snprintf(line, sizeof line, "%s: %s\n", v[i].key, val);
        text = cg_xrealloc(text, len + strlen(line) + 1);
        memcpy(text + len, line, strlen(line) + 1);
        len += strlen(line);
    }
    return text ? text : cg_xstrdup("");
}

/* A process opened for DWARF reading: its executable's DWARF, its memory
 * and the load bias, for memstats and summary's scheduler figures. */
typedef struct {
    int fd;
    gobin_info_t info;
    int minor;
    goexe_t *exe;
    godwarf_t *dw;
    gomem_t *mem;
    uint64_t bias;
} dwarf_target_t;

static void dwarf_target_close(dwarf_target_t *t)
{
    godwarf_close(t->dw);
    goexe_close(t->exe);
    gomem_close(t->mem);
    if (t->fd >= 0)
        close(t->fd);
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

static int dwarf_target_open(pid_t pid, dwarf_target_t *t, char *err)
{
    int rc;
    uint64_t entry;

    memset(t, 0, sizeof *t);
    if ((rc = t->fd = gort_open_exe(pid, err)) < 0)
        return rc;
    if ((rc = gobin_read_fd(t->fd, &t->info, err)) != 0)
        goto fail;
    if (!t->info.is_go) {
        cg_seterr(err, "pid %d is not a Go program", (int)pid);
        rc = -ENOEXEC;
        goto fail;
    }
    t->minor = gort_go_minor(t->info.version);
    if ((rc = godwarf_open(t->fd, &t->dw, err)) != 0 || (rc = goexe_open_fd(t->fd, &t->exe, err)) != 0 ||
        (rc = gomem_open_pid(pid, &t->mem, err)) != 0)
        goto fail;
    entry = gomem_auxv_entry(t->mem);
    t->bias = entry ? entry - goexe_entry(t->exe) : 0;
    return 0;
fail:
    dwarf_target_close(t);
    return rc;
}

/* runtime.sched's counters, read through an open target. */
static int read_sched(const dwarf_target_t *t, pid_t pid, agentless_sched_t *out, char *err)
{
    static const char *const fields[] = {"runqsize", "nmidle", "nmspinning", "npidle", "nmsys"};
    int64_t *dst[] = {&out->runq, &out->idle_ms, &out->spinning_ms, &out->idle_ps, &out->system_ms};
    uint64_t sched;
    int rc;

    memset(out, 0, sizeof *out);
    if (godwarf_global(t->dw, "runtime.sched", &sched) != 0) {
        cg_seterr(err, "runtime.sched not in the DWARF");
        return -ENOENT;
    }
    for (size_t i = 0; i < CG_ARRAY_SIZE(fields); i++) {
        gofield_t f;
        uint8_t b[8] = {0};

        /* Fields change type across releases (int32 to atomic.Int32):
         * the size comes from the DWARF, never assumed. */
        if (godwarf_field(t->dw, "runtime.schedt", fields[i], &f) != 0 || f.size > 8 || f.size == 0) {
            cg_seterr(err, "runtime.schedt.%s not in the DWARF", fields[i]);
            return -ENOENT;
        }
        if ((rc = gomem_read(t->mem, sched + t->bias + f.offset, b, f.size)) != 0) {
            gomem_describe_error(pid, rc, "read memory of", err);
            return rc;
        }
        *dst[i] = (int64_t)goexe_le(b, (int)f.size);
        if (f.size == 4)
            *dst[i] = (int32_t)*dst[i];
    }
    out->valid = 1;
    return 0;
}

/* The memstats keys, read through an open target. */
static int read_memstats(const dwarf_target_t *t, pid_t pid, godwarf_msval_t *vals, size_t *n,
                         const char *const **missing, char *err)
{
    godwarf_msplan_t *plan = NULL;
    int rc;

    *n = 0;
    if ((rc = godwarf_memstats_plan(t->dw, t->minor, &plan, err)) == 0) {
        rc = godwarf_memstats_read(plan, t->bias, read_mem, t->mem, vals, n, err);
        if (rc == -ESRCH || rc == -EPERM)
            gomem_describe_error(pid, rc, "read memory of", err);
        if (missing)
            *missing = godwarf_memstats_missing(plan);
    }
    godwarf_memstats_plan_free(plan);
    return rc;
}

int agentless_dwarf_figures(pid_t pid, agentless_sched_t *sched, godwarf_msval_t *vals, size_t *n, char *err)
{
    dwarf_target_t t;
    int rc;

    memset(sched, 0, sizeof *sched);
    *n = 0;
    if ((rc = dwarf_target_open(pid, &t, err)) != 0)
        return rc;
    if ((rc = read_sched(&t, pid, sched, err)) == 0)
        rc = read_memstats(&t, pid, vals, n, NULL, err);
    dwarf_target_close(&t);
    return rc;
}

int agentless_memstats_values(pid_t pid, godwarf_msval_t *vals, size_t *n, const char *const **missing,
                              char *err)
{
    dwarf_target_t t;
    int rc;

    *n = 0;
    if ((rc = dwarf_target_open(pid, &t, err)) != 0)
        return rc;
    rc = read_memstats(&t, pid, vals, n, missing, err);
    dwarf_target_close(&t);
    return rc;
}

/* ---- the same for many processes: one parse per executable ------------- */

typedef struct {
    agentless_fileid_t id;
    int rc;             /* 0, or why this executable cannot be read (kept) */
    char err[CG_ERR_LEN];
    goexe_t *exe;
    godwarf_t *dw;
    godwarf_msplan_t *plan;
} dwexe_t;

struct agentless_dwcache {
    dwexe_t *v;
    size_t n;
};

agentless_dwcache_t *agentless_dwcache_new(void)
{
    return cg_xcalloc(1, sizeof(agentless_dwcache_t));
}

void agentless_dwcache_free(agentless_dwcache_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        godwarf_memstats_plan_free(c->v[i].plan);
        godwarf_close(c->v[i].dw);
        goexe_close(c->v[i].exe);
    }
    free(c->v);
    free(c);
}

/* The entry of the executable open on fd: found by what identifies the
 * file's contents (a binary rebuilt in place has another mtime), else
 * parsed now, failures included, so a stripped binary run 100 times is
 * looked at once. */
static dwexe_t *dwcache_get(agentless_dwcache_t *c, int fd, pid_t pid)
{
    struct stat st;
    gobin_info_t info;
    dwexe_t *e;

    if (fstat(fd, &st) != 0)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        e = &c->v[i];
        if (agentless_fileid_is(&e->id, &st))
            return e;
    }
    c->v = cg_xrealloc(c->v, (c->n + 1) * sizeof *c->v);
    e = &c->v[c->n++];
    memset(e, 0, sizeof *e);
    agentless_fileid_set(&e->id, &st);
    if ((e->rc = gobin_read_fd(fd, &info, e->err)) != 0)
        return e;
    if (!info.is_go) {
        cg_seterr(e->err, "pid %d is not a Go program", (int)pid);
        e->rc = -ENOEXEC;
        return e;
    }
    if ((e->rc = godwarf_open(fd, &e->dw, e->err)) != 0 || (e->rc = goexe_open_fd(fd, &e->exe, e->err)) != 0 ||
        (e->rc = godwarf_memstats_plan(e->dw, gort_go_minor(info.version), &e->plan, e->err)) != 0)
        return e;
    return e;
}

int agentless_memstats_values_cached(agentless_dwcache_t *c, pid_t pid, godwarf_msval_t *vals, size_t *n,
                                     char *err)
{
    dwexe_t *e;
    gomem_t *mem = NULL;
    uint64_t entry, bias;
    int fd, rc;

    *n = 0;
    if ((fd = gort_open_exe(pid, err)) < 0)
        return fd;
    e = dwcache_get(c, fd, pid);
    close(fd);
    if (e == NULL) {
        cg_seterr(err, "cannot stat the executable of pid %d", (int)pid);
        return -EIO;
    }
    if (e->rc != 0) {
        cg_strlcpy(err, e->err, CG_ERR_LEN);
        return e->rc;
    }
    if ((rc = gomem_open_pid(pid, &mem, err)) != 0)
        return rc;
    entry = gomem_auxv_entry(mem);
    bias = entry ? entry - goexe_entry(e->exe) : 0;
    rc = godwarf_memstats_read(e->plan, bias, read_mem, mem, vals, n, err);
    if (rc == -ESRCH || rc == -EPERM)
        gomem_describe_error(pid, rc, "read memory of", err);
    gomem_close(mem);
    return rc;
}

int agentless_memstats(pid_t pid, int json)
{
    char err[CG_ERR_LEN] = "", list[512] = "";
    godwarf_msval_t vals[GODWARF_MS_KEYS];
    const char *const *missing = NULL;
    size_t n = 0;
    int rc, status = CG_EXIT_FAIL;
    char *text;

    rc = agentless_memstats_values(pid, vals, &n, &missing, err);
    if (rc != 0) {
        if (rc == -ENOENT && strstr(err, "DWARF"))
            return cmd_error("pid %d: %s: its memory statistics cannot be located without an agent", (int)pid, err);
        return cmd_error("pid %d: %s", (int)pid, err);
    }
    for (size_t i = 0; missing && missing[i]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", missing[i]);
    if (list[0])
        cmd_error("pid %d: read from memory without an agent; not computable exactly this way, left out: %s",
                  (int)pid, list);
    text = agentless_memstats_text(vals, n);
    if (json) {
        cJSON *doc = proto_memstats_json(text, strlen(text), err);

        if (doc == NULL) {
            cmd_error("pid %d: %s", (int)pid, err);
        } else {
            status = out_json_write(stdout, doc) == 0 ? CG_EXIT_OK : CG_EXIT_FAIL;
            cJSON_Delete(doc);
        }
    } else {
        fputs(text, stdout);
        status = CG_EXIT_OK;
    }
    free(text);
    return status;
}

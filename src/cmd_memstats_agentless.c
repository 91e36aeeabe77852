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

/* The agent's text for the computed keys. */
static char *memstats_text(const godwarf_msval_t *v, size_t n)
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

int agentless_memstats(pid_t pid, int json)
{
    char path[64], err[CG_ERR_LEN] = "";
    int fd, rc, status = CG_EXIT_FAIL;
    gobin_info_t info;
    goexe_t *exe = NULL;
    godwarf_t *dw = NULL;
    godwarf_msplan_t *plan = NULL;
    gomem_t *mem = NULL;
    godwarf_msval_t vals[GODWARF_MS_KEYS];
    size_t n = 0;
    int major = 0, minor = 0;
    uint64_t entry;
    char *text;

    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return cmd_error("no such process: %d", (int)pid);
        gomem_describe_error(pid, -EPERM, "open the executable of", err);
        return cmd_error("%s", err);
    }
    if ((rc = gobin_read_fd(fd, &info, err)) != 0 || !info.is_go) {
        cmd_error("pid %d: %s", (int)pid, rc ? err : "not a Go program");
        goto out;
    }
    if (sscanf(info.version, "go%d.%d", &major, &minor) != 2 || major != 1)
        minor = 0;
    if ((rc = godwarf_open(fd, &dw, err)) != 0) {
        cmd_error("pid %d: %s: its memory statistics cannot be located without an agent", (int)pid, err);
        goto out;
    }
    if ((rc = godwarf_memstats_plan(dw, minor, &plan, err)) != 0) {
        cmd_error("pid %d: %s", (int)pid, err);
        goto out;
    }
    if ((rc = goexe_open_fd(fd, &exe, err)) != 0 || (rc = gomem_open_pid(pid, &mem, err)) != 0) {
        cmd_error("%s", err);
        goto out;
    }
    entry = gomem_auxv_entry(mem);
    rc = godwarf_memstats_read(plan, entry ? entry - goexe_entry(exe) : 0, read_mem, mem, vals, &n, err);
    if (rc != 0) {
        if (rc == -ESRCH || rc == -EPERM)
            gomem_describe_error(pid, rc, "read memory of", err);
        cmd_error("pid %d: %s", (int)pid, err);
        goto out;
    }
    {
        const char *const *missing = godwarf_memstats_missing(plan);
        char list[512] = "";

        for (size_t i = 0; missing && missing[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", missing[i]);
        if (list[0])
            cmd_error("pid %d: read from memory without an agent; not computable exactly this way, left out: %s",
                      (int)pid, list);
    }
    text = memstats_text(vals, n);
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
out:
    godwarf_memstats_plan_free(plan);
    godwarf_close(dw);
    goexe_close(exe);
    gomem_close(mem);
    close(fd);
    return status;
}

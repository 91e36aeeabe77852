/* procinfo.c -- parsers and formatters behind `cgops PID` */
#include "cgops/procinfo.h"
#include "cgops/common.h"
#include "cgops/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Value after "key" at the start of a line, or NULL. */
static const char *line_value(const char *text, const char *key)
{
    size_t klen = strlen(key);
    const char *p = text;

    while (p && *p) {
        if (strncmp(p, key, klen) == 0)
            return p + klen;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

int procinfo_parse_memtotal(const char *meminfo, unsigned long long *bytes)
{
    const char *v = line_value(meminfo, "MemTotal:");
    char *end;
    unsigned long long kb;

    if (v == NULL)
        return -EINVAL;
    kb = strtoull(v, &end, 10);
    if (end == v || kb == 0)
        return -EINVAL;
    *bytes = kb * 1024;
    return 0;
}

int procinfo_parse_btime(const char *stat, long long *btime)
{
    const char *v = line_value(stat, "btime ");
    char *end;

    if (v == NULL)
        return -EINVAL;
    *btime = strtoll(v, &end, 10);
    return end == v ? -EINVAL : 0;
}

int procinfo_parse_uid(const char *status, uid_t *uid)
{
    const char *v = line_value(status, "Uid:");
    unsigned long long u = 0;
    int digits = 0;

    if (v == NULL)
        return -EINVAL;
    while (*v == '\t' || *v == ' ')
        v++;
    /* Digits only (strtoul would take "-1" as a huge uid), and no more than
     * a uid_t holds: (uid_t)-1 is "no uid", never a real one. */
    for (; *v >= '0' && *v <= '9' && digits < 11; v++, digits++)
        u = u * 10 + (unsigned)(*v - '0');
    if (digits == 0 || (*v != '\t' && *v != ' ' && *v != '\n' && *v != '\0') || u >= 0xffffffffULL)
        return -EINVAL;
    *uid = (uid_t)u;
    return 0;
}

void procinfo_format_etime(long long secs, char *buf, size_t size)
{
    long long d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;

    if (secs < 0)
        secs = d = h = m = s = 0;
    if (d > 0)
        snprintf(buf, size, "%lld-%02lld:%02lld:%02lld", d, h, m, s);
    else if (h > 0)
        snprintf(buf, size, "%02lld:%02lld:%02lld", h, m, s);
    else
        snprintf(buf, size, "%02lld:%02lld", m, s);
}

/* Print v / div with up to `digits` decimals, trailing zeros dropped. */
static int frac(char *buf, size_t size, long long v, long long div, int digits)
{
    char f[32];
    int n;

    snprintf(f, sizeof f, "%0*lld", digits, v % div);
    for (n = digits; n > 0 && f[n - 1] == '0'; n--)
        f[n - 1] = '\0';
    return n ? snprintf(buf, size, "%lld.%s", v / div, f) : snprintf(buf, size, "%lld", v / div);
}

void procinfo_format_go_duration(long long ns, char *buf, size_t size)
{
    int n;

    if (ns <= 0) {
        snprintf(buf, size, "0s");
    } else if (ns < 1000) {
        snprintf(buf, size, "%lldns", ns);
    } else if (ns < 1000000) {
        n = frac(buf, size, ns, 1000, 3);
        snprintf(buf + n, size - (size_t)n, "\xc2\xb5s");
    } else if (ns < 1000000000) {
        n = frac(buf, size, ns, 1000000, 6);
        snprintf(buf + n, size - (size_t)n, "ms");
    } else {
        long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
        long long rest = ns % 60000000000LL;
        int off = 0;

        if (h)
            off += snprintf(buf + off, size - (size_t)off, "%lldh", h);
        if (h || m)
            off += snprintf(buf + off, size - (size_t)off, "%lldm", m);
        off += frac(buf + off, size - (size_t)off, rest, 1000000000LL, 9);
        snprintf(buf + off, size - (size_t)off, "s");
    }
}

int procinfo_parse_period(const char *s, long long *ns)
{
    size_t digits = strspn(s, "0123456789");

    /* Plain seconds: decimal digits with an optional fraction (strtod alone
     * would also take "0x10", "1e3", "inf"). */
    if (digits > 0 || s[0] == '.') {
        const char *frac = s + digits;

        if (*frac == '.')
            frac += 1 + strspn(frac + 1, "0123456789");
        if (*frac == '\0') {
            double secs = strtod(s, NULL);

            if (!(secs > 0) || secs > 1e6)
                return -EINVAL;
            *ns = (long long)(secs * 1e9 + 0.5);
            /* Shorter than a nanosecond rounds to nothing: no period. */
            return *ns > 0 ? 0 : -EINVAL;
        }
    }
    if (s[0] == '-' || s[0] == '+' || proto_go_duration_ns(s, ns) != 0 || *ns <= 0)
        return -EINVAL;
    return 0;
}

void procinfo_join_cmdline(const char *cmdline, size_t len, char *buf, size_t size)
{
    size_t o = 0;

    /* A trailing NUL ends the last argument, it is not a separator. */
    while (len > 0 && cmdline[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len && o + 1 < size; i++)
        buf[o++] = cmdline[i] == '\0' ? ' ' : cmdline[i];
    buf[o] = '\0';
}

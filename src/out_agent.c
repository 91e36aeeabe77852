/* out_agent.c -- how the agent commands frame their output */
#include "cgops/out_agent.h"
#include "cgops/common.h"
#include "cgops/out_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, f);
    n = vasprintf(&s, f, ap);
    va_end(ap);
    if (n < 0) {
        fputs("cgops: out of memory\n", stderr);
        abort();
    }
    return s;
}

/* s as a JSON string literal (always valid UTF-8). */
static char *json_str(const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *t = out_json_print(j, 0);

    cJSON_Delete(j);
    return t ? t : cg_xstrdup("\"\"");
}

static char *target_members(const char *display, pid_t pid)
{
    char *t = json_str(display), *s;

    s = pid ? fmt("\"target\": %s, \"pid\": %d", t, (int)pid) : fmt("\"target\": %s", t);
    free(t);
    return s;
}

char *out_agent_open(out_agent_mode_t m, size_t idx, const char *display, pid_t pid)
{
    char *mem, *s;

    if (!m.multi)
        return cg_xstrdup("");
    if (!m.json)
        return fmt("%s==> %s <==\n", idx == 0 ? "" : "\n", display);
    mem = target_members(display, pid);
    s = fmt("%s{%s", idx == 0 ? "[\n" : ",\n", mem);
    free(mem);
    return s;
}

char *out_agent_result(out_agent_mode_t m, const cJSON *v)
{
    char *t = out_json_print(v, !m.multi), *s;

    if (t == NULL)
        t = cg_xstrdup("null");
    s = m.multi ? fmt(", \"result\": %s", t) : fmt("%s\n", t);
    free(t);
    return s;
}

char *out_agent_goroutine(out_agent_mode_t m, int first, const cJSON *g)
{
    char *t = out_json_print(g, 0), *s;

    if (t == NULL)
        t = cg_xstrdup("null");
    if (first)
        s = fmt("%s%s", m.multi ? ", \"result\": [\n" : "[\n", t);
    else
        s = fmt(",\n%s", t);
    free(t);
    return s;
}

char *out_agent_close(out_agent_mode_t m, const char *display, pid_t pid, int ngoroutines,
                      const char *error)
{
    char *e, *mem, *s;

    if (!m.json)
        return cg_xstrdup("");
    if (!m.multi) {
        if (ngoroutines > 0)
            return cg_xstrdup("\n]\n");
        if (error == NULL)
            return cg_xstrdup(ngoroutines == 0 ? "[]\n" : "");
        e = json_str(error);
        mem = target_members(display, pid);
        s = fmt("{%s, \"error\": %s}\n", mem, e);
        free(mem);
        free(e);
        return s;
    }
    if (ngoroutines > 0)
        s = cg_xstrdup("\n]");
    else if (ngoroutines == 0 && error == NULL)
        s = cg_xstrdup(", \"result\": []");
    else
        s = cg_xstrdup("");
    if (error) {
        char *t;
        e = json_str(error);
        t = fmt("%s, \"error\": %s}", s, e);
        free(e);
        free(s);
        return t;
    }
    mem = fmt("%s}", s);
    free(s);
    return mem;
}

char *out_agent_end(out_agent_mode_t m, size_t ntargets)
{
    if (m.json && m.multi && ntargets)
        return cg_xstrdup("\n]\n");
    if (m.json && m.multi)
        return cg_xstrdup("[]\n");
    return cg_xstrdup("");
}

/* out_list.c -- the process listing and tree, as gops text or as JSON */
#include "cgops/out_list.h"
#include "cgops/common.h"

#include <stdlib.h>
#include <string.h>

static const char *version_or_unknown(const scan_proc_t *p)
{
    return p->bin && p->bin->version[0] ? p->bin->version : "unknown";
}

static void short_version(const scan_proc_t *p, char *buf, size_t size)
{
    gobin_version_short(version_or_unknown(p), buf, size);
}

/* A version for text output: it comes from the executable, which anyone
 * may have written, so it is made safe like a name (never longer). */
static void text_version(const char *version, char *buf, size_t size)
{
    char *safe = cg_text_safe(version);

    cg_strlcpy(buf, safe, size);
    free(safe);
}


static int num_width(long v)
{
    char b[32];
    return snprintf(b, sizeof b, "%ld", v);
}

void out_list_text(FILE *f, const scan_proc_t *procs, size_t n)
{
    int wpid = 0, wppid = 0, wname = 0, wver = 0, wgor = 0;
    char ver[128], gor[32];
    char **names = cg_xcalloc(n ? n : 1, sizeof *names);

    for (size_t i = 0; i < n; i++) {
        int w;
        names[i] = cg_text_safe(procs[i].name);
        if ((w = num_width(procs[i].pid)) > wpid)
            wpid = w;
        if ((w = num_width(procs[i].ppid)) > wppid)
            wppid = w;
        if ((w = (int)strlen(names[i])) > wname)
            wname = w;
        short_version(&procs[i], ver, sizeof ver);
        text_version(ver, ver, sizeof ver);
        if ((w = (int)strlen(ver)) > wver)
            wver = w;
        if (procs[i].counted && (w = num_width((long)procs[i].goroutines)) > wgor)
            wgor = w;
    }
    for (size_t i = 0; i < n; i++) {
        const scan_proc_t *p = &procs[i];
        char *path = cg_text_safe(p->path);

        short_version(p, ver, sizeof ver);
        text_version(ver, ver, sizeof ver);
        /* The marker sits right after the padded name, as in gops.  The
         * goroutine count (--goroutines) goes before the path, which stays
         * last since it may hold spaces. */
        gor[0] = '\0';
        if (wgor) {
            if (p->counted && p->goroutines >= 0)
                snprintf(gor, sizeof gor, "%*lld ", wgor, p->goroutines);
            else
                snprintf(gor, sizeof gor, "%*s ", wgor, "-");
        }
        fprintf(f, "%-*d %-*d %-*s%c %-*s %s%s\n", wpid, (int)p->pid, wppid, (int)p->ppid,
                wname, names[i], p->agent ? '*' : ' ', wver, ver, gor, path);
        free(path);
        free(names[i]);
    }
    free(names);
}

/* gops builds its tree by visiting, in pid order, each process's parent
 * pid and then, recursively, the children of every node not seen before.
 * The same walk is used for text and JSON so both show the same tree. */
typedef struct node {
    const scan_proc_t *proc; /* NULL for a bare parent pid */
    pid_t pid;
    struct node **kids;
    size_t nkids;
} node_t;

typedef struct {
    const scan_proc_t *procs;
    size_t n;
    pid_t *seen;
    size_t nseen, capseen;
} walk_t;

static int seen_add(walk_t *w, pid_t pid)
{
    for (size_t i = 0; i < w->nseen; i++)
        if (w->seen[i] == pid)
            return 0;
    if (w->nseen == w->capseen) {
        w->capseen = w->capseen ? w->capseen * 2 : 32;
        w->seen = cg_xrealloc(w->seen, w->capseen * sizeof *w->seen);
    }
    w->seen[w->nseen++] = pid;
    return 1;
}

static void node_add(node_t *parent, node_t *kid)
{
    parent->kids = cg_xrealloc(parent->kids, (parent->nkids + 1) * sizeof *parent->kids);
    parent->kids[parent->nkids++] = kid;
}

static void build(walk_t *w, pid_t ppid, const scan_proc_t *proc, node_t *parent)
{
    node_t *nd;

    if (!seen_add(w, ppid))
        return;
    nd = cg_xcalloc(1, sizeof *nd);
    nd->pid = ppid;
    nd->proc = ppid != proc->ppid ? proc : NULL;
    node_add(parent, nd);
    for (size_t i = 0; i < w->n; i++)
        if (w->procs[i].ppid == ppid)
            build(w, w->procs[i].pid, &w->procs[i], nd);
}

static node_t *tree_build(const scan_proc_t *procs, size_t n)
{
    walk_t w = {procs, n, NULL, 0, 0};
    node_t *root = cg_xcalloc(1, sizeof *root);

    /* Start only from processes whose parent is not listed: the others are
     * reached from their parent.  (Starting from each in pid order, a child
     * with a lower pid than its Go parent would claim the parent's node
     * first and the parent's own entry would be lost.) */
    for (size_t i = 0; i < n; i++) {
        int parent_listed = 0;

        for (size_t j = 0; j < n && !parent_listed; j++)
            parent_listed = procs[j].pid == procs[i].ppid && j != i;
        if (!parent_listed)
            build(&w, procs[i].ppid, &procs[i], root);
    }
    free(w.seen);
    return root;
}

static void tree_free(node_t *nd)
{
    for (size_t i = 0; i < nd->nkids; i++)
        tree_free(nd->kids[i]);
    free(nd->kids);
    free(nd);
}

static void tree_print(FILE *f, const node_t *nd, char *indent, size_t ilen, size_t icap)
{
    for (size_t i = 0; i < nd->nkids; i++) {
        const node_t *k = nd->kids[i];
        int last = i + 1 == nd->nkids;
        const char *add = last ? "    " : "\xe2\x94\x82   "; /* "│   " */
        size_t alen = strlen(add);

        fprintf(f, "%.*s%s ", (int)ilen, indent, last ? "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x80"
                                                       : "\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80");
        if (k->proc) {
            char *name = cg_text_safe(k->proc->name), ver[128];

            text_version(version_or_unknown(k->proc), ver, sizeof ver);
            fprintf(f, "%s%d (%s) {%s}\n", k->proc->agent ? "[*]  " : "", (int)k->pid, name, ver);
            free(name);
        } else
            fprintf(f, "%d\n", (int)k->pid);
        if (k->nkids && ilen + alen < icap) {
            memcpy(indent + ilen, add, alen);
            tree_print(f, k, indent, ilen + alen, icap);
        }
    }
}

void out_tree_text(FILE *f, const scan_proc_t *procs, size_t n)
{
    node_t *root = tree_build(procs, n);
    char indent[4096];

    fputs("...\n", f);
    tree_print(f, root, indent, 0, sizeof indent);
    /* gops prints the tree (which ends in a newline) with Println. */
    fputc('\n', f);
    tree_free(root);
}

cJSON *out_proc_json(const scan_proc_t *p)
{
    cJSON *o = cJSON_CreateObject();
    char ver[128];

    cJSON_AddNumberToObject(o, "pid", p->pid);
    cJSON_AddNumberToObject(o, "ppid", p->ppid);
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "path", p->path);
    cJSON_AddBoolToObject(o, "deleted", p->deleted);
    if (p->bin && p->bin->version[0]) {
        cJSON_AddStringToObject(o, "go_version", p->bin->version);
        short_version(p, ver, sizeof ver);
        cJSON_AddStringToObject(o, "go_version_short", ver);
    } else {
        cJSON_AddNullToObject(o, "go_version");
        cJSON_AddNullToObject(o, "go_version_short");
    }
    cJSON_AddBoolToObject(o, "agent", p->agent);
    if (p->agent) {
        cJSON_AddNumberToObject(o, "agent_port", p->agent_port);
        cJSON_AddBoolToObject(o, "agent_verified", p->agent_verified);
    } else {
        cJSON_AddNullToObject(o, "agent_port");
        cJSON_AddBoolToObject(o, "agent_verified", 0);
    }
    if (p->counted) {
        if (p->goroutines >= 0)
            cJSON_AddNumberToObject(o, "goroutines", (double)p->goroutines);
        else
            cJSON_AddNullToObject(o, "goroutines");
    }
    if (p->bin) {
        cJSON_AddBoolToObject(o, "static", p->bin->is_static);
        cJSON_AddBoolToObject(o, "pie", p->bin->is_pie);
        cJSON_AddBoolToObject(o, "stripped", p->bin->is_stripped);
        if (p->bin->build_id[0])
            cJSON_AddStringToObject(o, "build_id", p->bin->build_id);
        else
            cJSON_AddNullToObject(o, "build_id");
        if (p->bin->mod_path[0])
            cJSON_AddStringToObject(o, "main_module", p->bin->mod_path);
        else
            cJSON_AddNullToObject(o, "main_module");
    }
    return o;
}

cJSON *out_list_json(const scan_proc_t *procs, size_t n)
{
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, out_proc_json(&procs[i]));
    return a;
}

static cJSON *tree_json(const node_t *nd)
{
    cJSON *o = nd->proc ? out_proc_json(nd->proc) : cJSON_CreateObject();
    cJSON *kids = cJSON_CreateArray();

    if (!nd->proc)
        cJSON_AddNumberToObject(o, "pid", nd->pid);
    for (size_t i = 0; i < nd->nkids; i++)
        cJSON_AddItemToArray(kids, tree_json(nd->kids[i]));
    cJSON_AddItemToObject(o, "children", kids);
    return o;
}

cJSON *out_tree_json(const scan_proc_t *procs, size_t n)
{
    node_t *root = tree_build(procs, n);
    cJSON *a = cJSON_CreateArray();

    for (size_t i = 0; i < root->nkids; i++)
        cJSON_AddItemToArray(a, tree_json(root->kids[i]));
    tree_free(root);
    return a;
}

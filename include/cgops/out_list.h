/* out_list.h -- the process listing and tree, as gops text or as JSON
 *
 * Pure renderers from a scan result: tests feed them models built in memory.
 */
#ifndef CGOPS_OUT_LIST_H
#define CGOPS_OUT_LIST_H

#include "cgops/scan.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* gops's columns: pid, ppid, name, '*' or ' ', version, path. */
void out_list_text(FILE *f, const scan_proc_t *procs, size_t n);

/* gops's tree: "..." then parent pids with their Go children. */
void out_tree_text(FILE *f, const scan_proc_t *procs, size_t n);

/* One JSON object per process (protocol/schemas/list.schema.json). */
cJSON *out_proc_json(const scan_proc_t *p);
cJSON *out_list_json(const scan_proc_t *procs, size_t n);

/* Nested objects (protocol/schemas/tree.schema.json). */
cJSON *out_tree_json(const scan_proc_t *procs, size_t n);

#endif

/* out_json.h -- writing cJSON documents to a stream */
#ifndef CGOPS_OUT_JSON_H
#define CGOPS_OUT_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* doc as text (indented when formatted), always valid UTF-8: bytes that
 * are not (in names, paths, arguments) become U+FFFD.  free() it; NULL on
 * allocation failure. */
char *out_json_print(const cJSON *doc, int formatted);

/* Print doc, indented, followed by a newline.  Returns 0 or -EIO. */
int out_json_write(FILE *f, const cJSON *doc);

#endif

/* out_json.h -- writing cJSON documents to a stream */
#ifndef CGOPS_OUT_JSON_H
#define CGOPS_OUT_JSON_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Print doc, indented, followed by a newline.  Returns 0 or -EIO. */
int out_json_write(FILE *f, const cJSON *doc);

#endif

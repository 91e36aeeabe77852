/* out_json.c -- writing cJSON documents to a stream */
#include "cgops/out_json.h"

#include <errno.h>
#include <stdlib.h>

int out_json_write(FILE *f, const cJSON *doc)
{
    char *s = cJSON_Print(doc);
    int rc;

    if (s == NULL)
        return -ENOMEM;
    rc = fputs(s, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
    free(s);
    return rc;
}

/* fuzz-serve-route.c -- libFuzzer target for what an HTTP client of cgops
 * serve controls: the method and path (routes), query values, the
 * Authorization and Accept headers; and for the listen address.
 *
 * Input: a selector byte, then the text (for routes: method, NUL, path).
 * Oracles beyond "no crash": a route accepted has a pid in range when it
 * names one; a status is one of the documented ones; a token check is true
 * only for the exact "Bearer TOKEN".
 */
#include "cgops/serve.h"
#include "fuzz-util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, err[CG_ERR_LEN];
    size_t n;

    s = fuzz_text(data, size, &n);
    if (s == NULL)
        return 0;
    switch (data[0] % 5) {
    case 0: {
        const char *path = s + strlen(s) + (strlen(s) < n ? 1 : 0);
        serve_route_t r;
        int code = serve_route_parse(s, path, &r, err);

        if (code != 0 && code != 400 && code != 404 && code != 405)
            abort();
        if (code == 0 && r.kind >= SERVE_R_PROCESS && (r.pid < 1 || r.pid > SERVE_PID_MAX))
            abort();
        if (code == 0 && strstr(path, "..") != NULL)
            abort();
        break;
    }
    case 1:
        serve_check_group_by(s, err);
        serve_check_percent(s, err);
        serve_check_format(s, err);
        serve_wants_openmetrics(s);
        break;
    case 2: {
        int ok = serve_token_ok(s, "t0k3n");

        if (ok != (strcmp(s, "Bearer t0k3n") == 0))
            abort();
        break;
    }
    case 3: {
        struct sockaddr_storage ss;
        socklen_t len;
        int lo;

        if (serve_listen_parse(s, &ss, &len, &lo, err) == 0 && len > sizeof ss)
            abort();
        break;
    }
    case 4: {
        int st = serve_status_of(0, 1, s);

        if (st != 400 && st != 404 && st != 500 && st != 502 && st != 504)
            abort();
        break;
    }
    }
    free(s);
    return 0;
}

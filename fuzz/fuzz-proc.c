/* fuzz-proc.c -- libFuzzer target for the parsers of text other processes
 * write: a target's /etc/passwd (a container's, so any user of it), its
 * environ (the config-dir rules), port files, and the /proc text cgops
 * reads (stat with a hostile comm, status, cmdline, net tables).
 *
 * Input: a selector byte, then the text.  Oracles beyond "no crash": every
 * output string is NUL-terminated within its buffer, a parsed port is in
 * 1..65535.
 */
#include "cgops/common.h"
#include "cgops/portfile.h"
#include "cgops/proc.h"
#include "cgops/proc_net.h"
#include "cgops/procinfo.h"
#include "fuzz-util.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, buf[4096], err[CG_ERR_LEN];
    size_t n;

    s = fuzz_text(data, size, &n);
    if (s == NULL)
        return 0;
    switch (data[0] % 8) {
    case 0: {
        uid_t uids[] = {0, 1000, 65534};
        for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++)
            if (portfile_passwd_home(s, n, uids[i], buf, sizeof buf) == 0 && strlen(buf) >= sizeof buf)
                abort();
        break;
    }
    case 1: {
        portfile_environ_t e = {s, n};
        /* Relative dirs are legal (gops takes GOPS_CONFIG_DIR as it is). */
        if (portfile_config_dir(portfile_environ_getenv, &e, (uid_t)-1, buf, sizeof buf) == 0 &&
            strnlen(buf, sizeof buf) == sizeof buf)
            abort();
        break;
    }
    case 2: {
        int port = 0;
        if (portfile_parse(s, &port, err) == 0 && (port < 1 || port > 65535))
            abort();
        break;
    }
    case 3: {
        proc_stat_t st;
        if (proc_parse_stat(s, &st) == 0 && strlen(st.comm) >= sizeof st.comm)
            abort();
        break;
    }
    case 4: {
        char name[256];
        proc_name_from("comm", s, n, name, sizeof name);
        proc_name_from(s, s, n, name, sizeof name);
        if (strlen(name) >= sizeof name)
            abort();
        break;
    }
    case 5: {
        uid_t uid;
        unsigned long long mem;
        long long bt;
        procinfo_parse_uid(s, &uid);
        procinfo_parse_memtotal(s, &mem);
        procinfo_parse_btime(s, &bt);
        procinfo_join_cmdline(s, n, buf, sizeof buf);
        break;
    }
    case 6: {
        static const int kinds[][2] = {{AF_INET, IPPROTO_TCP}, {AF_INET6, IPPROTO_TCP}, {AF_INET, IPPROTO_UDP}};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            proc_sock_t sk;
            char a[80];
            if (proc_net_parse_line(s, kinds[k][0], kinds[k][1], &sk) == 0) {
                proc_net_addr_format(&sk, 0, a, sizeof a);
                proc_net_addr_format(&sk, 1, a, sizeof a);
                (void)proc_net_state_name(sk.proto, sk.state);
            }
        }
        break;
    }
    default: {
        long long ns;
        procinfo_parse_period(s, &ns);
        break;
    }
    }
    free(s);
    return 0;
}

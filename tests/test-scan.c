/* test-scan.c -- discovery over the live /proc: each executable parsed once */
#include "test.h"
#include "cgops/common.h"
#include "cgops/proc.h"
#include "cgops/scan.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define COPIES 30

TEST(scan_parses_each_executable_once)
{
    const char *fx = getenv("FIXTURES");
    char path[512];
    pid_t kids[COPIES];
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY), listed = 0, rc;
    scan_result_t res;
    size_t distinct = 0;

    ASSERT(fx != NULL);
    snprintf(path, sizeof path, "%s/sleeper", fx);
    for (int i = 0; i < COPIES; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            execl(path, path, (char *)NULL);
            _exit(127);
        }
    }
    usleep(300000);
    {
        pid_t *pids;
        struct stat *seen;
        size_t npids;

        ASSERT_EQ(proc_list_pids(procfd, &pids, &npids), 0);
        seen = cg_xcalloc(npids, sizeof *seen);
        for (size_t i = 0; i < npids; i++) {
            char exe[32];
            struct stat st;
            size_t j;

            snprintf(exe, sizeof exe, "%d/exe", (int)pids[i]);
            if (fstatat(procfd, exe, &st, 0) != 0)
                continue;
            for (j = 0; j < distinct; j++)
                if (seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino)
                    break;
            if (j == distinct)
                seen[distinct++] = st;
        }
        free(seen);
        free(pids);
        ASSERT(distinct + COPIES - 1 <= npids);
    }
    rc = scan_run(procfd, &res, NULL, NULL);
    for (int i = 0; i < COPIES; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < COPIES; i++)
        waitpid(kids[i], NULL, 0);
    ASSERT_EQ(rc, 0);
    for (size_t i = 0; i < res.n; i++)
        for (int k = 0; k < COPIES; k++)
            if (res.procs[i].pid == kids[k]) {
                listed++;
                ASSERT(res.procs[i].bin->is_go);
            }
    ASSERT_EQ(listed, COPIES);
    {
        /* All copies point at the same parsed info. */
        const gobin_info_t *first = NULL;
        for (size_t i = 0; i < res.n; i++)
            for (int k = 0; k < COPIES; k++)
                if (res.procs[i].pid == kids[k]) {
                    if (first == NULL)
                        first = res.procs[i].bin;
                    ASSERT(res.procs[i].bin == first);
                }
    }
    /* As many parses as distinct executables (counted here with stat),
     * give or take processes that came and went meanwhile; a cache that
     * missed would add one parse per copy. */
    ASSERT(res.nexes >= 1);
    ASSERT(res.nexes <= distinct + 3);
    scan_free(&res);
    close(procfd);
}

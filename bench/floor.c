/* floor.c -- the least any Go-process discoverer must do: list /proc and
 * read every /proc/PID/exe link.  bench/discovery compares cgops with it. */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    char path[300], target[4096];
    long n = 0;

    if (d == NULL)
        return 1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/exe", de->d_name);
        if (readlink(path, target, sizeof target) > 0)
            n++;
    }
    closedir(d);
    printf("%ld\n", n);
    return 0;
}

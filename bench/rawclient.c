/* rawclient.c -- the minimal agent client bench/client compares cgops with:
 * connect to 127.0.0.1:PORT, write one command byte, copy the reply to
 * stdout until EOF.  No timeouts, no parsing, no checks: a floor. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    unsigned char cmd;
    char buf[65536];
    ssize_t n;
    int fd;

    if (argc != 3)
        return 2;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cmd = (unsigned char)strtol(argv[2], NULL, 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || write(fd, &cmd, 1) != 1)
        return 1;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        if (write(1, buf, (size_t)n) != n)
            return 1;
    return n < 0;
}

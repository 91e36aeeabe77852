/* portcheck.h -- does a pid really hold the port its port file names? */
#ifndef CGOPS_PORTCHECK_H
#define CGOPS_PORTCHECK_H

#include <stddef.h>
#include <sys/types.h>

/* Is port a TCP socket in LISTEN state that a connection to 127.0.0.1
 * reaches (127.0.0.1, 0.0.0.0, dual-stack ::), in the network namespace of
 * the process whose /proc directory is piddirfd, held open by it?  path
 * (the port file) is for messages.  Returns 1 verified; 0 the check cannot
 * be made (ns/net or the fd table not readable: another user's process;
 * neither sock_diag nor the tables readable), note (notesize bytes) says
 * why; -ESTALE the port is not the pid's (err set: "port P from PATH is
 * not held by pid N (stale port file?)"); -ESRCH the process is gone.
 * The listeners of each namespace are asked once per run and kept: not
 * thread-safe. */
int portcheck_verify(int piddirfd, pid_t pid, int port, const char *path, char *note,
                     size_t notesize, char *err);

#endif

/* portfile.h -- from a pid or "host:port" to the address of a gops agent
 *
 * A gops agent writes its TCP port, in decimal, to a file named after its pid
 * in its config dir.  This module knows the config-dir rules, reads and
 * checks port files (the caller's dir first, then the target's own dir
 * derived from /proc/PID/environ and read through /proc/PID/root), verifies
 * that the port is a listening socket held by that pid, and tells a pid from
 * a host:port argument.
 */
#ifndef CGOPS_PORTFILE_H
#define CGOPS_PORTFILE_H

#include <limits.h>
#include <sys/types.h>

/* Config dir by gops's rules, first match wins: $GOPS_CONFIG_DIR;
 * $XDG_CONFIG_HOME/gops when XDG_CONFIG_HOME is absolute; $HOME/.config/gops;
 * the passwd home of uid + /.config/gops (not looked up when uid is
 * (uid_t)-1).  getenv_fn looks up one variable in the environment being
 * considered (the caller's, or a target's environ); ctx is passed through.
 * Returns 0 or -ENOENT (no rule applies). */
typedef const char *(*portfile_getenv_fn)(const char *name, void *ctx);
int portfile_config_dir(portfile_getenv_fn getenv_fn, void *ctx, uid_t uid,
                        char *dir, size_t size);

/* A getenv_fn over environ text ("K=V\0K=V\0...", /proc/PID/environ):
 * ctx is a portfile_environ_t.  The value of the first name=, or NULL. */
typedef struct {
    const char *env;
    size_t len;
} portfile_environ_t;
const char *portfile_environ_getenv(const char *name, void *ctx);

/* The home directory of uid in passwd(5) text (a target's own /etc/passwd,
 * which is where Go's user.Current looks).  Returns 0 or -ENOENT. */
int portfile_passwd_home(const char *text, size_t len, uid_t uid, char *home, size_t size);

/* Parse a port file's contents: surrounding white space is trimmed, the rest
 * must be a decimal port in 1..65535.  Returns 0 or -EINVAL with err set
 * ("empty", "not a number", "out of range"). */
int portfile_parse(const char *text, int *port, char *err);

/* Read what portfile_find needs once per run (the caller's config dir and
 * its listing, our root and namespaces).  Optional: without it, each
 * lookup tries the caller's dir by path.  Not thread-safe: this module
 * keeps per-run caches (those, and the listeners of each network
 * namespace) that fill lazily, so call it and portfile_find* from one
 * thread. */
void portfile_prepare(void);

/* Result of looking for the agent of one pid. */
typedef struct {
    int port;              /* TCP port from the file */
    char path[PATH_MAX];   /* the file, as a path the user can recognise */
    int via_target_root;   /* 1 if found through /proc/PID/root */
    int verified;          /* 1 the pid holds a LISTEN socket on port;
                              0 the check could not be made (no permission);
                              a port held by nobody or by another process is
                              an error (-ESTALE), never a result */
    char note[256];        /* why verification was skipped, for -v */
    char fallback[PATH_MAX + 96]; /* why the caller's config dir was passed
                              over (a file, a symbolic-link loop), for -v;
                              set whatever the result */
} portfile_t;

/* Find, read and verify the port file of pid.  Returns 0 with *out filled;
 * -ENOENT no port file (or process gone); -EINVAL unreadable contents
 * (garbage, empty, out of range; a symbolic link, FIFO or other file that
 * is not regular); -ESTALE the port is not held by pid.  A stale or bad
 * file in the caller's dir gives way to a valid one in the target's.  err gets the user-facing message,
 * e.g. "port 41259 from PATH is not held by pid 1234 (stale port file?)". */
int portfile_find(int procfd, pid_t pid, portfile_t *out, char *err);

/* The same with the pid's /proc directory already open (piddirfd), for
 * callers that read other files of the process too. */
int portfile_find_at(int piddirfd, pid_t pid, portfile_t *out, char *err);

/* A command target after resolution. */
typedef struct {
    pid_t pid;              /* 0 when given as host:port */
    char host[256];         /* host name or address, no brackets */
    char port[16];          /* service/port string for getaddrinfo */
    char display[300];      /* the argument as the user wrote it */
    int netns_pid;          /* pid whose network namespace must be entered to
                               connect, or 0 to connect from our own */
    portfile_t pf;          /* valid when pid != 0 */
    char url[1024];         /* an HTTP target (net/http/pprof): its base URL,
                               normalised (request.h); empty for an agent */
} target_t;

/* Resolve a command-line target: a string containing ':' is host:port
 * ("[v6]:port" too), anything else must be a pid resolved through
 * portfile_find.  Returns 0 or -errno with err set to the gops-compatible
 * message ("couldn't resolve addr or pid X to TCPAddress: ..."). */
int portfile_target_resolve(int procfd, const char *arg, target_t *out,
                            char *err);

/* Fill a target for pid whose agent port is already known (pf, e.g. from
 * discovery): address, port, and the network namespace to connect in. */
void portfile_target_init(int procfd, pid_t pid, const portfile_t *pf, target_t *out);

#endif

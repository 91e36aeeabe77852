/* test-outfile.c -- tests for outfile.c: symlink rule, FIFOs and devices in
 * place, replace-on-commit, modes, cleanup on signals */
#include "test.h"
#include "cgops/common.h"
#include "cgops/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Users that own nothing here: the "other user" of the attacks. */
#define OTHER_UID 65534
#define DIR_OWNER_UID 65533

static void scratch(char *dir, size_t size)
{
    snprintf(dir, size, "%s/outfile-XXXXXX", test_tmpdir());
    ASSERT(mkdtemp(dir) != NULL);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Entries of dir other than . and ..; *tmps counts our temp names. */
static int entries(const char *dir, int *tmps)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ASSERT(d != NULL);
    if (tmps)
        *tmps = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (tmps && strncmp(e->d_name, ".cgops-", 7) == 0)
            (*tmps)++;
    }
    closedir(d);
    return n;
}

static void assert_no_tmp(const char *dir)
{
    int tmps;

    entries(dir, &tmps);
    if (tmps != 0)
        TEST_FAIL("%d temp file(s) left in %s", tmps, dir);
}

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    ASSERT_EQ(fchmod(fd, mode), 0);
    close(fd);
}

/* The whole file as a string (static buffer, small files only). */
static const char *get(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    ASSERT_EQ(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void save(const char *path, const char *text, char *err)
{
    outfile_t of = OUTFILE_INIT;

    if (outfile_open(&of, path, "x", err) != 0)
        TEST_FAIL("outfile_open %s: %s", path, err);
    ASSERT_EQ(outfile_write_all(&of, text, strlen(text), err), 0);
    if (outfile_commit(&of, err) != 0)
        TEST_FAIL("outfile_commit %s: %s", path, err);
}

/* lchown to another user needs root (CAP_CHOWN); the set-up runs as root. */
static int need_root(void)
{
    if (geteuid() == 0)
        return 1;
    printf("skipped: needs root to give files to another user\n");
    return 0;
}

TEST(outfile_refuses_empty_name)
{
    outfile_t of = OUTFILE_INIT;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(outfile_open(&of, "", "x", err), -EINVAL);
    ASSERT_CONTAINS(err, "empty file name");
    ASSERT_EQ(of.fd, -1);
    outfile_abandon(&of);
}

TEST(outfile_new_file_gets_umask_mode_and_appears_on_commit)
{
    char dir[256], path[300], err[CG_ERR_LEN];
    outfile_t of = OUTFILE_INIT;
    int tmps;

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/new.prof", dir);
    umask(027);
    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_STR_EQ(of.path, path);
    ASSERT_EQ(outfile_write_all(&of, "profile", 7, err), 0);
    /* Nothing under the final name before the reply is whole. */
    ASSERT(access(path, F_OK) != 0);
    ASSERT_EQ(entries(dir, &tmps), 1);
    ASSERT_EQ(tmps, 1);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    ASSERT_STR_EQ(get(path), "profile");
    ASSERT_EQ(mode_of(path), 0640);
    ASSERT_EQ(entries(dir, NULL), 1);
    assert_no_tmp(dir);

    umask(077);
    unlink(path);
    save(path, "again", err);
    ASSERT_EQ(mode_of(path), 0600);
    assert_no_tmp(dir);
    rm_rf(dir);
}

TEST(outfile_existing_file_kept_whole_on_abandon)
{
    char dir[256], path[300], err[CG_ERR_LEN];
    outfile_t of = OUTFILE_INIT;

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/old.prof", dir);
    put(path, "old profile", 0640);
    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "partial", 7, err), 0);
    outfile_abandon(&of);
    outfile_abandon(&of); /* idempotent */
    ASSERT_STR_EQ(get(path), "old profile");
    ASSERT_EQ(mode_of(path), 0640);
    ASSERT_EQ(entries(dir, NULL), 1);
    assert_no_tmp(dir);
    rm_rf(dir);
}

TEST(outfile_existing_file_replaced_on_commit_mode_kept)
{
    char dir[256], path[300], err[CG_ERR_LEN];
    struct stat before, after;

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/old.prof", dir);
    /* A mode the umask would not give, so copying it is what is tested. */
    umask(077);
    put(path, "old profile", 0654);
    ASSERT_EQ(stat(path, &before), 0);
    save(path, "new", err);
    ASSERT_STR_EQ(get(path), "new");
    ASSERT_EQ(stat(path, &after), 0);
    ASSERT_EQ(after.st_mode & 07777, 0654);
    ASSERT(after.st_ino != before.st_ino); /* replaced, not rewritten */
    ASSERT_EQ(entries(dir, NULL), 1);
    assert_no_tmp(dir);
    rm_rf(dir);
}

/* Writing to a file clears set-user-ID; a replacement made by root must not
 * carry it over to content that came from the target process. */
TEST(outfile_replacement_drops_setuid)
{
    char dir[256], path[300], err[CG_ERR_LEN];

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/old", dir);
    put(path, "old", 06755);
    save(path, "new", err);
    ASSERT_EQ(mode_of(path), 0755);
    rm_rf(dir);
}

/* Sets up the attack: sticky world-writable dir (root-owned, as /tmp is)
 * holding out.prof -> victim, the link owned by link_uid; dir owned by
 * dir_uid. */
static void plant(char *sticky, size_t ssize, char *victim_dir, size_t vsize, char *link,
                  size_t lsize, char *victim, size_t visize, uid_t dir_uid, uid_t link_uid)
{
    scratch(sticky, ssize);
    scratch(victim_dir, vsize);
    ASSERT_EQ(chmod(sticky, 01777), 0);
    ASSERT_EQ(chown(sticky, dir_uid, (gid_t)-1), 0);
    snprintf(victim, visize, "%s/shadow", victim_dir);
    put(victim, "root:secret", 0640);
    snprintf(link, lsize, "%s/out.prof", sticky);
    ASSERT_EQ(symlink(victim, link), 0);
    ASSERT_EQ(lchown(link, link_uid, (gid_t)-1), 0);
}

TEST(outfile_symlink_planted_in_sticky_dir_is_refused)
{
    char sticky[256], vdir[256], link[300], victim[300], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;
    struct stat st;

    if (!need_root())
        return;
    plant(sticky, sizeof sticky, vdir, sizeof vdir, link, sizeof link, victim, sizeof victim,
          0, OTHER_UID);
    ASSERT_EQ(outfile_open(&of, link, "x", err), -EACCES);
    ASSERT_CONTAINS(err, "refusing to follow symlink");
    ASSERT_EQ(of.fd, -1);
    outfile_abandon(&of);
    ASSERT_STR_EQ(get(victim), "root:secret");
    ASSERT_EQ(mode_of(victim), 0640);
    ASSERT_EQ(lstat(link, &st), 0);
    ASSERT(S_ISLNK(st.st_mode));
    ASSERT_EQ(entries(sticky, NULL), 1);
    ASSERT_EQ(entries(vdir, NULL), 1);
    rm_rf(sticky);
    rm_rf(vdir);
}

/* The same rule for a link in the middle of the path: /tmp/d -> /etc makes
 * "-o /tmp/d/shadow" name /etc/shadow. */
TEST(outfile_directory_symlink_planted_in_sticky_dir_is_refused)
{
    char sticky[256], vdir[256], link[300], path[400], victim[300], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;

    if (!need_root())
        return;
    scratch(sticky, sizeof sticky);
    scratch(vdir, sizeof vdir);
    ASSERT_EQ(chmod(sticky, 01777), 0);
    snprintf(victim, sizeof victim, "%s/shadow", vdir);
    put(victim, "root:secret", 0640);
    snprintf(link, sizeof link, "%s/d", sticky);
    ASSERT_EQ(symlink(vdir, link), 0);
    ASSERT_EQ(lchown(link, OTHER_UID, (gid_t)-1), 0);
    snprintf(path, sizeof path, "%s/shadow", link);
    ASSERT_EQ(outfile_open(&of, path, "x", err), -EACCES);
    ASSERT_CONTAINS(err, "refusing to follow symlink");
    ASSERT_STR_EQ(get(victim), "root:secret");
    ASSERT_EQ(entries(vdir, NULL), 1);
    rm_rf(sticky);
    rm_rf(vdir);
}

TEST(outfile_symlink_owned_by_caller_is_followed)
{
    char sticky[256], vdir[256], link[300], victim[300], err[CG_ERR_LEN];
    struct stat st;

    plant(sticky, sizeof sticky, vdir, sizeof vdir, link, sizeof link, victim, sizeof victim,
          geteuid(), geteuid());
    save(link, "profile", err);
    /* The file the link names is replaced; the link stays a link to it. */
    ASSERT_STR_EQ(get(victim), "profile");
    ASSERT_EQ(mode_of(victim), 0640);
    ASSERT_EQ(lstat(link, &st), 0);
    ASSERT(S_ISLNK(st.st_mode));
    assert_no_tmp(sticky);
    assert_no_tmp(vdir);
    rm_rf(sticky);
    rm_rf(vdir);
}

TEST(outfile_symlink_owned_by_sticky_dirs_owner_is_followed)
{
    char sticky[256], vdir[256], link[300], victim[300], err[CG_ERR_LEN];

    if (!need_root())
        return;
    plant(sticky, sizeof sticky, vdir, sizeof vdir, link, sizeof link, victim, sizeof victim,
          DIR_OWNER_UID, DIR_OWNER_UID);
    save(link, "profile", err);
    ASSERT_STR_EQ(get(victim), "profile");
    assert_no_tmp(vdir);
    rm_rf(sticky);
    rm_rf(vdir);
}

/* A user cannot rename over another user's file in /tmp: that is found out
 * when the output is opened, not at commit after a 30 s profile. */
TEST(outfile_other_users_file_in_sticky_dir_fails_at_open)
{
    char dir[256], path[300], err[CG_ERR_LEN] = "";
    pid_t pid;
    int status;

    if (!need_root())
        return;
    scratch(dir, sizeof dir);
    ASSERT_EQ(chmod(dir, 01777), 0);
    snprintf(path, sizeof path, "%s/cpu.prof", dir);
    put(path, "theirs", 0666);
    ASSERT_EQ(chown(path, DIR_OWNER_UID, (gid_t)-1), 0);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        outfile_t of = OUTFILE_INIT;

        if (setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0)
            _exit(2);
        _exit(outfile_open(&of, path, "x", err) == -EPERM && strstr(err, "another user") ? 0 : 1);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    ASSERT_STR_EQ(get(path), "theirs");
    ASSERT_EQ(entries(dir, NULL), 1);
    rm_rf(dir);
}

/* Outside sticky world-writable directories a link is followed whoever owns
 * it, as the kernel does. */
TEST(outfile_symlink_of_other_user_in_plain_dir_is_followed)
{
    char dir[256], vdir[256], link[300], victim[300], err[CG_ERR_LEN];

    if (!need_root())
        return;
    scratch(dir, sizeof dir);
    scratch(vdir, sizeof vdir);
    ASSERT_EQ(chmod(dir, 0755), 0);
    snprintf(victim, sizeof victim, "%s/target", vdir);
    put(victim, "old", 0644);
    snprintf(link, sizeof link, "%s/out.prof", dir);
    /* A relative link resolves from the link's own directory. */
    snprintf(victim, sizeof victim, "../%s/target", strrchr(vdir, '/') + 1);
    ASSERT_EQ(symlink(victim, link), 0);
    ASSERT_EQ(lchown(link, OTHER_UID, (gid_t)-1), 0);
    save(link, "profile", err);
    snprintf(victim, sizeof victim, "%s/target", vdir);
    ASSERT_STR_EQ(get(victim), "profile");
    assert_no_tmp(vdir);
    assert_no_tmp(dir);
    rm_rf(dir);
    rm_rf(vdir);
}

TEST(outfile_symlink_loop_fails)
{
    char dir[256], a[300], b[300], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;

    scratch(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    ASSERT_EQ(symlink("b", a), 0);
    ASSERT_EQ(symlink("a", b), 0);
    ASSERT_EQ(outfile_open(&of, a, "x", err), -ELOOP);
    ASSERT_EQ(entries(dir, NULL), 2);
    rm_rf(dir);
}

TEST(outfile_fifo_written_in_place_and_never_removed)
{
    char dir[256], path[300], err[CG_ERR_LEN], buf[16];
    outfile_t of = OUTFILE_INIT;
    struct stat st;
    int rd;

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/fifo", dir);
    ASSERT_EQ(mkfifo(path, 0600), 0);
    /* O_RDWR opens a FIFO without waiting for a writer, and keeps a reader
     * there so that our O_WRONLY open does not wait either. */
    rd = open(path, O_RDWR | O_NONBLOCK);
    ASSERT(rd >= 0);
    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "hello", 5, err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    ASSERT_EQ(read(rd, buf, sizeof buf), 5);
    ASSERT(memcmp(buf, "hello", 5) == 0);
    ASSERT_EQ(lstat(path, &st), 0);
    ASSERT(S_ISFIFO(st.st_mode));

    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "part", 4, err), 0);
    outfile_abandon(&of);
    ASSERT_EQ(lstat(path, &st), 0);
    ASSERT(S_ISFIFO(st.st_mode));
    ASSERT_EQ(entries(dir, NULL), 1);
    close(rd);
    rm_rf(dir);
}

/* fs.protected_fifos: a FIFO planted in /tmp by another user would get
 * root's profile (and could stall it); one of our own is fine. */
TEST(outfile_fifo_of_other_user_in_sticky_dir_is_refused)
{
    char dir[256], path[300], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;
    int rd;

    if (!need_root())
        return;
    scratch(dir, sizeof dir);
    ASSERT_EQ(chmod(dir, 01777), 0);
    snprintf(path, sizeof path, "%s/out.prof", dir);
    ASSERT_EQ(mkfifo(path, 0666), 0);
    rd = open(path, O_RDWR | O_NONBLOCK);
    ASSERT(rd >= 0);
    ASSERT_EQ(chown(path, OTHER_UID, (gid_t)-1), 0);
    ASSERT_EQ(outfile_open(&of, path, "x", err), -EACCES);
    ASSERT_CONTAINS(err, "FIFO");
    ASSERT_EQ(chown(path, geteuid(), (gid_t)-1), 0);
    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    close(rd);
    rm_rf(dir);
}

struct reader {
    int fd;
    size_t got;
    int bad;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    char buf[8192];
    ssize_t n;

    while ((n = read(r->fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (char)((r->got + (size_t)i) % 251))
                r->bad = 1;
        r->got += (size_t)n;
    }
    return NULL;
}

/* More than a pipe holds, so the kernel takes it in several parts. */
TEST(outfile_write_all_writes_everything_to_a_fifo)
{
    char dir[256], path[300], err[CG_ERR_LEN];
    outfile_t of = OUTFILE_INIT;
    struct reader r = { -1, 0, 0 };
    pthread_t t;
    size_t n = 1 << 20;
    char *buf = cg_xmalloc(n);

    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(i % 251);
    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/fifo", dir);
    ASSERT_EQ(mkfifo(path, 0600), 0);
    r.fd = open(path, O_RDONLY | O_NONBLOCK);
    ASSERT(r.fd >= 0);
    ASSERT_EQ(outfile_open(&of, path, "x", err), 0);
    ASSERT_EQ(fcntl(r.fd, F_SETFL, 0), 0); /* blocking reads from here on */
    ASSERT_EQ(pthread_create(&t, NULL, reader_main, &r), 0);
    ASSERT_EQ(outfile_write_all(&of, buf, n, err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    pthread_join(t, NULL);
    ASSERT_EQ(r.got, n);
    ASSERT_EQ(r.bad, 0);
    close(r.fd);
    free(buf);
    rm_rf(dir);
}

TEST(outfile_write_error_is_reported)
{
    outfile_t of = OUTFILE_INIT;
    char err[CG_ERR_LEN] = "";

    ASSERT_EQ(outfile_open(&of, "/dev/full", "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "x", 1, err), -ENOSPC);
    ASSERT_CONTAINS(err, "/dev/full");
    outfile_abandon(&of);
}

TEST(outfile_dev_null_and_stdout_written_in_place)
{
    outfile_t of = OUTFILE_INIT;
    char err[CG_ERR_LEN], buf[8];
    struct stat st;
    int p[2];

    ASSERT_EQ(outfile_open(&of, "/dev/null", "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "x", 1, err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    ASSERT_EQ(outfile_open(&of, "/dev/null", "x", err), 0);
    outfile_abandon(&of);
    ASSERT_EQ(lstat("/dev/null", &st), 0);
    ASSERT(S_ISCHR(st.st_mode));

    /* /dev/stdout -> /proc/self/fd/1 -> "pipe:[N]", which only the kernel
     * can open: `cgops pprof-heap PID -o /dev/stdout | go tool pprof`. */
    ASSERT_EQ(pipe(p), 0);
    fflush(stdout);
    ASSERT_EQ(dup2(p[1], 1), 1);
    ASSERT_EQ(outfile_open(&of, "/dev/stdout", "x", err), 0);
    ASSERT_EQ(outfile_write_all(&of, "piped", 5, err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    ASSERT_EQ(read(p[0], buf, sizeof buf), 5);
    ASSERT(memcmp(buf, "piped", 5) == 0);
}

TEST(outfile_missing_directory_is_a_clear_error)
{
    char dir[256], path[400], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;

    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/missing/out.prof", dir);
    ASSERT_EQ(outfile_open(&of, path, "x", err), -ENOENT);
    ASSERT_CONTAINS(err, "missing' does not exist");
    ASSERT_EQ(entries(dir, NULL), 0);
    rm_rf(dir);
}

TEST(outfile_directory_is_refused)
{
    char dir[256], path[300], err[CG_ERR_LEN] = "";
    outfile_t of = OUTFILE_INIT;

    scratch(dir, sizeof dir);
    ASSERT_EQ(outfile_open(&of, dir, "x", err), -EISDIR);
    snprintf(path, sizeof path, "%s/new/", dir);
    ASSERT_EQ(outfile_open(&of, path, "x", err), -EISDIR);
    ASSERT_EQ(entries(dir, NULL), 0);
    rm_rf(dir);
}

TEST(outfile_relative_path_from_cwd)
{
    char dir[256], path[300], err[CG_ERR_LEN];

    scratch(dir, sizeof dir);
    ASSERT_EQ(mkdir(strcat(strcpy(path, dir), "/sub"), 0755), 0);
    ASSERT_EQ(chdir(dir), 0);
    save("sub/../out.prof", "profile", err);
    ASSERT_STR_EQ(get("out.prof"), "profile");
    assert_no_tmp(dir);
    rm_rf(dir);
}

TEST(outfile_tmpdir_file_is_the_result)
{
    char dir[256], err[CG_ERR_LEN], prefix[300];
    outfile_t of = OUTFILE_INIT;

    scratch(dir, sizeof dir);
    setenv("TMPDIR", dir, 1);
    ASSERT_EQ(outfile_open(&of, NULL, "heap_profile", err), 0);
    snprintf(prefix, sizeof prefix, "%s/heap_profile", dir);
    ASSERT_EQ(strncmp(of.path, prefix, strlen(prefix)), 0);
    ASSERT_EQ(strlen(of.path), strlen(prefix) + 6);
    ASSERT_EQ(mode_of(of.path), 0600);
    ASSERT_EQ(outfile_write_all(&of, "p", 1, err), 0);
    ASSERT_EQ(outfile_commit(&of, err), 0);
    ASSERT_STR_EQ(get(of.path), "p");
    ASSERT_EQ(unlink(of.path), 0);

    ASSERT_EQ(outfile_open(&of, NULL, "cpu_profile", err), 0);
    outfile_abandon(&of);
    ASSERT_EQ(entries(dir, NULL), 0);
    rm_rf(dir);
}

TEST(outfile_too_many_open_is_refused)
{
    char dir[256], err[CG_ERR_LEN] = "";
    outfile_t of[OUTFILE_MAX_OPEN + 1];

    scratch(dir, sizeof dir);
    setenv("TMPDIR", dir, 1);
    for (int i = 0; i < OUTFILE_MAX_OPEN; i++)
        ASSERT_EQ(outfile_open(&of[i], NULL, "t", err), 0);
    ASSERT_EQ(outfile_open(&of[OUTFILE_MAX_OPEN], NULL, "t", err), -EMFILE);
    for (int i = 0; i < OUTFILE_MAX_OPEN; i++)
        outfile_abandon(&of[i]);
    ASSERT_EQ(entries(dir, NULL), 0);
    /* Slots come back. */
    ASSERT_EQ(outfile_open(&of[0], NULL, "t", err), 0);
    outfile_abandon(&of[0]);
    rm_rf(dir);
}

/* An idle (all-zero) outfile owns no fd: abandoning it must not close 0. */
TEST(outfile_abandon_of_idle_is_a_no_op)
{
    outfile_t of;
    int fd = open("/dev/null", O_RDONLY);

    ASSERT(fd >= 0);
    ASSERT_EQ(dup2(fd, 0), 0);
    memset(&of, 0, sizeof of);
    outfile_abandon(&of);
    ASSERT(fcntl(0, F_GETFD) != -1);
    ASSERT_EQ(outfile_commit(&of, NULL), -EBADF);
}

/* A child opens three outfiles (one committed before), then gets sig: it
 * must die of sig, and leave only the committed file and the old one. */
static void signal_case(int sig)
{
    char dir[256], old[300], fresh[300], done[300], err[CG_ERR_LEN];
    pid_t pid;
    int status;

    scratch(dir, sizeof dir);
    snprintf(old, sizeof old, "%s/old.prof", dir);
    snprintf(fresh, sizeof fresh, "%s/new.prof", dir);
    snprintf(done, sizeof done, "%s/done.prof", dir);
    put(old, "old", 0644);
    fflush(NULL);
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        outfile_t a = OUTFILE_INIT, b = OUTFILE_INIT, c = OUTFILE_INIT, d = OUTFILE_INIT;

        setenv("TMPDIR", dir, 1);
        if (outfile_install_signal_cleanup() != 0)
            _exit(2);
        save(done, "done", err);
        if (outfile_open(&a, NULL, "cpu_profile", err) || outfile_open(&b, old, "x", err) ||
            outfile_open(&c, fresh, "x", err) || outfile_open(&d, "/dev/null", "x", err) ||
            outfile_write_all(&b, "partial", 7, err))
            _exit(3);
        /* old, done, the $TMPDIR file and two temp files. */
        if (entries(dir, NULL) != 5)
            _exit(4);
        raise(sig);
        _exit(5);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        TEST_FAIL("signal %d: child exited %d", sig, WEXITSTATUS(status));
    ASSERT_EQ(WTERMSIG(status), sig);
    ASSERT_EQ(entries(dir, NULL), 2);
    ASSERT_STR_EQ(get(old), "old");
    ASSERT_STR_EQ(get(done), "done");
    rm_rf(dir);
}

TEST(outfile_signal_cleanup_removes_what_was_created)
{
    signal_case(SIGINT);
    signal_case(SIGTERM);
    signal_case(SIGHUP);
}

/* Under nohup SIGHUP is ignored, and must stay so. */
TEST(outfile_signal_cleanup_keeps_ignored_signals_ignored)
{
    struct sigaction sa;

    signal(SIGHUP, SIG_IGN);
    ASSERT_EQ(outfile_install_signal_cleanup(), 0);
    ASSERT_EQ(sigaction(SIGHUP, NULL, &sa), 0);
    ASSERT(sa.sa_handler == SIG_IGN);
    ASSERT_EQ(sigaction(SIGINT, NULL, &sa), 0);
    ASSERT(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

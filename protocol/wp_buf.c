/*
 * wp_buf.c - creation of backing files, and removal of those whose process
 * is gone (winapi_reap).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "winapi.h"
#include "wp_buf.h"

static atomic_uint_fast32_t next_id = 1;

int wp_buf_create(const char *dir, off_t size, char *path, size_t pathlen,
                  uint32_t *id)
{
    /* Bounded so that a directory full of stale names cannot spin forever. */
    for (int tries = 0; tries < 1000; tries++) {
        uint32_t n = (uint32_t)atomic_fetch_add(&next_id, 1);
        int fd, len;

        if (n == 0)
            continue;
        len = snprintf(path, pathlen, "%s/" WP_BUF_PREFIX "%u_%ld",
                       dir, n, (long)getpid());
        if (len < 0 || (size_t)len >= pathlen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        if (size > 0 && ftruncate(fd, size) < 0) {
            int e = errno;
            unlink(path);
            close(fd);
            errno = e;
            return -1;
        }
        *id = n;
        return fd;
    }
    errno = EEXIST;
    return -1;
}

/* winapi_shared_buffer_{ID}_{PID}, digits only: its PID, or 0. */
static pid_t buffer_pid(const char *name)
{
    const char *p = name + sizeof(WP_BUF_PREFIX) - 1, *us;
    char *end;
    long pid;

    if (strncmp(name, WP_BUF_PREFIX, sizeof(WP_BUF_PREFIX) - 1) != 0)
        return 0;
    us = strchr(p, '_');
    if (!us || us == p || strspn(p, "0123456789") != (size_t)(us - p))
        return 0;
    errno = 0;
    pid = strtol(us + 1, &end, 10);
    if (errno || *end || end == us + 1 || pid <= 0 || us[1] == '0')
        return 0;
    return (pid_t)pid;
}

static bool process_gone(pid_t pid)
{
    return kill(pid, 0) < 0 && errno == ESRCH;
}

/*
 * Whether a winapifs journal in dirfd names the file: a record names a
 * backing file as a whole field, " NAME" at the end of its line.  Any
 * error counts as named: when in doubt, keep the file.
 */
static bool named_by_journal(int dirfd, const char *name)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    size_t nlen = strlen(name);
    struct dirent *e;
    bool named = false;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return true;
    }
    while (!named && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        FILE *fp;
        int jfd;

        if (strncmp(e->d_name, ".winapifs.", 10) != 0 || len < 8 ||
            strcmp(e->d_name + len - 8, ".journal") != 0)
            continue;
        jfd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (jfd < 0 || !(fp = fdopen(jfd, "r"))) {
            if (jfd >= 0)
                close(jfd);
            named = true;
            continue;
        }
        while (!named && (n = getline(&line, &cap, fp)) > 0) {
            if (line[n - 1] == '\n')
                line[--n] = '\0';
            named = (size_t)n > nlen && line[n - (ssize_t)nlen - 1] == ' ' &&
                    strcmp(line + n - nlen, name) == 0;
        }
        free(line);
        fclose(fp);
    }
    closedir(d);
    return named;
}

int winapi_reap(const char *dir, int dry_run, winapi_reap_fn *fn, void *arg)
{
    char path[4096];
    struct dirent *e;
    DIR *d;
    int found = 0, dfd;

    if (!dir)
        dir = getenv("WINAPI_BACKING_DIR");
    if (!dir || !*dir)
        dir = WINAPI_DEFAULT_BACKING_DIR;
    d = opendir(dir);
    if (!d)
        return -1;
    dfd = dirfd(d);
    while ((e = readdir(d))) {
        pid_t pid = buffer_pid(e->d_name);
        int err = 0;

        if (!pid || !process_gone(pid) || named_by_journal(dfd, e->d_name))
            continue;
        found++;
        if (!dry_run && unlinkat(dfd, e->d_name, 0) < 0)
            err = errno;
        if (fn) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            fn(arg, path, err);
        }
    }
    closedir(d);
    return found;
}

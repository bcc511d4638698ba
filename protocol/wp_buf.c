/*
 * wp_buf.c - creation of backing files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

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

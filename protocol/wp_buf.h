/*
 * wp_buf.h - backing files of shared buffers.
 *
 * A buffer is {dir}/winapi_shared_buffer_{ID}_{PID}: ID from a process-wide
 * counter starting at 1 (thread-safe), PID the creating process.  Files are
 * created O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600; an existing file of that name
 * is never opened, the next ID is taken instead.
 */
#ifndef WP_BUF_H
#define WP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WP_BUF_PREFIX "winapi_shared_buffer_"

/*
 * Create a backing file of size bytes (sparse where the filesystem allows)
 * in dir.  On success returns the open descriptor (O_RDWR|O_CLOEXEC) and
 * writes the path and ID; on failure returns -1 with errno set, and no file
 * is left behind.
 */
int wp_buf_create(const char *dir, off_t size, char *path, size_t pathlen,
                  uint32_t *id);

#endif /* WP_BUF_H */

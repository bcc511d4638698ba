/*
 * winapifs.h - what the parts of winapifs share: the file system's state
 * and the FUSE operations.
 *
 *   main.c    options, mounting, the session loop, shutdown
 *   ops.c     the FUSE low-level operations, translating to node.c and ctl.c
 *   node.c    the namespace and the backing files
 *   xattr.c   stored user.* attributes
 *   ctl.c     the control attributes, which talk to the host via libwinapi
 *   notify.c  the thread that drops the kernel's cache after host writes
 */
#ifndef WINAPIFS_H
#define WINAPIFS_H

#include <fuse_lowlevel.h>
#include <stdatomic.h>

#include "node.h"
#include "notify.h"
#include "winapi.h"

#if FUSE_MAJOR_VERSION == 3 && FUSE_MINOR_VERSION < 17
#error "winapifs needs libfuse 3.17 or later"
#endif

/*
 * Request sizes, chosen by measurement (bench/run-bench-fuse.sh).
 *
 * A read is answered by splicing the backing file into a pipe and the pipe
 * into /dev/fuse, with one copy; it must fit in a pipe with its header, and
 * pipes stop at /proc/sys/fs/pipe-max-size (1 MiB) unless the daemon has
 * CAP_SYS_RESOURCE.  Reads are therefore 512 KiB (the max_read mount
 * option), with 1 MiB of read-ahead keeping two in flight.
 *
 * Writes could be spliced too, but only if every request, header
 * included, fits in a pipe: 512 KiB at most.  The round trip per request
 * costs more than a copy of 512 KiB does, so writes are 1 MiB (what dd
 * bs=1M and cp hand over in one call) and arrive in memory, one copy more.
 */
#define WFS_MAX_WRITE (1024 * 1024)
#define WFS_MAX_READ (512 * 1024)
#define WFS_READAHEAD (1024 * 1024)

/* Names only change through this mount, so the kernel may keep them. */
#define WFS_ENTRY_TIMEOUT 86400.0
/*
 * Sizes change through this mount too, and host writes are invalidated
 * explicitly; a second bounds how long a change made behind winapifs's
 * back (to a backing file directly) goes unseen.
 */
#define WFS_ATTR_TIMEOUT 1.0

struct wfs {
    struct node_ns ns;
    winapi_handle_t host;
    struct notifier notifier;
    struct fuse_session *se;
    struct fuse_conn_info_opts *conn_opts;  /* the user's -o max_write=... */
    unsigned readahead;                     /* bytes */
    unsigned max_read;                      /* bytes */
    atomic_bool host_down;                  /* the last request got no answer */
};

extern const struct fuse_lowlevel_ops wfs_ops;

/*
 * Answer getxattr/listxattr with value (len bytes) for a caller with a
 * size-byte buffer: the length when size is 0, ERANGE when too small.
 */
void wfs_reply_xattr(fuse_req_t req, const void *value, size_t len, size_t size);

#endif /* WINAPIFS_H */

/*
 * winapifs.h - what the parts of winapifs share: the file system's state
 * and the FUSE operations.
 *
 *   main.c         options, mounting, the session loop, shutdown
 *   ops.c          the FUSE low-level operations, translating to the rest
 *   node.c         the namespace and the backing files
 *   passthrough.c  handing open files to the kernel
 *   xattr.c        stored user.* attributes
 *   ctl.c          the control attributes, which talk to the host via libwinapi
 *   ctl_job.c      following the host's jobs of those requests to their end
 *   notify.c       the thread that drops the kernel's cache after host writes
 *
 * Calls go down this list's dependencies only: ops.c calls the others,
 * ctl.c calls node.c and notify.c, and none calls back up.
 */
#ifndef WINAPIFS_H
#define WINAPIFS_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "ctl_job.h"
#include "node.h"
#include "notify.h"
#include "winapi.h"

#if FUSE_MAJOR_VERSION == 3 && FUSE_MINOR_VERSION < 17
#error "winapifs needs libfuse 3.17 or later (scripts/build-libfuse.sh builds it)"
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

/*
 * Names and attributes only change through this mount (a write, with or
 * without passthrough, has the kernel update or drop what it cached) or
 * through a host operation, after which notify.c drops them: the kernel
 * may keep them.  A backing file changed behind winapifs's back is not
 * its to see.
 */
#define WFS_ENTRY_TIMEOUT 86400.0
#define WFS_ATTR_TIMEOUT 86400.0

enum pt_mode { PT_AUTO, PT_ON, PT_OFF };

#define PT_PARKED_MAX 16

/* Kernel passthrough (passthrough.c). */
struct pt_state {
    enum pt_mode mode;              /* -o passthrough= */
    bool usable;                    /* pt_probe() found nothing against it */
    unsigned stack_depth;           /* max_backing_stack_depth to ask for */
    atomic_bool active;             /* granted, and working */
    bool refused;                   /* passthrough=on, and the kernel said no */
    pthread_mutex_t lock;           /* why, parked */
    char why[160];                  /* why it is off */
    int parked[PT_PARKED_MAX];      /* backing ids still to release */
    unsigned nparked;
};

struct wfs {
    struct node_ns ns;
    winapi_handle_t host;
    struct notifier notifier;
    struct watchers watch;                  /* of submitted jobs */
    struct fuse_session *se;
    struct fuse_conn_info_opts *conn_opts;  /* the user's -o max_write=... */
    unsigned readahead;                     /* bytes */
    unsigned max_read;                      /* bytes */
    atomic_bool host_down;                  /* the last request got no answer */
    struct pt_state pt;
    char *mountpoint;                       /* absolute, resolved; NULL: unknown */
};

extern const struct fuse_lowlevel_ops wfs_ops;

#endif /* WINAPIFS_H */

/*
 * notify.h - dropping the kernel's cache of a buffer after the host wrote
 * to it, without ever making a FUSE worker wait on the kernel.
 *
 * The host changes buffers behind the kernel's back, so after an operation
 * that may write, the inode's cached pages and attributes must go before
 * the setxattr that asked for it returns: a read() after setfattr, or an
 * existing mmap, must see the host's bytes.
 *
 * fuse_lowlevel_notify_inval_inode() waits for page locks.  A page stays
 * locked while a read of it is in flight, and that read is answered by a
 * FUSE worker.  Sent from a worker, the notification can wait for a read
 * that waits for a free worker; with every worker caught like that, the
 * file system deadlocks.  So one dedicated thread, which serves no request
 * and holds no lock of ours while it waits, sends every invalidation and
 * then the reply of the setxattr that caused it.  The reply still follows
 * the invalidation, and the workers stay free to answer the reads the
 * invalidation waits for.
 */
#ifndef WINAPIFS_NOTIFY_H
#define WINAPIFS_NOTIFY_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>

struct notify_job;

struct notifier {
    struct fuse_session *se;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct notify_job *head, **tail;
    bool stopping;
    bool running;
    pthread_t thread;
};

/* Start the thread.  0, or -1 with errno. */
int notify_start(struct notifier *nt, struct fuse_session *se);

/* Serve what is queued, then stop the thread.  Safe if never started. */
void notify_stop(struct notifier *nt);

/*
 * A job, allocated before the host is asked, so that once the host has
 * written nothing can stop the cache from being dropped.  NULL (ENOMEM).
 */
struct notify_job *notify_job_new(void);

/* Also invalidate ino (another file the host wrote); at most 16. */
void notify_job_also(struct notify_job *job, fuse_ino_t ino);

/*
 * Invalidate ino's cached pages and attributes (and those added with
 * notify_job_also), then answer req with err
 * (0 for success).  Takes the job; never blocks.
 */
void notify_submit(struct notifier *nt, struct notify_job *job,
                   fuse_req_t req, fuse_ino_t ino, int err);

#endif /* WINAPIFS_NOTIFY_H */

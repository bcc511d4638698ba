/*
 * notify.c - the invalidation thread: a FIFO of (inode, request) pairs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "wp_msg.h"

struct notify_job {
    struct notify_job *next;
    fuse_req_t req;
    fuse_ino_t ino;
    fuse_ino_t also[WP_MAX_STEPS];
    size_t nalso;
    int err;
};

void notify_job_also(struct notify_job *job, fuse_ino_t ino)
{
    if (job->nalso < WP_MAX_STEPS)
        job->also[job->nalso++] = ino;
}

static void invalidate(struct notifier *nt, fuse_ino_t ino)
{
    /* Offset 0, length 0: every page, and the attributes. */
    int res = fuse_lowlevel_notify_inval_inode(nt->se, ino, 0, 0);

    /* ENOENT: the kernel holds no cache for the inode; nothing to drop. */
    if (res < 0 && res != -ENOENT)
        fuse_log(FUSE_LOG_WARNING,
                 "winapifs: cannot invalidate the cache of inode %llu: %s\n",
                 (unsigned long long)ino, strerror(-res));
}

static void notify_run(struct notifier *nt, struct notify_job *job)
{
    invalidate(nt, job->ino);
    for (size_t i = 0; i < job->nalso; i++)
        invalidate(nt, job->also[i]);
    fuse_reply_err(job->req, job->err);
}

static void *notify_main(void *arg)
{
    struct notifier *nt = arg;
    struct notify_job *job;

    pthread_mutex_lock(&nt->lock);
    for (;;) {
        while (!nt->head && !nt->stopping)
            pthread_cond_wait(&nt->cond, &nt->lock);
        job = nt->head;
        if (!job)
            break;
        nt->head = job->next;
        if (!nt->head)
            nt->tail = &nt->head;
        pthread_mutex_unlock(&nt->lock);
        notify_run(nt, job);
        free(job);
        pthread_mutex_lock(&nt->lock);
    }
    pthread_mutex_unlock(&nt->lock);
    return NULL;
}

int notify_start(struct notifier *nt, struct fuse_session *se)
{
    int e;

    memset(nt, 0, sizeof(*nt));
    nt->se = se;
    nt->tail = &nt->head;
    pthread_mutex_init(&nt->lock, NULL);
    pthread_cond_init(&nt->cond, NULL);
    e = pthread_create(&nt->thread, NULL, notify_main, nt);
    if (e != 0) {
        pthread_cond_destroy(&nt->cond);
        pthread_mutex_destroy(&nt->lock);
        errno = e;
        return -1;
    }
    nt->running = true;
    return 0;
}

void notify_stop(struct notifier *nt)
{
    if (!nt->running)
        return;
    pthread_mutex_lock(&nt->lock);
    nt->stopping = true;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
    pthread_join(nt->thread, NULL);
    pthread_cond_destroy(&nt->cond);
    pthread_mutex_destroy(&nt->lock);
    nt->running = false;
}

struct notify_job *notify_job_new(void)
{
    return calloc(1, sizeof(struct notify_job));
}

void notify_submit(struct notifier *nt, struct notify_job *job,
                   fuse_req_t req, fuse_ino_t ino, int err)
{
    job->req = req;
    job->ino = ino;
    job->err = err;
    job->next = NULL;
    pthread_mutex_lock(&nt->lock);
    *nt->tail = job;
    nt->tail = &job->next;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
}

/*
 * ctl_job.h - a buffer's host jobs, as the mount follows them.
 *
 * Every request made through the mount is a host job: user.winapi.submit
 * returns once the host accepted it, user.winapi.process also waits for its
 * end.  Either way the end is recorded on the node (status, result, the
 * last progress) once the kernel's cache of a buffer the host may have
 * written has been dropped, so that whoever sees the job ended also reads
 * the host's bytes.
 *
 * A submitted job is followed by a thread of its own (a watcher), which
 * asks the host to wait for it a second at a time: jobs end in the order
 * the host finishes them, not the order they were submitted, and unmount
 * never waits more than a second for a watcher.  A host that does not
 * answer ends the watch, the job then failed: a host that restarted has
 * forgotten its jobs, and may give a job's id to another.
 */
#ifndef WINAPIFS_CTL_JOB_H
#define WINAPIFS_CTL_JOB_H

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct wfs;
struct node;
struct ctl_dests;

struct watchers {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned count;
    bool stopping;
};

void watchers_init(struct watchers *w);
/* Stop following jobs (the host's keep running) and wait for every watcher. */
void watchers_stop(struct watchers *w);

/* A request for n is under way: status processing until job_end_failed() or the job's end. */
void job_begin(struct node *n);
/* The host accepted the request as job id: n's latest, under way. */
void job_started(struct node *n, uint64_t id);
/*
 * The request never became a job (the host refused it or did not answer):
 * record it, taking response (the host's answer, or NULL).  The file's last
 * job stays the one progress and cancel reach.
 */
void job_end_failed(struct node *n, char *response);

/*
 * Wait on this worker for job id of n to end and record it.  A FUSE
 * interrupt of req (the caller's signal) cancels the host's job; the
 * answer is then EINTR.  Otherwise 0 or the errno of the job's outcome
 * (ECANCELED when someone cancelled it).  The caller drops the cache (the
 * notifier does, before it answers).
 */
int job_wait(struct wfs *fs, fuse_req_t req, struct node *n, uint64_t id);

/*
 * Follow job id of n from a watcher until it ends, then record it (after
 * dropping the kernel's cache if the host may have written, and that of
 * the dests, which the watcher takes: d is left empty).  0, or an errno
 * when no watcher could start (the job is then cancelled).
 */
int job_watch(struct wfs *fs, struct node *n, uint64_t id, bool may_write,
              struct ctl_dests *d);

/* Cancel n's job.  0 (also when it has ended), ENODATA without one, or the host's errno. */
int job_cancel(struct wfs *fs, struct node *n);

/*
 * {"job_id","state","bytes_done","bytes_total"} of n's last job in *out
 * (free it): asked of the host while it runs.  ENODATA without one.
 */
int job_progress(struct wfs *fs, struct node *n, char **out);

#endif /* WINAPIFS_CTL_JOB_H */

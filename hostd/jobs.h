/*
 * jobs.h - the work of winapi-hostd: jobs, and a fixed pool of workers
 * that runs them a slice at a time, round robin across their owners.
 *
 * Every request that touches a buffer is a job, also when it is answered
 * synchronously: it has a state, a progress counter and a cancel flag, so
 * that asynchronous jobs, progress and cancelling have one thing to build
 * on.  An owner is the unit of fairness (a connection): the workers take
 * one slice of the first runnable job of each owner in turn, so a small
 * request waits for at most one slice of each big one running beside it,
 * whoever sent them, and not for them to finish.
 *
 * Threads: jobs_* may be called from any thread.  A job's ops run on a
 * worker, never two at once for one job, or on the thread that calls
 * job_run_here.
 */
#ifndef HOSTD_JOBS_H
#define HOSTD_JOBS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A slice: at most this many bytes or this much time, whichever comes
 * first (a slow algorithm, or pages faulted in from a disk, take long for
 * few bytes).  A slice also looks at the cancel flag at least every
 * JOB_STEP_BYTES.
 */
#define JOB_SLICE_BYTES ((uint64_t)64 << 20)
#define JOB_SLICE_MS 20
#define JOB_STEP_BYTES ((uint64_t)1 << 20)

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED };

struct job;

struct job_ops {
    /*
     * Work for about one slice; JOB_RUNNING while there is more to do,
     * else how the job ended (JOB_CANCELLED once it saw job_cancelled()).
     */
    enum job_state (*slice)(struct job *j);
    /*
     * The job has ended, with j->state final (JOB_CANCELLED also when it
     * never ran): answer and free it.  Called exactly once, on any thread,
     * holding no lock of the scheduler's.
     */
    void (*end)(struct job *j);
};

struct job {
    const struct job_ops *ops;
    _Atomic int state;                  /* enum job_state */
    _Atomic uint64_t bytes_done;        /* progress, set by slice() */
    uint64_t bytes_total;
    atomic_bool cancel;
    /* the scheduler's */
    struct jobs_owner *owner;
    struct job *run_next;               /* in its owner's runnable list */
    struct job *prev, *next;            /* in its owner's unfinished jobs */
};

/* One per connection, embedded in it; all zero to start. */
struct jobs_owner {
    struct job *run_head, *run_tail;    /* runnable, oldest first */
    struct job *jobs;                   /* every unfinished job */
    struct jobs_owner *ring_next;
    bool in_ring;
};

void job_init(struct job *j, const struct job_ops *ops, uint64_t bytes_total);

static inline bool job_cancelled(struct job *j)
{
    return atomic_load_explicit(&j->cancel, memory_order_relaxed);
}

/* Run j to its end on this thread, then end it (small requests). */
void job_run_here(struct job *j);

struct jobs;

/*
 * Start nworkers workers; at most max_queued jobs may wait to start.
 * NULL with the reason in err.
 */
struct jobs *jobs_start(int nworkers, int max_queued, char *err, size_t errlen);
/*
 * Queue j for owner o.  False when max_queued jobs are already waiting to
 * start, or the scheduler stops: the caller keeps j (and answers busy).
 */
bool jobs_submit(struct jobs *s, struct jobs_owner *o, struct job *j);
/*
 * Cancel every unfinished job of o: those waiting end here and now, those
 * on a worker at the end of their slice (they look at the flag meanwhile).
 */
void jobs_cancel_owner(struct jobs *s, struct jobs_owner *o);
/* Cancel and end every job, join the workers, free.  NULL is ignored. */
void jobs_stop(struct jobs *s);

#endif /* HOSTD_JOBS_H */

/*
 * asyncjobs.h - the jobs of "async":true requests, as {"api":"job"} sees
 * them: an id each, their state and progress while they run, their
 * response once they end, the connections waiting for them, and how long
 * an ended one is kept (SPEC, "Jobs").
 *
 * The work itself is the scheduler's (jobs.h); an async job is the same
 * job a synchronous request would be, with an owner of its own instead of
 * its connection's, so that it outlives the connection and takes its turn
 * in the round robin like a connection.
 *
 * A job is visible to the connections that said hello with the token it
 * was made under (without a token file: to every connection), and to no
 * other: there its id is not_found, and it is never listed.
 *
 * Threads: ajobs_end on the worker that ends a job; everything else on the
 * event loop's thread.  One lock inside guards the table.
 */
#ifndef HOSTD_ASYNCJOBS_H
#define HOSTD_ASYNCJOBS_H

#include <stdint.h>

#include "conn.h"
#include "jobs.h"
#include "wp_msg.h"

struct ajobs;
struct ajob;

/* An answer for a connection: queue line on c, then drop the reference on c. */
struct ajob_reply {
    struct conn *c;
    char *line;                 /* malloc'd; NULL when out of memory */
    struct ajob_reply *next;
};

/* A table for at most max_jobs jobs, ended ones kept ttl_s seconds; NULL when out of memory. */
struct ajobs *ajobs_new(int max_jobs, int ttl_s);
/* Free the table; every job must have ended (jobs_stop), waiters are let go. */
void ajobs_free(struct ajobs *a);

/*
 * A new entry for job, which will work on bytes_total bytes for operation;
 * when max_jobs exist already, the one that ended first is forgotten to
 * make room; NULL when all are still at work (the caller answers busy) or
 * out of memory.  Its id is new for the life of the daemon.  tag is the
 * maker's grant (conn's grant): only connections with the same see it.
 */
struct ajob *ajobs_add(struct ajobs *a, const void *tag, const char *operation,
                       uint64_t bytes_total, struct job *job);
/* Remove an entry whose job never started (it could not be queued). */
void ajobs_remove(struct ajobs *a, struct ajob *e);
uint64_t ajob_id(const struct ajob *e);
/* The scheduler owner its job runs as (each async job is its own). */
struct jobs_owner *ajob_owner(struct ajob *e);

/*
 * Its job has ended in state st having done bytes_done: keep response (the
 * synchronous request's answer, taken) and forget the job, which the caller
 * frees next.  Returns the answers for the connections that waited on it.
 */
struct ajob_reply *ajobs_end(struct ajobs *a, struct ajob *e, enum job_state st,
                             uint64_t bytes_done, json_object *response);

/*
 * A {"api":"job"} request from c.  Returns the answer to send now, or NULL
 * when it waits (a wait on a job still at work): c, referenced and counted
 * in flight (conn_job_begin), is then answered by ajobs_end or, once its
 * timeout passes, by ajobs_tick.  cancel asks sched to stop the job.
 */
char *ajobs_request(struct ajobs *a, struct jobs *sched, struct conn *c,
                    const wp_request *req, int64_t now_ms);

/*
 * At now_ms: the answers of waits whose timeout has passed, and ended jobs
 * older than the TTL forgotten.
 */
struct ajob_reply *ajobs_tick(struct ajobs *a, int64_t now_ms);
/* When the next wait times out (INT64_MAX: none); any thread, without the lock. */
int64_t ajobs_next_deadline(struct ajobs *a);

#endif /* HOSTD_ASYNCJOBS_H */

/*
 * jobs.c - the worker pool and its round robin.
 *
 * One lock guards the ring and every owner's lists; it is held for a few
 * pointer moves, never while a slice runs.  The ring holds the owners that
 * have a runnable job, each once: a worker takes the owner at its head and
 * that owner's first runnable job, and puts the owner back at the tail if
 * it has more.  After the slice the job goes back to the front of its
 * owner's list (an owner's jobs run in order), and the owner to the tail of
 * the ring, behind everyone who waited meanwhile.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobs.h"

struct jobs {
    pthread_mutex_t lock;
    pthread_cond_t work;            /* the ring has an owner, or stopping */
    struct jobs_owner *ring_head, *ring_tail;
    int queued, max_queued;         /* jobs not yet started */
    bool stopping;
    pthread_t *workers;
    int nworkers;
};

void job_init(struct job *j, const struct job_ops *ops, uint64_t bytes_total)
{
    j->ops = ops;
    atomic_init(&j->state, JOB_QUEUED);
    atomic_init(&j->bytes_done, 0);
    j->bytes_total = bytes_total;
    atomic_init(&j->cancel, false);
    j->owner = NULL;
    j->run_next = j->prev = j->next = NULL;
}

void job_run_here(struct job *j)
{
    enum job_state st;

    atomic_store(&j->state, JOB_RUNNING);
    do
        st = j->ops->slice(j);
    while (st == JOB_RUNNING);
    atomic_store(&j->state, st);
    j->ops->end(j);
}

static void ring_push(struct jobs *s, struct jobs_owner *o)
{
    o->ring_next = NULL;
    o->in_ring = true;
    if (s->ring_tail)
        s->ring_tail->ring_next = o;
    else
        s->ring_head = o;
    s->ring_tail = o;
}

static struct jobs_owner *ring_pop(struct jobs *s)
{
    struct jobs_owner *o = s->ring_head;

    s->ring_head = o->ring_next;
    if (!s->ring_head)
        s->ring_tail = NULL;
    o->in_ring = false;
    return o;
}

static void ring_remove(struct jobs *s, struct jobs_owner *o)
{
    struct jobs_owner **pp = &s->ring_head, *prev = NULL;

    /* O(owners in the ring); only when an owner goes away with jobs waiting. */
    while (*pp && *pp != o) {
        prev = *pp;
        pp = &(*pp)->ring_next;
    }
    if (!*pp)
        return;
    *pp = o->ring_next;
    if (s->ring_tail == o)
        s->ring_tail = prev;
    o->in_ring = false;
}

static void jobs_unlink(struct job *j)
{
    struct jobs_owner *o = j->owner;

    if (j->prev)
        j->prev->next = j->next;
    else
        o->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* Take o's runnable jobs out, as a list, cancelled (under the lock). */
static struct job *take_runnable(struct jobs *s, struct jobs_owner *o)
{
    struct job *list = o->run_head;

    for (struct job *j = list; j; j = j->run_next) {
        if (atomic_load(&j->state) == JOB_QUEUED)
            s->queued--;
        atomic_store(&j->cancel, true);
        jobs_unlink(j);
    }
    o->run_head = o->run_tail = NULL;
    if (o->in_ring)
        ring_remove(s, o);
    return list;
}

/* End a list taken by take_runnable (without the lock). */
static void end_cancelled(struct job *list)
{
    while (list) {
        struct job *next = list->run_next;
        atomic_store(&list->state, JOB_CANCELLED);
        list->ops->end(list);
        list = next;
    }
}

/* After a slice that did not end the job (under the lock). */
static void requeue(struct jobs *s, struct job *j)
{
    struct jobs_owner *o = j->owner;

    j->run_next = o->run_head;
    o->run_head = j;
    if (!o->run_tail)
        o->run_tail = j;
    if (!o->in_ring)
        ring_push(s, o);
}

static void *worker_main(void *arg)
{
    struct jobs *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct jobs_owner *o;
        struct job *j;
        enum job_state st;

        while (!s->ring_head && !s->stopping)
            pthread_cond_wait(&s->work, &s->lock);
        if (!s->ring_head)
            break;
        o = ring_pop(s);
        j = o->run_head;
        o->run_head = j->run_next;
        if (!o->run_head)
            o->run_tail = NULL;
        else
            ring_push(s, o);
        if (atomic_load(&j->state) == JOB_QUEUED) {
            s->queued--;
            atomic_store(&j->state, JOB_RUNNING);
        }
        pthread_mutex_unlock(&s->lock);
        st = job_cancelled(j) ? JOB_CANCELLED : j->ops->slice(j);
        pthread_mutex_lock(&s->lock);
        if (st == JOB_RUNNING && (job_cancelled(j) || s->stopping))
            st = JOB_CANCELLED;
        if (st == JOB_RUNNING) {
            requeue(s, j);
            continue;
        }
        jobs_unlink(j);
        atomic_store(&j->state, st);
        pthread_mutex_unlock(&s->lock);
        j->ops->end(j);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct jobs *jobs_start(int nworkers, int max_queued, char *err, size_t errlen)
{
    struct jobs *s = calloc(1, sizeof(*s));

    if (!s || !(s->workers = calloc((size_t)nworkers, sizeof(*s->workers)))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    s->max_queued = max_queued;
    for (int i = 0; i < nworkers; i++)
        if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) == 0)
            s->nworkers++;
    if (s->nworkers == 0) {
        snprintf(err, errlen, "cannot start worker threads");
        jobs_stop(s);
        return NULL;
    }
    return s;
}

bool jobs_submit(struct jobs *s, struct jobs_owner *o, struct job *j)
{
    pthread_mutex_lock(&s->lock);
    if (s->queued >= s->max_queued || s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return false;
    }
    s->queued++;
    j->owner = o;
    j->prev = NULL;
    j->next = o->jobs;
    if (o->jobs)
        o->jobs->prev = j;
    o->jobs = j;
    j->run_next = NULL;
    if (o->run_tail)
        o->run_tail->run_next = j;
    else
        o->run_head = j;
    o->run_tail = j;
    if (!o->in_ring)
        ring_push(s, o);
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    return true;
}

void jobs_cancel_owner(struct jobs *s, struct jobs_owner *o)
{
    struct job *waiting;

    pthread_mutex_lock(&s->lock);
    /* The ones on a worker now: they see the flag within a step. */
    for (struct job *j = o->jobs; j; j = j->next)
        atomic_store(&j->cancel, true);
    waiting = take_runnable(s, o);
    pthread_mutex_unlock(&s->lock);
    end_cancelled(waiting);
}

void jobs_stop(struct jobs *s)
{
    struct job *waiting = NULL;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    /* Whatever still waits is cancelled; slices running end at their step. */
    while (s->ring_head) {
        struct jobs_owner *o = s->ring_head;
        for (struct job *j = o->jobs; j; j = j->next)
            atomic_store(&j->cancel, true);
        struct job *list = take_runnable(s, o), *last = list;
        while (last && last->run_next)
            last = last->run_next;
        if (last) {
            last->run_next = waiting;
            waiting = list;
        }
    }
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    end_cancelled(waiting);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    free(s->workers);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

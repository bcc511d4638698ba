/*
 * asyncjobs.c - the table of async jobs (asyncjobs.h).
 *
 * A list in order of id: at most --max-jobs (1024) entries, so a lookup
 * that walks it costs less than the request's JSON.  An entry outlives its
 * job: the worker that ends the job leaves the response here, under the
 * table's lock, before the job's memory goes, so the loop never sees a job
 * that is gone.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "asyncjobs.h"

/* Jobs are seen by the token they were made under: its grant, one per token. */
static const void *conn_tag(const struct conn *c)
{
    return c->grant;
}

struct waiter {
    struct conn *c;             /* holds a reference */
    bool has_id;
    uint64_t request_id;
    int64_t deadline_ms;
    struct waiter *next;
};

struct ajob {
    uint64_t id;
    const void *owner_tag;      /* the grant of the token that made it; seen under it only */
    char *operation;
    uint64_t bytes_total;
    struct jobs_owner owner;
    struct job *job;            /* while it works; NULL once ended */
    enum job_state state;       /* once ended */
    uint64_t bytes_done;        /* once ended */
    json_object *response;      /* once ended */
    int64_t ended_ms;
    struct waiter *waiters;
    struct ajob *prev, *next;
};

struct ajobs {
    pthread_mutex_t lock;
    struct ajob *head, *tail;
    int count, max_jobs;
    int64_t ttl_ms;
    uint64_t last_id;
    _Atomic int64_t next_deadline;  /* earliest wait's timeout; INT64_MAX: none */
};

static const char *const state_names[] = {
    [JOB_QUEUED] = "queued", [JOB_RUNNING] = "running", [JOB_DONE] = "done",
    [JOB_FAILED] = "failed", [JOB_CANCELLED] = "cancelled",
};

struct ajobs *ajobs_new(int max_jobs, int ttl_s)
{
    struct ajobs *a = calloc(1, sizeof(*a));

    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->max_jobs = max_jobs;
    a->ttl_ms = (int64_t)ttl_s * 1000;
    atomic_init(&a->next_deadline, INT64_MAX);
    return a;
}

static void waiters_free(struct waiter *w)
{
    while (w) {
        struct waiter *next = w->next;
        conn_unref(w->c);
        free(w);
        w = next;
    }
}

static void entry_free(struct ajob *e)
{
    waiters_free(e->waiters);
    json_object_put(e->response);
    free(e->operation);
    free(e);
}

static void unlink_locked(struct ajobs *a, struct ajob *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        a->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        a->tail = e->prev;
    a->count--;
}

void ajobs_free(struct ajobs *a)
{
    if (!a)
        return;
    while (a->head) {
        struct ajob *e = a->head;
        unlink_locked(a, e);
        entry_free(e);
    }
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/*
 * Make room by forgetting the job that ended first (as if its TTL had
 * passed): a table full of answers nobody asked for must not refuse new
 * work.  False when every job is still at work.
 */
static bool evict_ended_locked(struct ajobs *a)
{
    struct ajob *oldest = NULL;

    for (struct ajob *e = a->head; e; e = e->next)
        if (!e->job && (!oldest || e->ended_ms < oldest->ended_ms))
            oldest = e;
    if (!oldest)
        return false;
    unlink_locked(a, oldest);
    entry_free(oldest);
    return true;
}

struct ajob *ajobs_add(struct ajobs *a, const void *tag, const char *operation,
                       uint64_t bytes_total, struct job *job)
{
    struct ajob *e = calloc(1, sizeof(*e));

    if (!e || !(e->operation = strdup(operation))) {
        free(e);
        return NULL;
    }
    e->owner_tag = tag;
    e->bytes_total = bytes_total;
    e->job = job;
    pthread_mutex_lock(&a->lock);
    if (a->count >= a->max_jobs && !evict_ended_locked(a)) {
        pthread_mutex_unlock(&a->lock);
        free(e->operation);
        free(e);
        return NULL;
    }
    e->id = ++a->last_id;
    e->prev = a->tail;
    if (a->tail)
        a->tail->next = e;
    else
        a->head = e;
    a->tail = e;
    a->count++;
    pthread_mutex_unlock(&a->lock);
    return e;
}

void ajobs_remove(struct ajobs *a, struct ajob *e)
{
    pthread_mutex_lock(&a->lock);
    unlink_locked(a, e);
    pthread_mutex_unlock(&a->lock);
    entry_free(e);
}

uint64_t ajob_id(const struct ajob *e)
{
    return e->id;
}

struct jobs_owner *ajob_owner(struct ajob *e)
{
    return &e->owner;
}

/* {"job_id","state","operation","bytes_done","bytes_total"[,"response"]} (lock held). */
static json_object *status_locked(const struct ajob *e)
{
    json_object *o = json_object_new_object();
    enum job_state st = e->job ? (enum job_state)atomic_load(&e->job->state) : e->state;
    uint64_t done = e->job ? atomic_load(&e->job->bytes_done) : e->bytes_done;

    if (!o)
        return NULL;
    /* Ending is the worker's to report: until it has, a job is at work. */
    if (e->job && st != JOB_QUEUED)
        st = JOB_RUNNING;
    json_object_object_add(o, "job_id", json_object_new_int64((int64_t)e->id));
    json_object_object_add(o, "state", json_object_new_string(state_names[st]));
    json_object_object_add(o, "operation", json_object_new_string(e->operation));
    json_object_object_add(o, "bytes_done", json_object_new_int64((int64_t)done));
    json_object_object_add(o, "bytes_total", json_object_new_int64((int64_t)e->bytes_total));
    if (!e->job && e->response)
        json_object_object_add(o, "response", json_object_get(e->response));
    return o;
}

static char *status_line_locked(const struct ajob *e, bool has_id, uint64_t id)
{
    json_object *st = status_locked(e);

    return st ? wp_response_success(has_id, id, st) : NULL;
}

static struct ajob_reply *reply_new(struct ajob_reply *list, struct conn *c, char *line)
{
    struct ajob_reply *r = malloc(sizeof(*r));

    if (!r) {
        /* The connection is still owed its answer: it gets none, and its
         * count of requests in flight stays one too high. */
        free(line);
        conn_unref(c);
        return list;
    }
    r->c = c;
    r->line = line;
    r->next = list;
    return r;
}

struct ajob_reply *ajobs_end(struct ajobs *a, struct ajob *e, enum job_state st,
                             uint64_t bytes_done, json_object *response)
{
    struct ajob_reply *replies = NULL;
    struct waiter *w, *next;

    pthread_mutex_lock(&a->lock);
    e->job = NULL;
    e->state = st;
    e->bytes_done = bytes_done;
    e->response = response;
    e->ended_ms = conn_now_ms();
    for (w = e->waiters; w; w = next) {
        next = w->next;
        replies = reply_new(replies, w->c, status_line_locked(e, w->has_id, w->request_id));
        free(w);
    }
    e->waiters = NULL;
    pthread_mutex_unlock(&a->lock);
    return replies;
}

/* Another token's job is not there at all: not_found, never listed. */
static struct ajob *find_locked(struct ajobs *a, uint64_t id, const void *tag)
{
    for (struct ajob *e = a->head; e; e = e->next)
        if (e->id == id)
            return e->owner_tag == tag ? e : NULL;
    return NULL;
}

static char *list_locked(struct ajobs *a, const wp_request *req, const void *tag)
{
    json_object *r = json_object_new_object(), *jobs = json_object_new_array();

    if (!r || !jobs) {
        json_object_put(r);
        json_object_put(jobs);
        return NULL;
    }
    for (struct ajob *e = a->head; e; e = e->next) {
        json_object *st = e->owner_tag == tag ? status_locked(e) : NULL;
        if (st)
            json_object_array_add(jobs, st);
    }
    json_object_object_add(r, "jobs", jobs);
    return wp_response_success(req->has_request_id, req->request_id, r);
}

/* Register c as waiting on e until now + timeout (lock held). */
static bool wait_locked(struct ajobs *a, struct ajob *e, struct conn *c,
                        const wp_request *req, int64_t now_ms)
{
    struct waiter *w = malloc(sizeof(*w));
    int64_t deadline = now_ms + (int64_t)req->timeout_ms;

    if (!w)
        return false;
    conn_ref(c);
    conn_job_begin(c);
    w->c = c;
    w->has_id = req->has_request_id;
    w->request_id = req->request_id;
    w->deadline_ms = deadline;
    w->next = e->waiters;
    e->waiters = w;
    if (deadline < atomic_load(&a->next_deadline))
        atomic_store(&a->next_deadline, deadline);
    return true;
}

char *ajobs_request(struct ajobs *a, struct jobs *sched, struct conn *c,
                    const wp_request *req, int64_t now_ms)
{
    struct jobs_owner *stop = NULL;
    struct ajob *e;
    char *line;

    pthread_mutex_lock(&a->lock);
    if (req->job_action == WP_JOB_LIST) {
        line = list_locked(a, req, conn_tag(c));
        pthread_mutex_unlock(&a->lock);
        return line;
    }
    e = find_locked(a, req->job_id, conn_tag(c));
    if (!e) {
        pthread_mutex_unlock(&a->lock);
        return wp_response_error(req->has_request_id, req->request_id, WP_NOT_FOUND,
                                 "no such job (unknown, or ended longer ago than --job-ttl)");
    }
    if (req->job_action == WP_JOB_WAIT && e->job && req->timeout_ms > 0 &&
        wait_locked(a, e, c, req, now_ms)) {
        pthread_mutex_unlock(&a->lock);
        return NULL;
    }
    if (req->job_action == WP_JOB_CANCEL && e->job) {
        atomic_store(&e->job->cancel, true);
        stop = &e->owner;
    }
    pthread_mutex_unlock(&a->lock);
    /* A job still waiting for a worker ends here and now, taking the lock
     * in ajobs_end: not under it.  The entry stays: only the loop frees. */
    if (stop)
        jobs_cancel_owner(sched, stop);
    pthread_mutex_lock(&a->lock);
    line = status_line_locked(e, req->has_request_id, req->request_id);
    pthread_mutex_unlock(&a->lock);
    return line;
}

int64_t ajobs_next_deadline(struct ajobs *a)
{
    return atomic_load(&a->next_deadline);
}

struct ajob_reply *ajobs_tick(struct ajobs *a, int64_t now_ms)
{
    struct ajob_reply *replies = NULL;
    int64_t next = INT64_MAX;
    struct ajob *e, *after;

    pthread_mutex_lock(&a->lock);
    for (e = a->head; e; e = after) {
        after = e->next;
        if (!e->job && now_ms - e->ended_ms >= a->ttl_ms) {
            unlink_locked(a, e);
            entry_free(e);
            continue;
        }
        for (struct waiter **pw = &e->waiters; *pw;) {
            struct waiter *w = *pw;
            if (w->deadline_ms > now_ms) {
                if (w->deadline_ms < next)
                    next = w->deadline_ms;
                pw = &w->next;
                continue;
            }
            *pw = w->next;
            replies = reply_new(replies, w->c, status_line_locked(e, w->has_id, w->request_id));
            free(w);
        }
    }
    atomic_store(&a->next_deadline, next);
    pthread_mutex_unlock(&a->lock);
    return replies;
}

/*
 * ctl_job.c - following a buffer's host jobs (see ctl_job.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl_dest.h"
#include "ctl_job.h"
#include "winapifs.h"
#include "wp_msg.h"

/* How long one "wait" asks the host to hold: the longest unmount waits for a watcher. */
#define WAIT_SLICE_MS 1000
/* Watchers need little stack: a request, a response, no recursion of ours. */
#define WATCHER_STACK (256 * 1024)

static const char *const ended_states[] = { "done", "failed", "cancelled" };

static bool is_ended(const char *state)
{
    for (size_t i = 0; i < sizeof(ended_states) / sizeof(ended_states[0]); i++)
        if (strcmp(state, ended_states[i]) == 0)
            return true;
    return false;
}

/* {"job_id","state","bytes_done","bytes_total"}; state as given.  NULL: out of memory. */
static char *progress_text(uint64_t id, const char *state, uint64_t done, uint64_t total)
{
    json_object *o = json_object_new_object();
    char *text;

    if (!o)
        return NULL;
    json_object_object_add(o, "job_id", json_object_new_int64((int64_t)id));
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "bytes_done", json_object_new_int64((int64_t)done));
    json_object_object_add(o, "bytes_total", json_object_new_int64((int64_t)total));
    text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

/* The errno of an ended job's response, as for a synchronous request. */
static int outcome_errno(const winapi_job_t *j)
{
    wp_response r;
    int err;

    if (strcmp(j->state, "done") == 0)
        return 0;
    if (strcmp(j->state, "cancelled") == 0)
        return ECANCELED;
    if (!j->response || wp_response_parse(j->response, strlen(j->response), &r) < 0)
        return EIO;
    err = r.success ? EIO : wp_code_errno(r.code);
    wp_response_release(&r);
    return err;
}

void job_begin(struct node *n)
{
    pthread_mutex_lock(&n->lock);
    n->in_flight++;
    pthread_mutex_unlock(&n->lock);
}

/*
 * Record the end of a request: status, result (taken) and, for a job, its
 * last progress (taken).  Only the node's latest job sets them: an older
 * one ending later must not hide the newer one's outcome.
 */
static void record_end(struct node *n, uint64_t id, enum node_status status,
                       char *response, char *progress)
{
    pthread_mutex_lock(&n->lock);
    n->in_flight--;
    if (id == n->job_id) {
        n->job_running = false;
        n->status = status;
        free(n->result);
        n->result = response;
        free(n->progress);
        n->progress = progress;
        response = progress = NULL;
    }
    pthread_mutex_unlock(&n->lock);
    free(response);
    free(progress);
}

void job_started(struct node *n, uint64_t id)
{
    pthread_mutex_lock(&n->lock);
    n->job_id = id;
    n->job_running = true;
    free(n->progress);
    n->progress = NULL;
    pthread_mutex_unlock(&n->lock);
}

void job_end_failed(struct node *n, char *response)
{
    /* No job: progress and cancel still reach the file's last one. */
    pthread_mutex_lock(&n->lock);
    n->in_flight--;
    n->status = NODE_FAILED;
    free(n->result);
    n->result = response;
    pthread_mutex_unlock(&n->lock);
}

/* Record job j of n, which has ended (or is gone: j NULL, why in response). */
static int record_job(struct node *n, uint64_t id, winapi_job_t *j)
{
    int err = outcome_errno(j);
    enum node_status st = err == 0 ? NODE_PROCESSED :
                          err == ECANCELED ? NODE_CANCELLED : NODE_FAILED;

    record_end(n, id, st, j->response,
               progress_text(id, j->state, j->bytes_done, j->bytes_total));
    j->response = NULL;
    return err;
}

/* A job the host no longer knows of (it restarted, or dropped it): failed, saying why. */
static int record_lost(struct node *n, uint64_t id, int err)
{
    winapi_job_t j = { .job_id = id };

    snprintf(j.state, sizeof(j.state), "failed");
    j.response = wp_response_error(false, 0, err == ENOENT ? WP_NOT_FOUND : WP_INTERNAL,
                                   winapi_last_error());
    if (j.response)
        j.response[strcspn(j.response, "\n")] = '\0';
    record_job(n, id, &j);
    return err;
}

static void cancel_quietly(struct wfs *fs, uint64_t id)
{
    winapi_job_t j;

    if (winapi_job_cancel(fs->host, id, &j) < 0)
        fuse_log(FUSE_LOG_WARNING, "winapifs: cannot cancel job %llu: %s\n",
                 (unsigned long long)id, winapi_last_error());
    else
        winapi_job_release(&j);
}

/* ---- waiting on a worker ---- */

struct interrupt {
    struct wfs *fs;
    uint64_t id;
    atomic_bool hit;
};

/*
 * libfuse calls this with the request's lock held, from the worker that
 * read the interrupt: one round trip to the host, then the waiting worker
 * sees the job end within the host's 100 ms.
 */
static void on_interrupt(fuse_req_t req, void *data)
{
    struct interrupt *in = data;

    (void)req;
    if (!atomic_exchange(&in->hit, true))
        cancel_quietly(in->fs, in->id);
}

int job_wait(struct wfs *fs, fuse_req_t req, struct node *n, uint64_t id)
{
    struct interrupt in = { .fs = fs, .id = id };
    bool exiting = false;
    winapi_job_t j;
    int err;

    fuse_req_interrupt_func(req, on_interrupt, &in);
    for (;;) {
        if (winapi_job_wait(fs->host, id, WAIT_SLICE_MS, &j) < 0) {
            err = errno ? errno : EIO;
            record_lost(n, id, err);
            break;
        }
        if (is_ended(j.state)) {
            err = record_job(n, id, &j);
            winapi_job_release(&j);
            break;
        }
        winapi_job_release(&j);
        /* Unmounted meanwhile: nobody is left to want the outcome. */
        if (!exiting && fuse_session_exited(fs->se)) {
            exiting = true;
            cancel_quietly(fs, id);
        }
    }
    /* Takes the request's lock: an interrupt being handled is done after this. */
    fuse_req_interrupt_func(req, NULL, NULL);
    /* A job that ended anyway (before the cancel reached it) says how. */
    return (atomic_load(&in.hit) || exiting) && err == ECANCELED ? EINTR : err;
}

/* ---- watchers ---- */

struct watch {
    struct wfs *fs;
    struct node *n;             /* pinned */
    uint64_t id;
    bool may_write;
    struct ctl_dests dests;     /* the files it writes besides n, pinned */
};

void watchers_init(struct watchers *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->idle, NULL);
}

void watchers_stop(struct watchers *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    while (w->count > 0)
        pthread_cond_wait(&w->idle, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_cond_destroy(&w->idle);
    pthread_mutex_destroy(&w->lock);
}

static bool still_watching(struct watchers *w)
{
    bool go_on;

    pthread_mutex_lock(&w->lock);
    go_on = !w->stopping;
    pthread_mutex_unlock(&w->lock);
    return go_on;
}

static void drop_cache(struct wfs *fs, struct node *n)
{
    int res = fuse_lowlevel_notify_inval_inode(fs->se, node_id(&fs->ns, n), 0, 0);

    if (res < 0 && res != -ENOENT)
        fuse_log(FUSE_LOG_WARNING, "winapifs: %s: cannot drop the cached pages: %s\n",
                 n->backing_path, strerror(-res));
}

/*
 * Not a FUSE worker and holding no lock of ours while it waits, a watcher
 * may drop the kernel's cache itself (see notify.h for why workers do not).
 */
static void *watch_main(void *arg)
{
    struct watch *wt = arg;
    struct wfs *fs = wt->fs;
    winapi_job_t j;

    while (still_watching(&fs->watch)) {
        /*
         * Any failure ends the watch, the host's going away included: a
         * host that restarted has forgotten the job, and may give its id to
         * another.  What the job may have written is dropped either way.
         */
        if (winapi_job_wait(fs->host, wt->id, WAIT_SLICE_MS, &j) < 0) {
            int err = errno ? errno : EIO;
            if (wt->may_write)
                drop_cache(fs, wt->n);
            ctl_dests_drop_cache(fs, &wt->dests);
            record_lost(wt->n, wt->id, err);
            break;
        }
        if (is_ended(j.state)) {
            if (wt->may_write)
                drop_cache(fs, wt->n);
            ctl_dests_drop_cache(fs, &wt->dests);
            record_job(wt->n, wt->id, &j);
            winapi_job_release(&j);
            break;
        }
        winapi_job_release(&j);
    }
    node_unpin(&fs->ns, wt->n);
    ctl_dests_release(fs, &wt->dests);
    free(wt);
    pthread_mutex_lock(&fs->watch.lock);
    if (--fs->watch.count == 0)
        pthread_cond_broadcast(&fs->watch.idle);
    pthread_mutex_unlock(&fs->watch.lock);
    return NULL;
}

int job_watch(struct wfs *fs, struct node *n, uint64_t id, bool may_write,
              struct ctl_dests *d)
{
    struct watch *wt = malloc(sizeof(*wt));
    pthread_attr_t attr;
    pthread_t t;
    int err = wt ? 0 : ENOMEM;

    if (!err) {
        *wt = (struct watch){ .fs = fs, .n = n, .id = id, .may_write = may_write,
                              .dests = *d };
        d->count = 0;
        node_pin(&fs->ns, n);
        pthread_mutex_lock(&fs->watch.lock);
        fs->watch.count++;
        pthread_mutex_unlock(&fs->watch.lock);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, WATCHER_STACK);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        err = pthread_create(&t, &attr, watch_main, wt);
        pthread_attr_destroy(&attr);
        if (err) {
            pthread_mutex_lock(&fs->watch.lock);
            fs->watch.count--;
            pthread_mutex_unlock(&fs->watch.lock);
            node_unpin(&fs->ns, n);
            *d = wt->dests;     /* back to the caller, who unpins them */
            free(wt);
        }
    }
    if (err) {
        /* Unfollowed, it would show processing for ever. */
        cancel_quietly(fs, id);
        record_lost(n, id, err);
    }
    return err;
}

/* ---- cancel and progress ---- */

/* n's latest job and whether it is still under way; under the node's lock. */
static uint64_t current_job(struct node *n, bool *running)
{
    uint64_t id;

    pthread_mutex_lock(&n->lock);
    id = n->job_id;
    *running = n->job_running;
    pthread_mutex_unlock(&n->lock);
    return id;
}

int job_cancel(struct wfs *fs, struct node *n)
{
    bool running;
    uint64_t id = current_job(n, &running);
    winapi_job_t j;

    if (id == 0)
        return ENODATA;
    if (!running)
        return 0;
    if (winapi_job_cancel(fs->host, id, &j) < 0)
        return errno ? errno : EIO;
    winapi_job_release(&j);
    return 0;
}

int job_progress(struct wfs *fs, struct node *n, char **out)
{
    bool running;
    uint64_t id = current_job(n, &running);
    winapi_job_t j;
    int err;

    *out = NULL;
    if (id == 0)
        return ENODATA;
    if (running) {
        if (winapi_job_status(fs->host, id, &j) < 0)
            return errno ? errno : EIO;
        /* Ended on the host, not yet here (its cache may still be going): still running. */
        *out = progress_text(id, is_ended(j.state) ? "running" : j.state,
                             j.bytes_done, j.bytes_total);
        winapi_job_release(&j);
        return *out ? 0 : ENOMEM;
    }
    pthread_mutex_lock(&n->lock);
    err = n->progress ? (*out = strdup(n->progress)) ? 0 : ENOMEM : ENODATA;
    pthread_mutex_unlock(&n->lock);
    return err;
}

/*
 * ctl.c - the control attributes: take what was written to
 * user.winapi.process or submit (parsed by ctl_parse.c), have the host
 * accept it as a job through libwinapi, and follow the job (ctl_job.c),
 * which records the outcome and has the kernel's cache dropped if the host
 * may have written.
 *
 * Writes through the mount go straight to the backing file (see ops.c), so
 * nothing needs flushing before the host maps it.  Pages dirtied through a
 * shared mmap are the kernel's until msync() or close(), as on any file
 * system; the man page says so.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"
#include "ctl_dest.h"
#include "ctl_job.h"
#include "ctl_parse.h"
#include "wp_jobs.h"
#include "wp_ops.h"

static const char *const status_names[] = {
    [NODE_IDLE] = "idle",
    [NODE_PROCESSING] = "processing",
    [NODE_PROCESSED] = "processed",
    [NODE_FAILED] = "failed",
    [NODE_CANCELLED] = "cancelled",
};

bool ctl_is_control(const char *name)
{
    return strncmp(name, CTL_PREFIX, sizeof(CTL_PREFIX) - 1) == 0;
}

static bool is_attr(const char *name, const char *what)
{
    return strcmp(name + sizeof(CTL_PREFIX) - 1, what) == 0;
}

/*
 * Whether the host may write the buffer: asked to, or a step that writes
 * or that the protocol's table does not know (a plugin).  Dropping a cache
 * needlessly costs a re-read, keeping a stale one costs correctness.
 */
static bool may_write(const struct ctl_req *c)
{
    if (c->work.access == WP_ACCESS_WRITE)
        return true;
    for (size_t i = 0; i < ctl_steps(c); i++)
        if (wp_op_may_write(ctl_step_operation(c, i)))
            return true;
    return false;
}

/* ---- user.winapi.process and submit ---- */

/*
 * Say when the host stops answering and when it answers again, once each:
 * a script retrying against a host that is down must not flood the log.
 * An error the host answered is the user's to read in user.winapi.result.
 * Called right after the request, while winapi_last_error() is its.
 */
static void log_host_state(struct wfs *fs, struct node *n, bool answered)
{
    bool was_down = atomic_exchange(&fs->host_down, !answered);

    if (!answered && !was_down)
        fuse_log(FUSE_LOG_WARNING, "winapifs: %s (buffer %u): %s\n",
                 n->backing_path, n->buffer_id, winapi_last_error());
    else if (answered && was_down)
        fuse_log(FUSE_LOG_NOTICE, "winapifs: host %s:%d answers again\n",
                 winapi_host(fs->host), winapi_port(fs->host));
}

/* Have the host accept c for n as a job: 0 with *id, or an errno as SPEC maps the host's codes. */
static int ctl_submit(struct wfs *fs, struct node *n, const struct ctl_req *c, uint64_t *id)
{
    struct stat st;
    char *response = NULL;
    int rc, err;

    err = node_stat(&fs->ns, n, &st, 0);
    if (err)
        return err;
    job_begin(n);
    rc = wp_submit_work(fs->host, n->backing_path, (uint64_t)st.st_size, n->buffer_id,
                        &c->work, id, &response);
    err = rc == 0 ? 0 : errno ? errno : EIO;
    log_host_state(fs, n, rc == 0 || response != NULL);
    if (rc == 0)
        job_started(n, *id);
    else
        job_end_failed(n, response);
    return err;
}

/*
 * Run what was written to user.winapi.process (wait) or submit.  For
 * process, *job is set when the host may have written the buffer or a
 * file of the mount (a dest): the caller must then have their cache
 * dropped before it answers.  Allocated before the host is asked, so that
 * once the host has written nothing can stop that.  A submitted job's
 * watcher drops the caches itself.
 */
static int ctl_process(struct wfs *fs, fuse_req_t req, struct node *n, const char *value,
                       size_t size, bool wait, struct notify_job **job)
{
    struct ctl_req c;
    struct ctl_dests dests = { .count = 0 };
    uint64_t id;
    int err;

    if (!node_is_reg(n))
        return node_is_dir(n) ? EISDIR : EPERM;
    err = ctl_parse(value, size, &c);
    if (!err)
        err = ctl_dests_resolve(fs, req, &c, &dests);
    if (!err && wait && (may_write(&c) || dests.count) && !(*job = notify_job_new()))
        err = ENOMEM;
    for (size_t i = 0; !err && wait && i < dests.count; i++)
        notify_job_also(*job, node_id(&fs->ns, dests.n[i]));
    if (!err)
        err = ctl_submit(fs, n, &c, &id);
    if (!err && wait)
        err = job_wait(fs, req, n, id);
    else if (!err)
        err = job_watch(fs, n, id, may_write(&c), &dests);   /* takes the dests */
    ctl_dests_release(fs, &dests);
    ctl_req_free(&c);
    return err;
}

/* ---- the API ---- */

int ctl_set(struct wfs *fs, fuse_req_t req, struct node *n, const char *name,
            const char *value, size_t size, struct notify_job **job)
{
    *job = NULL;
    if (is_attr(name, "process"))
        return ctl_process(fs, req, n, value, size, true, job);
    if (is_attr(name, "submit"))
        return ctl_process(fs, req, n, value, size, false, job);
    if (is_attr(name, "cancel"))
        return node_is_reg(n) ? job_cancel(fs, n) : EPERM;
    return EPERM;       /* read-only, or reserved */
}

static int dup_string(const char *v, char **out)
{
    if (!v)
        return ENODATA;
    *out = strdup(v);
    return *out ? 0 : ENOMEM;
}

/* The result is copied under the lock: the next request replaces it. */
static int get_result(struct node *n, char **out)
{
    int err;

    pthread_mutex_lock(&n->lock);
    err = dup_string(n->result, out);
    pthread_mutex_unlock(&n->lock);
    return err;
}

static int get_status(struct node *n, char **out)
{
    const char *v;

    pthread_mutex_lock(&n->lock);
    v = status_names[n->in_flight ? NODE_PROCESSING : n->status];
    pthread_mutex_unlock(&n->lock);
    return dup_string(v, out);
}

int ctl_get(struct wfs *fs, struct node *n, const char *name, char **value)
{
    char num[16];

    *value = NULL;
    if (!node_is_reg(n))
        return ENODATA;
    if (is_attr(name, "buffer_id")) {
        snprintf(num, sizeof(num), "%u", n->buffer_id);
        return dup_string(num, value);
    }
    if (is_attr(name, "backing_path"))
        return dup_string(n->backing_path, value);
    if (is_attr(name, "host_path"))
        return dup_string(n->host_path, value);
    if (is_attr(name, "status"))
        return get_status(n, value);
    if (is_attr(name, "result"))
        return get_result(n, value);
    if (is_attr(name, "progress"))
        return job_progress(fs, n, value);
    /* process, submit and cancel are write-only; the rest of the prefix is reserved. */
    return ENODATA;
}

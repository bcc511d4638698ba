/*
 * ctl.c - the control attributes: take what was written to
 * user.winapi.process (parsed by ctl_parse.c), send it to the host through
 * libwinapi, record the outcome, and have the kernel's cache dropped if the
 * host may have written.
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
#include "ctl_parse.h"

static const char *const status_names[] = {
    [NODE_IDLE] = "idle",
    [NODE_PROCESSING] = "processing",
    [NODE_PROCESSED] = "processed",
    [NODE_FAILED] = "failed",
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
 * Whether the host may write the buffer.  The built-in readers leave it
 * alone unless asked for write access; anything else (fill, a plugin) may
 * write.  Dropping a cache needlessly costs a re-read, keeping a stale one
 * costs correctness.
 */
static bool may_write(const winapi_request_t *r)
{
    static const char *const readers[] = { "process", "checksum", "stat" };

    if (r->access && strcmp(r->access, "write") == 0)
        return true;
    for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
        if (strcmp(r->operation, readers[i]) == 0)
            return false;
    return true;
}

/* ---- user.winapi.process ---- */

static void status_begin(struct node *n)
{
    pthread_mutex_lock(&n->lock);
    n->in_flight++;
    pthread_mutex_unlock(&n->lock);
}

/*
 * Record the outcome; takes response.  Without a response (the host was
 * not reached or did not answer) result goes back to ENODATA, so that it
 * never shows an older request's answer as this one's.
 */
static void status_end(struct node *n, bool ok, char *response)
{
    pthread_mutex_lock(&n->lock);
    n->in_flight--;
    n->status = ok ? NODE_PROCESSED : NODE_FAILED;
    free(n->result);
    n->result = response;
    pthread_mutex_unlock(&n->lock);
}

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

/* Send c for n and wait.  0 or an errno, as SPEC maps the host's codes. */
static int ctl_send(struct wfs *fs, struct node *n, const struct ctl_req *c)
{
    struct stat st;
    char *response = NULL;
    int rc, err;

    err = node_stat(&fs->ns, n, &st, 0);
    if (err)
        return err;
    status_begin(n);
    rc = winapi_request_path(fs->host, n->backing_path, (uint64_t)st.st_size,
                             n->buffer_id, &c->r, &response);
    err = rc == 0 ? 0 : errno ? errno : EIO;
    log_host_state(fs, n, rc == 0 || response != NULL);
    status_end(n, rc == 0, response);
    return err;
}

/*
 * Run what was written to user.winapi.process.  *job is set when the host
 * may have written the buffer: the caller must then have the cache dropped
 * before it answers.  Allocated before the host is asked, so that once the
 * host has written nothing can stop that.
 */
static int ctl_process(struct wfs *fs, struct node *n, const char *value,
                       size_t size, struct notify_job **job)
{
    struct ctl_req c;
    int err;

    if (!node_is_reg(n))
        return node_is_dir(n) ? EISDIR : EPERM;
    err = ctl_parse(value, size, &c);
    if (!err && may_write(&c.r) && !(*job = notify_job_new()))
        err = ENOMEM;
    if (!err)
        err = ctl_send(fs, n, &c);
    ctl_req_free(&c);
    return err;
}

/* ---- the API ---- */

int ctl_set(struct wfs *fs, struct node *n, const char *name,
            const char *value, size_t size, struct notify_job **job)
{
    *job = NULL;
    if (is_attr(name, "process"))
        return ctl_process(fs, n, value, size, job);
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

int ctl_get(struct node *n, const char *name, char **value)
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
    /* process is write-only; the rest of the prefix is reserved. */
    return ENODATA;
}

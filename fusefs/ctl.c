/*
 * ctl.c - the control attributes: parse what was written to
 * user.winapi.process, send it to the host through libwinapi, record the
 * outcome, and have the kernel's cache dropped if the host may have written.
 *
 * Writes through the mount go straight to the backing file (see ops.c), so
 * nothing needs flushing before the host maps it.  Pages dirtied through a
 * shared mmap are the kernel's until msync() or close(), as on any file
 * system; the man page says so.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <json-c/json.h>

#include "ctl.h"

/* A parsed user.winapi.process value. */
struct ctl_req {
    char *text;                 /* the value, NUL-terminated and trimmed */
    json_object *obj;           /* when the value was JSON */
    winapi_request_t r;         /* strings point into text or obj */
};

#define CTL_NAME_MAX 128

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

/* ---- parsing the value of user.winapi.process ---- */

static bool name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CTL_NAME_MAX)
        return false;
    for (; *s; s++)
        if (!isgraph((unsigned char)*s) || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* A JSON string without an embedded NUL, which C would cut short. */
static const char *string_field(json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string))
        return NULL;
    s = json_object_get_string(v);
    return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

static bool u64_field(json_object *v, uint64_t *out)
{
    int64_t x;

    if (!json_object_is_type(v, json_type_int))
        return false;
    x = json_object_get_int64(v);
    if (x < 0)
        return false;
    *out = (uint64_t)x;
    return true;
}

/* One member of the JSON form; false for a wrong type or unknown key. */
static bool parse_member(struct ctl_req *c, const char *key, json_object *v,
                         int *range_fields)
{
    winapi_request_t *r = &c->r;

    if (strcmp(key, "operation") == 0) {
        r->operation = string_field(v);
        return r->operation && name_ok(r->operation);
    }
    if (strcmp(key, "params") == 0) {
        if (!json_object_is_type(v, json_type_object))
            return false;
        /* The string lives as long as c->obj. */
        r->params_json = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        return r->params_json != NULL;
    }
    if (strcmp(key, "access") == 0) {
        r->access = string_field(v);
        return r->access &&
               (strcmp(r->access, "read") == 0 || strcmp(r->access, "write") == 0);
    }
    if (strcmp(key, "offset") == 0 || strcmp(key, "length") == 0) {
        (*range_fields)++;
        r->has_range = 1;
        return u64_field(v, key[0] == 'o' ? &r->offset : &r->length);
    }
    return false;   /* a typo ("param") should not pass unnoticed */
}

static int parse_json(struct ctl_req *c)
{
    json_tokener *tok = json_tokener_new();
    size_t len = strlen(c->text);
    int range_fields = 0;

    if (!tok)
        return ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    c->obj = json_tokener_parse_ex(tok, c->text, (int)len);
    if (c->obj && json_tokener_get_parse_end(tok) != len) {
        json_object_put(c->obj);
        c->obj = NULL;
    }
    json_tokener_free(tok);
    if (!c->obj || !json_object_is_type(c->obj, json_type_object))
        return EINVAL;
    json_object_object_foreach(c->obj, key, v)
        if (!parse_member(c, key, v, &range_fields))
            return EINVAL;
    if (!c->r.operation || (range_fields != 0 && range_fields != 2))
        return EINVAL;
    return 0;
}

/* The value, an operation name or a JSON object, into c.  0 or an errno. */
static int ctl_parse(const char *value, size_t size, struct ctl_req *c)
{
    size_t start = 0, end = size;

    memset(c, 0, sizeof(*c));
    /* "setfattr -v $(cat file)" and echo leave blanks; they mean nothing. */
    while (start < end && isspace((unsigned char)value[start]))
        start++;
    while (end > start && isspace((unsigned char)value[end - 1]))
        end--;
    if (start == end || memchr(value + start, '\0', end - start))
        return EINVAL;
    c->text = strndup(value + start, end - start);
    if (!c->text)
        return ENOMEM;
    if (c->text[0] == '{')
        return parse_json(c);
    c->r.operation = c->text;
    return name_ok(c->text) ? 0 : EINVAL;
}

static void ctl_req_free(struct ctl_req *c)
{
    json_object_put(c->obj);
    free(c->text);
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

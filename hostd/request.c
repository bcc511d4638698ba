/*
 * request.c - one shared_buffer request, from JSON to answer.
 *
 * Order of checks, so that the cheapest refusal wins and a refused request
 * never touches the file system: operation, parameters, path translation,
 * allowed root, safe open, size, and only then the mapping.
 *
 * A request runs one operation, or a chain of them ("operations"): each a
 * step with its own state and result, all over one opening and mapping of
 * the file (for writing if any step writes), one after the other; the
 * first that fails ends the chain, and its error names it ("step").
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grants.h"
#include "log.h"
#include "ops.h"
#include "plat.h"
#include "request.h"
#include "wp_path.h"
#include "wp_utf8.h"

/* How much of a request's path or name an answer echoes, in characters. */
#define ECHO_PATH_CHARS 160
#define ECHO_NAME_CHARS 64

struct request;

/* One operation of a request, with its own call (<winapi/plugin.h>) and result. */
struct step {
    const struct op *op;
    struct winapi_plugin_call call;     /* call.host: this step */
    struct request *r;
    json_object *result;
    json_object *params;        /* the request's (NULL: none) */
    bool started;               /* start() returned 0: finish() is owed */
    bool finishing;             /* in finish(), which cannot fail */
    bool completed;             /* through every pass */
    int run_rc;
    wp_code code;               /* set_error's; WP_OK: none */
};

/* What the checks found, and the operations' own state. */
struct plan {
    const struct hostd_config *cfg;
    const wp_grant *grant;      /* what the connection's token may do; NULL: anything */
    const wp_request *req;
    size_t nsteps;              /* 1 for a single operation */
    struct step steps[WP_MAX_STEPS];
    size_t runs;                /* steps that run over the range (not stat) */
    bool write;
    int err_step;               /* the chain's step err is about; -1: none */
    char host[WP_HOST_PATH_MAX];
    char err[1024];
};

/* A request being carried out, a step at a time (request.h). */
struct request {
    struct plan pl;
    wp_request req;             /* owned; pl.req points here */
    char peer[80];
    plat_file *f;
    plat_map m;
    size_t cur;                 /* the step at work */
    uint64_t done;              /* bytes of the range it has processed */
    uint64_t done_before;       /* bytes the steps before it processed */
    bool started, ended;
    wp_code rc;
    struct timespec t0;
    const atomic_bool *cancel;  /* request_watch()'s; NULL: never */
    _Atomic uint64_t *progress;
};

static void guarded_run(void *arg)
{
    struct step *st = arg;

    st->run_rc = st->op->p->run(&st->call);
}

/* ---- what the host does for an operation (<winapi/plugin.h>) --------- */

static void host_progress(struct winapi_plugin_call *c, uint64_t part_done)
{
    struct step *st = c->host;
    struct request *r = st->r;

    if (r->progress && part_done <= c->length)
        atomic_store(r->progress, r->done_before + r->done + part_done);
}

static int host_cancelled(struct winapi_plugin_call *c)
{
    struct request *r = ((struct step *)c->host)->r;

    return r->cancel && atomic_load_explicit(r->cancel, memory_order_relaxed);
}

/* SPEC's four fields of every result are the host's. */
static bool reserved(const char *key)
{
    return strcmp(key, "operation") == 0 || strcmp(key, "buffer_id") == 0 ||
           strcmp(key, "bytes_processed") == 0 || strcmp(key, "status") == 0;
}

static int host_set_result(struct winapi_plugin_call *c, const char *json)
{
    struct step *st = c->host;
    char why[128];
    json_object *o = json ? wp_object_parse(json, strlen(json), why, sizeof(why)) : NULL;

    if (!o || !st->result) {
        json_object_put(o);
        return -1;
    }
    json_object_object_foreach(o, k, v) {
        (void)v;
        if (reserved(k)) {
            json_object_put(o);
            return -1;
        }
    }
    json_object_object_foreach(o, key, val)
        json_object_object_add(st->result, key, json_object_get(val));
    json_object_put(o);
    return 0;
}

static void host_set_error(struct winapi_plugin_call *c, enum winapi_plugin_error code,
                           const char *message)
{
    static const wp_code codes[] = {
        [WINAPI_PLUGIN_BAD_REQUEST] = WP_BAD_REQUEST,
        [WINAPI_PLUGIN_DATA_ERROR] = WP_DATA_ERROR,
        [WINAPI_PLUGIN_IO_ERROR] = WP_IO_ERROR,
        [WINAPI_PLUGIN_INTERNAL] = WP_INTERNAL,
    };
    struct step *st = c->host;
    struct plan *pl = &st->r->pl;

    /* Too late: the step is over, and the answer may say otherwise. */
    if (st->finishing || st->completed) {
        log_warn("%s: an error after its end is ignored: %s", st->op->p->name,
                 message ? message : "");
        return;
    }
    st->code = (unsigned)code < sizeof(codes) / sizeof(codes[0]) && codes[code]
               ? codes[code] : WP_INTERNAL;
    if (!message)
        message = "failed";
    wp_utf8_copy(pl->err, sizeof(pl->err), message, strlen(message), 512);
}

static long host_param(struct winapi_plugin_call *c, const char *name, char *buf,
                       unsigned long buflen)
{
    struct step *st = c->host;
    json_object *v;
    const char *text;
    size_t len;

    if (!st->params || !name || !json_object_object_get_ex(st->params, name, &v))
        return -1;
    if (json_object_is_type(v, json_type_string)) {
        text = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
    } else {
        text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        len = strlen(text);
    }
    if (buf && buflen > 0) {
        size_t n = len < buflen - 1 ? len : buflen - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return (long)len;
}

void request_error(struct winapi_plugin_call *c, wp_code code, const char *message)
{
    struct step *st = c->host;

    host_set_error(c, WINAPI_PLUGIN_INTERNAL, message);
    if (st->code != WP_OK)
        st->code = code;
}

static int host_guard(struct winapi_plugin_call *c, void (*fn)(void *), void *arg)
{
    struct request *r = ((struct step *)c->host)->r;

    if (plat_guard(fn, arg) == 0)
        return 0;
    c->faulted = 1;
    r->m.faulted = true;        /* the platform must not keep that mapping */
    return -1;
}

/* After start(), run() or finish(): the error it ended the request with, if any. */
static wp_code call_failed(struct step *st, int rc)
{
    struct plan *pl = &st->r->pl;

    if (st->code != WP_OK)
        return st->code;
    if (rc == 0)
        return WP_OK;
    if (host_cancelled(&st->call)) {
        snprintf(pl->err, sizeof(pl->err), "cancelled");
        return st->code = WP_CANCELLED;
    }
    snprintf(pl->err, sizeof(pl->err), "%s failed and did not say why", st->op->p->name);
    return st->code = WP_INTERNAL;
}

/* Text from the request, for an answer: bounded, cut between characters. */
static const char *echo(char *buf, size_t buflen, const char *s, size_t max_chars)
{
    wp_utf8_copy(buf, buflen, s, strlen(s), max_chars);
    return buf;
}

/*
 * A file's canonical host path (out, WP_HOST_PATH_MAX) from its guest path
 * or, guest NULL, its host one: WP_OK, or path_not_allowed with the reason
 * in err.
 */
static wp_code canon_path(const struct plan *pl, const char *guest, const char *host,
                          char *out, char *err, size_t errlen)
{
    char translated[WP_HOST_PATH_MAX], why[256], shown[4 * ECHO_PATH_CHARS];

    if (guest) {
        if (wp_path_guest_file_to_host(guest, pl->cfg->automount_root, translated,
                                       sizeof(translated), why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", echo(shown, sizeof(shown), guest, ECHO_PATH_CHARS),
                     why);
            return WP_PATH_NOT_ALLOWED;
        }
        host = translated;
    }
    if (wp_path_host_file_canon(host, out, WP_HOST_PATH_MAX, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", echo(shown, sizeof(shown), host, ECHO_PATH_CHARS), why);
        return WP_PATH_NOT_ALLOWED;
    }
    return WP_OK;
}

/* Where the request's file is, as the host names it. */
static wp_code host_path(struct plan *pl)
{
    const wp_request *req = pl->req;

    return canon_path(pl, req->host_path ? NULL : req->file_path, req->host_path, pl->host,
                      pl->err, sizeof(pl->err));
}

wp_code request_open_dest(struct winapi_plugin_call *c, const char *path, plat_file **f,
                          uint64_t *size, char *err, size_t errlen)
{
    struct step *st = c->host;
    struct request *r = st->r;
    const struct plan *pl = &r->pl;
    char host[WP_HOST_PATH_MAX], why[256];
    const char *local_root, *rel;
    wp_code rc;

    /* A guest path starts with '/', a host one with a drive or "\\". */
    rc = canon_path(pl, path[0] == '/' ? path : NULL, path, host, err, errlen);
    if (rc != WP_OK)
        return rc;
    if (config_locate(pl->cfg, host, &local_root, &rel, err, errlen) < 0)
        return WP_PATH_NOT_ALLOWED;
    if (pl->grant && !grant_allows_path(pl->grant, host)) {
        snprintf(err, errlen, "dest %s: outside this token's roots", host);
        return WP_FORBIDDEN;
    }
    if (pl->grant && pl->grant->read_only) {
        snprintf(err, errlen, "this token may only read, and dest %s would be written", host);
        return WP_FORBIDDEN;
    }
    rc = plat_file_open(local_root, rel, true, f, size, why, sizeof(why));
    if (rc != WP_OK) {
        snprintf(err, errlen, "dest %s: %s", host, why);
        return rc;
    }
    if (r->f && plat_file_same(*f, r->f)) {
        plat_file_close(*f);
        *f = NULL;
        snprintf(err, errlen, "dest %s is the request's own file", host);
        return WP_BAD_REQUEST;
    }
    return WP_OK;
}

static wp_code check_sizes(struct plan *pl, uint64_t file_size)
{
    const wp_request *req = pl->req;

    if (file_size != req->buffer_size) {
        snprintf(pl->err, sizeof(pl->err), "%s: buffer_size %" PRIu64
                 " but the file has %" PRIu64 " bytes", pl->host, req->buffer_size, file_size);
        return WP_SIZE_MISMATCH;
    }
    if (req->offset > req->buffer_size || req->length > req->buffer_size - req->offset) {
        snprintf(pl->err, sizeof(pl->err), "%s: range %" PRIu64 "+%" PRIu64
                 " outside the buffer's %" PRIu64 " bytes", pl->host, req->offset,
                 req->length, req->buffer_size);
        return WP_SIZE_MISMATCH;
    }
    return WP_OK;
}

/* Open the file and check it; for an operation that runs, map the range. */
static wp_code open_file(struct request *r)
{
    struct plan *pl = &r->pl;
    const char *local_root, *rel;
    char why[256];
    uint64_t size;
    wp_code rc = host_path(pl);

    if (rc != WP_OK)
        return rc;
    if (config_locate(pl->cfg, pl->host, &local_root, &rel, pl->err, sizeof(pl->err)) < 0)
        return WP_PATH_NOT_ALLOWED;
    if (pl->grant && !grant_allows_path(pl->grant, pl->host)) {
        snprintf(pl->err, sizeof(pl->err), "%s: outside this token's roots", pl->host);
        return WP_FORBIDDEN;
    }
    rc = plat_file_open(local_root, rel, pl->write, &r->f, &size, why, sizeof(why));
    if (rc != WP_OK) {
        snprintf(pl->err, sizeof(pl->err), "%s: %s", pl->host, why);
        return rc;
    }
    rc = check_sizes(pl, size);
    if (rc != WP_OK)
        return rc;
    for (size_t i = 0; i < pl->nsteps; i++)
        pl->steps[i].call.file_size = size;
    if (pl->runs == 0 || r->req.length == 0)
        return WP_OK;
    rc = plat_map_file(r->f, r->req.offset, r->req.length, pl->write, &r->m, why, sizeof(why));
    if (rc != WP_OK)
        snprintf(pl->err, sizeof(pl->err), "%s: %s", pl->host, why);
    return rc;
}

/* Look up and check one step's operation and parameters. */
static wp_code prepare_step(struct plan *pl, struct step *st, const char *name,
                            json_object *params)
{
    const wp_request *req = pl->req;
    char shown[4 * ECHO_NAME_CHARS];
    wp_code rc;

    st->op = ops_find(name);
    if (!st->op) {
        snprintf(pl->err, sizeof(pl->err), "unknown operation \"%s\"",
                 echo(shown, sizeof(shown), name, ECHO_NAME_CHARS));
        return WP_UNKNOWN_OPERATION;
    }
    if (pl->grant && !grant_allows_op(pl->grant, name)) {
        snprintf(pl->err, sizeof(pl->err), "this token may not run %s", st->op->p->name);
        return WP_FORBIDDEN;
    }
    if (st->op->proto && wp_op_check_params(st->op->proto, params, pl->err,
                                            sizeof(pl->err)) < 0)
        return WP_BAD_REQUEST;
    if (st->op->p->access == WINAPI_PLUGIN_WRITE && req->access == WP_ACCESS_READ) {
        snprintf(pl->err, sizeof(pl->err), "%s writes the buffer: \"access\":\"read\" "
                 "is not possible", st->op->p->name);
        return WP_BAD_REQUEST;
    }
    pl->write |= req->access == WP_ACCESS_WRITE ||
                 (req->access == WP_ACCESS_DEFAULT && st->op->p->access == WINAPI_PLUGIN_WRITE);
    /* stat maps nothing, so it processes no bytes. */
    st->result = wp_result_new(st->op->p->name, req->buffer_id, op_maps(st->op) ? req->length : 0);
    if (!st->result) {
        snprintf(pl->err, sizeof(pl->err), "out of memory");
        return WP_INTERNAL;
    }
    st->params = params;
    st->call = (struct winapi_plugin_call){
        .range_length = req->length,
        .buffer_offset = req->offset,
        .params = params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)
                         : "{}",
        .host_path = pl->host,
        .progress = host_progress,
        .cancelled = host_cancelled,
        .set_result = host_set_result,
        .set_error = host_set_error,
        .param = host_param,
        .guard = host_guard,
        .host = st,
    };
    if (!st->call.params) {
        snprintf(pl->err, sizeof(pl->err), "out of memory");
        return WP_INTERNAL;
    }
    if (op_maps(st->op))
        pl->runs++;
    if (!st->op->p->start) {
        st->started = true;
        return WP_OK;
    }
    rc = st->op->p->start(&st->call);
    /* Its state is set even if it also called set_error(): finish() frees it. */
    st->started = rc == 0;
    return call_failed(st, rc);
}

static wp_code prepare_steps(struct plan *pl)
{
    const wp_request *req = pl->req;
    wp_code rc;

    if (req->nsteps == 0) {
        pl->nsteps = 1;
        return prepare_step(pl, &pl->steps[0], req->operation, req->params);
    }
    pl->nsteps = req->nsteps;
    for (size_t i = 0; i < req->nsteps; i++) {
        rc = prepare_step(pl, &pl->steps[i], req->step_operation[i], req->step_params[i]);
        if (rc == WP_OK && (pl->steps[i].op->p->flags & WINAPI_PLUGIN_CHAIN_LAST) &&
            i + 1 < req->nsteps) {
            snprintf(pl->err, sizeof(pl->err), "%s must be a chain's last step",
                     pl->steps[i].op->p->name);
            rc = WP_BAD_REQUEST;
        }
        if (rc != WP_OK) {
            pl->err_step = (int)i;
            return rc;
        }
    }
    return WP_OK;
}

/* The steps, then whether the token may write, if the request would. */
static wp_code prepare(struct plan *pl)
{
    wp_code rc = prepare_steps(pl);

    if (rc == WP_OK && pl->write && pl->grant && pl->grant->read_only) {
        snprintf(pl->err, sizeof(pl->err), "this token may only read, and the request "
                 "writes the buffer");
        return WP_FORBIDDEN;
    }
    return rc;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

uint64_t request_work(const wp_request *req)
{
    const struct op *op;
    uint64_t runs = 0;

    if (req->nsteps == 0)
        return (op = ops_find(req->operation)) && op_maps(op)
               ? req->length * op_passes(op) : 0;
    for (size_t i = 0; i < req->nsteps; i++)
        if ((op = ops_find(req->step_operation[i])) && op_maps(op))
            runs += op_passes(op);
    return runs * req->length;
}

/* A step whose work the range does not bound (ops.h). */
static bool has_unbounded(const wp_request *req)
{
    const struct op *op;

    if (req->nsteps == 0)
        return (op = ops_find(req->operation)) && op->unbounded;
    for (size_t i = 0; i < req->nsteps; i++)
        if ((op = ops_find(req->step_operation[i])) && op->unbounded)
            return true;
    return false;
}

bool request_is_quick(const wp_request *req)
{
    return request_work(req) <= REQUEST_QUICK_MAX && !has_unbounded(req);
}

/*
 * A request's path and message buffers make it big enough that malloc
 * tidies its free lists for every new one, a cost the size of a small
 * request's work: one is kept between requests (any thread).
 */
static _Atomic(struct request *) spare_request;

struct request *request_new(const struct hostd_config *cfg, const wp_grant *grant,
                            wp_request *req, const char *peer)
{
    struct request *r = atomic_exchange(&spare_request, NULL);

    if (r)
        memset(r, 0, sizeof(*r));
    else if (!(r = calloc(1, sizeof(*r))))
        return NULL;
    r->req = *req;
    memset(req, 0, sizeof(*req));
    r->pl.cfg = cfg;
    r->pl.grant = grant;
    r->pl.req = &r->req;
    r->pl.err_step = -1;
    for (size_t i = 0; i < WP_MAX_STEPS; i++)
        r->pl.steps[i].r = r;
    strncpy(r->peer, peer, sizeof(r->peer) - 1);   /* zeroed: stays terminated */
    return r;
}

void request_watch(struct request *r, const atomic_bool *cancel, _Atomic uint64_t *progress)
{
    r->cancel = cancel;
    r->progress = progress;
}

bool request_succeeded(const struct request *r)
{
    return r->ended && r->rc == WP_OK;
}

uint64_t request_length(const struct request *r)
{
    return request_work(&r->req);
}

uint64_t request_done(const struct request *r)
{
    return r->done_before + r->done;
}

static void finish_step(struct step *st);

/*
 * From the step at work on, those that map nothing (stat), in the chain's
 * order, up to the next that does: they run once, guarded (a later step's
 * mapping is not theirs, but a plugin may touch anything).  False when one
 * failed, which ends the request.
 */
static bool run_unmapped(struct request *r)
{
    struct plan *pl = &r->pl;

    for (; r->cur < pl->nsteps && !op_maps(pl->steps[r->cur].op); r->cur++) {
        struct step *st = &pl->steps[r->cur];
        st->run_rc = 0;
        if (st->op->p->run && plat_guard(guarded_run, st) < 0) {
            snprintf(pl->err, sizeof(pl->err), "%s: the file shrank while mapped", pl->host);
            r->m.faulted = true;
            r->rc = WP_IO_ERROR;
        } else {
            r->rc = call_failed(st, st->run_rc);
        }
        if (r->rc != WP_OK) {
            if (r->req.nsteps)
                pl->err_step = (int)r->cur;
            return false;
        }
        st->completed = true;
        finish_step(st);
    }
    return true;
}

/* Checks, the file and the mapping: the first step.  False when that ended it. */
static bool start(struct request *r)
{
    struct plan *pl = &r->pl;

    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->started = true;
    r->rc = prepare(pl);
    if (r->rc != WP_OK)
        return false;
    r->rc = open_file(r);
    if (r->rc != WP_OK)
        return false;
    for (size_t i = 0; i < pl->nsteps; i++)
        if (op_maps(pl->steps[i].op))
            pl->steps[i].call.range = r->req.length ? r->m.addr : NULL;
    return run_unmapped(r) && r->cur < pl->nsteps;
}

/* A step's operation adds its result fields, and lets go what start() took. */
static void finish_step(struct step *st)
{
    if (st->started && st->op->p->finish) {
        st->finishing = true;
        st->op->p->finish(&st->call, st->completed);
        st->finishing = false;
    }
    st->started = false;
}

/* Release what the request holds. */
static void finish(struct request *r)
{
    for (size_t i = 0; i < r->pl.nsteps; i++)
        finish_step(&r->pl.steps[i]);
    plat_unmap(&r->m);
    r->m.base = NULL;
    if (r->f)
        plat_file_close(r->f);
    r->f = NULL;
}

bool request_check(struct request *r)
{
    if (r->ended)
        return false;
    if (r->started || start(r))
        return true;
    finish(r);
    r->ended = true;
    return false;
}

const char *request_operation(const struct request *r)
{
    return r->req.operation;
}

bool request_step(struct request *r, uint64_t max_bytes)
{
    struct plan *pl = &r->pl;
    struct step *st;
    uint64_t left, n;

    if (r->ended)
        return true;
    if (!r->started && !start(r))
        goto ended;
    st = &pl->steps[r->cur];
    left = r->req.length - r->done;
    n = left < max_bytes ? left : max_bytes;
    /* A step ends on a page boundary within the range, where fill's pattern
     * starts again whole. */
    if (n < left)
        n = n < REQUEST_STEP_ALIGN ? REQUEST_STEP_ALIGN : n - n % REQUEST_STEP_ALIGN;
    if (n > left)
        n = left;
    if (n > 0)
        plat_map_ready(&r->m, r->done, n);
    st->call.data = r->req.length ? (char *)r->m.addr + r->done : NULL;
    st->call.length = n;
    st->call.offset = r->done;
    if (plat_guard(guarded_run, st) < 0) {
        snprintf(pl->err, sizeof(pl->err), "%s: the file shrank while mapped", pl->host);
        r->m.faulted = true;
        for (size_t i = 0; i < pl->nsteps; i++)
            pl->steps[i].call.faulted = 1;
        r->rc = WP_IO_ERROR;
        if (r->req.nsteps)
            pl->err_step = (int)r->cur;
        goto ended;
    }
    if ((r->rc = call_failed(st, st->run_rc)) != WP_OK) {
        if (r->req.nsteps)
            pl->err_step = (int)r->cur;
        goto ended;
    }
    r->done += n;
    if (r->done < r->req.length)
        return false;
    /* Through the range: again, for an operation of several passes. */
    if (st->call.pass + 1 < op_passes(st->op)) {
        st->call.pass++;
        r->done_before += r->done;
        r->done = 0;
        return false;
    }
    /* This step is through the range: the next one that runs starts over it. */
    st->completed = true;
    finish_step(st);
    r->cur++;
    if (!run_unmapped(r))
        goto ended;
    if (r->cur < pl->nsteps) {
        r->done_before += r->done;
        r->done = 0;
        return false;
    }
ended:
    finish(r);
    r->ended = true;
    return true;
}

/* A chain's result: its own fields and one result per step (taken). */
static json_object *chain_result(struct request *r)
{
    struct plan *pl = &r->pl;
    json_object *res = wp_result_new("chain", r->req.buffer_id,
                                     pl->runs ? r->req.length : 0);
    json_object *steps = json_object_new_array();

    for (size_t i = 0; i < pl->nsteps; i++) {
        if (steps)
            json_object_array_add(steps, pl->steps[i].result);
        else
            json_object_put(pl->steps[i].result);
        pl->steps[i].result = NULL;
    }
    if (!res || !steps) {
        json_object_put(res);
        json_object_put(steps);
        return NULL;
    }
    json_object_object_add(res, "steps", steps);
    return res;
}

/* What the request answers with on success (taken from the steps). */
static json_object *take_result(struct request *r)
{
    json_object *res;

    if (r->req.nsteps)
        return chain_result(r);
    res = r->pl.steps[0].result;
    r->pl.steps[0].result = NULL;
    return res;
}

char *request_answer(struct request *r)
{
    const wp_request *req = &r->req;
    struct plan *pl = &r->pl;
    json_object *result;

    finish(r);
    result = take_result(r);
    if (log_verbose())
        log_debug("%s #%" PRIu64 " %s %s %" PRIu64 " bytes: %s%s%s (%.2f ms)", r->peer,
                  req->request_id, req->operation, pl->host[0] ? pl->host : req->file_path,
                  req->length, wp_code_name(r->rc), r->rc ? ": " : "", r->rc ? pl->err : "",
                  ms_since(&r->t0));
    if (r->rc == WP_OK && r->ended && result) {
        char *line = wp_response_success(req->has_request_id, req->request_id, result);
        /* A client reads at most a line of WP_MAX_LINE; a job's status
         * wraps the response in a few more fields. */
        if (!line || strlen(line) <= WP_MAX_LINE - 1024)
            return line;
        free(line);
        return wp_response_error(req->has_request_id, req->request_id, WP_INTERNAL,
                                 "the result is too large for a line of the protocol "
                                 "(63 KiB)");
    }
    json_object_put(result);
    if (r->rc == WP_OK && r->ended)
        return wp_response_error(req->has_request_id, req->request_id, WP_INTERNAL,
                                 "out of memory");
    return wp_response_error_at(req->has_request_id, req->request_id,
                                r->ended ? r->rc : WP_INTERNAL,
                                r->ended ? pl->err : "the request was stopped before its end",
                                r->ended ? pl->err_step : -1);
}

void request_free(struct request *r)
{
    if (!r)
        return;
    finish(r);
    for (size_t i = 0; i < r->pl.nsteps; i++)
        json_object_put(r->pl.steps[i].result);
    wp_request_release(&r->req);
    free(atomic_exchange(&spare_request, r));
}

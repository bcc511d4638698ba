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

/* One operation of a request, with its own state and result. */
struct step {
    const struct op *op;
    struct op_run run;
    bool checked;               /* check() succeeded: finish() is owed */
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
};

static void guarded_run(void *arg)
{
    struct step *st = arg;

    st->op->run(&st->run);
}

/* Text from the request, for an answer: bounded, cut between characters. */
static const char *echo(char *buf, size_t buflen, const char *s, size_t max_chars)
{
    wp_utf8_copy(buf, buflen, s, strlen(s), max_chars);
    return buf;
}

/* Where the request's file is, as the host names it. */
static wp_code host_path(struct plan *pl)
{
    const wp_request *req = pl->req;
    char translated[WP_HOST_PATH_MAX], why[256], shown[4 * ECHO_PATH_CHARS];
    const char *p = req->host_path;

    if (!p) {
        if (wp_path_guest_file_to_host(req->file_path, pl->cfg->automount_root,
                                       translated, sizeof(translated), why, sizeof(why)) < 0) {
            snprintf(pl->err, sizeof(pl->err), "%s: %s",
                     echo(shown, sizeof(shown), req->file_path, ECHO_PATH_CHARS), why);
            return WP_PATH_NOT_ALLOWED;
        }
        p = translated;
    }
    if (wp_path_host_file_canon(p, pl->host, sizeof(pl->host), why, sizeof(why)) < 0) {
        snprintf(pl->err, sizeof(pl->err), "%s: %s",
                 echo(shown, sizeof(shown), p, ECHO_PATH_CHARS), why);
        return WP_PATH_NOT_ALLOWED;
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

/*
 * Open the file and check it; for an operation that runs, map the range.
 * stat gets its fields here, since it maps nothing.
 */
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
    for (size_t i = 0; i < pl->nsteps; i++) {
        json_object *res = pl->steps[i].run.result;
        if (pl->steps[i].op->run)
            continue;
        json_object_object_add(res, "host_path", json_object_new_string(pl->host));
        json_object_object_add(res, "file_size", json_object_new_int64((int64_t)size));
    }
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
        snprintf(pl->err, sizeof(pl->err), "this token may not run %s", st->op->name);
        return WP_FORBIDDEN;
    }
    if (wp_op_check_params(st->op->proto, params, pl->err, sizeof(pl->err)) < 0)
        return WP_BAD_REQUEST;
    if (st->op->proto->access == WP_OP_WRITE && req->access == WP_ACCESS_READ) {
        snprintf(pl->err, sizeof(pl->err), "%s writes the buffer: \"access\":\"read\" "
                 "is not possible", st->op->name);
        return WP_BAD_REQUEST;
    }
    pl->write |= req->access == WP_ACCESS_WRITE ||
                 (req->access == WP_ACCESS_DEFAULT && st->op->proto->access == WP_OP_WRITE);
    st->run.params = params;
    st->run.passes = st->op->passes ? st->op->passes : 1;
    st->run.range_length = req->length;
    rc = st->op->check(&st->run, pl->err, sizeof(pl->err));
    st->checked = rc == WP_OK;
    if (st->op->run)
        pl->runs++;
    return rc;
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
        if (rc == WP_OK && pl->steps[i].op->chain_last && i + 1 < req->nsteps) {
            /* A later step failing would leave the buffer encrypted, and the
             * answer an error without the nonce and tag to decrypt it. */
            snprintf(pl->err, sizeof(pl->err), "%s must be a chain's last step",
                     pl->steps[i].op->name);
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
        return (op = ops_find(req->operation)) && op->run
               ? req->length * (uint64_t)(op->passes ? op->passes : 1) : 0;
    for (size_t i = 0; i < req->nsteps; i++)
        if ((op = ops_find(req->step_operation[i])) && op->run)
            runs += op->passes ? (uint64_t)op->passes : 1;
    return runs * req->length;
}

bool request_is_quick(const wp_request *req)
{
    return request_work(req) <= REQUEST_QUICK_MAX;
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
    strncpy(r->peer, peer, sizeof(r->peer) - 1);   /* zeroed: stays terminated */
    return r;
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

/* Checks, the file and the mapping: the first step.  False when that ended it. */
static bool start(struct request *r)
{
    struct plan *pl = &r->pl;

    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->started = true;
    r->rc = prepare(pl);
    if (r->rc != WP_OK)
        return false;
    for (size_t i = 0; i < pl->nsteps; i++) {
        struct step *st = &pl->steps[i];
        /* stat maps nothing, so it processes no bytes. */
        st->run.result = wp_result_new(st->op->name, r->req.buffer_id,
                                       st->op->run ? r->req.length : 0);
        if (!st->run.result) {
            snprintf(pl->err, sizeof(pl->err), "out of memory");
            r->rc = WP_INTERNAL;
            return false;
        }
    }
    r->rc = open_file(r);
    for (size_t i = 0; i < pl->nsteps; i++) {
        pl->steps[i].run.base = r->m.addr;
        pl->steps[i].run.range_length = r->req.length;
    }
    while (r->cur < pl->nsteps && !pl->steps[r->cur].op->run)
        r->cur++;
    return r->rc == WP_OK && r->cur < pl->nsteps;
}

/* A step's operation adds its result fields, and lets go what check() took. */
static void finish_step(struct step *st)
{
    if (st->checked && st->op->finish)
        st->op->finish(&st->run);
    st->checked = false;
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
    st->run.addr = r->req.length ? (char *)r->m.addr + r->done : NULL;
    st->run.length = n;
    if (plat_guard(guarded_run, st) < 0) {
        snprintf(pl->err, sizeof(pl->err), "%s: the file shrank while mapped", pl->host);
        r->m.faulted = true;
        for (size_t i = 0; i < pl->nsteps; i++)
            pl->steps[i].run.faulted = true;
        r->rc = WP_IO_ERROR;
        if (r->req.nsteps)
            pl->err_step = (int)r->cur;
        goto ended;
    }
    r->done += n;
    st->run.done = r->done;
    if (r->done < r->req.length)
        return false;
    /* Through the range: again, for an operation of several passes. */
    if (st->op->between) {
        r->rc = st->op->between(&st->run, pl->err, sizeof(pl->err));
        if (r->rc != WP_OK) {
            if (r->req.nsteps)
                pl->err_step = (int)r->cur;
            goto ended;
        }
    }
    if (st->run.pass + 1 < st->run.passes) {
        st->run.pass++;
        st->run.done = 0;
        r->done_before += r->done;
        r->done = 0;
        return false;
    }
    /* This step is through the range: the next one that runs starts over it. */
    finish_step(st);
    do
        r->cur++;
    while (r->cur < pl->nsteps && !pl->steps[r->cur].op->run);
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
            json_object_array_add(steps, pl->steps[i].run.result);
        else
            json_object_put(pl->steps[i].run.result);
        pl->steps[i].run.result = NULL;
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
    res = r->pl.steps[0].run.result;
    r->pl.steps[0].run.result = NULL;
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
    if (r->rc == WP_OK && r->ended && result)
        return wp_response_success(req->has_request_id, req->request_id, result);
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
        json_object_put(r->pl.steps[i].run.result);
    wp_request_release(&r->req);
    free(atomic_exchange(&spare_request, r));
}

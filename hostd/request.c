/*
 * request.c - one shared_buffer request, from JSON to answer.
 *
 * Order of checks, so that the cheapest refusal wins and a refused request
 * never touches the file system: operation, parameters, path translation,
 * allowed root, safe open, size, and only then the mapping.
 */
#include "config.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "ops.h"
#include "plat.h"
#include "request.h"
#include "wp_path.h"
#include "wp_utf8.h"

/* How much of a request's path or name an answer echoes, in characters. */
#define ECHO_PATH_CHARS 160
#define ECHO_NAME_CHARS 64

/* What the checks found, and the operation's own state. */
struct plan {
    const struct hostd_config *cfg;
    const wp_request *req;
    const struct op *op;
    struct op_run run;
    bool write;
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
    uint64_t done;              /* bytes of the range processed */
    bool started, checked, ended;
    wp_code rc;
    struct timespec t0;
};

static void guarded_run(void *arg)
{
    struct plan *pl = arg;

    pl->op->run(&pl->run);
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
    rc = plat_file_open(local_root, rel, pl->write, &r->f, &size, why, sizeof(why));
    if (rc != WP_OK) {
        snprintf(pl->err, sizeof(pl->err), "%s: %s", pl->host, why);
        return rc;
    }
    rc = check_sizes(pl, size);
    if (rc != WP_OK)
        return rc;
    if (!pl->op->run) {
        json_object_object_add(pl->run.result, "host_path", json_object_new_string(pl->host));
        json_object_object_add(pl->run.result, "file_size", json_object_new_int64((int64_t)size));
        return WP_OK;
    }
    if (r->req.length == 0)
        return WP_OK;
    rc = plat_map_file(r->f, r->req.offset, r->req.length, pl->write, &r->m, why, sizeof(why));
    if (rc != WP_OK)
        snprintf(pl->err, sizeof(pl->err), "%s: %s", pl->host, why);
    return rc;
}

static wp_code prepare(struct plan *pl)
{
    const wp_request *req = pl->req;
    char shown[4 * ECHO_NAME_CHARS];

    pl->op = ops_find(req->operation);
    if (!pl->op) {
        snprintf(pl->err, sizeof(pl->err), "unknown operation \"%s\"",
                 echo(shown, sizeof(shown), req->operation, ECHO_NAME_CHARS));
        return WP_UNKNOWN_OPERATION;
    }
    if (pl->op->access == OP_WRITE && req->access == WP_ACCESS_READ) {
        snprintf(pl->err, sizeof(pl->err), "%s writes the buffer: \"access\":\"read\" "
                 "is not possible", pl->op->name);
        return WP_BAD_REQUEST;
    }
    pl->write = req->access == WP_ACCESS_WRITE ||
               (req->access == WP_ACCESS_DEFAULT && pl->op->access == OP_WRITE);
    pl->run.params = req->params;
    return pl->op->check(&pl->run, pl->err, sizeof(pl->err));
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

uint64_t request_work(const wp_request *req)
{
    const struct op *op = ops_find(req->operation);

    return op && op->run ? req->length : 0;
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

struct request *request_new(const struct hostd_config *cfg, wp_request *req,
                            const char *peer)
{
    struct request *r = atomic_exchange(&spare_request, NULL);

    if (r)
        memset(r, 0, sizeof(*r));
    else if (!(r = calloc(1, sizeof(*r))))
        return NULL;
    r->req = *req;
    memset(req, 0, sizeof(*req));
    r->pl.cfg = cfg;
    r->pl.req = &r->req;
    strncpy(r->peer, peer, sizeof(r->peer) - 1);   /* zeroed: stays terminated */
    return r;
}

bool request_succeeded(const struct request *r)
{
    return r->ended && r->rc == WP_OK;
}

uint64_t request_length(const struct request *r)
{
    return r->req.length;
}

uint64_t request_done(const struct request *r)
{
    return r->done;
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
    r->checked = true;
    /* stat maps nothing, so it processes no bytes. */
    pl->run.result = wp_result_new(r->req.operation, r->req.buffer_id,
                                  pl->op->run ? r->req.length : 0);
    if (!pl->run.result) {
        snprintf(pl->err, sizeof(pl->err), "out of memory");
        r->rc = WP_INTERNAL;
        return false;
    }
    r->rc = open_file(r);
    return r->rc == WP_OK && pl->op->run;
}

/* Release what the request holds; the operation adds its result fields. */
static void finish(struct request *r)
{
    if (r->checked && r->pl.op->finish)
        r->pl.op->finish(&r->pl.run);
    r->checked = false;
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
    uint64_t left, n;

    if (r->ended)
        return true;
    if (!r->started && !start(r))
        goto ended;
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
    pl->run.addr = r->req.length ? (char *)r->m.addr + r->done : NULL;
    pl->run.length = n;
    if (plat_guard(guarded_run, pl) < 0) {
        snprintf(pl->err, sizeof(pl->err), "%s: the file shrank while mapped", pl->host);
        r->m.faulted = true;
        r->rc = WP_IO_ERROR;
        goto ended;
    }
    r->done += n;
    if (r->done < r->req.length)
        return false;
ended:
    finish(r);
    r->ended = true;
    return true;
}

char *request_answer(struct request *r)
{
    const wp_request *req = &r->req;
    struct plan *pl = &r->pl;
    json_object *result = pl->run.result;

    finish(r);
    pl->run.result = NULL;
    if (log_verbose())
        log_debug("%s #%" PRIu64 " %s %s %" PRIu64 " bytes: %s%s%s (%.2f ms)", r->peer,
                  req->request_id, req->operation, pl->host[0] ? pl->host : req->file_path,
                  req->length, wp_code_name(r->rc), r->rc ? ": " : "", r->rc ? pl->err : "",
                  ms_since(&r->t0));
    if (r->rc == WP_OK && r->ended)
        return wp_response_success(req->has_request_id, req->request_id, result);
    json_object_put(result);
    return wp_response_error(req->has_request_id, req->request_id,
                             r->ended ? r->rc : WP_INTERNAL,
                             r->ended ? pl->err : "the request was stopped before its end");
}

void request_free(struct request *r)
{
    if (!r)
        return;
    finish(r);
    json_object_put(r->pl.run.result);
    wp_request_release(&r->req);
    free(atomic_exchange(&spare_request, r));
}

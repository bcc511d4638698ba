/*
 * request.c - one shared_buffer request, from JSON to answer.
 *
 * Order of checks, so that the cheapest refusal wins and a refused request
 * never touches the file system: operation, parameters, path translation,
 * allowed root, safe open, size, and only then the mapping.
 */
#include "config.h"

#include <inttypes.h>
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

struct job {
    const struct hostd_config *cfg;
    const wp_request *req;
    const struct op *op;
    struct op_run run;
    bool write;
    char host[WP_HOST_PATH_MAX];
    char err[1024];
};

static void guarded_run(void *arg)
{
    struct job *j = arg;

    j->op->run(&j->run);
}

/* Text from the request, for an answer: bounded, cut between characters. */
static const char *echo(char *buf, size_t buflen, const char *s, size_t max_chars)
{
    wp_utf8_copy(buf, buflen, s, strlen(s), max_chars);
    return buf;
}

/* Where the request's file is, as the host names it. */
static wp_code host_path(struct job *j)
{
    const wp_request *req = j->req;
    char translated[WP_HOST_PATH_MAX], why[256], shown[4 * ECHO_PATH_CHARS];
    const char *p = req->host_path;

    if (!p) {
        if (wp_path_guest_file_to_host(req->file_path, j->cfg->automount_root,
                                       translated, sizeof(translated), why, sizeof(why)) < 0) {
            snprintf(j->err, sizeof(j->err), "%s: %s",
                     echo(shown, sizeof(shown), req->file_path, ECHO_PATH_CHARS), why);
            return WP_PATH_NOT_ALLOWED;
        }
        p = translated;
    }
    if (wp_path_host_file_canon(p, j->host, sizeof(j->host), why, sizeof(why)) < 0) {
        snprintf(j->err, sizeof(j->err), "%s: %s",
                 echo(shown, sizeof(shown), p, ECHO_PATH_CHARS), why);
        return WP_PATH_NOT_ALLOWED;
    }
    return WP_OK;
}

static wp_code check_sizes(struct job *j, uint64_t file_size)
{
    const wp_request *req = j->req;

    if (file_size != req->buffer_size) {
        snprintf(j->err, sizeof(j->err), "%s: buffer_size %" PRIu64
                 " but the file has %" PRIu64 " bytes", j->host, req->buffer_size, file_size);
        return WP_SIZE_MISMATCH;
    }
    if (req->offset > req->buffer_size || req->length > req->buffer_size - req->offset) {
        snprintf(j->err, sizeof(j->err), "%s: range %" PRIu64 "+%" PRIu64
                 " outside the buffer's %" PRIu64 " bytes", j->host, req->offset,
                 req->length, req->buffer_size);
        return WP_SIZE_MISMATCH;
    }
    return WP_OK;
}

static wp_code map_and_run(struct job *j, plat_file *f)
{
    plat_map m = { 0 };
    char why[256];
    wp_code rc = WP_OK;

    if (j->run.length > 0) {
        rc = plat_map_file(f, j->req->offset, j->run.length, j->write, &m, why, sizeof(why));
        if (rc != WP_OK) {
            snprintf(j->err, sizeof(j->err), "%s: %s", j->host, why);
            return rc;
        }
        j->run.addr = m.addr;
    }
    if (plat_guard(guarded_run, j) < 0) {
        snprintf(j->err, sizeof(j->err), "%s: the file shrank while mapped", j->host);
        m.faulted = true;
        rc = WP_IO_ERROR;
    }
    plat_unmap(&m);
    return rc;
}

static wp_code on_file(struct job *j)
{
    const char *local_root, *rel;
    char why[256];
    plat_file *f = NULL;
    uint64_t size;
    wp_code rc = host_path(j);

    if (rc != WP_OK)
        return rc;
    if (config_locate(j->cfg, j->host, &local_root, &rel, j->err, sizeof(j->err)) < 0)
        return WP_PATH_NOT_ALLOWED;
    rc = plat_file_open(local_root, rel, j->write, &f, &size, why, sizeof(why));
    if (rc != WP_OK) {
        snprintf(j->err, sizeof(j->err), "%s: %s", j->host, why);
        return rc;
    }
    rc = check_sizes(j, size);
    if (rc == WP_OK && j->op->run) {
        j->run.length = j->req->length;
        rc = map_and_run(j, f);
    } else if (rc == WP_OK) {
        json_object_object_add(j->run.result, "host_path", json_object_new_string(j->host));
        json_object_object_add(j->run.result, "file_size", json_object_new_int64((int64_t)size));
    }
    plat_file_close(f);
    return rc;
}

static wp_code prepare(struct job *j)
{
    const wp_request *req = j->req;
    char shown[4 * ECHO_NAME_CHARS];

    j->op = ops_find(req->operation);
    if (!j->op) {
        snprintf(j->err, sizeof(j->err), "unknown operation \"%s\"",
                 echo(shown, sizeof(shown), req->operation, ECHO_NAME_CHARS));
        return WP_UNKNOWN_OPERATION;
    }
    if (j->op->access == OP_WRITE && req->access == WP_ACCESS_READ) {
        snprintf(j->err, sizeof(j->err), "%s writes the buffer: \"access\":\"read\" "
                 "is not possible", j->op->name);
        return WP_BAD_REQUEST;
    }
    j->write = req->access == WP_ACCESS_WRITE ||
               (req->access == WP_ACCESS_DEFAULT && j->op->access == OP_WRITE);
    j->run.params = req->params;
    return j->op->check(&j->run, j->err, sizeof(j->err));
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

bool request_is_quick(const wp_request *req)
{
    const struct op *op = ops_find(req->operation);

    return !op || !op->run || req->length <= REQUEST_QUICK_MAX;
}

char *request_run(const struct hostd_config *cfg, const wp_request *req,
                  const char *peer)
{
    struct job j = { .cfg = cfg, .req = req };
    struct timespec t0;
    wp_code rc;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = prepare(&j);
    if (rc == WP_OK) {
        /* stat maps nothing, so it processes no bytes. */
        j.run.result = wp_result_new(req->operation, req->buffer_id,
                                     j.op->run ? req->length : 0);
        if (j.run.result) {
            rc = on_file(&j);
        } else {
            snprintf(j.err, sizeof(j.err), "out of memory");
            rc = WP_INTERNAL;
        }
        if (j.op->finish)
            j.op->finish(&j.run);
    }
    if (log_verbose())
        log_debug("%s #%" PRIu64 " %s %s %" PRIu64 " bytes: %s%s%s (%.2f ms)", peer,
                  req->request_id, req->operation, j.host[0] ? j.host : req->file_path,
                  req->length, wp_code_name(rc), rc ? ": " : "", rc ? j.err : "",
                  ms_since(&t0));
    if (rc == WP_OK)
        return wp_response_success(req->has_request_id, req->request_id, j.run.result);
    json_object_put(j.run.result);
    return wp_response_error(req->has_request_id, req->request_id, rc, j.err);
}

/*
 * jobs.c - chains and jobs of the public API (<winapi.h>): requests with
 * "operations", "async":true, and {"api":"job"}, on client.c's handle.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "wp_jobs.h"
#include "winapi.h"
#include "wp_conn.h"
#include "wp_msg.h"

int winapi_chain_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                      uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                      char **response)
{
    json_object *req;

    if (response)
        *response = NULL;
    req = client_steps_request(h, guest_path, size, buffer_id, steps, nsteps);
    return req ? client_call(h, req, 0, NULL, response) : -1;
}

/* Send req (taken) with "async":true: 0 and *job_id once the host accepted it. */
static int submit(winapi_handle_t h, json_object *req, uint64_t *job_id, char **response)
{
    wp_response resp;

    if (response)
        *response = NULL;
    if (!req)
        return -1;
    json_object_object_add(req, "async", json_object_new_boolean(1));
    if (client_call(h, req, 0, &resp, response) < 0) {
        wp_response_release(&resp);
        return -1;
    }
    if (!resp.accepted) {
        /* A host without jobs would have done the work and answered. */
        wp_set_error("host %s:%d answered the async request without a job",
                     winapi_host(h), winapi_port(h));
        wp_response_release(&resp);
        errno = EPROTO;
        return -1;
    }
    *job_id = resp.job_id;
    wp_response_release(&resp);
    if (response) {
        free(*response);
        *response = NULL;
    }
    return 0;
}

int wp_submit_work(winapi_handle_t h, const char *guest_path, uint64_t size,
                   uint32_t buffer_id, const wp_request *work, uint64_t *job_id,
                   char **response)
{
    return submit(h, client_work_request(h, guest_path, size, buffer_id, work), job_id,
                  response);
}

int winapi_submit_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                       uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                       uint64_t *job_id)
{
    return submit(h, client_steps_request(h, guest_path, size, buffer_id, steps, nsteps),
                  job_id, NULL);
}

int winapi_submit(winapi_handle_t h, const winapi_shared_buffer_t *b,
                  const winapi_request_t *req, uint64_t *job_id)
{
    if (!b) {
        errno = EINVAL;
        return -1;
    }
    return winapi_submit_path(h, b->file_path, b->size, b->buffer_id, req, 1, job_id);
}

/* A job's status object into *job; -1 with EPROTO if it is not one. */
static int job_from(json_object *o, winapi_job_t *job)
{
    json_object *v;

    memset(job, 0, sizeof(*job));
    if (!wp_json_get_u64(o, "job_id", WP_MAX_REQUEST_ID, &job->job_id) ||
        !wp_json_get_u64(o, "bytes_done", UINT64_MAX - 1, &job->bytes_done) ||
        !wp_json_get_u64(o, "bytes_total", UINT64_MAX - 1, &job->bytes_total) ||
        !json_object_object_get_ex(o, "state", &v) || !json_object_is_type(v, json_type_string))
        goto bad;
    snprintf(job->state, sizeof(job->state), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(o, "operation", &v) && json_object_is_type(v, json_type_string))
        snprintf(job->operation, sizeof(job->operation), "%s", json_object_get_string(v));
    if (json_object_object_get_ex(o, "response", &v)) {
        job->response = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (!job->response) {
            errno = ENOMEM;
            return -1;
        }
    }
    return 0;
bad:
    wp_set_error("host's job status is malformed");
    errno = EPROTO;
    return -1;
}

/* {"api":"job","action":action[,"job_id"][,"timeout_ms"]}; the answer's result in *resp. */
static int job_call(winapi_handle_t h, wp_job_action action, uint64_t job_id, int timeout_ms,
                    wp_response *resp)
{
    wp_request r = {
        .api = WP_API_JOB, .job_action = action, .job_id = job_id,
        .timeout_ms = timeout_ms >= 0 ? (uint64_t)timeout_ms : WP_JOB_WAIT_DEFAULT_MS,
    };
    json_object *req;

    memset(resp, 0, sizeof(*resp));
    if (!h) {
        errno = EINVAL;
        return -1;
    }
    if (!(req = wp_request_build(&r))) {
        errno = ENOMEM;
        return -1;
    }
    /* A wait is held by the host that long before it answers. */
    if (client_call(h, req, action == WP_JOB_WAIT ? r.timeout_ms : 0, resp, NULL) < 0) {
        wp_response_release(resp);
        return -1;
    }
    return 0;
}

static int job_action(winapi_handle_t h, wp_job_action action, uint64_t job_id, int timeout_ms,
                      winapi_job_t *job)
{
    wp_response resp;
    int r;

    if (!job || job_id == 0) {
        errno = EINVAL;
        return -1;
    }
    memset(job, 0, sizeof(*job));
    if (job_call(h, action, job_id, timeout_ms, &resp) < 0)
        return -1;
    r = job_from(resp.result, job);
    wp_response_release(&resp);
    return r;
}

int winapi_job_status(winapi_handle_t h, uint64_t job_id, winapi_job_t *job)
{
    return job_action(h, WP_JOB_STATUS, job_id, -1, job);
}

int winapi_job_wait(winapi_handle_t h, uint64_t job_id, int timeout_ms, winapi_job_t *job)
{
    return job_action(h, WP_JOB_WAIT, job_id, timeout_ms, job);
}

int winapi_job_cancel(winapi_handle_t h, uint64_t job_id, winapi_job_t *job)
{
    return job_action(h, WP_JOB_CANCEL, job_id, -1, job);
}

int winapi_job_list(winapi_handle_t h, winapi_job_t **jobs, size_t *count)
{
    wp_response resp;
    json_object *a;
    size_t n;

    if (!jobs || !count) {
        errno = EINVAL;
        return -1;
    }
    *jobs = NULL;
    *count = 0;
    if (job_call(h, WP_JOB_LIST, 0, -1, &resp) < 0)
        return -1;
    if (!json_object_object_get_ex(resp.result, "jobs", &a) ||
        !json_object_is_type(a, json_type_array)) {
        wp_response_release(&resp);
        wp_set_error("host's job list is malformed");
        errno = EPROTO;
        return -1;
    }
    n = json_object_array_length(a);
    *jobs = calloc(n ? n : 1, sizeof(**jobs));
    if (!*jobs) {
        wp_response_release(&resp);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (job_from(json_object_array_get_idx(a, i), &(*jobs)[i]) < 0) {
            winapi_job_list_free(*jobs, i);
            *jobs = NULL;
            wp_response_release(&resp);
            return -1;
        }
    *count = n;
    wp_response_release(&resp);
    return 0;
}

void winapi_job_release(winapi_job_t *job)
{
    if (job) {
        free(job->response);
        job->response = NULL;
    }
}

int winapi_job_errno(const winapi_job_t *job)
{
    json_object *resp, *e, *c;
    int err = 0, code;

    if (!job || !job->response)
        return 0;
    resp = json_tokener_parse(job->response);
    /* An error without a code the protocol knows is still an error. */
    if (resp && json_object_object_get_ex(resp, "error", &e)) {
        code = json_object_object_get_ex(e, "code", &c) &&
               json_object_is_type(c, json_type_string)
               ? wp_code_from_name(json_object_get_string(c)) : -1;
        err = code < 0 ? EPROTO : wp_code_errno((wp_code)code);
    }
    json_object_put(resp);
    return err;
}

void winapi_job_list_free(winapi_job_t *jobs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        winapi_job_release(&jobs[i]);
    free(jobs);
}

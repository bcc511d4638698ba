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

/* A shared_buffer request for steps[0..nsteps): one operation, or a chain. */
static json_object *steps_request(winapi_handle_t h, const char *guest_path, uint64_t size,
                                  uint32_t buffer_id, const winapi_request_t *steps,
                                  size_t nsteps)
{
    winapi_request_t head;
    json_object *req, *ops;

    if (!steps || nsteps == 0 || nsteps > WP_MAX_STEPS) {
        wp_set_error("a chain has 1 to %d steps", WP_MAX_STEPS);
        errno = EINVAL;
        return NULL;
    }
    for (size_t i = 0; i < nsteps; i++)
        if (!steps[i].operation) {
            wp_set_error("step %zu has no operation", i);
            errno = EINVAL;
            return NULL;
        }
    if (nsteps == 1)
        return client_request_new(h, guest_path, size, buffer_id, &steps[0]);
    head = steps[0];
    head.operation = NULL;          /* the steps carry theirs */
    req = client_request_new(h, guest_path, size, buffer_id, &head);
    ops = req ? json_object_new_array() : NULL;
    if (!ops) {
        json_object_put(req);
        return NULL;
    }
    json_object_object_add(req, "operations", ops);
    for (size_t i = 0; i < nsteps; i++) {
        json_object *s = json_object_new_object();
        if (!s) {
            json_object_put(req);
            errno = ENOMEM;
            return NULL;
        }
        json_object_array_add(ops, s);
        json_object_object_add(s, "operation", json_object_new_string(steps[i].operation));
        if (client_add_params(s, steps[i].params_json) < 0) {
            json_object_put(req);
            return NULL;
        }
    }
    return req;
}

int winapi_chain_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                      uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                      char **response)
{
    json_object *req;

    if (response)
        *response = NULL;
    req = steps_request(h, guest_path, size, buffer_id, steps, nsteps);
    return req ? client_call(h, req, 0, NULL, response) : -1;
}

int wp_submit_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                   uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                   uint64_t *job_id, char **response)
{
    json_object *req = steps_request(h, guest_path, size, buffer_id, steps, nsteps);
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

int winapi_submit_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                       uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                       uint64_t *job_id)
{
    return wp_submit_path(h, guest_path, size, buffer_id, steps, nsteps, job_id, NULL);
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
static int job_call(winapi_handle_t h, const char *action, uint64_t job_id, int timeout_ms,
                    wp_response *resp)
{
    json_object *req = json_object_new_object();
    uint64_t extra = 0;

    if (!h || !req) {
        json_object_put(req);
        errno = h ? ENOMEM : EINVAL;
        return -1;
    }
    json_object_object_add(req, "api", json_object_new_string("job"));
    json_object_object_add(req, "action", json_object_new_string(action));
    if (job_id)
        json_object_object_add(req, "job_id", json_object_new_int64((int64_t)job_id));
    if (timeout_ms >= 0 && strcmp(action, "wait") == 0)
        json_object_object_add(req, "timeout_ms", json_object_new_int(timeout_ms));
    if (strcmp(action, "wait") == 0)
        extra = timeout_ms >= 0 ? (uint64_t)timeout_ms : WP_JOB_WAIT_DEFAULT_MS;
    if (client_call(h, req, extra, resp, NULL) < 0) {
        wp_response_release(resp);
        return -1;
    }
    return 0;
}

static int job_action(winapi_handle_t h, const char *action, uint64_t job_id, int timeout_ms,
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
    return job_action(h, "status", job_id, -1, job);
}

int winapi_job_wait(winapi_handle_t h, uint64_t job_id, int timeout_ms, winapi_job_t *job)
{
    return job_action(h, "wait", job_id, timeout_ms, job);
}

int winapi_job_cancel(winapi_handle_t h, uint64_t job_id, winapi_job_t *job)
{
    return job_action(h, "cancel", job_id, -1, job);
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
    if (job_call(h, "list", 0, -1, &resp) < 0)
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

void winapi_job_list_free(winapi_job_t *jobs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        winapi_job_release(&jobs[i]);
    free(jobs);
}

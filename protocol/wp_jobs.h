/*
 * wp_jobs.h - what winapifs needs of jobs beyond <winapi.h>: the host's
 * answer when a submit fails, which the mount keeps as user.winapi.result.
 * Not exported from libwinapi.
 */
#ifndef WP_JOBS_H
#define WP_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "winapi.h"

/*
 * winapi_submit_path(), and when the host answered an error, its whole
 * response line in *response (free it; NULL when it did not answer).
 */
int wp_submit_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                   uint32_t buffer_id, const winapi_request_t *steps, size_t nsteps,
                   uint64_t *job_id, char **response);

#endif /* WP_JOBS_H */

/*
 * wp_jobs.h - what winapifs needs of jobs beyond <winapi.h>: submitting a
 * request it has parsed itself, and the host's answer when that fails,
 * which the mount keeps as user.winapi.result.  Not exported from
 * libwinapi.
 */
#ifndef WP_JOBS_H
#define WP_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "winapi.h"
#include "wp_msg.h"

/*
 * winapi_submit_path() of work already parsed (wp_work_parse(): params as
 * JSON, not text), and when the host answered an error, its whole response
 * line in *response (free it; NULL when it did not answer).
 */
int wp_submit_work(winapi_handle_t h, const char *guest_path, uint64_t size,
                   uint32_t buffer_id, const wp_request *work, uint64_t *job_id,
                   char **response);

#endif /* WP_JOBS_H */

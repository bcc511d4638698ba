/*
 * client_int.h - what the public API's files (client.c, jobs.c) share:
 * the handle, and building and sending requests.
 */
#ifndef CLIENT_INT_H
#define CLIENT_INT_H

#include <limits.h>
#include <stdint.h>
#include <json-c/json.h>

#include "winapi.h"
#include "wp_conn.h"
#include "wp_msg.h"

struct winapi_client {
    wp_conn *conn;
    char *host;
    int port;
    char backing_dir[PATH_MAX];
    char automount_root[PATH_MAX];
    char *token;                /* NULL: none */
};

/*
 * The work of a request (wp_request's shared_buffer part) from
 * winapi_request_t steps: one operation (nsteps 1) or a chain, with
 * steps[0]'s access and range, params parsed and checked against the
 * protocol's table.  -1 with errno EINVAL and the reason set.  Release it.
 */
int client_work_from(const winapi_request_t *steps, size_t nsteps, wp_request *w);
void client_work_release(wp_request *w);

/* The shared_buffer request doing work on the file at guest_path; NULL with errno and the reason. */
json_object *client_work_request(winapi_handle_t h, const char *guest_path, uint64_t size,
                                 uint32_t buffer_id, const wp_request *work);
/* The same for winapi_request_t steps. */
json_object *client_steps_request(winapi_handle_t h, const char *guest_path, uint64_t size,
                                  uint32_t buffer_id, const winapi_request_t *steps,
                                  size_t nsteps);

/*
 * Send req (taken) and wait up to the handle's timeout plus extra_ms.  A
 * "success" or "accepted" answer returns 0, an error -1 with errno per
 * the table; *resp holds the parsed answer unless it is NULL (release it:
 * wp_response_release), *line the raw one unless line is NULL (free it).
 */
int client_call(winapi_handle_t h, json_object *req, uint64_t extra_ms,
                wp_response *resp, char **line);

#endif /* CLIENT_INT_H */

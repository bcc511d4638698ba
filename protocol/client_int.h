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
 * A shared_buffer request for the file at guest_path with r's operation,
 * access, range and params (operation NULL: the caller adds its own);
 * NULL with errno and the reason set.
 */
json_object *client_request_new(winapi_handle_t h, const char *guest_path, uint64_t size,
                                uint32_t buffer_id, const winapi_request_t *r);

/* Add "params" from params_json (NULL: none) to obj; -1 with errno EINVAL if not an object. */
int client_add_params(json_object *obj, const char *params_json);

/*
 * Send req (taken) and wait up to the handle's timeout plus extra_ms.  A
 * "success" or "accepted" answer returns 0, an error -1 with errno per
 * the table; *resp holds the parsed answer unless it is NULL (release it:
 * wp_response_release), *line the raw one unless line is NULL (free it).
 */
int client_call(winapi_handle_t h, json_object *req, uint64_t extra_ms,
                wp_response *resp, char **line);

#endif /* CLIENT_INT_H */

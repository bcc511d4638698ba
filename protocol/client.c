/*
 * client.c - the public client API of <winapi.h>: settings, buffers and
 * requests, on top of wp_conn (transport), wp_msg (JSON), wp_path
 * (translation) and wp_buf (backing files).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_int.h"
#include "winapi.h"
#include "wp_buf.h"
#include "wp_conn.h"
#include "wp_msg.h"
#include "wp_ops.h"
#include "wp_path.h"
#include "wp_token.h"

const char *winapi_last_error(void)
{
    return wp_error();
}

static const char *setting(const char *given, const char *env, const char *def)
{
    const char *v = given && *given ? given : getenv(env);

    return v && *v ? v : def;
}

static int parse_port(const char *s, int *port)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 65535) {
        wp_set_error("port \"%s\" is not a number from 1 to 65535", s);
        errno = EINVAL;
        return -1;
    }
    *port = (int)v;
    return 0;
}

static int resolve_dirs(struct winapi_client *h, const winapi_options_t *o)
{
    const char *dir = setting(o->backing_dir, "WINAPI_BACKING_DIR",
                              WINAPI_DEFAULT_BACKING_DIR);
    const char *root = setting(o->automount_root, "WINAPI_AUTOMOUNT_ROOT", NULL);
    size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n >= sizeof(h->backing_dir)) {
        wp_set_error("backing directory too long");
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(h->backing_dir, dir, n);
    h->backing_dir[n] = '\0';
    if (!root)
        return wp_path_find_automount_root(NULL, h->automount_root,
                                           sizeof(h->automount_root));
    if (wp_path_root_normalize(root, h->automount_root, sizeof(h->automount_root)) < 0) {
        wp_set_error("automount root \"%s\" must be an absolute path", root);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int winapi_open(const winapi_options_t *opts, winapi_handle_t *handle)
{
    static const winapi_options_t none;
    const winapi_options_t *o = opts ? opts : &none;
    struct winapi_client *h = calloc(1, sizeof(*h));
    const char *tokfile;
    char *token = NULL, err[256];
    int e = ENOMEM;

    *handle = NULL;
    if (!h)
        goto fail;
    h->host = strdup(setting(o->host, "WINAPI_HOST", WINAPI_DEFAULT_HOST));
    if (!h->host)
        goto fail;
    h->port = o->port;
    if (h->port == 0) {
        const char *p = getenv("WINAPI_PORT");
        h->port = WINAPI_DEFAULT_PORT;
        if (p && *p && parse_port(p, &h->port) < 0)
            goto fail_errno;
    } else if (h->port < 1 || h->port > 65535) {
        wp_set_error("port %d is not from 1 to 65535", h->port);
        errno = EINVAL;
        goto fail_errno;
    }
    if (resolve_dirs(h, o) < 0)
        goto fail_errno;
    tokfile = setting(o->token_file, "WINAPI_TOKEN_FILE", NULL);
    if (tokfile) {
        /* The host refuses a token file others can read; the guest only sends it. */
        token = wp_token_client(tokfile, err, sizeof(err));
        if (!token) {
            wp_set_error("%s", err);
            goto fail_errno;
        }
    }
    h->conn = wp_conn_new(h->host, h->port, token,
                          o->timeout > 0 ? o->timeout : WINAPI_DEFAULT_TIMEOUT);
    h->token = token;
    if (!h->conn)
        goto fail;
    *handle = h;
    return 0;
fail_errno:
    e = errno;
fail:
    if (e == ENOMEM)
        wp_set_error("out of memory");
    winapi_close(h);
    errno = e;
    return -1;
}

void winapi_close(winapi_handle_t h)
{
    if (!h)
        return;
    wp_conn_free(h->conn);
    free(h->host);
    free(h->token);
    free(h);
}

const char *winapi_host(winapi_handle_t h) { return h->host; }
int winapi_port(winapi_handle_t h) { return h->port; }
const char *winapi_backing_dir(winapi_handle_t h) { return h->backing_dir; }
const char *winapi_automount_root(winapi_handle_t h) { return h->automount_root; }

int winapi_alloc_shared_buffer(winapi_handle_t h, size_t size,
                               winapi_shared_buffer_t *b)
{
    int fd, e;
    void *p = NULL;

    if (!h || !b) {
        errno = EINVAL;
        return -1;
    }
    memset(b, 0, sizeof(*b));
    b->fd = -1;
    if (size > (size_t)INT64_MAX) {
        errno = EINVAL;
        return -1;
    }
    fd = wp_buf_create(h->backing_dir, (off_t)size, b->file_path,
                       sizeof(b->file_path), &b->buffer_id);
    if (fd < 0) {
        e = errno;
        wp_set_error("cannot create a buffer in %s: %s", h->backing_dir, strerror(e));
        memset(b, 0, sizeof(*b));
        errno = e;
        return -1;
    }
    /* mmap of length 0 is EINVAL; an empty buffer simply has no mapping. */
    if (size > 0) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            e = errno;
            wp_set_error("%s: cannot map %zu bytes: %s", b->file_path, size, strerror(e));
            unlink(b->file_path);
            close(fd);
            memset(b, 0, sizeof(*b));
            errno = e;
            return -1;
        }
    }
    b->data = p;
    b->size = size;
    b->fd = fd;
    return 0;
}

void winapi_free_shared_buffer(winapi_shared_buffer_t *b)
{
    if (!b)
        return;
    if (b->data && b->size > 0)
        munmap(b->data, b->size);
    if (b->file_path[0])
        unlink(b->file_path);
    /* A zeroed structure has fd 0, which is not ours: only close what alloc set. */
    if (b->file_path[0] && b->fd >= 0)
        close(b->fd);
    memset(b, 0, sizeof(*b));
}

int client_call(winapi_handle_t h, json_object *req, uint64_t extra_ms,
                wp_response *resp, char **line)
{
    wp_response got;
    char *raw = NULL;
    int r;

    if (line)
        *line = NULL;
    if (resp)
        memset(resp, 0, sizeof(*resp));
    r = wp_conn_call_longer(h->conn, req, extra_ms, &got, &raw);
    json_object_put(req);
    if (r < 0)
        return -1;
    if (!got.success) {
        wp_set_error("host %s:%d: %s: %s", h->host, h->port,
                     wp_code_name(got.code), got.message);
        errno = wp_code_errno(got.code);
        r = -1;
    }
    if (resp)
        *resp = got;
    else
        wp_response_release(&got);
    if (line)
        *line = raw;
    else
        free(raw);
    return r;
}

/* Send req and turn the answer into 0 or -1/errno. */
static int call(winapi_handle_t h, json_object *req, char **response)
{
    return client_call(h, req, 0, NULL, response);
}

/* params_json parsed into *out (NULL: none); -1 with errno EINVAL if not an object. */
static int parse_params(const char *params_json, json_object **out)
{
    *out = NULL;
    if (!params_json)
        return 0;
    *out = json_tokener_parse(params_json);
    if (!*out || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        wp_set_error("params must be a JSON object: %s", params_json);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* A step's params against the protocol's table of operations. */
static int check_step(const char *operation, json_object *params)
{
    const wp_op *op = wp_op_find(operation);
    char err[256];

    if (op && wp_op_check_params(op, params, err, sizeof(err)) < 0) {
        wp_set_error("%s", err);
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int client_work_from(const winapi_request_t *steps, size_t nsteps, wp_request *w)
{
    static const wp_access access[] = { WP_ACCESS_READ, WP_ACCESS_WRITE };

    memset(w, 0, sizeof(*w));
    w->api = WP_API_SHARED_BUFFER;
    if (!steps) {
        wp_set_error("missing argument");
        errno = EINVAL;
        return -1;
    }
    if (nsteps == 0 || nsteps > WP_MAX_STEPS) {
        wp_set_error("a chain has 1 to %d steps", WP_MAX_STEPS);
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < nsteps; i++)
        if (!steps[i].operation) {
            wp_set_error(nsteps == 1 ? "missing operation" : "step %zu has no operation", i);
            errno = EINVAL;
            return -1;
        }
    if (steps[0].access) {
        if (strcmp(steps[0].access, "read") != 0 && strcmp(steps[0].access, "write") != 0) {
            wp_set_error("access must be read or write, not %s", steps[0].access);
            errno = EINVAL;
            return -1;
        }
        w->access = access[steps[0].access[0] == 'w'];
    }
    w->has_range = steps[0].has_range != 0;
    w->offset = steps[0].offset;
    w->length = steps[0].length;
    if (nsteps == 1) {
        w->operation = steps[0].operation;
        if (parse_params(steps[0].params_json, &w->params) < 0 ||
            check_step(w->operation, w->params) < 0)
            goto fail;
        return 0;
    }
    w->nsteps = nsteps;
    for (size_t i = 0; i < nsteps; i++) {
        w->step_operation[i] = steps[i].operation;
        if (parse_params(steps[i].params_json, &w->step_params[i]) < 0 ||
            check_step(w->step_operation[i], w->step_params[i]) < 0)
            goto fail;
    }
    return 0;
fail:
    client_work_release(w);
    return -1;
}

void client_work_release(wp_request *w)
{
    json_object_put(w->params);
    for (size_t i = 0; i < w->nsteps; i++)
        json_object_put(w->step_params[i]);
    memset(w, 0, sizeof(*w));
}

json_object *client_work_request(winapi_handle_t h, const char *guest_path, uint64_t size,
                                 uint32_t buffer_id, const wp_request *work)
{
    char host_path[WP_HOST_PATH_MAX], err[256];
    wp_request req = *work;
    json_object *o;

    if (!h || !guest_path) {
        wp_set_error("missing argument");
        errno = EINVAL;
        return NULL;
    }
    if (wp_path_guest_file_to_host(guest_path, h->automount_root, host_path,
                                   sizeof(host_path), err, sizeof(err)) < 0) {
        wp_set_error("%s: no host path: %s", guest_path, err);
        errno = EACCES;
        return NULL;
    }
    req.api = WP_API_SHARED_BUFFER;
    req.file_path = guest_path;
    req.host_path = host_path;
    req.buffer_size = size;
    req.buffer_id = buffer_id;
    o = wp_request_build(&req);
    if (!o)
        errno = ENOMEM;
    return o;
}

/* The request of winapi_request_t steps for a file; NULL with errno and the reason. */
json_object *client_steps_request(winapi_handle_t h, const char *guest_path, uint64_t size,
                                  uint32_t buffer_id, const winapi_request_t *steps,
                                  size_t nsteps)
{
    wp_request w;
    json_object *o;

    if (client_work_from(steps, nsteps, &w) < 0)
        return NULL;
    o = client_work_request(h, guest_path, size, buffer_id, &w);
    client_work_release(&w);
    return o;
}

int winapi_request_path(winapi_handle_t h, const char *guest_path, uint64_t size,
                        uint32_t buffer_id, const winapi_request_t *r,
                        char **response)
{
    json_object *req;

    if (response)
        *response = NULL;
    req = client_steps_request(h, guest_path, size, buffer_id, r, 1);
    return req ? call(h, req, response) : -1;
}

int winapi_request(winapi_handle_t h, const winapi_shared_buffer_t *b,
                   const winapi_request_t *r, char **response)
{
    if (!b) {
        errno = EINVAL;
        return -1;
    }
    return winapi_request_path(h, b->file_path, b->size, b->buffer_id, r, response);
}

int winapi_process_shared_buffer(winapi_handle_t h, winapi_shared_buffer_t *b,
                                 const char *operation)
{
    winapi_request_t r = { .operation = operation };

    return winapi_request(h, b, &r, NULL);
}

int winapi_request_json(winapi_handle_t h, const char *json, char **response)
{
    json_object *req, *api;

    if (response)
        *response = NULL;
    if (!h || !json) {
        errno = EINVAL;
        return -1;
    }
    req = json_tokener_parse(json);
    if (!req || !json_object_is_type(req, json_type_object)) {
        json_object_put(req);
        wp_set_error("not a JSON object: %.80s", json);
        errno = EINVAL;
        return -1;
    }
    /* A hello without a token from a handle with one: the host would
     * take it for a wrong token and close the connection. */
    if (h->token && json_object_object_get_ex(req, "api", &api) &&
        json_object_is_type(api, json_type_string) &&
        strcmp(json_object_get_string(api), "hello") == 0 &&
        !json_object_object_get_ex(req, "token", NULL))
        json_object_object_add(req, "token", json_object_new_string(h->token));
    return call(h, req, response);
}

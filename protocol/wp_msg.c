/*
 * wp_msg.c - requests and responses of the control channel (json-c).
 *
 * Validation is strict on purpose: a field of the wrong type, a number out
 * of range or a string with an embedded NUL is bad_request, so that the
 * host never acts on a value it had to guess.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_msg.h"
#include "wp_utf8.h"

/* How much of a request's string an error message shows. */
#define ECHO_CHARS 64

static const struct {
    const char *name;
    int err;
} code_table[] = {
    [WP_OK]                = { "success",           0 },
    [WP_BAD_REQUEST]       = { "bad_request",       EINVAL },
    [WP_UNKNOWN_API]       = { "unknown_api",       EOPNOTSUPP },
    [WP_UNKNOWN_OPERATION] = { "unknown_operation", EOPNOTSUPP },
    [WP_UNAUTHORIZED]      = { "unauthorized",      EACCES },
    [WP_PATH_NOT_ALLOWED]  = { "path_not_allowed",  EACCES },
    [WP_NOT_FOUND]         = { "not_found",         ENOENT },
    [WP_SIZE_MISMATCH]     = { "size_mismatch",     EINVAL },
    [WP_IO_ERROR]          = { "io_error",          EIO },
    [WP_BUSY]              = { "busy",              EBUSY },
    [WP_INTERNAL]          = { "internal",          EIO },
    [WP_CANCELLED]         = { "cancelled",         ECANCELED },
    [WP_FORBIDDEN]         = { "forbidden",         EPERM },
    [WP_DATA_ERROR]        = { "data_error",        EBADMSG },
};
#define N_CODES (sizeof(code_table) / sizeof(code_table[0]))

const char *wp_code_name(wp_code code)
{
    if ((size_t)code >= N_CODES)
        code = WP_INTERNAL;
    return code_table[code].name;
}

int wp_code_from_name(const char *name)
{
    for (size_t i = 1; i < N_CODES; i++)
        if (strcmp(code_table[i].name, name) == 0)
            return (int)i;
    return -1;
}

int wp_code_errno(wp_code code)
{
    if ((size_t)code >= N_CODES)
        code = WP_INTERNAL;
    return code_table[code].err;
}

/* Parse exactly one JSON object from line; trailing blanks are allowed. */
/*
 * A tokener costs four allocations, one of them big enough to make malloc
 * tidy its free lists: as much as the parse of a short line.  One is kept
 * between parses, taken and given back atomically (any thread).  Only one
 * that parsed a whole object goes back: json_tokener_reset() leaves some
 * state of a parse cut short (a pending high surrogate, in json-c 0.16),
 * which would change how the next line's \u escapes decode.
 */
static _Atomic(json_tokener *) spare_tokener;

static json_tokener *tokener_get(void)
{
    json_tokener *tok = atomic_exchange(&spare_tokener, NULL);

    if (!tok)
        return json_tokener_new();
    json_tokener_reset(tok);
    return tok;
}

static void tokener_put(json_tokener *tok)
{
    json_tokener *old;

    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_tokener_free(tok);
        return;
    }
    old = atomic_exchange(&spare_tokener, tok);
    if (old)
        json_tokener_free(old);
}

static json_object *parse_object(const char *line, size_t len,
                                 char *err, size_t errlen)
{
    json_tokener *tok;
    json_object *obj = NULL;
    size_t end;

    if (len >= WP_MAX_LINE) {
        snprintf(err, errlen, "line longer than %d bytes", WP_MAX_LINE);
        return NULL;
    }
    tok = tokener_get();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, line, (int)len);
    if (!obj) {
        enum json_tokener_error e = json_tokener_get_error(tok);
        snprintf(err, errlen, "not JSON: %s",
                 e == json_tokener_continue ? "unexpected end of line"
                                            : json_tokener_error_desc(e));
        goto out;
    }
    end = json_tokener_get_parse_end(tok);
    while (end < len && strchr(" \t\r", line[end]) && line[end])
        end++;
    if (end != len) {
        snprintf(err, errlen, "not JSON: trailing data after the object");
        goto fail;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, errlen, "not a JSON object");
        goto fail;
    }
    goto out;
fail:
    json_object_put(obj);
    obj = NULL;
out:
    tokener_put(tok);
    return obj;
}

static int check_utf8(json_object *obj, char *err, size_t errlen);

json_object *wp_object_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_object *o = parse_object(text, len, err, errlen);

    /* As a request line is checked (json-c lets some invalid forms by). */
    if (o && !wp_utf8_valid(text, len) && check_utf8(o, err, errlen) < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

bool wp_json_get_u64(json_object *obj, const char *key, uint64_t limit,
                     uint64_t *out)
{
    json_object *v;
    uint64_t n;

    if (!json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return false;
    /* Exact up to 2^64-1; json-c clamps anything larger to UINT64_MAX, which
     * is above every limit we use, so no clamped value slips through. */
    n = json_object_get_uint64(v);
    if (n > limit || n == UINT64_MAX)
        return false;
    *out = n;
    return true;
}

/*
 * A string field: absent (returns 0 with *out NULL unless required), or a
 * string without embedded NUL.  Returns -1 after writing the reason.
 */
static int get_string(json_object *obj, const char *key, bool required,
                      const char **out, char *err, size_t errlen)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (!required)
            return 0;
        snprintf(err, errlen, "missing field \"%s\"", key);
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        snprintf(err, errlen, "field \"%s\" must be a string", key);
        return -1;
    }
    *out = json_object_get_string(v);
    if (strlen(*out) != (size_t)json_object_get_string_len(v)) {
        snprintf(err, errlen, "field \"%s\" contains a NUL byte", key);
        return -1;
    }
    return 0;
}

static int get_u64(json_object *obj, const char *key, bool required,
                   uint64_t limit, bool *present, uint64_t *out,
                   char *err, size_t errlen)
{
    *present = json_object_object_get_ex(obj, key, NULL);
    if (!*present) {
        if (!required)
            return 0;
        snprintf(err, errlen, "missing field \"%s\"", key);
        return -1;
    }
    if (!wp_json_get_u64(obj, key, limit, out)) {
        snprintf(err, errlen, "field \"%s\" must be an integer from 0 to %llu",
                 key, (unsigned long long)limit);
        return -1;
    }
    return 0;
}

/* Whether every string in v, object keys included, is valid UTF-8. */
static bool utf8_ok(json_object *v)
{
    size_t n;

    switch (json_object_get_type(v)) {
    case json_type_string:
        return wp_utf8_valid(json_object_get_string(v),
                             (size_t)json_object_get_string_len(v));
    case json_type_array:
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (!utf8_ok(json_object_array_get_idx(v, i)))
                return false;
        return true;
    case json_type_object: {
        json_object_object_foreach(v, key, val)
            if (!wp_utf8_valid(key, strlen(key)) || !utf8_ok(val))
                return false;
        return true;
    }
    default:
        return true;
    }
}

/*
 * json-c lets overlong forms, surrogates and code points above U+10FFFF
 * through; such a string is no text, and echoed it would make the answer
 * unreadable to the client's parser.  Nesting is bounded by json-c's depth
 * limit (32).
 */
static int check_utf8(json_object *obj, char *err, size_t errlen)
{
    char shown[4 * ECHO_CHARS];

    json_object_object_foreach(obj, key, val) {
        if (!wp_utf8_valid(key, strlen(key))) {
            snprintf(err, errlen, "a field name is not valid UTF-8");
            return -1;
        }
        if (!utf8_ok(val)) {
            wp_utf8_copy(shown, sizeof(shown), key, strlen(key), ECHO_CHARS);
            snprintf(err, errlen, "field \"%s\" is not valid UTF-8 (an overlong form, "
                     "a surrogate or a code point beyond U+10FFFF)", shown);
            return -1;
        }
    }
    return 0;
}

/* A boolean field: absent (false), or true or false.  -1 after writing the reason. */
static int get_bool(json_object *obj, const char *key, bool *out, char *err, size_t errlen)
{
    json_object *v;

    *out = false;
    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        snprintf(err, errlen, "field \"%s\" must be true or false", key);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

static const char *const api_names[] = {
    [WP_API_SHARED_BUFFER] = "shared_buffer", [WP_API_PING] = "ping",
    [WP_API_HELLO] = "hello", [WP_API_JOB] = "job",
};

static const char *const actions[] = {
    [WP_JOB_STATUS] = "status", [WP_JOB_WAIT] = "wait",
    [WP_JOB_CANCEL] = "cancel", [WP_JOB_LIST] = "list",
};

static wp_code parse_job(wp_request *req, char *err, size_t errlen)
{
    char shown[4 * ECHO_CHARS];
    const char *action;
    bool present;
    size_t i;

    if (get_string(req->obj, "action", true, &action, err, errlen) < 0)
        return WP_BAD_REQUEST;
    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(action, actions[i]) == 0)
            break;
    if (i == sizeof(actions) / sizeof(actions[0])) {
        wp_utf8_copy(shown, sizeof(shown), action, strlen(action), ECHO_CHARS);
        snprintf(err, errlen, "unknown job action \"%s\" (status, wait, cancel or list)",
                 shown);
        return WP_BAD_REQUEST;
    }
    req->job_action = (wp_job_action)i;
    if (get_u64(req->obj, "job_id", req->job_action != WP_JOB_LIST, WP_MAX_REQUEST_ID,
                &present, &req->job_id, err, errlen) < 0)
        return WP_BAD_REQUEST;
    if (present && req->job_id == 0) {
        snprintf(err, errlen, "field \"job_id\" must be a positive integer");
        return WP_BAD_REQUEST;
    }
    req->timeout_ms = WP_JOB_WAIT_DEFAULT_MS;
    if (get_u64(req->obj, "timeout_ms", false, WP_JOB_WAIT_MAX_MS, &present,
                &req->timeout_ms, err, errlen) < 0)
        return WP_BAD_REQUEST;
    if (!present)
        req->timeout_ms = WP_JOB_WAIT_DEFAULT_MS;
    return WP_OK;
}

/* "params": absent (NULL), or an object.  -1 after writing the reason. */
static int get_params(json_object *o, const char *what, json_object **out,
                      char *err, size_t errlen)
{
    json_object *v;

    *out = NULL;
    if (!json_object_object_get_ex(o, "params", &v))
        return 0;
    if (!json_object_is_type(v, json_type_object)) {
        snprintf(err, errlen, "%sfield \"params\" must be an object", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* "operations": 1 to WP_MAX_STEPS objects {"operation":NAME[,"params":{...}]}. */
static wp_code parse_steps(wp_request *req, json_object *steps, char *err, size_t errlen)
{
    size_t n;

    if (!json_object_is_type(steps, json_type_array) ||
        (n = json_object_array_length(steps)) < 1 || n > WP_MAX_STEPS) {
        snprintf(err, errlen, "field \"operations\" must be an array of 1 to %d steps",
                 WP_MAX_STEPS);
        return WP_BAD_REQUEST;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(steps, i);
        char what[48];

        snprintf(what, sizeof(what), "operations[%zu]: ", i);
        req->err_step = (int)i;
        if (!json_object_is_type(s, json_type_object)) {
            snprintf(err, errlen, "%sa step must be an object", what);
            return WP_BAD_REQUEST;
        }
        if (get_string(s, "operation", true, &req->step_operation[i], err, errlen) < 0 ||
            get_params(s, what, &req->step_params[i], err, errlen) < 0)
            return WP_BAD_REQUEST;
    }
    req->err_step = -1;
    req->nsteps = n;
    req->operation = "chain";
    return WP_OK;
}

wp_code wp_work_parse(json_object *o, wp_request *req, char *err, size_t errlen)
{
    json_object *v;
    const char *access;
    bool has_off, has_len;
    wp_code rc;

    if (json_object_object_get_ex(o, "operations", &v)) {
        if (json_object_object_get_ex(o, "operation", NULL) ||
            json_object_object_get_ex(o, "params", NULL)) {
            snprintf(err, errlen, "a chain (\"operations\") has no \"operation\" or "
                     "\"params\" of its own: each step has its own");
            return WP_BAD_REQUEST;
        }
        if ((rc = parse_steps(req, v, err, errlen)) != WP_OK)
            return rc;
    } else if (get_string(o, "operation", true, &req->operation, err, errlen) < 0 ||
               get_params(o, "", &req->params, err, errlen) < 0) {
        return WP_BAD_REQUEST;
    }
    if (get_string(o, "access", false, &access, err, errlen) < 0 ||
        get_u64(o, "offset", false, INT64_MAX, &has_off, &req->offset, err, errlen) < 0 ||
        get_u64(o, "length", false, INT64_MAX, &has_len, &req->length, err, errlen) < 0)
        return WP_BAD_REQUEST;
    if (!access)
        req->access = WP_ACCESS_DEFAULT;
    else if (strcmp(access, "read") == 0)
        req->access = WP_ACCESS_READ;
    else if (strcmp(access, "write") == 0)
        req->access = WP_ACCESS_WRITE;
    else {
        snprintf(err, errlen, "field \"access\" must be \"read\" or \"write\"");
        return WP_BAD_REQUEST;
    }
    /* A range with only one end is a caller's slip, not a whole-file request. */
    if (has_off != has_len) {
        snprintf(err, errlen, "\"offset\" and \"length\" go together");
        return WP_BAD_REQUEST;
    }
    req->has_range = has_off;
    return WP_OK;
}

static wp_code parse_shared_buffer(wp_request *req, char *err, size_t errlen)
{
    json_object *o = req->obj;
    uint64_t id;
    bool present;
    wp_code rc = wp_work_parse(o, req, err, errlen);

    if (rc != WP_OK)
        return rc;
    if (get_string(o, "file_path", true, &req->file_path, err, errlen) < 0 ||
        get_string(o, "host_path", false, &req->host_path, err, errlen) < 0 ||
        get_u64(o, "buffer_size", true, INT64_MAX, &present, &req->buffer_size,
                err, errlen) < 0 ||
        get_u64(o, "buffer_id", true, UINT32_MAX, &present, &id, err, errlen) < 0 ||
        get_bool(o, "async", &req->async, err, errlen) < 0)
        return WP_BAD_REQUEST;
    req->buffer_id = (uint32_t)id;
    if (!req->has_range) {
        req->offset = 0;
        req->length = req->buffer_size;
    }
    return WP_OK;
}

wp_code wp_request_parse(const char *line, size_t len, wp_request *req,
                         char *err, size_t errlen)
{
    const char *api;
    char shown[4 * ECHO_CHARS];

    memset(req, 0, sizeof(*req));
    req->err_step = -1;
    err[0] = '\0';
    req->obj = parse_object(line, len, err, errlen);
    if (!req->obj)
        return WP_BAD_REQUEST;
    if (get_u64(req->obj, "request_id", false, WP_MAX_REQUEST_ID,
                &req->has_request_id, &req->request_id, err, errlen) < 0) {
        req->has_request_id = false;
        return WP_BAD_REQUEST;
    }
    /* json-c decodes escapes to valid UTF-8 (a lone surrogate becomes U+FFFD):
     * only raw bytes can be invalid, so the walk that names the field is
     * needed only when the line itself is not valid. */
    if (!wp_utf8_valid(line, len) && check_utf8(req->obj, err, errlen) < 0)
        return WP_BAD_REQUEST;
    if (get_string(req->obj, "api", true, &api, err, errlen) < 0)
        return WP_BAD_REQUEST;
    for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++)
        if (strcmp(api, api_names[i]) == 0) {
            req->api = (wp_api)i;
            switch (req->api) {
            case WP_API_SHARED_BUFFER:
                return parse_shared_buffer(req, err, errlen);
            case WP_API_JOB:
                return parse_job(req, err, errlen);
            case WP_API_HELLO:
                return get_string(req->obj, "token", false, &req->token, err, errlen) < 0
                           ? WP_BAD_REQUEST : WP_OK;
            case WP_API_PING:
                return WP_OK;
            }
        }
    wp_utf8_copy(shown, sizeof(shown), api, strlen(api), ECHO_CHARS);
    snprintf(err, errlen, "unknown api \"%s\"", shown);
    return WP_UNKNOWN_API;
}

void wp_request_release(wp_request *req)
{
    json_object_put(req->obj);
    memset(req, 0, sizeof(*req));
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* {"operation":...[,"params":{...}]} members; params are shared, not copied. */
static void add_operation(json_object *o, const char *operation, json_object *params)
{
    json_object_object_add(o, "operation", json_object_new_string(operation));
    if (params)
        json_object_object_add(o, "params", json_object_get(params));
}

static void build_shared_buffer(json_object *o, const wp_request *req)
{
    static const char *const access_names[] = {
        [WP_ACCESS_READ] = "read", [WP_ACCESS_WRITE] = "write",
    };

    if (req->nsteps > 0) {
        json_object *steps = json_object_new_array();
        for (size_t i = 0; i < req->nsteps && i < WP_MAX_STEPS; i++) {
            json_object *s = json_object_new_object();
            if (s)
                add_operation(s, req->step_operation[i], req->step_params[i]);
            json_object_array_add(steps, s);
        }
        json_object_object_add(o, "operations", steps);
    } else if (req->operation) {
        add_operation(o, req->operation, req->params);
    }
    if (req->file_path)
        json_object_object_add(o, "file_path", json_object_new_string(req->file_path));
    if (req->host_path)
        json_object_object_add(o, "host_path", json_object_new_string(req->host_path));
    add_u64(o, "buffer_size", req->buffer_size);
    add_u64(o, "buffer_id", req->buffer_id);
    if (req->access != WP_ACCESS_DEFAULT)
        json_object_object_add(o, "access", json_object_new_string(access_names[req->access]));
    if (req->has_range) {
        add_u64(o, "offset", req->offset);
        add_u64(o, "length", req->length);
    }
    if (req->async)
        json_object_object_add(o, "async", json_object_new_boolean(1));
}

json_object *wp_request_build(const wp_request *req)
{
    json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    json_object_object_add(o, "api", json_object_new_string(api_names[req->api]));
    if (req->has_request_id)
        add_u64(o, "request_id", req->request_id);
    switch (req->api) {
    case WP_API_SHARED_BUFFER:
        build_shared_buffer(o, req);
        break;
    case WP_API_HELLO:
        if (req->token)
            json_object_object_add(o, "token", json_object_new_string(req->token));
        break;
    case WP_API_JOB:
        json_object_object_add(o, "action", json_object_new_string(actions[req->job_action]));
        if (req->job_id)
            add_u64(o, "job_id", req->job_id);
        if (req->job_action == WP_JOB_WAIT)
            add_u64(o, "timeout_ms", req->timeout_ms);
        break;
    case WP_API_PING:
        break;
    }
    return o;
}

char *wp_json_line(json_object *obj)
{
    size_t len;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *line;

    if (!s)
        return NULL;
    line = malloc(len + 2);
    if (!line)
        return NULL;
    memcpy(line, s, len);
    line[len] = '\n';
    line[len + 1] = '\0';
    return line;
}

/*
 * An answer, as a line that is valid UTF-8 whatever went into it.  Every
 * string echoed from a request has been checked (wp_request_parse) or
 * copied with wp_utf8_copy; this is the last guard, for text from anywhere
 * else (a file system's error message, a bug).  json-c escapes every byte
 * below 0x20, so only bytes from 0x80 up can be invalid, and those occur
 * only inside strings: replacing them with U+FFFD keeps the JSON intact.
 */
static char *answer_line(json_object *o)
{
    char *line = wp_json_line(o), *fixed;
    size_t len, cap;

    if (!line)
        return NULL;
    len = strlen(line);
    if (wp_utf8_valid(line, len))
        return line;
    cap = 3 * len + 1;
    fixed = malloc(cap);
    if (fixed)
        wp_utf8_copy(fixed, cap, line, len, SIZE_MAX);
    free(line);
    return fixed;
}

/* A message as valid UTF-8: no character cut at its end, U+FFFD for bad bytes. */
static json_object *message_string(const char *message)
{
    size_t len = wp_utf8_whole(message, strlen(message)), cap;
    json_object *s;
    char *copy;

    if (wp_utf8_valid(message, len))
        return json_object_new_string_len(message, (int)len);
    cap = 3 * len + 1;
    copy = malloc(cap);
    if (!copy)
        return NULL;
    wp_utf8_copy(copy, cap, message, len, SIZE_MAX);
    s = json_object_new_string(copy);
    free(copy);
    return s;
}

/* {"request_id":N,"status":S} in that order, as the SPEC shows it. */
static json_object *response_head(bool has_id, uint64_t id, const char *status)
{
    json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    if (has_id)
        json_object_object_add(o, "request_id", json_object_new_int64((int64_t)id));
    json_object_object_add(o, "status", json_object_new_string(status));
    return o;
}

char *wp_response_success(bool has_id, uint64_t id, json_object *result)
{
    json_object *o = response_head(has_id, id, "success");
    char *line;

    if (!o) {
        json_object_put(result);
        return NULL;
    }
    json_object_object_add(o, "result", result);
    line = answer_line(o);
    json_object_put(o);
    return line;
}

char *wp_response_error(bool has_id, uint64_t id, wp_code code,
                        const char *message)
{
    return wp_response_error_at(has_id, id, code, message, -1);
}

char *wp_response_error_at(bool has_id, uint64_t id, wp_code code,
                           const char *message, int step)
{
    json_object *o = response_head(has_id, id, "error");
    json_object *e = json_object_new_object();
    char *line = NULL;

    if (!o || !e)
        goto out;
    json_object_object_add(e, "code", json_object_new_string(wp_code_name(code)));
    json_object_object_add(e, "message", message_string(message ? message : ""));
    if (step >= 0)
        json_object_object_add(e, "step", json_object_new_int(step));
    json_object_object_add(o, "error", e);
    e = NULL;
    line = answer_line(o);
out:
    json_object_put(e);
    json_object_put(o);
    return line;
}

char *wp_response_accepted(bool has_id, uint64_t id, uint64_t job_id)
{
    json_object *o = response_head(has_id, id, "accepted");
    json_object *j = json_object_new_object();
    char *line = NULL;

    if (o && j) {
        json_object_object_add(j, "job_id", json_object_new_int64((int64_t)job_id));
        json_object_object_add(o, "job", j);
        j = NULL;
        line = answer_line(o);
    }
    json_object_put(j);
    json_object_put(o);
    return line;
}

json_object *wp_result_new(const char *operation, uint32_t buffer_id,
                           uint64_t bytes_processed)
{
    json_object *r = json_object_new_object();

    if (!r)
        return NULL;
    json_object_object_add(r, "operation", json_object_new_string(operation));
    json_object_object_add(r, "buffer_id", json_object_new_int64(buffer_id));
    json_object_object_add(r, "bytes_processed",
                           json_object_new_int64((int64_t)bytes_processed));
    json_object_object_add(r, "status", json_object_new_string("processed"));
    return r;
}

json_object *wp_result_pong(void)
{
    json_object *r = json_object_new_object();

    if (r)
        json_object_object_add(r, "pong", json_object_new_boolean(1));
    return r;
}

json_object *wp_result_hello(const char *server, const char *version, json_object *operations)
{
    json_object *r = json_object_new_object();

    if (!r) {
        json_object_put(operations);
        return NULL;
    }
    json_object_object_add(r, "server", json_object_new_string(server));
    json_object_object_add(r, "version", json_object_new_string(version));
    json_object_object_add(r, "protocol", json_object_new_int(WP_PROTOCOL_VERSION));
    json_object_object_add(r, "operations", operations);
    return r;
}

int wp_response_parse(const char *line, size_t len, wp_response *resp)
{
    char err[128];
    json_object *v, *e;
    const char *status, *code = NULL;

    memset(resp, 0, sizeof(*resp));
    resp->obj = parse_object(line, len, err, sizeof(err));
    if (!resp->obj)
        goto bad;
    resp->has_request_id = wp_json_get_u64(resp->obj, "request_id",
                                           WP_MAX_REQUEST_ID, &resp->request_id);
    if (!json_object_object_get_ex(resp->obj, "status", &v) ||
        !json_object_is_type(v, json_type_string))
        goto bad;
    status = json_object_get_string(v);
    if (strcmp(status, "accepted") == 0) {
        resp->success = resp->accepted = true;
        if (!json_object_object_get_ex(resp->obj, "job", &v) ||
            !wp_json_get_u64(v, "job_id", WP_MAX_REQUEST_ID, &resp->job_id) ||
            resp->job_id == 0)
            goto bad;
        resp->message = "";
        return 0;
    }
    if (strcmp(status, "success") == 0) {
        resp->success = true;
        if (!json_object_object_get_ex(resp->obj, "result", &resp->result) ||
            !json_object_is_type(resp->result, json_type_object))
            goto bad;
        resp->message = "";
        return 0;
    }
    if (strcmp(status, "error") != 0)
        goto bad;
    resp->code = WP_INTERNAL;
    resp->message = "";
    if (json_object_object_get_ex(resp->obj, "error", &e) &&
        json_object_is_type(e, json_type_object)) {
        if (json_object_object_get_ex(e, "code", &v) &&
            json_object_is_type(v, json_type_string))
            code = json_object_get_string(v);
        if (json_object_object_get_ex(e, "message", &v) &&
            json_object_is_type(v, json_type_string))
            resp->message = json_object_get_string(v);
    }
    if (code && wp_code_from_name(code) > 0)
        resp->code = (wp_code)wp_code_from_name(code);
    return 0;
bad:
    wp_response_release(resp);
    errno = EPROTO;
    return -1;
}

void wp_response_release(wp_response *resp)
{
    json_object_put(resp->obj);
    memset(resp, 0, sizeof(*resp));
}

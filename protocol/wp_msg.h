/*
 * wp_msg.h - the control channel's messages: error codes, requests and
 * responses, built and parsed with json-c.
 *
 * Shared by the host daemon (parses requests, builds responses) and the
 * client library (builds requests, parses responses).  Nothing here does
 * I/O.  All functions are thread-safe; none keeps state between calls.
 */
#ifndef WP_MSG_H
#define WP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Protocol version reported by "hello". */
#define WP_PROTOCOL_VERSION 1
/* Steps a chain ("operations") may have. */
#define WP_MAX_STEPS 16
/* Longest line, counting its '\n'. */
#define WP_MAX_LINE 65536
/* request_id must stay below 2^53 so that every JSON peer reads it exactly. */
#define WP_MAX_REQUEST_ID ((UINT64_C(1) << 53) - 1)

typedef enum {
    WP_OK = 0,
    WP_BAD_REQUEST,
    WP_UNKNOWN_API,
    WP_UNKNOWN_OPERATION,
    WP_UNAUTHORIZED,
    WP_PATH_NOT_ALLOWED,
    WP_NOT_FOUND,
    WP_SIZE_MISMATCH,
    WP_IO_ERROR,
    WP_BUSY,
    WP_INTERNAL,
    WP_CANCELLED,               /* version 2: a job cancelled */
    WP_FORBIDDEN,               /* version 2: outside the token's grant */
    WP_DATA_ERROR,              /* version 2: data that does not verify (a GCM tag) */
} wp_code;

/* "bad_request" etc.; "success" for WP_OK. */
const char *wp_code_name(wp_code code);
/* The code for a name, or -1 for an unknown name. */
int wp_code_from_name(const char *name);
/* The errno a guest reports for the code (EINVAL, EOPNOTSUPP, ...). */
int wp_code_errno(wp_code code);

typedef enum { WP_API_SHARED_BUFFER, WP_API_PING, WP_API_HELLO, WP_API_JOB } wp_api;
typedef enum { WP_JOB_STATUS, WP_JOB_WAIT, WP_JOB_CANCEL, WP_JOB_LIST } wp_job_action;

/* {"api":"job","action":"wait"} without "timeout_ms"; and the most it may ask. */
#define WP_JOB_WAIT_DEFAULT_MS 30000
#define WP_JOB_WAIT_MAX_MS ((uint64_t)24 * 3600 * 1000)
typedef enum { WP_ACCESS_DEFAULT, WP_ACCESS_READ, WP_ACCESS_WRITE } wp_access;

/* A parsed request.  Strings point into obj and live as long as it does. */
typedef struct {
    json_object *obj;           /* the whole request; owned */
    wp_api api;
    bool has_request_id;
    uint64_t request_id;
    /* hello */
    const char *token;          /* NULL when absent */
    /* shared_buffer */
    const char *operation;      /* "chain" for a request with "operations" */
    const char *file_path;
    const char *host_path;      /* NULL when absent */
    uint64_t buffer_size;
    uint32_t buffer_id;
    json_object *params;        /* NULL when absent; borrowed from obj */
    wp_access access;
    bool has_range;
    uint64_t offset, length;
    bool async;                 /* answer "accepted" at once, work as a job */
    /* a chain: its steps, in order (nsteps 0: a single "operation") */
    size_t nsteps;
    const char *step_operation[WP_MAX_STEPS];
    json_object *step_params[WP_MAX_STEPS];     /* NULL when absent */
    int err_step;               /* the step a parse error is about; -1: none */
    /* job */
    wp_job_action job_action;
    uint64_t job_id;            /* 0 for list */
    uint64_t timeout_ms;        /* wait */
} wp_request;

/*
 * Parse one line (len bytes, without the '\n').  Returns WP_OK, or an error
 * code with a reason in err (always NUL-terminated, valid UTF-8).  Every
 * string of an accepted request, keys and params included, is valid UTF-8
 * as RFC 3629 defines it (no overlong form, surrogate or code point above
 * U+10FFFF: json-c lets those through, and they are bad_request here).  Whatever the result,
 * wp_request_release() frees what was parsed; req->has_request_id and
 * req->request_id are set as far as they could be read, so that even an
 * error answer can carry the id.
 */
wp_code wp_request_parse(const char *line, size_t len, wp_request *req,
                         char *err, size_t errlen);
void wp_request_release(wp_request *req);

/*
 * One JSON object, strictly parsed as a request line is (valid UTF-8,
 * nothing after it but blanks); NULL with the reason in err.
 */
json_object *wp_object_parse(const char *text, size_t len, char *err, size_t errlen);

/*
 * The work part of a shared_buffer request in o ("operation" and "params",
 * or "operations"; "access"; "offset" and "length") into req, as
 * wp_request_parse() reads it; for a guest checking a request of its own
 * before anything is sent.  Strings and params are borrowed from o.
 * WP_OK, or WP_BAD_REQUEST with the reason in err.
 */
wp_code wp_work_parse(json_object *o, wp_request *req, char *err, size_t errlen);

/*
 * The request req describes, as a new JSON object: the inverse of
 * wp_request_parse() for every api (params are shared with req's, not
 * copied; a chain is nsteps > 0).  NULL when out of memory.
 */
json_object *wp_request_build(const wp_request *req);

/*
 * Responses.  Each returns a newly allocated line ending in '\n' (free()),
 * or NULL when out of memory.  has_id false leaves request_id out.
 * wp_response_success takes ownership of result.  The line is always valid
 * UTF-8: a message cut inside a character loses the partial character, and
 * any byte that is not UTF-8 is sent as U+FFFD.  Text from a request that
 * goes into a message should still be copied with wp_utf8_copy(), which
 * bounds it by characters.
 */
char *wp_response_success(bool has_id, uint64_t id, json_object *result);
char *wp_response_error(bool has_id, uint64_t id, wp_code code,
                        const char *message);
/* The same with "step":step in the error (a chain's failing step); step < 0: none. */
char *wp_response_error_at(bool has_id, uint64_t id, wp_code code,
                           const char *message, int step);

/* {"request_id":N,"status":"accepted","job":{"job_id":J}}: an async request taken. */
char *wp_response_accepted(bool has_id, uint64_t id, uint64_t job_id);

/* The result object of a shared_buffer success, with SPEC's four fields. */
json_object *wp_result_new(const char *operation, uint32_t buffer_id,
                           uint64_t bytes_processed);

/* The result of ping: {"pong":true}. */
json_object *wp_result_pong(void);
/* The result of hello: server, version, protocol and operations (taken). */
json_object *wp_result_hello(const char *server, const char *version, json_object *operations);

/* A parsed response; strings point into obj. */
typedef struct {
    json_object *obj;           /* owned */
    bool has_request_id;
    uint64_t request_id;
    bool success;               /* "success", or "accepted" */
    bool accepted;              /* "accepted": an async request taken as job_id */
    uint64_t job_id;
    json_object *result;        /* "success": borrowed from obj; NULL when accepted */
    wp_code code;               /* failure: the code (WP_INTERNAL if unknown) */
    const char *message;        /* failure: the message, never NULL */
} wp_response;

/* Parse a response line; returns 0, or -1 (errno EPROTO) if malformed. */
int wp_response_parse(const char *line, size_t len, wp_response *resp);
void wp_response_release(wp_response *resp);

/*
 * Serialize obj as one compact line ending in '\n' (malloc'd), or NULL
 * when out of memory.
 */
char *wp_json_line(json_object *obj);

/* Read a non-negative integer field below limit; false if not one. */
bool wp_json_get_u64(json_object *obj, const char *key, uint64_t limit,
                     uint64_t *out);

#endif /* WP_MSG_H */

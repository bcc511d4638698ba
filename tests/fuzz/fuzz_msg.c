/*
 * fuzz_msg.c - the control channel's messages (protocol/wp_msg.c,
 * wp_frame.c, wp_utf8.c) against any bytes.
 *
 * The input is taken as a request line, as the daemon parses it, and as a
 * response line, as the client parses it; it is fed through the framer in
 * pieces; and its bytes go through the UTF-8 copy that builds messages.
 * Promises checked: every reason and every answer is valid UTF-8 and one
 * JSON line the client reads back, with the request's id; an accepted
 * request has the fields the daemon relies on, and wp_request_build()
 * makes of it a request the parser reads back alike; framing hands out exactly
 * the input's lines; a copy never cuts a character nor overruns.
 */
#include "config.h"

#include "fuzz.h"
#include "wp_frame.h"

/* What the builder makes of an accepted request, the parser reads back alike. */
static void check_rebuilt(const wp_request *req)
{
    json_object *o = wp_request_build(req);
    const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    char err[256];
    wp_request again;
    wp_code rc = wp_request_parse(text, strlen(text), &again, err, sizeof(err));

    FUZZ_CHECK(rc == WP_OK, "rebuilt request refused: %s: %s", err, text);
    FUZZ_CHECK(again.api == req->api && again.has_request_id == req->has_request_id &&
               again.request_id == req->request_id, "rebuilt: api or id differ: %s", text);
    if (req->api == WP_API_SHARED_BUFFER) {
        FUZZ_CHECK(strcmp(again.operation, req->operation) == 0 &&
                   again.nsteps == req->nsteps && again.access == req->access &&
                   again.has_range == req->has_range && again.offset == req->offset &&
                   again.length == req->length && again.async == req->async &&
                   again.buffer_size == req->buffer_size && again.buffer_id == req->buffer_id &&
                   strcmp(again.file_path, req->file_path) == 0,
                   "rebuilt: the work differs: %s", text);
        for (size_t i = 0; i < req->nsteps; i++)
            FUZZ_CHECK(strcmp(again.step_operation[i], req->step_operation[i]) == 0,
                       "rebuilt: step %zu differs", i);
    } else if (req->api == WP_API_JOB) {
        /* timeout_ms means something to wait only, and only wait's is sent. */
        FUZZ_CHECK(again.job_action == req->job_action && again.job_id == req->job_id &&
                   (req->job_action != WP_JOB_WAIT || again.timeout_ms == req->timeout_ms),
                   "rebuilt: the job differs: %s", text);
    }
    wp_request_release(&again);
    json_object_put(o);
}

static void as_request(const uint8_t *data, size_t size)
{
    char err[256], *line;
    wp_request req;
    wp_code rc = wp_request_parse((const char *)data, size, &req, err, sizeof(err));

    fuzz_check_reason(err, sizeof(err));
    if (rc == WP_OK)
        check_rebuilt(&req);
    if (rc != WP_OK) {
        line = wp_response_error(req.has_request_id, req.request_id, rc, err);
    } else if (req.api == WP_API_SHARED_BUFFER) {
        json_object *r = wp_result_new(req.operation, req.buffer_id, req.length);
        FUZZ_CHECK(req.operation && req.file_path, "accepted without its fields");
        FUZZ_CHECK(req.offset <= INT64_MAX && req.length <= INT64_MAX, "range out of bounds");
        FUZZ_CHECK(req.has_range || (req.offset == 0 && req.length == req.buffer_size),
                   "whole-file request without the whole file");
        /* What a stat answer echoes: strings of the request. */
        json_object_object_add(r, "host_path",
                               json_object_new_string(req.host_path ? req.host_path
                                                                    : req.file_path));
        line = wp_response_success(req.has_request_id, req.request_id, r);
    } else {
        line = wp_response_success(req.has_request_id, req.request_id, json_object_new_object());
    }
    FUZZ_CHECK(!req.has_request_id || req.request_id <= WP_MAX_REQUEST_ID, "id too big");
    fuzz_check_answer(line, req.has_request_id, req.request_id);
    free(line);
    wp_request_release(&req);
}

static void as_response(const uint8_t *data, size_t size)
{
    wp_response resp;

    if (wp_response_parse((const char *)data, size, &resp) < 0)
        return;
    FUZZ_CHECK(resp.message != NULL, "response without a message string");
    FUZZ_CHECK(resp.success == (resp.result != NULL), "success without result");
    FUZZ_CHECK(resp.success || (resp.code > WP_OK && resp.code <= WP_DATA_ERROR),
               "error with code %d", (int)resp.code);
    wp_response_release(&resp);
}

/* The input through the framer in pieces of 1 to 16 bytes. */
static void as_stream(const uint8_t *data, size_t size)
{
    static wp_frame f;      /* 64 KiB: not on the stack */
    size_t fed = 0, lines = 0, want = 0;
    char *line;
    size_t len;
    int r = 0;

    for (size_t i = 0; i < size; i++)
        want += data[i] == '\n';
    wp_frame_init(&f);
    while (fed < size && r >= 0) {
        size_t avail, n = 1 + data[fed] % 16;
        char *space = wp_frame_space(&f, &avail);

        if (n > size - fed)
            n = size - fed;
        if (n > avail)
            n = avail;
        FUZZ_CHECK(avail > 0, "no space and no error");
        memcpy(space, data + fed, n);
        wp_frame_commit(&f, n);
        fed += n;
        while ((r = wp_frame_next(&f, &line, &len)) == 1) {
            FUZZ_CHECK(memchr(line, '\n', len) == NULL, "a line with a newline");
            lines++;
        }
    }
    /* Below the line limit every line comes out, and nothing else. */
    if (size < WP_MAX_LINE)
        FUZZ_CHECK(r >= 0 && lines == want, "%zu lines of %zu", lines, want);
}

/* The first two bytes bound a copy of the rest. */
static void as_text(const uint8_t *data, size_t size)
{
    char out[64 + 1];
    size_t outlen, max, n, whole;

    if (size < 2)
        return;
    outlen = data[0] % sizeof(out);
    max = data[1] % 40;
    out[outlen] = 'X';      /* a canary just past what the copy may use */
    n = wp_utf8_copy(out, outlen, (const char *)data + 2, size - 2, max);
    FUZZ_CHECK(out[outlen] == 'X', "copy wrote past its buffer");
    if (outlen == 0) {
        FUZZ_CHECK(n == 0, "wrote into an empty buffer");
        return;
    }
    FUZZ_CHECK(n < outlen && strlen(out) == n, "length %zu of %zu", n, outlen);
    FUZZ_CHECK(wp_utf8_valid(out, n), "copy not UTF-8");
    whole = wp_utf8_whole((const char *)data + 2, size - 2);
    FUZZ_CHECK(whole <= size - 2 && size - 2 - whole < 4, "whole %zu of %zu", whole, size - 2);
    if (wp_utf8_valid((const char *)data + 2, size - 2))
        FUZZ_CHECK(whole == size - 2, "cut a valid text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_request(data, size);
    as_response(data, size);
    as_stream(data, size);
    as_text(data, size);
    return 0;
}

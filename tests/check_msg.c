/*
 * check_msg.c - the control channel's messages (wp_msg): the seed's JSON
 * verbatim, strict validation, every error code's name and errno.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wp_msg.h"
#include "wp_ops.h"
#include "wp_utf8.h"

static const char seed_request[] =
    "{\"api\":\"shared_buffer\",\"request_id\":123,\"operation\":\"process\","
    "\"file_path\":\"/mnt/c/temp/winapi_shared_buffer_1_1234\",\"buffer_size\":67108864,"
    "\"buffer_id\":1}";

static wp_code parse(const char *line, wp_request *req)
{
    char err[256];

    return wp_request_parse(line, strlen(line), req, err, sizeof(err));
}

START_TEST(test_msg_parses_seed_request)
{
    wp_request req;

    ck_assert_int_eq(parse(seed_request, &req), WP_OK);
    ck_assert_int_eq(req.api, WP_API_SHARED_BUFFER);
    ck_assert(req.has_request_id);
    ck_assert_uint_eq(req.request_id, 123);
    ck_assert_str_eq(req.operation, "process");
    ck_assert_str_eq(req.file_path, "/mnt/c/temp/winapi_shared_buffer_1_1234");
    ck_assert_ptr_null(req.host_path);
    ck_assert_uint_eq(req.buffer_size, 67108864);
    ck_assert_uint_eq(req.buffer_id, 1);
    ck_assert(!req.has_range);
    ck_assert_uint_eq(req.offset, 0);
    ck_assert_uint_eq(req.length, 67108864);
    ck_assert_int_eq(req.access, WP_ACCESS_DEFAULT);
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_parses_optional_fields)
{
    wp_request req;
    const char *line =
        "{\"api\":\"shared_buffer\",\"operation\":\"checksum\",\"file_path\":\"/mnt/c/temp/x\","
        "\"host_path\":\"C:\\\\temp\\\\x\",\"buffer_size\":100,\"buffer_id\":7,"
        "\"params\":{\"algorithm\":\"sha256\"},\"access\":\"write\",\"offset\":10,\"length\":20}";

    ck_assert_int_eq(parse(line, &req), WP_OK);
    ck_assert(!req.has_request_id);
    ck_assert_str_eq(req.host_path, "C:\\temp\\x");
    ck_assert_int_eq(req.access, WP_ACCESS_WRITE);
    ck_assert(req.has_range);
    ck_assert_uint_eq(req.offset, 10);
    ck_assert_uint_eq(req.length, 20);
    ck_assert_ptr_nonnull(req.params);
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_seed_success_response_verbatim)
{
    char *line = wp_response_success(true, 123, wp_result_new("process", 1, 67108864));

    ck_assert_str_eq(line,
        "{\"request_id\":123,\"status\":\"success\",\"result\":{\"operation\":\"process\","
        "\"buffer_id\":1,\"bytes_processed\":67108864,\"status\":\"processed\"}}\n");
    free(line);
}
END_TEST

START_TEST(test_msg_seed_error_response_verbatim)
{
    char *line = wp_response_error(true, 123, WP_NOT_FOUND, "C:\\temp\\x: no such file");

    ck_assert_str_eq(line,
        "{\"request_id\":123,\"status\":\"error\",\"error\":{\"code\":\"not_found\","
        "\"message\":\"C:\\\\temp\\\\x: no such file\"}}\n");
    free(line);
}
END_TEST

START_TEST(test_msg_error_without_id_omits_it)
{
    char *line = wp_response_error(false, 0, WP_BAD_REQUEST, "x");

    ck_assert_ptr_null(strstr(line, "request_id"));
    free(line);
}
END_TEST

/* Requests that must be bad_request, one per rule. */
static const char *const bad_requests[] = {
    "not json",
    "",
    "[1,2]",
    "{\"api\":\"ping\"} trailing",
    "{\"api\":\"ping\"",
    "{\"api\":42}",
    "{}",
    "{\"api\":\"ping\",\"request_id\":-1}",
    "{\"api\":\"ping\",\"request_id\":1.5}",
    "{\"api\":\"ping\",\"request_id\":\"1\"}",
    "{\"api\":\"ping\",\"request_id\":9007199254740992}",
    "{\"api\":\"ping\",\"request_id\":18446744073709551615}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"buffer_size\":1,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":-1,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":\"1\",\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":9223372036854775808,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":18446744073709551615,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":99999999999999999999999,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":4294967296}",
    "{\"api\":\"shared_buffer\",\"operation\":7,\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\\u0000y\",\"buffer_size\":1,\"buffer_id\":1}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,\"params\":[]}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,\"access\":\"rw\"}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,\"offset\":0}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,\"length\":0}",
    "{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,\"host_path\":1}",
    "{\"api\":\"hello\",\"token\":5}",
    "{\"api\":\"ping\",\"x\":\"\xff\xfe\"}",
};

START_TEST(test_msg_rejects_bad_request)
{
    wp_request req;
    wp_code rc = parse(bad_requests[_i], &req);

    ck_assert_msg(rc == WP_BAD_REQUEST, "%s: got %s", bad_requests[_i], wp_code_name(rc));
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_keeps_request_id_on_error)
{
    wp_request req;

    ck_assert_int_eq(parse("{\"api\":\"shared_buffer\",\"request_id\":9}", &req),
                     WP_BAD_REQUEST);
    ck_assert(req.has_request_id);
    ck_assert_uint_eq(req.request_id, 9);
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_accepts_largest_request_id)
{
    wp_request req;

    ck_assert_int_eq(parse("{\"api\":\"ping\",\"request_id\":9007199254740991}", &req), WP_OK);
    ck_assert_uint_eq(req.request_id, WP_MAX_REQUEST_ID);
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_unknown_api)
{
    wp_request req;

    ck_assert_int_eq(parse("{\"api\":\"format_disk\"}", &req), WP_UNKNOWN_API);
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_ping_and_hello)
{
    wp_request req;

    ck_assert_int_eq(parse("{\"api\":\"ping\"}", &req), WP_OK);
    ck_assert_int_eq(req.api, WP_API_PING);
    wp_request_release(&req);
    ck_assert_int_eq(parse("{\"api\":\"hello\",\"token\":\"s3cret\"}", &req), WP_OK);
    ck_assert_int_eq(req.api, WP_API_HELLO);
    ck_assert_str_eq(req.token, "s3cret");
    wp_request_release(&req);
}
END_TEST

START_TEST(test_msg_rejects_line_at_limit)
{
    size_t n = WP_MAX_LINE;
    char *big = malloc(n + 1);
    wp_request req;
    char err[128];

    memset(big, ' ', n);
    memcpy(big, "{\"api\":\"ping\"}", 14);
    big[n] = '\0';
    ck_assert_int_eq(wp_request_parse(big, n, &req, err, sizeof(err)), WP_BAD_REQUEST);
    wp_request_release(&req);
    /* One byte less, plus its '\n', is exactly the limit: allowed. */
    ck_assert_int_eq(wp_request_parse(big, n - 1, &req, err, sizeof(err)), WP_OK);
    wp_request_release(&req);
    free(big);
}
END_TEST

START_TEST(test_msg_code_names_and_errnos)
{
    static const struct { wp_code code; const char *name; int err; } t[] = {
        { WP_BAD_REQUEST, "bad_request", EINVAL },
        { WP_UNKNOWN_API, "unknown_api", EOPNOTSUPP },
        { WP_UNKNOWN_OPERATION, "unknown_operation", EOPNOTSUPP },
        { WP_UNAUTHORIZED, "unauthorized", EACCES },
        { WP_PATH_NOT_ALLOWED, "path_not_allowed", EACCES },
        { WP_NOT_FOUND, "not_found", ENOENT },
        { WP_SIZE_MISMATCH, "size_mismatch", EINVAL },
        { WP_IO_ERROR, "io_error", EIO },
        { WP_BUSY, "busy", EBUSY },
        { WP_INTERNAL, "internal", EIO },
        { WP_CANCELLED, "cancelled", ECANCELED },
        { WP_FORBIDDEN, "forbidden", EPERM },
        { WP_DATA_ERROR, "data_error", EBADMSG },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_str_eq(wp_code_name(t[i].code), t[i].name);
        ck_assert_int_eq(wp_code_errno(t[i].code), t[i].err);
        ck_assert_int_eq(wp_code_from_name(t[i].name), t[i].code);
    }
    ck_assert_int_eq(wp_code_from_name("nonsense"), -1);
}
END_TEST

START_TEST(test_msg_parses_responses)
{
    wp_response r;
    const char *ok = "{\"request_id\":5,\"status\":\"success\",\"result\":{\"pong\":true}}";
    const char *bad = "{\"request_id\":6,\"status\":\"error\",\"error\":{\"code\":\"busy\","
                      "\"message\":\"later\"}}";

    ck_assert_int_eq(wp_response_parse(ok, strlen(ok), &r), 0);
    ck_assert(r.success && r.has_request_id);
    ck_assert_uint_eq(r.request_id, 5);
    wp_response_release(&r);
    ck_assert_int_eq(wp_response_parse(bad, strlen(bad), &r), 0);
    ck_assert(!r.success);
    ck_assert_int_eq(r.code, WP_BUSY);
    ck_assert_str_eq(r.message, "later");
    wp_response_release(&r);
    ck_assert_int_eq(wp_response_parse("{\"status\":\"maybe\"}", 18, &r), -1);
    ck_assert_int_eq(errno, EPROTO);
}
END_TEST

/* Byte sequences json-c lets through that are not UTF-8. */
static const char *const not_utf8[] = {
    "\xc0\xaf",             /* overlong '/' */
    "\xe0\x80\xaf",         /* overlong '/', three bytes */
    "\xed\xa0\x80",         /* surrogate U+D800 */
    "\xed\xbf\xbf",         /* surrogate U+DFFF */
    "\xf4\x90\x80\x80",     /* U+110000 */
    "\xf0\x80\x80\xaf",     /* overlong '/', four bytes */
};

/* The answer to line, built as the daemon builds it, must be valid UTF-8. */
static void assert_answer_utf8(const char *line, wp_code want)
{
    char err[256], *answer;
    wp_request req;
    wp_code rc = wp_request_parse(line, strlen(line), &req, err, sizeof(err));

    ck_assert_msg(rc == want, "%s: %s", line, err);
    ck_assert_msg(wp_utf8_valid(err, strlen(err)), "reason not UTF-8: %s", err);
    answer = wp_response_error(req.has_request_id, req.request_id, rc, err);
    ck_assert_msg(wp_utf8_valid(answer, strlen(answer)), "answer not UTF-8: %s", answer);
    wp_request_release(&req);
    free(answer);
}

START_TEST(test_msg_rejects_strings_that_are_not_utf8)
{
    char line[512];
    const char *bad = not_utf8[_i];

    snprintf(line, sizeof(line), "{\"api\":\"shared_buffer\",\"request_id\":1,"
             "\"operation\":\"process\",\"file_path\":\"/mnt/c/temp/a%sb\","
             "\"buffer_size\":1,\"buffer_id\":1}", bad);
    assert_answer_utf8(line, WP_BAD_REQUEST);
    snprintf(line, sizeof(line), "{\"api\":\"x%s\"}", bad);
    assert_answer_utf8(line, WP_BAD_REQUEST);
    snprintf(line, sizeof(line), "{\"api\":\"ping\",\"k%s\":1}", bad);
    assert_answer_utf8(line, WP_BAD_REQUEST);
    snprintf(line, sizeof(line), "{\"api\":\"shared_buffer\",\"operation\":\"checksum\","
             "\"file_path\":\"/x\",\"buffer_size\":1,\"buffer_id\":1,"
             "\"params\":{\"algorithm\":[\"%s\"]}}", bad);
    assert_answer_utf8(line, WP_BAD_REQUEST);
}
END_TEST

START_TEST(test_msg_echo_never_cuts_a_character)
{
    char line[1024], name[512];
    int n;

    /* 63 ASCII bytes and a two-byte character: "%.64s" cut it in half. */
    memset(name, 'a', 63);
    strcpy(name + 63, "\xc3\xa9tail");
    snprintf(line, sizeof(line), "{\"api\":\"%s\"}", name);
    assert_answer_utf8(line, WP_UNKNOWN_API);
    /* Only multibyte characters, far more than the echo shows. */
    for (n = 0; n < 100; n++)
        memcpy(name + 3 * n, "\xe2\x82\xac", 3);
    name[3 * n] = '\0';
    snprintf(line, sizeof(line), "{\"api\":\"%s\"}", name);
    assert_answer_utf8(line, WP_UNKNOWN_API);
}
END_TEST

START_TEST(test_msg_answers_are_always_utf8)
{
    /* A message cut inside a character, or holding a stray byte. */
    char *a = wp_response_error(true, 1, WP_IO_ERROR, "abc\xc3");
    char *b = wp_response_error(true, 1, WP_IO_ERROR, "x\xff\xc0\xafy");
    json_object *o = json_object_new_object();
    char *c;

    ck_assert_str_eq(a, "{\"request_id\":1,\"status\":\"error\",\"error\":"
                     "{\"code\":\"io_error\",\"message\":\"abc\"}}\n");
    ck_assert_str_eq(b, "{\"request_id\":1,\"status\":\"error\",\"error\":"
                     "{\"code\":\"io_error\",\"message\":\"x\xef\xbf\xbd\xef\xbf\xbd"
                     "\xef\xbf\xbdy\"}}\n");
    json_object_object_add(o, "host_path", json_object_new_string("C:\\\xed\xa0\x80"));
    c = wp_response_success(true, 2, o);
    ck_assert_msg(wp_utf8_valid(c, strlen(c)), "%s", c);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_msg_utf8_strict_decoder)
{
    static const struct { const char *s; size_t len; } ok[] = {
        { "a", 1 }, { "\x7f", 1 }, { "\xc2\x80", 2 }, { "\xdf\xbf", 2 },
        { "\xe0\xa0\x80", 3 }, { "\xed\x9f\xbf", 3 }, { "\xee\x80\x80", 3 },
        { "\xef\xbf\xbf", 3 }, { "\xf0\x90\x80\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 },
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_uint_eq(wp_utf8_char_len(ok[i].s, strlen(ok[i].s)), ok[i].len);
    for (size_t i = 0; i < sizeof(not_utf8) / sizeof(not_utf8[0]); i++)
        ck_assert(!wp_utf8_valid(not_utf8[i], strlen(not_utf8[i])));
    ck_assert_uint_eq(wp_utf8_char_len("\x80", 1), 0);
    ck_assert_uint_eq(wp_utf8_char_len("\xc1\xbf", 2), 0);
    ck_assert_uint_eq(wp_utf8_char_len("\xf5\x80\x80\x80", 4), 0);
    ck_assert_uint_eq(wp_utf8_char_len("\xe2\x82", 2), 0);
    ck_assert(wp_utf8_valid("a\0b", 3));
}
END_TEST

START_TEST(test_msg_utf8_copy_bounds_by_characters)
{
    char out[16];

    /* Fits: copied as is. */
    ck_assert_uint_eq(wp_utf8_copy(out, sizeof(out), "h\xc3\xa9llo", 6, 64), 6);
    ck_assert_str_eq(out, "h\xc3\xa9llo");
    /* Too many characters: cut after max_chars, with an ellipsis. */
    wp_utf8_copy(out, sizeof(out), "abcdef", 6, 3);
    ck_assert_str_eq(out, "abc...");
    /* Too many bytes: never a partial character, the ellipsis still fits. */
    wp_utf8_copy(out, sizeof(out), "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                 "\xe2\x82\xac\xe2\x82\xac", 18, 64);
    ck_assert_str_eq(out, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac...");
    /* Bytes that are no character, and NUL, become U+FFFD. */
    wp_utf8_copy(out, sizeof(out), "a\xff\0b", 4, 64);
    ck_assert_str_eq(out, "a\xef\xbf\xbd\xef\xbf\xbd" "b");
    wp_utf8_copy(out, sizeof(out), "\xc0\xaf", 2, 64);
    ck_assert_str_eq(out, "\xef\xbf\xbd\xef\xbf\xbd");
    /* Tiny buffers still end in NUL between characters. */
    ck_assert_uint_eq(wp_utf8_copy(out, 3, "\xc3\xa9\xc3\xa9", 4, 64), 2);
    ck_assert_str_eq(out, "\xc3\xa9");
    ck_assert_uint_eq(wp_utf8_copy(out, 1, "abc", 3, 64), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_msg_utf8_whole_drops_a_cut_character)
{
    ck_assert_uint_eq(wp_utf8_whole("abc\xc3", 4), 3);
    ck_assert_uint_eq(wp_utf8_whole("abc\xe2\x82", 5), 3);
    ck_assert_uint_eq(wp_utf8_whole("abc\xf0\x9f\x98", 6), 3);
    ck_assert_uint_eq(wp_utf8_whole("abc\xc3\xa9", 5), 5);
    ck_assert_uint_eq(wp_utf8_whole("abc", 3), 3);
    ck_assert_uint_eq(wp_utf8_whole("", 0), 0);
    /* Not a cut character but a bad one: left to be replaced. */
    ck_assert_uint_eq(wp_utf8_whole("abc\xed\xa0", 5), 5);
    ck_assert_uint_eq(wp_utf8_whole("abc\x80", 4), 4);
}
END_TEST

/* What the builder makes, the parser reads back as it was: one message, one definition. */
static void roundtrip(const wp_request *in, wp_request *out)
{
    char err[256];
    json_object *o = wp_request_build(in);
    const char *text;

    ck_assert_ptr_nonnull(o);
    text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    ck_assert_int_eq(wp_request_parse(text, strlen(text), out, err, sizeof(err)), WP_OK);
    json_object_put(o);
}

START_TEST(test_msg_builders_roundtrip)
{
    json_object *params = json_tokener_parse("{\"algorithm\":\"sha256\"}");
    wp_request in = {
        .api = WP_API_SHARED_BUFFER, .has_request_id = true, .request_id = 9,
        .operation = "checksum", .params = params, .file_path = "/mnt/c/temp/b",
        .host_path = "C:\\temp\\b", .buffer_size = 4096, .buffer_id = 3,
        .access = WP_ACCESS_READ, .has_range = true, .offset = 8, .length = 16, .async = true,
    }, out;

    roundtrip(&in, &out);
    ck_assert_int_eq(out.api, WP_API_SHARED_BUFFER);
    ck_assert_uint_eq(out.request_id, 9);
    ck_assert_str_eq(out.operation, "checksum");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(out.params, "algorithm")),
                     "sha256");
    ck_assert_str_eq(out.host_path, "C:\\temp\\b");
    ck_assert_uint_eq(out.buffer_size, 4096);
    ck_assert_uint_eq(out.buffer_id, 3);
    ck_assert_int_eq(out.access, WP_ACCESS_READ);
    ck_assert(out.has_range && out.offset == 8 && out.length == 16 && out.async);
    wp_request_release(&out);

    /* A chain. */
    in = (wp_request){ .api = WP_API_SHARED_BUFFER, .file_path = "/f", .buffer_size = 1,
                       .nsteps = 2, .step_operation = { "fill", "checksum" },
                       .step_params = { NULL, params } };
    roundtrip(&in, &out);
    ck_assert_uint_eq(out.nsteps, 2);
    ck_assert_str_eq(out.operation, "chain");
    ck_assert_str_eq(out.step_operation[0], "fill");
    ck_assert_ptr_null(out.step_params[0]);
    ck_assert_ptr_nonnull(out.step_params[1]);
    ck_assert(!out.has_request_id && !out.async && out.access == WP_ACCESS_DEFAULT);
    wp_request_release(&out);
    json_object_put(params);

    /* hello, ping, and every job action. */
    in = (wp_request){ .api = WP_API_HELLO, .has_request_id = true, .token = "t0k" };
    roundtrip(&in, &out);
    ck_assert_int_eq(out.api, WP_API_HELLO);
    ck_assert_uint_eq(out.request_id, 0);
    ck_assert_str_eq(out.token, "t0k");
    wp_request_release(&out);
    in = (wp_request){ .api = WP_API_PING };
    roundtrip(&in, &out);
    ck_assert_int_eq(out.api, WP_API_PING);
    wp_request_release(&out);
    for (int a = WP_JOB_STATUS; a <= WP_JOB_LIST; a++) {
        in = (wp_request){ .api = WP_API_JOB, .job_action = (wp_job_action)a,
                           .job_id = a == WP_JOB_LIST ? 0 : 42, .timeout_ms = 250 };
        roundtrip(&in, &out);
        ck_assert_int_eq(out.job_action, a);
        ck_assert_uint_eq(out.job_id, a == WP_JOB_LIST ? 0 : 42);
        if (a == WP_JOB_WAIT)
            ck_assert_uint_eq(out.timeout_ms, 250);
        wp_request_release(&out);
    }
}
END_TEST

/* The table of operations: what writes, and parameter types. */
START_TEST(test_msg_operation_table)
{
    json_object *bad = json_tokener_parse("{\"pattern\":-1}");
    json_object *good = json_tokener_parse("{\"pattern\":4294967295,\"other\":1}");
    char err[256];

    ck_assert(!wp_op_may_write("checksum"));
    ck_assert(!wp_op_may_write("stat"));
    ck_assert(wp_op_may_write("fill"));
    ck_assert(wp_op_may_write("some_plugin"));     /* unknown: assume the worst */
    ck_assert_int_eq(wp_op_check_params(wp_op_find("fill"), bad, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "params.pattern of fill"));
    ck_assert_int_eq(wp_op_check_params(wp_op_find("fill"), good, err, sizeof(err)), 0);
    ck_assert_int_eq(wp_op_check_params(wp_op_find("fill"), NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(wp_op_check_params(wp_op_find("checksum"), good, err, sizeof(err)), 0);
    for (size_t i = 0; i < wp_op_count(); i++)
        ck_assert_ptr_eq(wp_op_find(wp_op_at(i)->name), wp_op_at(i));
    json_object_put(bad);
    json_object_put(good);
}
END_TEST

static Suite *msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_msg_parses_seed_request);
    tcase_add_test(tc, test_msg_parses_optional_fields);
    tcase_add_test(tc, test_msg_seed_success_response_verbatim);
    tcase_add_test(tc, test_msg_seed_error_response_verbatim);
    tcase_add_test(tc, test_msg_error_without_id_omits_it);
    tcase_add_loop_test(tc, test_msg_rejects_bad_request, 0,
                        (int)(sizeof(bad_requests) / sizeof(bad_requests[0])));
    tcase_add_test(tc, test_msg_keeps_request_id_on_error);
    tcase_add_test(tc, test_msg_accepts_largest_request_id);
    tcase_add_test(tc, test_msg_unknown_api);
    tcase_add_test(tc, test_msg_ping_and_hello);
    tcase_add_test(tc, test_msg_builders_roundtrip);
    tcase_add_test(tc, test_msg_operation_table);
    tcase_add_test(tc, test_msg_rejects_line_at_limit);
    tcase_add_test(tc, test_msg_code_names_and_errnos);
    tcase_add_test(tc, test_msg_parses_responses);
    tcase_add_loop_test(tc, test_msg_rejects_strings_that_are_not_utf8, 0,
                        (int)(sizeof(not_utf8) / sizeof(not_utf8[0])));
    tcase_add_test(tc, test_msg_echo_never_cuts_a_character);
    tcase_add_test(tc, test_msg_answers_are_always_utf8);
    tcase_add_test(tc, test_msg_utf8_strict_decoder);
    tcase_add_test(tc, test_msg_utf8_copy_bounds_by_characters);
    tcase_add_test(tc, test_msg_utf8_whole_drops_a_cut_character);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(msg_suite());
}

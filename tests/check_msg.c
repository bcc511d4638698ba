/*
 * check_msg.c - the control channel's messages (wp_msg): the seed's JSON
 * verbatim, strict validation, every error code's name and errno.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wp_msg.h"

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
    tcase_add_test(tc, test_msg_rejects_line_at_limit);
    tcase_add_test(tc, test_msg_code_names_and_errnos);
    tcase_add_test(tc, test_msg_parses_responses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(msg_suite());
}

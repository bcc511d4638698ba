/*
 * check_frame.c - newline framing (wp_frame): lines split across reads,
 * many lines in one read, the 65536-byte limit counting the '\n'.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wp_frame.h"

static void feed(wp_frame *f, const char *data, size_t n)
{
    size_t avail;
    char *p = wp_frame_space(f, &avail);

    ck_assert_uint_ge(avail, n);
    memcpy(p, data, n);
    wp_frame_commit(f, n);
}

START_TEST(test_frame_line_split_across_reads)
{
    static wp_frame f;
    char *line;
    size_t len;

    wp_frame_init(&f);
    feed(&f, "{\"api\":", 7);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 0);
    feed(&f, "\"ping\"}", 7);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 0);
    feed(&f, "\n", 1);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 1);
    ck_assert_str_eq(line, "{\"api\":\"ping\"}");
    ck_assert_uint_eq(len, 14);
    ck_assert_uint_eq(wp_frame_pending(&f), 0);
}
END_TEST

START_TEST(test_frame_many_lines_in_one_read)
{
    static wp_frame f;
    char buf[50 * 8 + 1] = "", *line;
    size_t len;
    int n = 0;

    wp_frame_init(&f);
    for (int i = 0; i < 50; i++)
        sprintf(buf + strlen(buf), "line%03d\n", i);
    feed(&f, buf, strlen(buf) - 3);     /* the last line arrives in two parts */
    while (wp_frame_next(&f, &line, &len) == 1) {
        char want[16];
        sprintf(want, "line%03d", n++);
        ck_assert_str_eq(line, want);
    }
    ck_assert_int_eq(n, 49);
    feed(&f, buf + strlen(buf) - 3, 3);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 1);
    ck_assert_str_eq(line, "line049");
}
END_TEST

START_TEST(test_frame_line_at_limit_accepted)
{
    static wp_frame f;
    char *big = malloc(WP_MAX_LINE), *line;
    size_t len;

    wp_frame_init(&f);
    memset(big, 'x', WP_MAX_LINE - 1);
    big[WP_MAX_LINE - 1] = '\n';
    feed(&f, big, WP_MAX_LINE);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 1);
    ck_assert_uint_eq(len, WP_MAX_LINE - 1);
    free(big);
}
END_TEST

START_TEST(test_frame_oversize_line_rejected)
{
    static wp_frame f;
    char *big = malloc(WP_MAX_LINE), *line;
    size_t len;

    wp_frame_init(&f);
    memset(big, 'x', WP_MAX_LINE);
    feed(&f, big, WP_MAX_LINE);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), -1);
    free(big);
}
END_TEST

START_TEST(test_frame_compacts_partial_line)
{
    static wp_frame f;
    char *big = malloc(WP_MAX_LINE), *line;
    size_t len, avail;

    /* A short line, then most of a long one: the long one must still fit. */
    wp_frame_init(&f);
    feed(&f, "a\n", 2);
    memset(big, 'y', WP_MAX_LINE);
    feed(&f, big, WP_MAX_LINE - 2);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 1);
    ck_assert_str_eq(line, "a");
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 0);
    wp_frame_space(&f, &avail);
    ck_assert_uint_eq(avail, 2);
    feed(&f, "y\n", 2);
    ck_assert_int_eq(wp_frame_next(&f, &line, &len), 1);
    ck_assert_uint_eq(len, WP_MAX_LINE - 1);
    free(big);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_frame_line_split_across_reads);
    tcase_add_test(tc, test_frame_many_lines_in_one_read);
    tcase_add_test(tc, test_frame_line_at_limit_accepted);
    tcase_add_test(tc, test_frame_oversize_line_rejected);
    tcase_add_test(tc, test_frame_compacts_partial_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(frame_suite());
}

/*
 * check_path.c - guest <-> host path translation (wp_path): the seed's
 * table both ways, every rejection, and the automount root found the way
 * wslpath finds it.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wp_path.h"
#include "wp_token.h"

static const struct { const char *guest, *host; } table[] = {
    { "/mnt/c/temp/winapi_shared_buffer_1_1234", "C:\\temp\\winapi_shared_buffer_1_1234" },
    { "/mnt/c/Users/user/data.bin", "C:\\Users\\user\\data.bin" },
    { "/mnt/d", "D:\\" },
    { "/mnt/z/a b/c.d", "Z:\\a b\\c.d" },
};

START_TEST(test_path_seed_table_guest_to_host)
{
    char out[WP_HOST_PATH_MAX], err[256];

    ck_assert_int_eq(wp_path_guest_to_host(table[_i].guest, "/mnt/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, table[_i].host);
}
END_TEST

START_TEST(test_path_seed_table_host_to_guest)
{
    char out[WP_GUEST_PATH_MAX], err[256];

    ck_assert_int_eq(wp_path_host_to_guest(table[_i].host, "/mnt/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, table[_i].guest);
}
END_TEST

START_TEST(test_path_drive_letter_case)
{
    char out[WP_GUEST_PATH_MAX], err[256];

    ck_assert_int_eq(wp_path_guest_to_host("/mnt/C/temp/x", "/mnt", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp\\x");
    ck_assert_int_eq(wp_path_host_to_guest("c:\\temp\\x", "/mnt/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "/mnt/c/temp/x");
    ck_assert_int_eq(wp_path_host_canon("d:/temp/x", out, sizeof(out), err, sizeof(err)), 0);
    ck_assert_str_eq(out, "D:\\temp\\x");
}
END_TEST

START_TEST(test_path_custom_automount_root)
{
    char out[WP_GUEST_PATH_MAX], err[256];

    ck_assert_int_eq(wp_path_guest_to_host("/win/c/temp/x", "/win/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp\\x");
    ck_assert_int_eq(wp_path_host_to_guest("C:\\temp\\x", "/win", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "/win/c/temp/x");
    ck_assert_int_eq(wp_path_guest_to_host("/c/temp", "/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp");
}
END_TEST

/* Guest paths that must never translate. */
static const char *const bad_guest[] = {
    "temp/x",                       /* relative */
    "",
    "/mnt/c/temp/../windows",       /* .. */
    "/mnt/c/./temp",                /* . */
    "/mnt/c/temp//x",               /* empty component */
    "/mnt/c/temp/a\x01z",           /* control byte */
    "/mnt/c/temp/x:stream",         /* alternate data stream */
    "/mnt/c/temp/CON",              /* reserved names, any case, any extension */
    "/mnt/c/temp/nul.txt",
    "/mnt/c/temp/Com1",
    "/mnt/c/temp/lpt9.log",
    "/mnt/c/temp/aux ",
    "/mnt/c/temp/trailingdot.",     /* Windows would alias these */
    "/mnt/c/temp/a\\b",             /* a separator on the host */
    "/mnt/c/temp/a*b",
    "/home/user/x",                 /* outside the automount root */
    "/mnt/cd/x",                    /* not a drive */
    "/mnt/",
    "/mnt/1/x",
};

START_TEST(test_path_rejects_guest)
{
    char out[WP_HOST_PATH_MAX], err[256] = "";

    ck_assert_msg(wp_path_guest_to_host(bad_guest[_i], "/mnt/", out, sizeof(out),
                                        err, sizeof(err)) == -1,
                  "%s was translated to %s", bad_guest[_i], out);
    ck_assert(errno == EINVAL || errno == ENAMETOOLONG);
    ck_assert_msg(err[0] != '\0', "no reason given for %s", bad_guest[_i]);
}
END_TEST

static const char *const bad_host[] = {
    "temp\\x",
    "\\temp\\x",
    "C:temp",                       /* drive-relative */
    "\\\\server\\share\\x",         /* UNC */
    "C:\\temp\\..\\windows",
    "C:\\temp\\.\\x",
    "C:\\temp\\\\x",
    "C:\\temp\\x:$DATA",
    "C:\\temp\\PRN",
    "C:\\temp\\conout$",
    "C:\\temp\\x\x7f",
    "1:\\x",
};

START_TEST(test_path_rejects_host)
{
    char out[WP_GUEST_PATH_MAX], err[256] = "";

    ck_assert_msg(wp_path_host_to_guest(bad_host[_i], "/mnt/", out, sizeof(out),
                                        err, sizeof(err)) == -1,
                  "%s was translated to %s", bad_host[_i], out);
    ck_assert_int_eq(wp_path_host_canon(bad_host[_i], out, sizeof(out), err, sizeof(err)), -1);
    ck_assert(err[0] != '\0');
}
END_TEST

START_TEST(test_path_rejects_too_long)
{
    char guest[WP_GUEST_PATH_MAX + 16], out[WP_HOST_PATH_MAX], err[256];
    size_t n;

    /* 300 characters is fine on Linux but beyond MAX_PATH on the host. */
    strcpy(guest, "/mnt/c/");
    n = strlen(guest);
    memset(guest + n, 'a', 300);
    guest[n + 300] = '\0';
    ck_assert_int_eq(wp_path_guest_to_host(guest, "/mnt/", out, sizeof(out), err,
                                           sizeof(err)), -1);
    ck_assert_int_eq(errno, ENAMETOOLONG);
    /* 259 characters is the longest host path. */
    guest[n + 252] = '\0';
    ck_assert_int_eq(wp_path_guest_to_host(guest, "/mnt/", out, sizeof(out), err,
                                           sizeof(err)), 0);
    ck_assert_uint_eq(strlen(out), 255);
}
END_TEST

START_TEST(test_path_trailing_separator_tolerated)
{
    char out[WP_HOST_PATH_MAX], err[256];

    ck_assert_int_eq(wp_path_guest_to_host("/mnt/c/temp/", "/mnt/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp");
    ck_assert_int_eq(wp_path_guest_to_host("/mnt/e/", "/mnt/", out, sizeof(out),
                                           err, sizeof(err)), 0);
    ck_assert_str_eq(out, "E:\\");
}
END_TEST

/* The file a request names: a trailing separator or a drive root is a directory. */
START_TEST(test_path_file_rejects_trailing_separator)
{
    static const char *const dirs_host[] = {
        "C:\\temp\\good\\", "C:/temp/good/", "c:\\temp\\good/", "C:\\", "D:/",
    };
    static const char *const dirs_guest[] = { "/mnt/c/temp/good/", "/mnt/c/", "/mnt/c", "/mnt/d//" };
    char out[WP_HOST_PATH_MAX], err[256];

    for (size_t i = 0; i < sizeof(dirs_host) / sizeof(dirs_host[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(wp_path_host_file_canon(dirs_host[i], out, sizeof(out), err,
                                              sizeof(err)) == -1, "%s accepted", dirs_host[i]);
        ck_assert_int_eq(errno, EINVAL);
        ck_assert(err[0] != '\0');
    }
    for (size_t i = 0; i < sizeof(dirs_guest) / sizeof(dirs_guest[0]); i++) {
        ck_assert_msg(wp_path_guest_file_to_host(dirs_guest[i], "/mnt/", out, sizeof(out), err,
                                                 sizeof(err)) == -1, "%s accepted", dirs_guest[i]);
        ck_assert_int_eq(errno, EINVAL);
    }
    ck_assert_str_eq(err, "ends in a separator, which names a directory, not a file");
    ck_assert_int_eq(wp_path_host_file_canon("c:/temp/good", out, sizeof(out), err,
                                             sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp\\good");
    ck_assert_int_eq(wp_path_guest_file_to_host("/mnt/c/temp/good", "/mnt/", out, sizeof(out),
                                                err, sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp\\good");
    /* Directories (allowed roots) keep their tolerance. */
    ck_assert_int_eq(wp_path_host_canon("C:\\temp\\good\\", out, sizeof(out), err,
                                        sizeof(err)), 0);
    ck_assert_str_eq(out, "C:\\temp\\good");
}
END_TEST

static char *write_mountinfo(const char *text)
{
    static char path[64];
    FILE *fp;

    strcpy(path, "/tmp/check_path_mi.XXXXXX");
    ck_assert_int_ge(mkstemp(path), 0);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

START_TEST(test_path_automount_root_from_wsl2_mountinfo)
{
    char *mi = write_mountinfo(
        "22 27 0:20 / /proc rw,nosuid - proc proc rw\n"
        "87 27 0:58 / /win/c rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\\;uid=1000\n");
    char out[256];

    ck_assert_int_eq(wp_path_find_automount_root(mi, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/win/");
    unlink(mi);
}
END_TEST

START_TEST(test_path_automount_root_from_wsl1_mountinfo)
{
    char *mi = write_mountinfo("5 1 0:5 / /mnt/d rw,noatime shared:1 - drvfs D:\\ rw\n");
    char out[256];

    ck_assert_int_eq(wp_path_find_automount_root(mi, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/mnt/");
    unlink(mi);
}
END_TEST

/* mountinfo writes a blank as \040: a root with a space in it still works. */
START_TEST(test_path_automount_root_unescapes_blanks)
{
    char *mi = write_mountinfo(
        "87 27 0:58 / /my\\040drives/c rw,noatime - 9p drvfs rw,aname=drvfs;path=C:\\\n");
    char out[256];

    ck_assert_int_eq(wp_path_find_automount_root(mi, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/my drives/");
    unlink(mi);
}
END_TEST

START_TEST(test_path_automount_root_falls_back_to_mnt)
{
    char *mi = write_mountinfo("22 27 0:20 / /proc rw,nosuid - proc proc rw\n");
    char out[256];

    ck_assert_int_eq(wp_path_find_automount_root(mi, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/mnt/");
    unlink(mi);
    ck_assert_int_eq(wp_path_find_automount_root("/nonexistent/mountinfo", out,
                                                 sizeof(out)), 0);
    ck_assert_str_eq(out, "/mnt/");
}
END_TEST

START_TEST(test_path_host_below)
{
    ck_assert_uint_eq(wp_path_host_below("C:\\ro", "C:\\ro\\f"), 6);
    ck_assert_uint_eq(wp_path_host_below("C:\\ro", "c:\\RO\\d\\f"), 6);  /* any case */
    ck_assert_uint_eq(wp_path_host_below("C:\\ro", "C:\\rox\\f"), 0);    /* whole components */
    ck_assert_uint_eq(wp_path_host_below("C:\\ro", "C:\\ro"), 0);        /* the root itself */
    ck_assert_uint_eq(wp_path_host_below("C:\\", "C:\\f"), 3);
    ck_assert_uint_eq(wp_path_host_below("C:\\", "D:\\f"), 0);
}
END_TEST

START_TEST(test_path_grants_parse)
{
    char err[256];
    wp_grant *g;
    size_t n;

    ck_assert_int_eq(wp_grants_parse("# admins\n\n  admin  \n"
                                     "reader ops=checksum,stat roots=c:/ro;D:\\x\\ access=read\r\n"
                                     "open sesame\n", &g, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(g[0].token, "admin");
    ck_assert_ptr_null(g[0].ops);
    ck_assert_ptr_null(g[0].roots);
    ck_assert_int_eq(g[0].read_only, 0);
    ck_assert_str_eq(g[1].token, "reader");
    ck_assert_uint_eq(g[1].nops, 2);
    ck_assert_str_eq(g[1].ops[1], "stat");
    ck_assert_uint_eq(g[1].nroots, 2);
    ck_assert_str_eq(g[1].roots[0], "C:\\ro");              /* canonical */
    ck_assert_str_eq(g[1].roots[1], "D:\\x");
    ck_assert_int_eq(g[1].read_only, 1);
    ck_assert_str_eq(g[2].token, "open sesame");           /* a version 1 token, blanks and all */
    wp_grants_free(g, n);

    static const struct { const char *text, *why; } bad[] = {
        { "", "no token" },
        { "# nothing\n", "no token" },
        { "t access=all\n", "line 1: access=all" },
        { "t access=read access=write\n", "line 1: access= given twice" },
        { "t ops=a,,b\n", "line 1: ops=a,,b: an empty operation name" },
        { "t roots=C:\\a roots=C:\\b\n", "line 1: roots= given twice" },
        { "a\n\na ops=x\n", "line 3: the token of line 1 again" },
        { "ops=x\n", "line 1: no token before the fields" },
        { "t roots=relative\n", "line 1: root relative" },
        { "t access=read roots=C:\\Program Files\\x\n", "line 1: \"access=\" before" },
        { "t ops=checksum, fill\n", "line 1: \"ops=\" before" },
        { "t Access=read\n", "line 1: \"access=\" before" },
        { "# c\n\na\nb\na\n", "line 5: the token of line 3 again" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(wp_grants_parse(bad[i].text, &g, &n, err, sizeof(err)), -1);
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_msg(strstr(err, bad[i].why), "%s: %s", bad[i].text, err);
    }
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_path_seed_table_guest_to_host, 0, 4);
    tcase_add_loop_test(tc, test_path_seed_table_host_to_guest, 0, 4);
    tcase_add_test(tc, test_path_drive_letter_case);
    tcase_add_test(tc, test_path_host_below);
    tcase_add_test(tc, test_path_grants_parse);
    tcase_add_test(tc, test_path_custom_automount_root);
    tcase_add_loop_test(tc, test_path_rejects_guest, 0,
                        (int)(sizeof(bad_guest) / sizeof(bad_guest[0])));
    tcase_add_loop_test(tc, test_path_rejects_host, 0,
                        (int)(sizeof(bad_host) / sizeof(bad_host[0])));
    tcase_add_test(tc, test_path_rejects_too_long);
    tcase_add_test(tc, test_path_trailing_separator_tolerated);
    tcase_add_test(tc, test_path_file_rejects_trailing_separator);
    tcase_add_test(tc, test_path_automount_root_from_wsl2_mountinfo);
    tcase_add_test(tc, test_path_automount_root_from_wsl1_mountinfo);
    tcase_add_test(tc, test_path_automount_root_unescapes_blanks);
    tcase_add_test(tc, test_path_automount_root_falls_back_to_mnt);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(path_suite());
}

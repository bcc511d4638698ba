/*
 * check_protocol.c - the control channel against the real winapi-hostd:
 * raw JSON lines over real sockets, every error code with a request that
 * earns it, framing and pipelining, hostile paths, a truncated buffer, the
 * token, and concurrency.  After every test the daemon must still answer.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* A shared_buffer request line for a file in C:\temp. */
static char *sb(const char *op, const char *name, long long size, const char *extra)
{
    static _Thread_local char line[8192];   /* the 8-client test calls it from threads */

    snprintf(line, sizeof(line),
             "{\"api\":\"shared_buffer\",\"request_id\":42,\"operation\":\"%s\","
             "\"file_path\":\"%s/%s\",\"buffer_size\":%lld,\"buffer_id\":3%s%s}",
             op, tu_env("WINAPI_BACKING_DIR"), name, size, extra ? "," : "",
             extra ? extra : "");
    return line;
}

static void expect(const char *line, const char *code)
{
    json_object *o = tu_call(tu_port(), line);

    ck_assert_msg(strcmp(tu_status(o), code) == 0, "%s\n  answered %s, wanted %s", line,
                  json_object_to_json_string(o), code);
    json_object_put(o);
}

static void teardown(void)
{
    ck_assert_msg(tu_alive(), "winapi-hostd stopped answering");
}

START_TEST(test_protocol_seed_request_verbatim)
{
    char guest[4096], line[8192], *resp;
    int fd;

    tu_make_file("winapi_shared_buffer_1_1234", 1 << 20, 0, NULL, 0, guest, sizeof(guest));
    snprintf(line, sizeof(line),
             "{\"api\":\"shared_buffer\",\"request_id\":123,\"operation\":\"process\","
             "\"file_path\":\"%s\",\"buffer_size\":1048576,\"buffer_id\":1}", guest);
    fd = tu_connect(tu_port());
    tu_send_line(fd, line);
    resp = tu_recv_line(fd);
    ck_assert_str_eq(resp, "{\"request_id\":123,\"status\":\"success\",\"result\":"
                     "{\"operation\":\"process\",\"buffer_id\":1,\"bytes_processed\":1048576,"
                     "\"status\":\"processed\"}}");
    free(resp);
    close(fd);
}
END_TEST

START_TEST(test_protocol_ping_and_hello)
{
    json_object *o = tu_call(tu_port(), "{\"api\":\"ping\"}");
    json_object *r, *v;

    ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "{\"status\":\"success\",\"result\":{\"pong\":true}}");
    json_object_put(o);
    o = tu_call(tu_port(), "{\"api\":\"hello\",\"request_id\":7}");
    ck_assert_str_eq(tu_status(o), "success");
    ck_assert_str_eq(tu_result_str(o, "server"), "winapi-hostd");
    ck_assert_str_eq(tu_result_str(o, "version"), PACKAGE_VERSION);
    ck_assert_str_eq(tu_result_str(o, "protocol"), "1");
    ck_assert(json_object_object_get_ex(o, "result", &r));
    ck_assert(json_object_object_get_ex(r, "operations", &v));
    /* Without --key-file: no encrypt or decrypt. */
    ck_assert_str_eq(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                     "[\"process\",\"checksum\",\"fill\",\"stat\",\"compress\","
                     "\"decompress\"]");
    json_object_put(o);
}
END_TEST

START_TEST(test_protocol_bad_request)
{
    expect("this is not json", "bad_request");
    expect("{\"api\":\"shared_buffer\",\"request_id\":1}", "bad_request");
    expect("{\"api\":\"ping\",\"request_id\":9007199254740992}", "bad_request");
    tu_make_file("f", 100, 0, NULL, 0, NULL, 0);
    expect(sb("checksum", "f", 100, "\"params\":{\"algorithm\":\"md5\"}"), "bad_request");
    expect(sb("fill", "f", 100, "\"access\":\"read\""), "bad_request");
    expect(sb("fill", "f", 100, "\"params\":{\"pattern\":-1}"), "bad_request");
    expect(sb("fill", "f", 100, "\"params\":{\"pattern\":4294967296}"), "bad_request");
}
END_TEST

START_TEST(test_protocol_unknown_api_and_operation)
{
    expect("{\"api\":\"format\",\"request_id\":1}", "unknown_api");
    tu_make_file("f", 100, 0, NULL, 0, NULL, 0);
    expect(sb("encrypt", "f", 100, NULL), "unknown_operation");
}
END_TEST

START_TEST(test_protocol_not_found)
{
    expect(sb("process", "missing", 100, NULL), "not_found");
}
END_TEST

START_TEST(test_protocol_size_mismatch)
{
    tu_make_file("f", 100, 0, NULL, 0, NULL, 0);
    expect(sb("process", "f", 101, NULL), "size_mismatch");
    expect(sb("process", "f", 99, NULL), "size_mismatch");
    expect(sb("process", "f", 100, "\"offset\":90,\"length\":11"), "size_mismatch");
    expect(sb("stat", "f", 4096, NULL), "size_mismatch");
}
END_TEST

START_TEST(test_protocol_every_operation)
{
    char local[4096], crc[9], sha[65];
    json_object *o;

    tu_make_file("f", 300000, 5, local, sizeof(local), NULL, 0);
    tu_crc32_hex(local, crc);
    tu_sha256_hex(local, sha);
    o = tu_call(tu_port(), sb("checksum", "f", 300000, NULL));
    ck_assert_str_eq(tu_result_str(o, "algorithm"), "crc32");
    ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
    ck_assert_str_eq(tu_result_str(o, "bytes_processed"), "300000");
    json_object_put(o);
    o = tu_call(tu_port(), sb("checksum", "f", 300000, "\"params\":{\"algorithm\":\"sha256\"}"));
    ck_assert_str_eq(tu_result_str(o, "checksum"), sha);
    json_object_put(o);
    o = tu_call(tu_port(), sb("stat", "f", 300000, NULL));
    ck_assert_str_eq(tu_result_str(o, "host_path"), "C:\\temp\\f");
    ck_assert_str_eq(tu_result_str(o, "file_size"), "300000");
    ck_assert_str_eq(tu_result_str(o, "bytes_processed"), "0");
    json_object_put(o);
    o = tu_call(tu_port(), sb("process", "f", 300000, NULL));
    ck_assert_str_eq(tu_result_str(o, "status"), "processed");
    ck_assert_str_eq(tu_result_str(o, "operation"), "process");
    json_object_put(o);
}
END_TEST

START_TEST(test_protocol_empty_buffer)
{
    json_object *o;

    tu_make_file("empty", 0, 0, NULL, 0, NULL, 0);
    o = tu_call(tu_port(), sb("checksum", "empty", 0, NULL));
    ck_assert_str_eq(tu_result_str(o, "checksum"), "00000000");
    json_object_put(o);
    o = tu_call(tu_port(), sb("checksum", "empty", 0, "\"params\":{\"algorithm\":\"sha256\"}"));
    ck_assert_str_eq(tu_result_str(o, "checksum"),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    json_object_put(o);
}
END_TEST

START_TEST(test_protocol_fill_range_little_endian)
{
    char local[4096];
    unsigned char got[16];
    static const unsigned char want[16] = {
        0, 0, 0, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0, 0, 0
    };
    int fd;

    tu_make_file("f", 16, 0, local, sizeof(local), NULL, 0);
    fd = open(local, O_RDWR);
    ck_assert_int_eq(pwrite(fd, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, 0), 16);
    expect(sb("fill", "f", 16, "\"params\":{\"pattern\":305419896},\"offset\":3,\"length\":10"),
           "success");
    ck_assert_int_eq(pread(fd, got, 16, 0), 16);
    ck_assert_mem_eq(got, want, 16);
    close(fd);
}
END_TEST

START_TEST(test_protocol_range_checksum)
{
    char local[4096], part[4200], crc[9];
    json_object *o;
    FILE *in, *out;

    tu_make_file("f", 5000, 9, local, sizeof(local), NULL, 0);
    snprintf(part, sizeof(part), "%s.part", local);
    in = fopen(local, "rb");
    out = fopen(part, "wb");
    fseek(in, 1000, SEEK_SET);
    for (int i = 0; i < 2000; i++)
        putc(getc(in), out);
    fclose(in);
    fclose(out);
    tu_crc32_hex(part, crc);
    o = tu_call(tu_port(), sb("checksum", "f", 5000, "\"offset\":1000,\"length\":2000"));
    ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
    ck_assert_str_eq(tu_result_str(o, "bytes_processed"), "2000");
    json_object_put(o);
}
END_TEST

/* Ranges at any byte offset, and empty ones: no misaligned or NULL-based access. */
START_TEST(test_protocol_range_at_odd_offset)
{
    json_object *o;

    tu_make_file("odd", 16384, 5, NULL, 0, NULL, 0);
    expect(sb("process", "odd", 16384, "\"offset\":1,\"length\":4097"), "success");
    expect(sb("process", "odd", 16384, "\"offset\":7,\"length\":16377"), "success");
    expect(sb("process", "odd", 16384, "\"offset\":4099,\"length\":0"), "success");
    expect(sb("checksum", "odd", 16384, "\"offset\":3,\"length\":0"), "success");
    expect(sb("fill", "odd", 16384, "\"offset\":16384,\"length\":0"), "success");
    o = tu_call(tu_port(), sb("process", "odd", 16384, "\"offset\":1,\"length\":4097"));
    ck_assert_str_eq(tu_result_str(o, "bytes_processed"), "4097");
    json_object_put(o);
}
END_TEST

START_TEST(test_protocol_rejects_hostile_paths)
{
    const char *cdir = tu_env("WINAPI_TEST_CDIR");
    char path[4096], line[8192];

    tu_make_file("f", 10, 0, NULL, 0, NULL, 0);
    /* .., reserved names, streams: refused before the file system is touched. */
    expect(sb("process", "../temp/f", 10, NULL), "path_not_allowed");
    expect(sb("process", "NUL", 10, NULL), "path_not_allowed");
    expect(sb("process", "com1.txt", 10, NULL), "path_not_allowed");
    expect(sb("process", "f:stream", 10, NULL), "path_not_allowed");
    /* Outside the allowed root C:\temp, by guest path and by host path. */
    snprintf(path, sizeof(path), "%s/secret", cdir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    snprintf(line, sizeof(line), "{\"api\":\"shared_buffer\",\"operation\":\"process\","
             "\"file_path\":\"%s/mnt/c/secret\",\"buffer_size\":0,\"buffer_id\":1}",
             tu_env("WINAPI_TEST_WORK"));
    expect(line, "path_not_allowed");
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"x\","
           "\"host_path\":\"C:\\\\secret\",\"buffer_size\":0,\"buffer_id\":1}",
           "path_not_allowed");
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"x\","
           "\"host_path\":\"C:\\\\tempx\\\\f\",\"buffer_size\":0,\"buffer_id\":1}",
           "path_not_allowed");
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"/etc/passwd\","
           "\"buffer_size\":0,\"buffer_id\":1}", "path_not_allowed");
    /* A trailing separator names a directory: not the file f. */
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"x\","
           "\"host_path\":\"C:\\\\temp\\\\f\\\\\",\"buffer_size\":10,\"buffer_id\":1}",
           "path_not_allowed");
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"x\","
           "\"host_path\":\"C:/temp/f/\",\"buffer_size\":10,\"buffer_id\":1}",
           "path_not_allowed");
    expect(sb("process", "f/", 10, NULL), "path_not_allowed");
        /* The allowed root compares case-insensitively, as on Windows. */
    expect("{\"api\":\"shared_buffer\",\"operation\":\"process\",\"file_path\":\"x\","
           "\"host_path\":\"c:\\\\TEMP\\\\f\",\"buffer_size\":10,\"buffer_id\":1}", "success");
}
END_TEST

START_TEST(test_protocol_refuses_links_and_special_files)
{
    const char *cdir = tu_env("WINAPI_TEST_CDIR");
    char p[4096], q[4096];

    snprintf(p, sizeof(p), "%s/secret", cdir);
    close(open(p, O_CREAT | O_WRONLY, 0600));
    /* A symlink as the last component, and one in the middle of the path. */
    snprintf(q, sizeof(q), "%s/temp/link", cdir);
    ck_assert_int_eq(symlink("../secret", q), 0);
    expect(sb("process", "link", 0, NULL), "path_not_allowed");
    snprintf(q, sizeof(q), "%s/temp/dirlink", cdir);
    ck_assert_int_eq(symlink("..", q), 0);
    expect(sb("process", "dirlink/secret", 0, NULL), "path_not_allowed");
    /* A hard link could name a file outside the root just as well. */
    snprintf(q, sizeof(q), "%s/temp/hard", cdir);
    ck_assert_int_eq(link(p, q), 0);
    expect(sb("process", "hard", 0, NULL), "path_not_allowed");
    /* Directories and FIFOs are not buffers. */
    snprintf(q, sizeof(q), "%s/temp/dir", cdir);
    ck_assert_int_eq(mkdir(q, 0700), 0);
    expect(sb("process", "dir", 0, NULL), "path_not_allowed");
    snprintf(q, sizeof(q), "%s/temp/fifo", cdir);
    ck_assert_int_eq(mkfifo(q, 0600), 0);
    expect(sb("process", "fifo", 0, NULL), "path_not_allowed");
    expect(sb("fill", "fifo", 0, NULL), "path_not_allowed");
}
END_TEST

/*
 * The host looks before it opens: a FIFO is refused without being opened.
 * Opening it would let go a writer blocked in its own open() (or block the
 * host, without O_NONBLOCK), and a device's open can act (a tape rewinds).
 */
START_TEST(test_protocol_fifo_is_never_opened)
{
    char q[4096];
    pid_t writer;
    int status, fd;

    snprintf(q, sizeof(q), "%s/temp/pipe", tu_env("WINAPI_TEST_CDIR"));
    ck_assert_int_eq(mkfifo(q, 0600), 0);
    writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer == 0) {
        alarm(30);
        _exit(open(q, O_WRONLY) < 0 ? 2 : 0);  /* blocks until someone reads */
    }
    usleep(100 * 1000);
    expect(sb("process", "pipe", 0, NULL), "path_not_allowed");
    expect(sb("fill", "pipe", 0, NULL), "path_not_allowed");
    expect(sb("stat", "pipe", 0, NULL), "path_not_allowed");
    usleep(200 * 1000);
    /* Windows has no FIFO in a directory (only Wine shows the Unix one), and
     * no request path reaches \\.\pipe\: only the POSIX host is asked. */
    if (strcmp(getenv("WINAPI_TEST_HOSTD") ? getenv("WINAPI_TEST_HOSTD") : "posix", "wine") != 0)
        ck_assert_msg(waitpid(writer, &status, WNOHANG) == 0,
                      "winapi-hostd opened the FIFO: its writer was let go");
    /* Let the writer go ourselves. */
    fd = open(q, O_RDONLY | O_NONBLOCK);
    ck_assert_int_eq(waitpid(writer, &status, 0), writer);
    close(fd);
    /* A device node too (root only): refused, never opened. */
    snprintf(q, sizeof(q), "%s/temp/null", tu_env("WINAPI_TEST_CDIR"));
    if (mknod(q, S_IFCHR | 0600, makedev(1, 3)) == 0)
        expect(sb("process", "null", 0, NULL), "path_not_allowed");
}
END_TEST

START_TEST(test_protocol_split_line_byte_by_byte)
{
    const char *line = "{\"api\":\"ping\",\"request_id\":77}\n";
    int fd = tu_connect(tu_port());
    char *resp;

    for (size_t i = 0; line[i]; i++) {
        tu_send(fd, line + i, 1);
        usleep(1000);
    }
    resp = tu_recv_line(fd);
    ck_assert_str_eq(resp, "{\"request_id\":77,\"status\":\"success\",\"result\":{\"pong\":true}}");
    free(resp);
    close(fd);
}
END_TEST

START_TEST(test_protocol_fifty_pipelined_requests)
{
    int fd = tu_connect(tu_port());
    char *buf = malloc(50 * 512), *p = buf;
    int seen[50] = { 0 };

    tu_make_file("f", 4096, 0, NULL, 0, NULL, 0);
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof(id), "\"request_id\":%d", i);
        p += sprintf(p, "%s\n", sb(i % 2 ? "checksum" : "process", "f", 4096, id));
    }
    tu_send(fd, buf, (size_t)(p - buf));     /* all in one write */
    for (int i = 0; i < 50; i++) {
        char *resp = tu_recv_line(fd);
        json_object *o = json_tokener_parse(resp), *v;
        ck_assert_str_eq(tu_status(o), "success");
        ck_assert(json_object_object_get_ex(o, "request_id", &v));
        seen[json_object_get_int(v)]++;
        json_object_put(o);
        free(resp);
    }
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(seen[i], 1);
    free(buf);
    close(fd);
}
END_TEST

START_TEST(test_protocol_oversize_line_closes_connection)
{
    int fd = tu_connect(tu_port());
    size_t n = 70000;
    char *big = malloc(n), *resp;

    memset(big, ' ', n);
    memcpy(big, "{\"api\":\"ping\",\"pad\":\"", 21);
    tu_send(fd, big, n);
    resp = tu_recv_line(fd);
    ck_assert_ptr_nonnull(resp);
    ck_assert_ptr_nonnull(strstr(resp, "\"bad_request\""));
    ck_assert(tu_closed(fd));
    free(resp);
    free(big);
    close(fd);
}
END_TEST

START_TEST(test_protocol_client_vanishes_mid_request)
{
    tu_make_sparse("big", 32 << 20);
    for (int i = 0; i < 20; i++) {
        int fd = tu_connect(tu_port());
        tu_send_line(fd, sb("checksum", "big", 32 << 20, "\"params\":{\"algorithm\":\"sha256\"}"));
        tu_send(fd, "{\"api\":\"pi", 10);      /* and half a line */
        close(fd);
    }
}
END_TEST

/* Shrink the file while the host hashes it: io_error, and the host lives. */
START_TEST(test_protocol_truncated_while_mapped)
{
    char local[4096];
    const long long size = 256LL << 20;
    int got_io_error = 0;

    for (int attempt = 0; attempt < 20 && !got_io_error; attempt++) {
        json_object *o;
        char *resp;
        int fd;

        tu_make_sparse("shrink", size);
        snprintf(local, sizeof(local), "%s/temp/shrink", tu_env("WINAPI_TEST_CDIR"));
        fd = tu_connect(tu_port());
        tu_send_line(fd, sb("checksum", "shrink", size, "\"params\":{\"algorithm\":\"sha256\"}"));
        usleep(20000 + attempt * 5000);
        ck_assert_int_eq(truncate(local, 4096), 0);
        resp = tu_recv_line(fd);
        ck_assert_ptr_nonnull(resp);
        o = json_tokener_parse(resp);
        if (strcmp(tu_status(o), "io_error") == 0)
            got_io_error = 1;
        else if (strcmp(tu_status(o), "size_mismatch") != 0)   /* shrank first */
            ck_assert_str_eq(tu_status(o), "success");         /* finished first */
        json_object_put(o);
        free(resp);
        close(fd);
    }
    ck_assert_msg(got_io_error, "the file never shrank while mapped");
}
END_TEST

START_TEST(test_protocol_busy_when_queue_full)
{
    int port = tu_hostd_start("busy", "--threads 1 --queue 1");
    int fd = tu_connect(port), busy = 0;

    tu_make_sparse("big", 64 << 20);
    for (int i = 0; i < 4; i++)
        tu_send_line(fd, sb("checksum", "big", 64 << 20, "\"params\":{\"algorithm\":\"sha256\"}"));
    for (int i = 0; i < 4; i++) {
        char *resp = tu_recv_line(fd);
        json_object *o = json_tokener_parse(resp);
        busy += strcmp(tu_status(o), "busy") == 0;
        json_object_put(o);
        free(resp);
    }
    ck_assert_int_ge(busy, 1);
    close(fd);
    tu_hostd_stop("busy");
}
END_TEST

static int token_daemon(const char *token)
{
    char path[4096], args[4200];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/token", tu_env("WINAPI_TEST_WORK"));
    fp = fopen(path, "w");
    fprintf(fp, "%s\n", token);
    fclose(fp);
    chmod(path, 0600);          /* the daemon refuses a token others can read */
    snprintf(args, sizeof(args), "--token-file '%s'", path);
    return tu_hostd_start("tok", args);
}

/* line, as the first request on a fresh connection, is refused and closes it. */
static void expect_refused(int port, const char *line)
{
    int fd = tu_connect(port);
    char *resp;

    tu_send_line(fd, line);
    resp = tu_recv_line(fd);
    ck_assert_msg(resp && strstr(resp, "\"unauthorized\""), "%s: answered %s", line, resp);
    ck_assert(tu_closed(fd));
    free(resp);
    close(fd);
}

START_TEST(test_protocol_token_required)
{
    int port = token_daemon("open sesame");
    int fd;
    char *resp;

    /* Before hello, even ping is unauthorized; a wrong or missing token too. */
    expect_refused(port, "{\"api\":\"ping\",\"request_id\":1}");
    expect_refused(port, "{\"api\":\"hello\",\"token\":\"open sesam\"}");
    expect_refused(port, "{\"api\":\"hello\"}");
    expect_refused(port, "not even JSON");
    /* The right one (trailing newline of the file is not part of it). */
    fd = tu_connect(port);
    tu_send_line(fd, "{\"api\":\"hello\",\"token\":\"open sesame\"}");
    resp = tu_recv_line(fd);
    ck_assert_ptr_nonnull(strstr(resp, "\"success\""));
    free(resp);
    tu_send_line(fd, "{\"api\":\"ping\",\"request_id\":2}");
    resp = tu_recv_line(fd);
    ck_assert_ptr_nonnull(strstr(resp, "\"pong\":true"));
    free(resp);
    close(fd);
    tu_hostd_stop("tok");
}
END_TEST

static void *client_thread(void *arg)
{
    const char *name = arg;
    char local[4096], crc[9];
    int fd;

    tu_make_file(name, 1 << 20, (unsigned)name[1], local, sizeof(local), NULL, 0);
    tu_crc32_hex(local, crc);
    fd = tu_connect(tu_port());
    for (int i = 0; i < 25; i++) {
        char *resp;
        json_object *o;
        tu_send_line(fd, sb("checksum", name, 1 << 20, NULL));
        resp = tu_recv_line(fd);
        o = json_tokener_parse(resp);
        ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
        json_object_put(o);
        free(resp);
    }
    close(fd);
    return NULL;
}

START_TEST(test_protocol_eight_concurrent_clients)
{
    static char names[8][16];
    pthread_t t[8];

    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof(names[i]), "c%d", i);
        ck_assert_int_eq(pthread_create(&t[i], NULL, client_thread, names[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
}
END_TEST

/* A long checksum on one connection does not hold up another's request. */
START_TEST(test_protocol_long_operation_does_not_stall_others)
{
    int slow = tu_connect(tu_port()), fast = tu_connect(tu_port());
    struct pollfd p = { .fd = slow, .events = POLLIN };
    char *resp;

    tu_make_sparse("huge", 512 << 20);
    tu_make_file("small", 10, 0, NULL, 0, NULL, 0);
    tu_send_line(slow, sb("checksum", "huge", 512 << 20, "\"params\":{\"algorithm\":\"sha256\"}"));
    usleep(10000);
    tu_send_line(fast, sb("stat", "small", 10, NULL));
    resp = tu_recv_line(fast);
    ck_assert_ptr_nonnull(strstr(resp, "\"success\""));
    free(resp);
    ck_assert_msg(poll(&p, 1, 0) == 0, "the slow request finished first");
    resp = tu_recv_line(slow);
    ck_assert_ptr_nonnull(strstr(resp, "\"success\""));
    free(resp);
    close(slow);
    close(fast);
}
END_TEST

/* The host may keep a mapping between requests: it must show new bytes. */
START_TEST(test_protocol_repeated_requests_see_new_bytes)
{
    char local[4096], crc[9];
    json_object *o;
    int fd;

    tu_make_file("again", 8192, 1, local, sizeof(local), NULL, 0);
    for (int round = 0; round < 3; round++) {
        tu_crc32_hex(local, crc);
        o = tu_call(tu_port(), sb("checksum", "again", 8192, NULL));
        ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
        json_object_put(o);
        fd = open(local, O_WRONLY);
        ck_assert_int_eq(pwrite(fd, "changed!", 8, 100 * round), 8);
        close(fd);
    }
}
END_TEST

START_TEST(test_protocol_resized_buffer)
{
    char local[4096], crc[9];
    json_object *o;

    tu_make_file("grow", 4096, 2, local, sizeof(local), NULL, 0);
    expect(sb("process", "grow", 4096, NULL), "success");
    ck_assert_int_eq(truncate(local, 12288), 0);
    expect(sb("process", "grow", 4096, NULL), "size_mismatch");
    tu_crc32_hex(local, crc);
    o = tu_call(tu_port(), sb("checksum", "grow", 12288, NULL));
    ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
    json_object_put(o);
    ck_assert_int_eq(truncate(local, 100), 0);
    tu_crc32_hex(local, crc);
    o = tu_call(tu_port(), sb("checksum", "grow", 100, NULL));
    ck_assert_str_eq(tu_result_str(o, "checksum"), crc);
    json_object_put(o);
}
END_TEST

/* The host keeps the allowed roots open, but follows one replaced under it. */
START_TEST(test_protocol_replaced_root_is_followed)
{
    char temp[4096], old[4096], cmd[8300];

    tu_make_file("moved", 4096, 3, NULL, 0, NULL, 0);
    expect(sb("stat", "moved", 4096, NULL), "success");
    snprintf(temp, sizeof(temp), "%s/temp", tu_env("WINAPI_TEST_CDIR"));
    snprintf(old, sizeof(old), "%s/temp.old", tu_env("WINAPI_TEST_CDIR"));
    ck_assert_int_eq(rename(temp, old), 0);
    ck_assert_int_eq(mkdir(temp, 0755), 0);
    tu_make_file("moved", 8192, 4, NULL, 0, NULL, 0);
    sleep(3);                   /* it lets go of open roots every second */
    expect(sb("stat", "moved", 8192, NULL), "success");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", old);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Whether the daemon's address space still maps a file named path. */
static int host_maps(const char *path)
{
    char maps[256], line[8192];
    FILE *fp;
    int found = 0;

    snprintf(maps, sizeof(maps), "/proc/%s/maps", tu_env("WINAPI_HOSTD_PID"));
    fp = fopen(maps, "r");
    if (!fp)
        return 0;
    while (fgets(line, sizeof(line), fp))
        found |= strstr(line, path) != NULL;
    fclose(fp);
    return found;
}

/* A freed buffer's pages go back to the system within a couple of seconds. */
START_TEST(test_protocol_freed_buffer_is_unmapped)
{
    char local[4096];
    int waited = 0;

    tu_make_sparse("freed", 1 << 20);
    snprintf(local, sizeof(local), "%s/temp/freed", tu_env("WINAPI_TEST_CDIR"));
    expect(sb("process", "freed", 1 << 20, NULL), "success");
    ck_assert_int_eq(unlink(local), 0);
    while (host_maps(local) && waited < 50) {
        usleep(100000);
        waited++;
    }
    ck_assert_msg(!host_maps(local), "the daemon still maps %s 5 s after unlink", local);
}
END_TEST

static Suite *protocol_suite(void)
{
    Suite *s = suite_create("protocol");
    TCase *tc = tcase_create("hostd");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_protocol_seed_request_verbatim);
    tcase_add_test(tc, test_protocol_ping_and_hello);
    tcase_add_test(tc, test_protocol_bad_request);
    tcase_add_test(tc, test_protocol_unknown_api_and_operation);
    tcase_add_test(tc, test_protocol_not_found);
    tcase_add_test(tc, test_protocol_size_mismatch);
    tcase_add_test(tc, test_protocol_every_operation);
    tcase_add_test(tc, test_protocol_empty_buffer);
    tcase_add_test(tc, test_protocol_fill_range_little_endian);
    tcase_add_test(tc, test_protocol_range_checksum);
    tcase_add_test(tc, test_protocol_range_at_odd_offset);
    tcase_add_test(tc, test_protocol_rejects_hostile_paths);
    tcase_add_test(tc, test_protocol_refuses_links_and_special_files);
    tcase_add_test(tc, test_protocol_fifo_is_never_opened);
    tcase_add_test(tc, test_protocol_split_line_byte_by_byte);
    tcase_add_test(tc, test_protocol_fifty_pipelined_requests);
    tcase_add_test(tc, test_protocol_oversize_line_closes_connection);
    tcase_add_test(tc, test_protocol_client_vanishes_mid_request);
    tcase_add_test(tc, test_protocol_truncated_while_mapped);
    tcase_add_test(tc, test_protocol_busy_when_queue_full);
    tcase_add_test(tc, test_protocol_token_required);
    tcase_add_test(tc, test_protocol_eight_concurrent_clients);
    tcase_add_test(tc, test_protocol_long_operation_does_not_stall_others);
    tcase_add_test(tc, test_protocol_repeated_requests_see_new_bytes);
    tcase_add_test(tc, test_protocol_resized_buffer);
    tcase_add_test(tc, test_protocol_freed_buffer_is_unmapped);
    tcase_add_test(tc, test_protocol_replaced_root_is_followed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(protocol_suite());
}

/*
 * check_client.c - the client API of <winapi.h> against the real daemon:
 * the seed's three calls, settings from the environment, every errno a
 * caller can see, a handle shared by threads, and a host that restarts,
 * goes silent or hangs up.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "winapi.h"

static winapi_handle_t open_default(void)
{
    winapi_handle_t h;

    ck_assert_msg(winapi_open(NULL, &h) == 0, "winapi_open: %s", winapi_last_error());
    return h;
}

START_TEST(test_client_alloc_creates_private_file)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t b;
    char want[512];
    struct stat st;

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 1 << 20, &b), 0);
    snprintf(want, sizeof(want), "%s/winapi_shared_buffer_%u_%ld",
             tu_env("WINAPI_BACKING_DIR"), b.buffer_id, (long)getpid());
    ck_assert_str_eq(b.file_path, want);
    ck_assert_uint_ge(b.buffer_id, 1);
    ck_assert_uint_eq(b.size, 1 << 20);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_int_ge(b.fd, 0);
    ck_assert_int_eq(lstat(b.file_path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, 1 << 20);
    winapi_free_shared_buffer(&b);
    ck_assert_int_eq(lstat(want, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_null(b.data);
    ck_assert_str_eq(b.file_path, "");
    winapi_free_shared_buffer(&b);      /* freeing twice is harmless */
    winapi_close(h);
}
END_TEST

START_TEST(test_client_ids_increase_and_skip_existing_names)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t a, b;
    char squat[512];
    int fd;

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 10, &a), 0);
    /* Someone else holds the next name: it is skipped, never opened. */
    snprintf(squat, sizeof(squat), "%s/winapi_shared_buffer_%u_%ld",
             tu_env("WINAPI_BACKING_DIR"), a.buffer_id + 1, (long)getpid());
    fd = open(squat, O_CREAT | O_EXCL | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "theirs", 6), 6);
    close(fd);
    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 10, &b), 0);
    ck_assert_uint_eq(b.buffer_id, a.buffer_id + 2);
    winapi_free_shared_buffer(&a);
    winapi_free_shared_buffer(&b);
    ck_assert_int_eq(access(squat, F_OK), 0);
    unlink(squat);
    winapi_close(h);
}
END_TEST

START_TEST(test_client_free_zeroed_structure_is_safe)
{
    winapi_shared_buffer_t b;

    memset(&b, 0, sizeof(b));
    winapi_free_shared_buffer(&b);
    winapi_free_shared_buffer(NULL);
}
END_TEST

START_TEST(test_client_alloc_failure_leaves_nothing)
{
    winapi_options_t o = { .backing_dir = "/nonexistent/dir" };
    winapi_handle_t h;
    winapi_shared_buffer_t b;

    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 4096, &b), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "/nonexistent/dir"));
    ck_assert_ptr_null(b.data);
    ck_assert_str_eq(b.file_path, "");
    winapi_close(h);
}
END_TEST

/* A file of that name, holding text. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

static int exists(const char *dir, const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void count_reaped(void *arg, const char *path, int err)
{
    ck_assert_int_eq(err, 0);
    ck_assert_ptr_nonnull(strstr(path, "winapi_shared_buffer_1_999999999"));
    (*(int *)arg)++;
}

/* Only buffers of a process that is gone, and that no mount lists. */
START_TEST(test_client_reap_removes_only_stale_buffers)
{
    char dir[] = "/tmp/check_reap.XXXXXX", mine[64];
    int calls = 0;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(mine, sizeof(mine), "winapi_shared_buffer_2_%ld", (long)getpid());
    put_file(dir, "winapi_shared_buffer_1_999999999", "stale");
    put_file(dir, mine, "in use");
    put_file(dir, "winapi_shared_buffer_3_999999998", "a mount's");
    put_file(dir, ".winapifs.1-0.journal",
             "00000000 N 4 100644 0 0 1.0 1.0 1.0 3 winapi_shared_buffer_3_999999998\n");
    put_file(dir, "winapi_shared_buffer_x_999999999", "not our name");
    put_file(dir, "notes.txt", "foreign");
    ck_assert_int_eq(winapi_reap(dir, 1, NULL, NULL), 1);
    ck_assert(exists(dir, "winapi_shared_buffer_1_999999999"));
    ck_assert_int_eq(winapi_reap(dir, 0, count_reaped, &calls), 1);
    ck_assert_int_eq(calls, 1);
    ck_assert(!exists(dir, "winapi_shared_buffer_1_999999999"));
    ck_assert(exists(dir, mine));
    ck_assert(exists(dir, "winapi_shared_buffer_3_999999998"));
    ck_assert(exists(dir, "winapi_shared_buffer_x_999999999"));
    ck_assert(exists(dir, "notes.txt"));
    ck_assert_int_eq(winapi_reap("/nonexistent/dir", 0, NULL, NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
    snprintf(mine, sizeof(mine), "rm -rf %s", dir);
    ck_assert_int_eq(system(mine), 0);
}
END_TEST

START_TEST(test_client_process_every_operation)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t b;
    winapi_request_t r = { .operation = "checksum", .params_json = "{\"algorithm\":\"sha256\"}" };
    char sha[65], *resp;
    json_object *o;

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 3 << 20, &b), 0);
    for (size_t i = 0; i < b.size; i++)
        ((unsigned char *)b.data)[i] = (unsigned char)(i * 7);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "process"), 0);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "checksum"), 0);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "stat"), 0);
    ck_assert_int_eq(winapi_request(h, &b, &r, &resp), 0);
    tu_sha256_hex(b.file_path, sha);
    o = json_tokener_parse(resp);
    ck_assert_str_eq(tu_result_str(o, "checksum"), sha);
    ck_assert_str_eq(tu_result_str(o, "bytes_processed"), "3145728");
    json_object_put(o);
    free(resp);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
}
END_TEST

/* What the host writes is what the guest's existing mapping sees. */
START_TEST(test_client_fill_visible_in_guest_mapping)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t b;
    winapi_request_t r = { .operation = "fill", .params_json = "{\"pattern\":3735928559}" };
    const unsigned char *p;

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 1000003, &b), 0);
    memset(b.data, 0x11, b.size);
    ck_assert_int_eq(winapi_request(h, &b, &r, NULL), 0);
    p = b.data;
    for (size_t i = 0; i < b.size; i++)
        ck_assert_uint_eq(p[i], (0xdeadbeefu >> (8 * (i % 4))) & 0xff);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
}
END_TEST

START_TEST(test_client_errno_per_error_code)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t b;
    winapi_request_t r = { .operation = "checksum", .params_json = "{\"algorithm\":\"md4\"}" };
    char *resp, path[4096];

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 4096, &b), 0);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "teleport"), -1);
    ck_assert_int_eq(errno, EOPNOTSUPP);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "unknown_operation"));
    ck_assert_int_eq(winapi_request(h, &b, &r, &resp), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(resp, "\"bad_request\""));     /* the host's answer */
    free(resp);
    /* A parameter of the wrong type, by the protocol's table: refused before sending. */
    r = (winapi_request_t){ .operation = "fill", .params_json = "{\"pattern\":\"x\"}" };
    ck_assert_int_eq(winapi_request(h, &b, &r, &resp), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(resp);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "params.pattern of fill"));
    r = (winapi_request_t){ .operation = "stat", .access = "all" };
    ck_assert_int_eq(winapi_request(h, &b, &r, NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* The host trusts the file, not buffer_size. */
    ck_assert_int_eq(ftruncate(b.fd, 8192), 0);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "process"), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(winapi_request_path(h, "/nope", 1, 1, &(winapi_request_t){ .operation = "stat" },
                                         NULL), -1);
    ck_assert_int_eq(errno, EACCES);
    snprintf(path, sizeof(path), "%s/absent", tu_env("WINAPI_BACKING_DIR"));
    ck_assert_int_eq(winapi_request_path(h, path, 1, 1, &(winapi_request_t){ .operation = "stat" },
                                         NULL), -1);
    ck_assert_int_eq(errno, ENOENT);
    /* Inside the automount root but outside the host's allowed C:\temp. */
    snprintf(path, sizeof(path), "%sc/elsewhere", tu_env("WINAPI_AUTOMOUNT_ROOT"));
    ck_assert_int_eq(winapi_request_path(h, path, 1, 1, &(winapi_request_t){ .operation = "stat" },
                                         NULL), -1);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"reboot\"}", NULL), -1);
    ck_assert_int_eq(errno, EOPNOTSUPP);
    /* A trailing '/' names a directory, not the buffer's file. */
    snprintf(path, sizeof(path), "%s/", b.file_path);
    ck_assert_int_eq(winapi_request_path(h, path, 8192, b.buffer_id,
                                         &(winapi_request_t){ .operation = "stat" }, NULL), -1);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "names a directory"));
    winapi_free_shared_buffer(&b);
    winapi_close(h);
}
END_TEST

START_TEST(test_client_ping_and_hello_raw)
{
    winapi_handle_t h = open_default();
    char *resp;

    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", &resp), 0);
    ck_assert_ptr_nonnull(strstr(resp, "\"pong\":true"));
    free(resp);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"hello\"}", &resp), 0);
    ck_assert_ptr_nonnull(strstr(resp, "\"winapi-hostd\""));
    free(resp);
    ck_assert_int_eq(winapi_request_json(h, "[not an object", NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
    winapi_close(h);
}
END_TEST

START_TEST(test_client_settings_from_environment)
{
    winapi_options_t o = { .host = "localhost", .port = 1 };
    winapi_handle_t h;

    h = open_default();
    ck_assert_str_eq(winapi_host(h), "127.0.0.1");
    ck_assert_int_eq(winapi_port(h), tu_port());
    ck_assert_str_eq(winapi_backing_dir(h), tu_env("WINAPI_BACKING_DIR"));
    ck_assert_str_eq(winapi_automount_root(h), tu_env("WINAPI_AUTOMOUNT_ROOT"));
    winapi_close(h);
    /* Arguments win over the environment. */
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_str_eq(winapi_host(h), "localhost");
    ck_assert_int_eq(winapi_port(h), 1);
    winapi_close(h);
    /* Defaults when neither says. */
    unsetenv("WINAPI_HOST");
    unsetenv("WINAPI_PORT");
    unsetenv("WINAPI_BACKING_DIR");
    h = open_default();
    ck_assert_str_eq(winapi_host(h), "127.0.0.1");
    ck_assert_int_eq(winapi_port(h), 5757);
    ck_assert_str_eq(winapi_backing_dir(h), "/mnt/c/temp");
    winapi_close(h);
    setenv("WINAPI_PORT", "70000", 1);
    ck_assert_int_eq(winapi_open(NULL, &h), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "70000"));
    setenv("WINAPI_PORT", "5757", 1);
    setenv("WINAPI_TOKEN_FILE", "/nonexistent/token", 1);
    ck_assert_int_eq(winapi_open(NULL, &h), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "/nonexistent/token"));
}
END_TEST

START_TEST(test_client_host_down_is_econnrefused)
{
    int port = tu_hostd_start("gone", NULL);
    winapi_options_t o = { .port = port };
    winapi_handle_t h;

    tu_hostd_stop("gone");
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "refused the connection"));
    winapi_close(h);
}
END_TEST

START_TEST(test_client_reconnects_after_host_restart)
{
    int port = tu_hostd_start("restart", NULL);
    char listen[64];
    winapi_options_t o = { .port = port };
    winapi_handle_t h;

    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), 0);
    tu_hostd_stop("restart");
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert(errno == ECONNRESET || errno == ECONNREFUSED);
    snprintf(listen, sizeof(listen), "--listen 127.0.0.1:%d", port);
    ck_assert_int_eq(tu_hostd_start("restart", listen), port);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), 0);
    winapi_close(h);
    tu_hostd_stop("restart");
}
END_TEST

/*
 * A peer that accepts, reads a request and then hangs up (hang_up), or
 * sends reply if set, and stays silent longer than the client's timeout.
 */
struct fake { int lfd, port; int hang_up; const char *reply; };

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    int c = accept(f->lfd, NULL, NULL);
    char buf[256];

    if (c < 0)
        return NULL;
    if (recv(c, buf, sizeof(buf), 0) > 0 && !f->hang_up) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        if (f->reply)
            send(c, f->reply, strlen(f->reply), MSG_NOSIGNAL);
        poll(&p, 1, 3000);              /* silent until the client gives up */
    }
    close(c);
    return NULL;
}

static pthread_t fake_start_with(struct fake *f, int hang_up, const char *reply)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    pthread_t t;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->hang_up = hang_up;
    f->reply = reply;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(f->lfd, 1), 0);
    getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
    f->port = ntohs(sa.sin_port);
    pthread_create(&t, NULL, fake_main, f);
    return t;
}

static pthread_t fake_start(struct fake *f, int hang_up)
{
    return fake_start_with(f, hang_up, NULL);
}

START_TEST(test_client_silent_host_times_out)
{
    struct fake f;
    pthread_t t = fake_start(&f, 0);
    winapi_options_t o = { .port = f.port, .timeout = 1 };
    winapi_handle_t h;

    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "did not answer within 1 s"));
    winapi_close(h);
    pthread_join(t, NULL);
    close(f.lfd);
}
END_TEST

/*
 * Only an answer with our request_id is ours.  One without (the host could
 * not read some request) puts the connection out of step: EPROTO, not a
 * success that answered another request.  One with another id is a late
 * answer to a request that timed out: ignored.
 */
START_TEST(test_client_reply_without_request_id_is_not_ours)
{
    struct fake f;
    pthread_t t;
    winapi_options_t o = { .timeout = 1 };
    winapi_handle_t h;
    char *resp = NULL;

    t = fake_start_with(&f, 0, "{\"status\":\"success\",\"result\":{\"pong\":true}}\n");
    o.port = f.port;
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", &resp), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_ptr_null(resp);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "without a request_id"));
    winapi_close(h);
    pthread_join(t, NULL);
    close(f.lfd);

    t = fake_start_with(&f, 0, "{\"request_id\":4242,\"status\":\"success\","
                        "\"result\":{\"pong\":true}}\n");
    o.port = f.port;
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", &resp), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    winapi_close(h);
    pthread_join(t, NULL);
    close(f.lfd);

    /* Garbage is EPROTO too, with a reason. */
    t = fake_start_with(&f, 0, "HTTP/1.0 400 Bad Request\r\n");
    o.port = f.port;
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert_int_eq(errno, EPROTO);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "malformed response"));
    winapi_close(h);
    pthread_join(t, NULL);
    close(f.lfd);
}
END_TEST

START_TEST(test_client_dropped_connection_is_econnreset)
{
    struct fake f;
    pthread_t t = fake_start(&f, 1);
    winapi_options_t o = { .port = f.port, .timeout = 5 };
    winapi_handle_t h;

    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    winapi_close(h);
    pthread_join(t, NULL);
    close(f.lfd);
}
END_TEST

/* NUL bytes are not white space: "correct horse\0\0" is not "correct horse". */
START_TEST(test_client_token_with_nul_refused)
{
    char path[4096];
    winapi_options_t o = { .token_file = path };
    winapi_handle_t h;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/nul-token", tu_env("WINAPI_TEST_WORK"));
    fp = fopen(path, "w");
    fwrite("correct horse\0\0\0", 1, 16, fp);
    fclose(fp);
    ck_assert_int_eq(winapi_open(&o, &h), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), path));
    ck_assert_ptr_nonnull(strstr(winapi_last_error(), "a NUL byte at offset 13"));
}
END_TEST

START_TEST(test_client_token)
{
    char path[4096], args[4200];
    winapi_options_t o = { .token_file = path };
    winapi_handle_t h;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/client-token", tu_env("WINAPI_TEST_WORK"));
    fp = fopen(path, "w");
    fputs("correct horse\n", fp);
    fclose(fp);
    chmod(path, 0600);          /* the daemon refuses a token others can read */
    snprintf(args, sizeof(args), "--token-file '%s'", path);
    o.port = tu_hostd_start("tokd", args);
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), 0);
    winapi_close(h);
    /* The guest only sends the token: a copy on a drvfs drive shows 0777. */
    chmod(path, 0644);
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), 0);
    winapi_close(h);
    fp = fopen(path, "w");
    fputs("battery staple\n", fp);
    fclose(fp);
    ck_assert_int_eq(winapi_open(&o, &h), 0);
    ck_assert_int_eq(winapi_request_json(h, "{\"api\":\"ping\"}", NULL), -1);
    ck_assert_int_eq(errno, EACCES);
    winapi_close(h);
    tu_hostd_stop("tokd");
}
END_TEST

struct worker { winapi_handle_t h; int failures; };

static void *share_handle(void *arg)
{
    struct worker *w = arg;
    winapi_shared_buffer_t b;

    if (winapi_alloc_shared_buffer(w->h, 64 << 10, &b) < 0) {
        w->failures++;
        return NULL;
    }
    for (int i = 0; i < 50; i++)
        if (winapi_process_shared_buffer(w->h, &b, i % 2 ? "checksum" : "process") < 0)
            w->failures++;
    winapi_free_shared_buffer(&b);
    return NULL;
}

START_TEST(test_client_handle_shared_by_eight_threads)
{
    winapi_handle_t h = open_default();
    struct worker w[8];
    pthread_t t[8];

    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){ .h = h };
        pthread_create(&t[i], NULL, share_handle, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    winapi_close(h);
}
END_TEST

/* A chain through the library: fill, then the sha256 of what fill wrote. */
START_TEST(test_client_chain)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t b;
    winapi_request_t steps[] = {
        { .operation = "fill", .params_json = "{\"pattern\":1684234849}" },
        { .operation = "checksum", .params_json = "{\"algorithm\":\"sha256\"}" },
    };
    winapi_request_t bad[] = { { .operation = "process" }, { .operation = "nope" } };
    char sha[65], *resp;
    json_object *o, *st, *v;

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 1 << 20, &b), 0);
    ck_assert_msg(winapi_chain_path(h, b.file_path, b.size, b.buffer_id, steps, 2, &resp) == 0,
                  "chain: %s", winapi_last_error());
    ck_assert_int_eq(memcmp(b.data, "abcdabcd", 8), 0);
    tu_sha256_hex(b.file_path, sha);
    o = json_tokener_parse(resp);
    ck_assert(json_object_object_get_ex(o, "result", &v));
    ck_assert(json_object_object_get_ex(v, "steps", &st));
    ck_assert_int_eq((int)json_object_array_length(st), 2);
    ck_assert(json_object_object_get_ex(json_object_array_get_idx(st, 1), "checksum", &v));
    ck_assert_str_eq(json_object_get_string(v), sha);
    json_object_put(o);
    free(resp);
    ck_assert_int_eq(winapi_chain_path(h, b.file_path, b.size, b.buffer_id, bad, 2, &resp), -1);
    ck_assert_int_eq(errno, EOPNOTSUPP);
    ck_assert_msg(resp && strstr(resp, "\"step\":1"), "failing step not named: %s", resp);
    free(resp);
    ck_assert_int_eq(winapi_chain_path(h, b.file_path, b.size, b.buffer_id, steps, 0, NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
}
END_TEST

/*
 * Jobs through the library: a 4 GiB job runs with progress, a wait times
 * out, cancel stops it, a small one's wait brings its response, list
 * shows both, an unknown job is ENOENT.
 */
START_TEST(test_client_jobs)
{
    winapi_handle_t h = open_default();
    winapi_request_t sum = { .operation = "checksum", .params_json = "{\"algorithm\":\"sha256\"}" };
    winapi_shared_buffer_t b;
    winapi_job_t j, *all;
    uint64_t big, small;
    size_t n, seen = 0;
    char guest[4096];

    tu_make_sparse("jobs-big", 4LL << 30);
    snprintf(guest, sizeof(guest), "%s/jobs-big", tu_env("WINAPI_BACKING_DIR"));
    ck_assert_msg(winapi_submit_path(h, guest, 4ULL << 30, 1, &sum, 1, &big) == 0,
                  "submit: %s", winapi_last_error());
    ck_assert_int_eq(winapi_job_wait(h, big, 200, &j), 0);
    ck_assert_str_eq(j.state, "running");
    ck_assert_str_eq(j.operation, "checksum");
    ck_assert(j.bytes_total == 4ULL << 30 && j.bytes_done > 0 && !j.response);
    ck_assert_int_eq(winapi_job_cancel(h, big, &j), 0);
    winapi_job_release(&j);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(winapi_job_status(h, big, &j), 0);
        if (strcmp(j.state, "running") != 0)
            break;
        winapi_job_release(&j);
        usleep(1000);
    }
    ck_assert_str_eq(j.state, "cancelled");
    ck_assert_msg(j.response && strstr(j.response, "\"cancelled\""), "response %s", j.response);
    winapi_job_release(&j);

    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 1 << 20, &b), 0);
    ck_assert_int_eq(winapi_submit(h, &b, &sum, &small), 0);
    ck_assert_int_eq(winapi_job_wait(h, small, -1, &j), 0);
    ck_assert_str_eq(j.state, "done");
    ck_assert_msg(j.response && strstr(j.response, "\"checksum\""), "response %s", j.response);
    winapi_job_release(&j);
    ck_assert_int_eq(winapi_job_list(h, &all, &n), 0);
    for (size_t i = 0; i < n; i++)
        seen += all[i].job_id == big || all[i].job_id == small;
    ck_assert_int_eq((int)seen, 2);
    winapi_job_list_free(all, n);
    ck_assert_int_eq(winapi_job_status(h, small + 1000, &j), -1);
    ck_assert_int_eq(errno, ENOENT);
    snprintf(guest, sizeof(guest), "%s/absent", tu_env("WINAPI_BACKING_DIR"));
    ck_assert_int_eq(winapi_submit_path(h, guest, 4096, 1, &sum, 1, &small), -1);
    ck_assert_int_eq(errno, ENOENT);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
}
END_TEST

/* How many files the backing directory holds. */
static int backing_files(void)
{
    char cmd[600];
    FILE *fp;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", tu_env("WINAPI_BACKING_DIR"));
    fp = popen(cmd, "r");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fscanf(fp, "%d", &n), 1);
    pclose(fp);
    return n;
}

/* An ended job's errno comes from its response's error code. */
START_TEST(test_client_job_errno)
{
    static const struct { const char *response; int err; } cases[] = {
        { NULL, 0 },
        { "{\"request_id\":1,\"status\":\"success\",\"result\":{}}", 0 },
        { "{\"status\":\"error\",\"error\":{\"code\":\"data_error\",\"message\":\"x\"}}",
          EBADMSG },
        { "{\"status\":\"error\",\"error\":{\"code\":\"cancelled\",\"message\":\"x\"}}",
          ECANCELED },
        { "{\"status\":\"error\",\"error\":{\"code\":\"forbidden\",\"message\":\"x\"}}",
          EPERM },
        { "{\"status\":\"error\",\"error\":{\"code\":\"new_code\",\"message\":\"x\"}}",
          EPROTO },
        { "not json", 0 },
        { "{\"status\":\"error\",\"error\":{\"code\":null}}", EPROTO },
        { "{\"status\":\"error\",\"error\":{}}", EPROTO },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        winapi_job_t j = { .response = (char *)cases[i].response };
        ck_assert_int_eq(winapi_job_errno(&j), cases[i].err);
    }
}
END_TEST

START_TEST(test_client_pool)
{
    winapi_handle_t h = open_default();
    winapi_shared_buffer_t a, b, c;
    winapi_pool_t *pool;
    struct stat st;
    void *first;

    ck_assert_int_eq(winapi_pool_open(h, 3 << 20, &pool), 0);
    ck_assert_int_eq(winapi_pool_get(pool, 2 << 20, 0, &a), 0);
    memset(a.data, 0xab, a.size);
    first = a.data;
    winapi_pool_put(pool, &a);
    ck_assert_ptr_null(a.data);
    ck_assert_int_eq(backing_files(), 1);               /* kept */
    /* A smaller request gets it back, cut to size (the host checks), zeroed. */
    ck_assert_int_eq(winapi_pool_get(pool, 1 << 20, 0, &b), 0);
    ck_assert_ptr_eq(b.data, first);
    ck_assert_uint_eq(b.size, 1 << 20);
    ck_assert_int_eq(fstat(b.fd, &st), 0);
    ck_assert_int_eq(st.st_size, 1 << 20);
    for (size_t i = 0; i < b.size; i++)
        ck_assert_int_eq(((unsigned char *)b.data)[i], 0);
    ck_assert_int_eq(winapi_process_shared_buffer(h, &b, "process"), 0);
    /* Dirty: whatever its last user left. */
    memset(b.data, 0xcd, b.size);
    winapi_pool_put(pool, &b);
    ck_assert_int_eq(winapi_pool_get(pool, 1 << 20, WINAPI_POOL_DIRTY, &b), 0);
    ck_assert_int_eq(((unsigned char *)b.data)[4095], 0xcd);
    /* Nothing kept fits 2 MiB now: a fresh one. */
    ck_assert_int_eq(winapi_pool_get(pool, 2 << 20, 0, &c), 0);
    ck_assert_uint_ne(c.buffer_id, b.buffer_id);
    ck_assert_int_eq(winapi_pool_get(pool, 0, 7, &a), -1);  /* unknown flags */
    ck_assert_int_eq(errno, EINVAL);
    winapi_pool_put(pool, &b);                          /* 1 MiB kept */
    winapi_pool_put(pool, &c);                          /* 2 MiB more: 3 MiB, kept */
    ck_assert_int_eq(backing_files(), 2);
    ck_assert_int_eq(winapi_alloc_shared_buffer(h, 4096, &a), 0);
    winapi_pool_put(pool, &a);                          /* beyond max_bytes: freed */
    ck_assert_int_eq(backing_files(), 2);
    /* A pooled buffer may be freed as any other. */
    ck_assert_int_eq(winapi_pool_get(pool, 1 << 20, 0, &b), 0);
    winapi_free_shared_buffer(&b);
    ck_assert_int_eq(backing_files(), 1);
    winapi_pool_close(pool);
    ck_assert_int_eq(backing_files(), 0);
    winapi_close(h);
}
END_TEST

struct pool_user {
    winapi_handle_t h;
    winapi_pool_t *pool;
    int failures;
};

static void *use_pool(void *arg)
{
    struct pool_user *u = arg;

    for (int i = 0; i < 40; i++) {
        winapi_shared_buffer_t b;
        size_t size = (size_t)(1 + i % 3) << 16;
        if (winapi_pool_get(u->pool, size, 0, &b) < 0) {
            u->failures++;
            continue;
        }
        for (size_t k = 0; k < b.size; k += 4096)
            if (((unsigned char *)b.data)[k] != 0)
                u->failures++;
        memset(b.data, 0xff, b.size);
        if (winapi_process_shared_buffer(u->h, &b, "process") < 0)
            u->failures++;
        winapi_pool_put(u->pool, &b);
    }
    return NULL;
}

START_TEST(test_client_pool_shared_by_threads)
{
    struct pool_user u[6];
    pthread_t t[6];
    winapi_handle_t h = open_default();
    winapi_pool_t *pool;

    ck_assert_int_eq(winapi_pool_open(h, 1 << 20, &pool), 0);
    for (int i = 0; i < 6; i++) {
        u[i] = (struct pool_user){ .h = h, .pool = pool };
        pthread_create(&t[i], NULL, use_pool, &u[i]);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(u[i].failures, 0);
    }
    winapi_pool_close(pool);
    ck_assert_int_eq(backing_files(), 0);
    winapi_close(h);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("api");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_alloc_creates_private_file);
    tcase_add_test(tc, test_client_pool);
    tcase_add_test(tc, test_client_pool_shared_by_threads);
    tcase_add_test(tc, test_client_ids_increase_and_skip_existing_names);
    tcase_add_test(tc, test_client_free_zeroed_structure_is_safe);
    tcase_add_test(tc, test_client_alloc_failure_leaves_nothing);
    tcase_add_test(tc, test_client_reap_removes_only_stale_buffers);
    tcase_add_test(tc, test_client_process_every_operation);
    tcase_add_test(tc, test_client_fill_visible_in_guest_mapping);
    tcase_add_test(tc, test_client_errno_per_error_code);
    tcase_add_test(tc, test_client_ping_and_hello_raw);
    tcase_add_test(tc, test_client_settings_from_environment);
    tcase_add_test(tc, test_client_host_down_is_econnrefused);
    tcase_add_test(tc, test_client_reconnects_after_host_restart);
    tcase_add_test(tc, test_client_silent_host_times_out);
    tcase_add_test(tc, test_client_dropped_connection_is_econnreset);
    tcase_add_test(tc, test_client_reply_without_request_id_is_not_ours);
    tcase_add_test(tc, test_client_token);
    tcase_add_test(tc, test_client_token_with_nul_refused);
    tcase_add_test(tc, test_client_handle_shared_by_eight_threads);
    tcase_add_test(tc, test_client_chain);
    tcase_add_test(tc, test_client_jobs);
    tcase_add_test(tc, test_client_job_errno);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(client_suite());
}

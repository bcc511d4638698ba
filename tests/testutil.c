/*
 * testutil.c - shared helpers of the Check suites.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *tu_env(const char *name)
{
    const char *v = getenv(name);

    ck_assert_msg(v && *v, "%s is not set: run this test through run-test.sh", name);
    return v;
}

int tu_port(void)
{
    return atoi(tu_env("WINAPI_PORT"));
}

void tu_make_file(const char *name, size_t size, unsigned seed,
                  char *local, size_t locallen, char *guest, size_t guestlen)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/temp/%s", tu_env("WINAPI_TEST_CDIR"), name);
    fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    for (size_t i = 0; i < size; i++)
        putc((int)((i * 131 + seed) & 0xff), fp);
    ck_assert_int_eq(fclose(fp), 0);
    if (local)
        snprintf(local, locallen, "%s", path);
    if (guest)
        snprintf(guest, guestlen, "%s/%s", tu_env("WINAPI_BACKING_DIR"), name);
}

void tu_make_sparse(const char *name, long long size)
{
    char path[4096];
    int fd;

    snprintf(path, sizeof(path), "%s/temp/%s", tu_env("WINAPI_TEST_CDIR"), name);
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(ftruncate(fd, size), 0);
    close(fd);
}

int tu_connect(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
                  "connect to port %d: %s", port, strerror(errno));
    return fd;
}

void tu_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        ck_assert_msg(n > 0, "send: %s", strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

void tu_send_line(int fd, const char *line)
{
    tu_send(fd, line, strlen(line));
    tu_send(fd, "\n", 1);
}

char *tu_recv_line(int fd)
{
    size_t cap = 256, len = 0;
    char *buf = malloc(cap);

    /* Byte by byte: slow, but never reads past the line the test asked for. */
    for (;;) {
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n <= 0) {
            free(buf);
            return NULL;
        }
        if (c == '\n')
            break;
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        buf[len++] = c;
    }
    buf[len] = '\0';
    return buf;
}

int tu_closed(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;

    if (poll(&p, 1, 10000) != 1)
        return 0;
    return recv(fd, &c, 1, 0) <= 0;
}

json_object *tu_call(int port, const char *line)
{
    int fd = tu_connect(port);
    char *resp;
    json_object *o;

    tu_send_line(fd, line);
    resp = tu_recv_line(fd);
    close(fd);
    ck_assert_msg(resp != NULL, "no answer to %s", line);
    o = json_tokener_parse(resp);
    ck_assert_msg(o != NULL, "answer is not JSON: %s", resp);
    free(resp);
    return o;
}

const char *tu_status(json_object *resp)
{
    json_object *v, *e;

    ck_assert(json_object_object_get_ex(resp, "status", &v));
    if (strcmp(json_object_get_string(v), "success") == 0)
        return "success";
    ck_assert(json_object_object_get_ex(resp, "error", &e));
    ck_assert(json_object_object_get_ex(e, "code", &v));
    return json_object_get_string(v);
}

const char *tu_result_str(json_object *resp, const char *key)
{
    json_object *r, *v;

    if (!json_object_object_get_ex(resp, "result", &r) ||
        !json_object_object_get_ex(r, key, &v))
        return NULL;
    return json_object_get_string(v);
}

static void run(const char *cmd, char *out, size_t outlen)
{
    FILE *fp = popen(cmd, "r");
    size_t n;

    ck_assert_msg(fp != NULL, "%s: %s", cmd, strerror(errno));
    n = fread(out, 1, outlen - 1, fp);
    out[n] = '\0';
    ck_assert_msg(pclose(fp) == 0, "%s failed: %s", cmd, out);
}

int tu_hostd_start(const char *name, const char *extra_args)
{
    char cmd[8192], out[64];

    snprintf(cmd, sizeof(cmd), "'%s' start '%s/%s' %s", tu_env("WINAPI_TEST_HOSTD_SH"),
             tu_env("WINAPI_TEST_WORK"), name, extra_args ? extra_args : "");
    run(cmd, out, sizeof(out));
    return atoi(out);
}

void tu_hostd_stop(const char *name)
{
    char cmd[8192], out[64];

    snprintf(cmd, sizeof(cmd), "'%s' stop '%s/%s'", tu_env("WINAPI_TEST_HOSTD_SH"),
             tu_env("WINAPI_TEST_WORK"), name);
    run(cmd, out, sizeof(out));
}

int tu_alive(void)
{
    json_object *o = tu_call(tu_port(), "{\"api\":\"ping\",\"request_id\":1}");
    int ok = strcmp(tu_status(o), "success") == 0;

    json_object_put(o);
    return ok;
}

void tu_crc32_hex(const char *path, char out[9])
{
    unsigned char buf[65536];
    uLong crc = crc32(0L, Z_NULL, 0);
    int fd = open(path, O_RDONLY);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        crc = crc32(crc, buf, (uInt)n);
    close(fd);
    snprintf(out, 9, "%08lx", (unsigned long)crc);
}

void tu_sha256_hex(const char *path, char out[65])
{
    char cmd[4200], buf[256];

    snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
    run(cmd, buf, sizeof(buf));
    memcpy(out, buf, 64);
    out[64] = '\0';
}

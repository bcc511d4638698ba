/*
 * check_server.c - winapi-hostd under load and attack: connections that
 * never speak or stop speaking are closed in time, a client that does not
 * read its answers is dropped without holding anyone up, a small request
 * is not kept waiting behind big ones, thousands of connections are served
 * by a handful of threads, a later hello with a wrong token is refused, and
 * a burst of pipelined lines is answered whole and in order, and neither
 * a client's end of stream nor urgent data is lost between reads.
 * Each test that needs other settings starts a daemon of its own.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A shared_buffer request line for a file in C:\temp. */
static void sb(char *line, size_t len, int id, const char *op, const char *name,
               long long size)
{
    snprintf(line, len,
             "{\"api\":\"shared_buffer\",\"request_id\":%d,\"operation\":\"%s\","
             "\"file_path\":\"%s/%s\",\"buffer_size\":%lld,\"buffer_id\":1}",
             id, op, tu_env("WINAPI_BACKING_DIR"), name, size);
}

/* A line, within timeout_s (NULL when closed, or nothing came in time). */
static char *recv_line_within(int fd, double timeout_s)
{
    struct timeval tv = { .tv_sec = (time_t)timeout_s,
                          .tv_usec = (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6) };

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return tu_recv_line(fd);
}

/* 1 when the daemon has closed fd (whatever answers came first), 0 if not within timeout_s. */
static int closed_within(int fd, double timeout_s)
{
    double end = now() + timeout_s;
    char buf[65536];

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int)((end - now()) * 1000);
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) != 1)
            return 0;
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return 1;
    }
}

/* The number of threads of the daemon whose PID is in pidfile. */
static int daemon_threads(const char *pidfile)
{
    char path[4200], line[256];
    int pid, threads = -1;
    FILE *fp = fopen(pidfile, "r");

    ck_assert_msg(fp != NULL, "%s: %s", pidfile, strerror(errno));
    ck_assert_int_eq(fscanf(fp, "%d", &pid), 1);
    fclose(fp);
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), fp))
        if (sscanf(line, "Threads: %d", &threads) == 1)
            break;
    fclose(fp);
    return threads;
}

static void expect_pong(int fd, double timeout_s)
{
    char *resp;

    tu_send_line(fd, "{\"api\":\"ping\",\"request_id\":9}");
    resp = recv_line_within(fd, timeout_s);
    ck_assert_msg(resp && strstr(resp, "\"pong\":true"), "ping answered %s", resp);
    free(resp);
}

static void teardown(void)
{
    ck_assert_msg(tu_alive(), "winapi-hostd stopped answering");
}

/* Let this process open n sockets (the soft limit is often 1024). */
static void room_for(int n)
{
    struct rlimit rl;

    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)n + 64
                      ? (rlim_t)n + 64 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_msg(rl.rlim_cur >= (rlim_t)n + 64,
                  "ulimit -n %ld is too low for %d sockets", (long)rl.rlim_cur, n);
}

/*
 * Silent connections, and one that sends half a line, are closed after the
 * handshake timeout, with a token file too; they never keep the slots.
 */
START_TEST(test_server_silent_connections_are_closed)
{
    enum { N = 300 };
    char path[4096], args[4200];
    int fd[N], half, good, port;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/token", tu_env("WINAPI_TEST_WORK"));
    fp = fopen(path, "w");
    fprintf(fp, "open sesame\n");
    fclose(fp);
    chmod(path, 0600);
    snprintf(args, sizeof(args), "--handshake-timeout 1 --token-file '%s'", path);
    port = tu_hostd_start("silent", args);
    room_for(N + 8);
    for (int i = 0; i < N; i++)
        fd[i] = tu_connect(port);
    half = tu_connect(port);
    tu_send(half, "{\"api\":\"hello\",\"tok", 19);
    /* A client that said hello in time stays. */
    good = tu_connect(port);
    tu_send_line(good, "{\"api\":\"hello\",\"token\":\"open sesame\"}");
    free(recv_line_within(good, 10));
    for (int i = 0; i < N; i++) {
        ck_assert_msg(closed_within(fd[i], 5), "silent connection %d still open after 5 s", i);
        close(fd[i]);
    }
    ck_assert_msg(closed_within(half, 2), "half a line counted as a request");
    close(half);
    expect_pong(good, 10);
    close(good);
    tu_hostd_stop("silent");
}
END_TEST

/*
 * Idle time counts from the last answer: a connection that goes quiet
 * after an answer is closed, one that keeps asking is not, and half a
 * line is not a request.
 */
START_TEST(test_server_idle_connections_are_closed)
{
    int port = tu_hostd_start("idle", "--idle-timeout 2");
    int quiet = tu_connect(port), busy = tu_connect(port), half = tu_connect(port);

    expect_pong(quiet, 10);
    expect_pong(busy, 10);
    expect_pong(half, 10);
    tu_send(half, "{\"api\":\"pi", 10);
    for (int i = 0; i < 8; i++) {
        usleep(500000);
        expect_pong(busy, 10);
    }
    ck_assert_msg(closed_within(quiet, 0.1), "a connection idle for 4 s is still open");
    ck_assert_msg(closed_within(half, 0.1), "half a line kept a connection from idling");
    close(quiet);
    close(half);
    close(busy);
    tu_hostd_stop("idle");
}
END_TEST

/* A connection whose receive buffer is tiny, as a client that never reads sets it. */
static int connect_small_window(int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;
    struct timeval second = { .tv_sec = 1 };

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, sizeof(second));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

struct attacker {
    int port;
    char line[8192];
    int dropped;        /* the daemon closed the connection */
};

/*
 * Pipeline checksums, and pings between them whose answers pile up fast,
 * never reading, until the daemon hangs up (or 60 s).
 */
static void *attack(void *arg)
{
    static const char ping[] = "{\"api\":\"ping\",\"request_id\":7}\n";
    struct attacker *a = arg;
    int fd = connect_small_window(a->port);
    size_t len = strlen(a->line), blen = 0;
    char *batch = malloc(8 * (len + 15 * sizeof(ping)));
    double end = now() + 60;

    for (int i = 0; i < 8; i++) {
        memcpy(batch + blen, a->line, len);
        blen += len;
        for (int k = 0; k < 15; k++) {
            memcpy(batch + blen, ping, sizeof(ping) - 1);
            blen += sizeof(ping) - 1;
        }
    }
    while (!a->dropped && now() < end) {
        ssize_t n = send(fd, batch, blen, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            a->dropped = 1;
    }
    free(batch);
    close(fd);
    return NULL;
}

/*
 * Two clients pipeline checksums and never read.  Another client's
 * checksums are answered promptly all along, and both attackers are
 * dropped once their unread answers pass --max-pending.
 */
START_TEST(test_server_non_reader_is_dropped)
{
    int port = tu_hostd_start("attack", "--max-pending 64K --threads 2");
    struct attacker a[2];
    pthread_t t[2];
    char line[8192];
    double worst = 0;
    int fd;

    tu_make_file("a", 1 << 20, 1, NULL, 0, NULL, 0);
    tu_make_file("l", 1 << 20, 2, NULL, 0, NULL, 0);
    for (int i = 0; i < 2; i++) {
        a[i].port = port;
        a[i].dropped = 0;
        sb(a[i].line, sizeof(a[i].line) - 1, i, "checksum", "a", 1 << 20);
        strcat(a[i].line, "\n");
        ck_assert_int_eq(pthread_create(&t[i], NULL, attack, &a[i]), 0);
    }
    usleep(1000000);
    fd = tu_connect(port);
    for (int i = 0; i < 20; i++) {
        double t0 = now(), dt;
        char *resp;

        sb(line, sizeof(line), 100 + i, "checksum", "l", 1 << 20);
        tu_send_line(fd, line);
        resp = recv_line_within(fd, 30);
        dt = now() - t0;
        ck_assert_msg(resp && strstr(resp, "\"success\""), "answered %s", resp);
        free(resp);
        worst = dt > worst ? dt : worst;
        usleep(100000);
    }
    close(fd);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_msg(worst < 2.0, "a checksum of 1 MiB waited %.1f s beside the attackers", worst);
    ck_assert_msg(a[0].dropped && a[1].dropped, "a client that never reads was not dropped");
    tu_hostd_stop("attack");
}
END_TEST

/*
 * Two checksums of 4 GiB run on both workers; a 1 MiB one from another
 * client waits for a slice of each, not for them to end.  Their clients
 * leaving cancels them: the daemon then stops at once.
 */
START_TEST(test_server_small_request_beside_big_ones)
{
    const long long huge = 4LL << 30;
    int port = tu_hostd_start("fair", "--threads 2");
    int big[2];
    char line[8192];
    double t0;

    tu_make_sparse("huge", huge);
    tu_make_file("small", 1 << 20, 3, NULL, 0, NULL, 0);
    for (int i = 0; i < 2; i++) {
        big[i] = tu_connect(port);
        sb(line, sizeof(line), i, "checksum", "huge", huge);
        tu_send_line(big[i], line);
    }
    usleep(500000);
    for (int i = 0; i < 3; i++) {
        int fd = tu_connect(port);
        char *resp;
        double dt;

        t0 = now();
        sb(line, sizeof(line), 10 + i, "checksum", "small", 1 << 20);
        tu_send_line(fd, line);
        resp = recv_line_within(fd, 60);
        dt = now() - t0;
        ck_assert_msg(resp && strstr(resp, "\"success\""), "answered %s", resp);
        ck_assert_msg(dt < 1.0, "a checksum of 1 MiB waited %.1f s beside two of 4 GiB", dt);
        free(resp);
        close(fd);
    }
    for (int i = 0; i < 2; i++) {
        struct pollfd p = { .fd = big[i], .events = POLLIN };
        ck_assert_msg(poll(&p, 1, 0) == 0, "a checksum of 4 GiB ended already: too fast to test");
        close(big[i]);
    }
    t0 = now();
    tu_hostd_stop("fair");
    ck_assert_msg(now() - t0 < 3.0, "stopping took %.1f s: the requests of clients gone "
                  "were not cancelled", now() - t0);
}
END_TEST

/* 2,500 connections at once, every one answered, by a handful of threads. */
START_TEST(test_server_thousands_of_connections)
{
    enum { N = 2500 };
    static int fd[N];
    char pidfile[4200];
    int threads;

    room_for(N);
    for (int i = 0; i < N; i++)
        fd[i] = tu_connect(tu_port());
    for (int i = 0; i < N; i++)
        tu_send_line(fd[i], "{\"api\":\"ping\",\"request_id\":1}");
    for (int i = 0; i < N; i++) {
        char *resp = recv_line_within(fd[i], 30);
        ck_assert_msg(resp && strstr(resp, "\"pong\":true"), "connection %d: answered %s",
                      i, resp);
        free(resp);
    }
    snprintf(pidfile, sizeof(pidfile), "%s/hostd/pid", tu_env("WINAPI_TEST_WORK"));
    threads = daemon_threads(pidfile);
    ck_assert_msg(threads > 0 && threads <= 64, "%d connections took %d threads", N, threads);
    for (int i = 0; i < N; i++)
        close(fd[i]);
}
END_TEST

/* Beyond --max-connections a client is told busy, and a slot freed is taken again. */
START_TEST(test_server_busy_beyond_max_connections)
{
    int port = tu_hostd_start("few", "--max-connections 4");
    int fd[4], extra;
    char *resp;

    for (int i = 0; i < 4; i++) {
        fd[i] = tu_connect(port);
        expect_pong(fd[i], 10);
    }
    extra = tu_connect(port);
    resp = recv_line_within(extra, 10);
    ck_assert_msg(resp && strstr(resp, "\"busy\""), "the fifth connection got %s", resp);
    free(resp);
    ck_assert(closed_within(extra, 5));
    close(extra);
    close(fd[0]);
    usleep(200000);
    extra = tu_connect(port);
    expect_pong(extra, 10);
    close(extra);
    for (int i = 1; i < 4; i++)
        close(fd[i]);
    tu_hostd_stop("few");
}
END_TEST

/* After a good hello, a hello with a wrong or no token is refused and closes. */
START_TEST(test_server_wrong_token_after_good_hello)
{
    static const char *const later[] = {
        "{\"api\":\"hello\",\"request_id\":2,\"token\":\"open sesam\"}",
        "{\"api\":\"hello\",\"request_id\":2}",
    };
    char path[4096], args[4200];
    FILE *fp;
    int port;

    snprintf(path, sizeof(path), "%s/token", tu_env("WINAPI_TEST_WORK"));
    fp = fopen(path, "w");
    fprintf(fp, "open sesame\n");
    fclose(fp);
    chmod(path, 0600);
    snprintf(args, sizeof(args), "--token-file '%s'", path);
    port = tu_hostd_start("tok", args);
    for (int i = 0; i < 2; i++) {
        int fd = tu_connect(port);
        char *resp;

        tu_send_line(fd, "{\"api\":\"hello\",\"request_id\":1,\"token\":\"open sesame\"}");
        resp = recv_line_within(fd, 10);
        ck_assert_msg(resp && strstr(resp, "\"success\""), "good hello answered %s", resp);
        free(resp);
        tu_send_line(fd, later[i]);
        resp = recv_line_within(fd, 10);
        ck_assert_msg(resp && strstr(resp, "\"unauthorized\""), "%s answered %s", later[i], resp);
        free(resp);
        ck_assert_msg(closed_within(fd, 5), "still open after %s", later[i]);
        close(fd);
    }
    tu_hostd_stop("tok");
}
END_TEST

/*
 * Pipelined lines by the megabyte, sent in pieces that cut
 * lines anywhere: every one is answered, once, in order.  (The daemon is
 * told of a socket's bytes once, when they arrive; what one read leaves
 * must be read without being told again.)
 */
#define BURST_LINES 5000
#define BURST_PIECE 100003

struct burst {
    int fd;
    char *bytes;
    size_t len;
};

static void *send_burst(void *arg)
{
    struct burst *b = arg;

    for (size_t off = 0; off < b->len;) {
        size_t n = b->len - off < BURST_PIECE ? b->len - off : BURST_PIECE;
        ssize_t w = send(b->fd, b->bytes + off, n, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return NULL;
}

START_TEST(test_server_pipelined_burst)
{
    struct burst b = { .fd = tu_connect(tu_port()) };
    size_t cap = (size_t)BURST_LINES * 4200, have = 0, start = 0;
    char *in = malloc(1 << 20);
    int next = 1;
    pthread_t t;

    b.bytes = malloc(cap);
    ck_assert(b.bytes && in);
    /* Mostly lines of 2 to 4 KiB: a read of 64 KiB holds fewer than the
     * daemon handles in a turn, and leaves bytes in the socket. */
    for (int i = 1; i <= BURST_LINES; i++)
        b.len += (size_t)snprintf(b.bytes + b.len, cap - b.len,
                                  "{\"api\":\"ping\",\"request_id\":%d,\"pad\":\"%*s\"}\n",
                                  i, i % 7 ? 2100 + (i * 37) % 1900 : 1, "");
    ck_assert_int_eq(pthread_create(&t, NULL, send_burst, &b), 0);
    while (next <= BURST_LINES) {
        char *nl;
        ssize_t n;
        struct pollfd p = { .fd = b.fd, .events = POLLIN };

        ck_assert_msg(poll(&p, 1, 10000) == 1, "no answer to request %d within 10 s", next);
        n = recv(b.fd, in + have, (1 << 20) - have, 0);
        ck_assert_msg(n > 0, "closed before the answer to request %d", next);
        have += (size_t)n;
        while ((nl = memchr(in + start, '\n', have - start))) {
            char want[64];
            snprintf(want, sizeof(want), "{\"request_id\":%d,", next);
            ck_assert_msg(strncmp(in + start, want, strlen(want)) == 0,
                          "answer %d is %.80s", next, in + start);
            next++;
            start = (size_t)(nl - in) + 1;
        }
        memmove(in, in + start, have - start);
        have -= start;
        start = 0;
    }
    pthread_join(t, NULL);
    expect_pong(b.fd, 10);
    close(b.fd);
    free(b.bytes);
    free(in);
}
END_TEST

/*
 * What edge-triggered reading must not miss: a request followed at once by
 * the end of the client's stream is answered and the connection closed;
 * half a line then a close is closed; a request after urgent data (which
 * stops a read short of what follows) is answered.
 */
START_TEST(test_server_end_of_stream_and_urgent_data)
{
    int fd = tu_connect(tu_port());
    char lines[100 * 40], *resp;
    size_t len = 0;

    /* Lines and the end of stream in one go: they arrive as one edge. */
    for (int i = 1; i <= 100; i++)
        len += (size_t)snprintf(lines + len, sizeof(lines) - len,
                                "{\"api\":\"ping\",\"request_id\":%d}\n", i);
    ck_assert_int_eq(send(fd, lines, len, MSG_NOSIGNAL), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    for (int i = 1; i <= 100; i++) {
        resp = recv_line_within(fd, 10);
        ck_assert_msg(resp && strstr(resp, "\"pong\":true"), "ping %d before EOF: %s", i, resp);
        free(resp);
    }
    ck_assert_msg(closed_within(fd, 5), "not closed after the client's end of stream");
    close(fd);

    fd = tu_connect(tu_port());
    ck_assert_int_eq(send(fd, "{\"api\":\"pi", 11, MSG_NOSIGNAL), 11);
    shutdown(fd, SHUT_WR);
    ck_assert_msg(closed_within(fd, 5), "not closed after half a line and EOF");
    close(fd);

    fd = tu_connect(tu_port());
    tu_send_line(fd, "{\"api\":\"ping\",\"request_id\":1}");
    ck_assert_int_eq(send(fd, "!", 1, MSG_OOB | MSG_NOSIGNAL), 1);
    tu_send_line(fd, "{\"api\":\"ping\",\"request_id\":2}");
    for (int i = 1; i <= 2; i++) {
        char want[32];
        resp = recv_line_within(fd, 10);
        snprintf(want, sizeof(want), "\"request_id\":%d", i);
        ck_assert_msg(resp && strstr(resp, want), "request %d after urgent data: %s", i, resp);
        free(resp);
    }
    close(fd);
}
END_TEST

static Suite *server_suite(void)
{
    Suite *s = suite_create("server");
    TCase *tc = tcase_create("hostd");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_server_silent_connections_are_closed);
    tcase_add_test(tc, test_server_idle_connections_are_closed);
    tcase_add_test(tc, test_server_non_reader_is_dropped);
    tcase_add_test(tc, test_server_small_request_beside_big_ones);
    tcase_add_test(tc, test_server_thousands_of_connections);
    tcase_add_test(tc, test_server_busy_beyond_max_connections);
    tcase_add_test(tc, test_server_wrong_token_after_good_hello);
    tcase_add_test(tc, test_server_pipelined_burst);
    tcase_add_test(tc, test_server_end_of_stream_and_urgent_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(server_suite());
}

/*
 * bench_load.c - winapi-hostd under load and attack.
 *
 *   bench_load [idle|pipeline|big|attack]...      (all of them by default)
 *
 * Against a running daemon (WINAPI_HOST, WINAPI_PORT; the daemon's PID in
 * WINAPI_HOSTD_PID; buffer files made in WINAPI_BACKING_DIR, which must be
 * on a disk file system for the sparse 16 GiB file):
 *   idle      10,000 connections that said ping once and stay: the daemon's
 *             threads and resident memory, and whether every one was served;
 *   pipeline  64 clients each send 1,000 requests (process, 4 KiB) at once:
 *             every answer counted by request_id (lost, duplicated), rate;
 *   big       round trips of a 4 KiB process and of a 1 MiB checksum while
 *             two checksums of a sparse 16 GiB file run (p50, p99, max);
 *   attack    the same while 4 clients pipeline 1 MiB checksums and never
 *             read (each reconnects when dropped).
 * Prints one "label<TAB>value" line per figure (run-bench-load.sh puts
 * builds side by side).  The sampled phases run SAMPLE_S seconds each.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE_CONNS 10000
#define CLIENTS 64
#define PER_CLIENT 1000
#define ATTACKERS 4
#define SAMPLE_S 5.0
#define BIG_SIZE (16LL << 30)
/* A request that takes longer is counted at this and abandoned. */
#define REQUEST_TIMEOUT_S 30

static int port;
static const char *dir;

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void figure(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void figure(const char *label, const char *fmt, ...)
{
    va_list ap;

    printf("%s\t", label);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static int dial(int rcvbuf)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Lines from one socket, buffered. */
struct reader {
    int fd;
    char buf[65536];
    size_t len;
};

/* The next line (NUL-terminated, without '\n') within timeout_s; NULL if none. */
static char *read_line(struct reader *r, double timeout_s)
{
    double end = now() + timeout_s;

    for (;;) {
        char *nl = memchr(r->buf, '\n', r->len);
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        ssize_t n;
        int left;

        if (nl) {
            static _Thread_local char line[65536];
            size_t l = (size_t)(nl - r->buf);
            memcpy(line, r->buf, l);
            line[l] = '\0';
            memmove(r->buf, nl + 1, r->len - l - 1);
            r->len -= l + 1;
            return line;
        }
        left = (int)((end - now()) * 1000);
        if (left <= 0 || r->len == sizeof(r->buf) || poll(&p, 1, left) != 1)
            return NULL;
        n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
        if (n <= 0)
            return NULL;
        r->len += (size_t)n;
    }
}

static char *request(char *out, size_t outlen, long id, const char *op, const char *name,
                     long long size, const char *params)
{
    snprintf(out, outlen,
             "{\"api\":\"shared_buffer\",\"request_id\":%ld,\"operation\":\"%s\","
             "\"file_path\":\"%s/%s\",\"buffer_size\":%lld,\"buffer_id\":1%s%s}\n",
             id, op, dir, name, size, params ? ",\"params\":" : "", params ? params : "");
    return out;
}

static int make_file(const char *name, long long size, bool sparse)
{
    char path[4096], block[65536];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, size) < 0) {
        fprintf(stderr, "bench_load: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(block, 0x5a, sizeof(block));
    for (long long off = 0; !sparse && off < size; off += (long long)sizeof(block))
        if (pwrite(fd, block, (size_t)(size - off < (long long)sizeof(block) ? size - off
                                                   : (long long)sizeof(block)), off) < 0)
            return -1;
    close(fd);
    return 0;
}

static void remove_file(const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* A field of /proc/PID/status ("Threads", "VmRSS"), or -1. */
static long daemon_status(const char *field)
{
    const char *pid = getenv("WINAPI_HOSTD_PID");
    char path[64], line[256];
    size_t fl = strlen(field);
    long v = -1;
    FILE *fp;

    if (!pid)
        return -1;
    snprintf(path, sizeof(path), "/proc/%s/status", pid);
    fp = fopen(path, "r");
    if (!fp)
        return -1;
    while (fgets(line, sizeof(line), fp))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = atol(line + fl + 1);
            break;
        }
    fclose(fp);
    return v;
}

/* ---- idle ------------------------------------------------------------ */

static int max_sockets(int want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1000;
    if (rl.rlim_cur < (rlim_t)want + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want + 64
                      ? (rlim_t)want + 64 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur >= (rlim_t)want + 64 ? want : (int)rl.rlim_cur - 64;
}

static void bench_idle(void)
{
    static const char ping[] = "{\"api\":\"ping\",\"request_id\":1}\n";
    int n = max_sockets(IDLE_CONNS), open_n = 0, served = 0;
    long rss0 = daemon_status("VmRSS");
    int *fd = calloc((size_t)n, sizeof(*fd));
    struct reader *r = malloc(sizeof(*r));

    if (n < IDLE_CONNS)
        fprintf(stderr, "bench_load: ulimit -n allows only %d connections\n", n);
    for (int i = 0; i < n; i++) {
        fd[i] = dial(0);
        if (fd[i] < 0)
            break;
        open_n++;
        /* A client says something first; then it idles. */
        if (send_all(fd[i], ping, sizeof(ping) - 1) < 0) {
            close(fd[i]);
            fd[i] = -1;
        }
    }
    for (int i = 0; i < open_n; i++) {
        char *line;
        if (fd[i] < 0)
            continue;
        r->fd = fd[i];
        r->len = 0;
        line = read_line(r, 10);
        served += line && strstr(line, "\"pong\":true");
    }
    sleep(1);
    figure("idle connections open", "%d", open_n);
    figure("idle connections served", "%d", served);
    figure("idle: daemon threads", "%ld", daemon_status("Threads"));
    figure("idle: daemon RSS MiB", "%.1f", (double)daemon_status("VmRSS") / 1024);
    figure("idle: daemon RSS MiB before", "%.1f", (double)rss0 / 1024);
    for (int i = 0; i < open_n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(r);
    free(fd);
}

/* ---- pipeline -------------------------------------------------------- */

struct client {
    int index;
    pthread_barrier_t *start;
    unsigned char *seen;            /* per request_id, shared; one client writes its own */
    atomic_int *errors;
    double done_at;
};

/* Send everything while reading what comes back; count the answers by id. */
static void *pipeline_client(void *arg)
{
    struct client *c = arg;
    char *all = malloc(PER_CLIENT * 512), *p = all;
    struct reader *r = malloc(sizeof(*r));
    size_t sent = 0, total;
    int answers = 0;

    for (int k = 0; k < PER_CLIENT; k++)
        p += strlen(request(p, 512, (long)c->index * PER_CLIENT + k, "process",
                            "load.4k", 4096, NULL));
    total = (size_t)(p - all);
    r->fd = dial(0);
    r->len = 0;
    pthread_barrier_wait(c->start);
    while (r->fd >= 0 && answers < PER_CLIENT) {
        struct pollfd pf = { .fd = r->fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
        if (poll(&pf, 1, REQUEST_TIMEOUT_S * 1000) != 1)
            break;
        if (pf.revents & POLLOUT) {
            ssize_t n = send(r->fd, all + sent, total - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
        }
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            char *line;
            ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
            if (n <= 0)
                break;
            r->len += (size_t)n;
            while ((line = read_line(r, 0))) {
                const char *id = strstr(line, "\"request_id\":");
                long v = id ? atol(id + 13) : -1;
                if (!strstr(line, "\"success\"") || v < 0 || v >= (long)CLIENTS * PER_CLIENT)
                    atomic_fetch_add(c->errors, 1);
                else if (c->seen[v] < 255)
                    c->seen[v]++;
                answers++;
            }
        }
    }
    c->done_at = now();
    if (r->fd >= 0)
        close(r->fd);
    free(r);
    free(all);
    return NULL;
}

static void bench_pipeline(void)
{
    static struct client c[CLIENTS];
    pthread_t t[CLIENTS];
    pthread_barrier_t start;
    unsigned char *seen = calloc((size_t)CLIENTS * PER_CLIENT, 1);
    atomic_int errors;
    long lost = 0, dup = 0;
    double t0, end = 0;

    atomic_init(&errors, 0);
    if (make_file("load.4k", 4096, false) < 0)
        return;
    pthread_barrier_init(&start, NULL, CLIENTS + 1);
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (struct client){ .index = i, .start = &start, .seen = seen, .errors = &errors };
        pthread_create(&t[i], NULL, pipeline_client, &c[i]);
    }
    pthread_barrier_wait(&start);
    t0 = now();
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        end = c[i].done_at > end ? c[i].done_at : end;
    }
    for (long i = 0; i < (long)CLIENTS * PER_CLIENT; i++) {
        lost += seen[i] == 0;
        dup += seen[i] > 1 ? seen[i] - 1 : 0;
    }
    figure("pipeline: requests", "%d", CLIENTS * PER_CLIENT);
    figure("pipeline: lost", "%ld", lost);
    figure("pipeline: duplicated", "%ld", dup);
    figure("pipeline: not success", "%d", atomic_load(&errors));
    figure("pipeline: requests/s", "%.0f", CLIENTS * PER_CLIENT / (end - t0));
    pthread_barrier_destroy(&start);
    free(seen);
}

/* ---- round trips beside others --------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Round trips of one request for SAMPLE_S seconds: p50, p99, max in ms. */
static void sample(const char *label, const char *line)
{
    size_t cap = 1 << 20;
    double *t = malloc(cap * sizeof(*t)), end = now() + SAMPLE_S;
    struct reader *r = malloc(sizeof(*r));
    int n = 0, failed = 0;
    char name[128];

    r->fd = dial(0);
    r->len = 0;
    while (r->fd >= 0 && now() < end && (size_t)n < cap) {
        double t0 = now();
        char *resp;
        if (send_all(r->fd, line, strlen(line)) < 0)
            break;
        resp = read_line(r, REQUEST_TIMEOUT_S);
        t[n++] = (now() - t0) * 1e3;
        if (!resp || !strstr(resp, "\"success\"")) {
            if (!failed++)
                fprintf(stderr, "bench_load: %s: %s\n", label, resp ? resp : "no answer");
            if (!resp)
                break;
        }
    }
    if (r->fd >= 0)
        close(r->fd);
    qsort(t, (size_t)n, sizeof(*t), cmp_double);
    snprintf(name, sizeof(name), "%s: round trips", label);
    figure(name, "%d (%d failed)", n, failed);
    if (n > 0) {
        snprintf(name, sizeof(name), "%s: p50 / p99 / max ms", label);
        figure(name, "%.2f / %.2f / %.1f", t[n / 2], t[(int)(0.99 * (n - 1))], t[n - 1]);
    }
    free(r);
    free(t);
}

static void sample_both(const char *when)
{
    char line[8192], label[128];

    snprintf(label, sizeof(label), "%s: process 4 KiB", when);
    sample(label, request(line, sizeof(line), 1, "process", "load.4k", 4096, NULL));
    snprintf(label, sizeof(label), "%s: checksum 1 MiB", when);
    sample(label, request(line, sizeof(line), 2, "checksum", "load.1m", 1 << 20, NULL));
}

static void bench_big(void)
{
    char line[8192];
    int big[2];

    if (make_file("load.4k", 4096, false) < 0 || make_file("load.1m", 1 << 20, false) < 0 ||
        make_file("load.big", BIG_SIZE, true) < 0)
        return;
    for (int i = 0; i < 2; i++) {
        big[i] = dial(0);
        if (big[i] >= 0)
            send_all(big[i], request(line, sizeof(line), 100 + i, "checksum", "load.big",
                                     BIG_SIZE, NULL), strlen(line));
    }
    usleep(500000);
    sample_both("beside 2 checksums of 16 GiB");
    for (int i = 0; i < 2; i++) {
        struct pollfd p = { .fd = big[i], .events = POLLIN };
        if (big[i] >= 0 && poll(&p, 1, 0) == 1)
            fprintf(stderr, "bench_load: a checksum of 16 GiB ended during the samples\n");
        if (big[i] >= 0)
            close(big[i]);
    }
    remove_file("load.big");
}

struct attacker {
    atomic_bool *stop;
    long sent, drops;
};

/* Pipeline 1 MiB checksums, never read; reconnect when dropped. */
static void *attack(void *arg)
{
    struct attacker *a = arg;
    struct timeval second = { .tv_sec = 1 };
    char line[8192], *batch;
    size_t len = strlen(request(line, sizeof(line), 7, "checksum", "load.1m", 1 << 20, NULL));

    batch = malloc(64 * len);
    for (int i = 0; i < 64; i++)
        memcpy(batch + i * len, line, len);
    while (!atomic_load(a->stop)) {
        int fd = dial(4096);
        if (fd < 0) {
            usleep(100000);
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, sizeof(second));
        while (!atomic_load(a->stop)) {
            ssize_t n = send(fd, batch, 64 * len, MSG_NOSIGNAL);
            if (n > 0)
                a->sent += n / (ssize_t)len;
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                a->drops++;
                break;
            }
        }
        close(fd);
    }
    free(batch);
    return NULL;
}

static void bench_attack(void)
{
    struct attacker a[ATTACKERS];
    pthread_t t[ATTACKERS];
    atomic_bool stop;
    long sent = 0, drops = 0;

    if (make_file("load.4k", 4096, false) < 0 || make_file("load.1m", 1 << 20, false) < 0)
        return;
    atomic_init(&stop, false);
    for (int i = 0; i < ATTACKERS; i++) {
        a[i] = (struct attacker){ .stop = &stop };
        pthread_create(&t[i], NULL, attack, &a[i]);
    }
    sleep(1);
    sample_both("beside 4 clients that never read");
    atomic_store(&stop, true);
    for (int i = 0; i < ATTACKERS; i++) {
        pthread_join(t[i], NULL);
        sent += a[i].sent;
        drops += a[i].drops;
    }
    figure("attackers: requests sent, times dropped", "%ld, %ld", sent, drops);
}

int main(int argc, char **argv)
{
    static const struct { const char *name; void (*run)(void); } phases[] = {
        { "idle", bench_idle },
        { "pipeline", bench_pipeline },
        { "big", bench_big },
        { "attack", bench_attack },
    };
    const char *p = getenv("WINAPI_PORT");

    dir = getenv("WINAPI_BACKING_DIR");
    if (!p || !dir) {
        fprintf(stderr, "bench_load: set WINAPI_PORT and WINAPI_BACKING_DIR "
                "(run-bench-load.sh does)\n");
        return 2;
    }
    port = atoi(p);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        bool want = argc == 1;
        for (int k = 1; k < argc; k++)
            want |= strcmp(argv[k], phases[i].name) == 0;
        if (want)
            phases[i].run();
    }
    remove_file("load.4k");
    remove_file("load.1m");
    return 0;
}

/*
 * bench_hostd.c - how close a request gets to the bare costs underneath it.
 *
 * In one run, against a running winapi-hostd (WINAPI_* settings):
 *   - raw loopback TCP ping-pong of a line the size of a request (p50/p99);
 *   - `process` round trip on a 4 KiB buffer through the client API (p50/p99)
 *     and its ratio to the ping-pong;
 *   - process / checksum crc32 / checksum sha256 throughput on a 1 GiB
 *     buffer beside single-thread memory read bandwidth of the same pages.
 * Figures are medians of several rounds; this machine is noisy, so read
 * the ratios, not the absolute times.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "winapi.h"

#define PINGS 20000
#define GIB (1024.0 * 1024 * 1024)

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(int)(p * (n - 1))];
}

/* Read one '\n'-terminated line of known length n into buf. */
static int recv_line(int fd, char *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

struct echo { int lfd; size_t len; };

static void *echo_main(void *arg)
{
    struct echo *e = arg;
    int c = accept(e->lfd, NULL, NULL), one = 1;
    char buf[1024];

    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while (recv_line(c, buf, e->len) == 0)
        if (send(c, buf, e->len, 0) != (ssize_t)e->len)
            break;
    close(c);
    return NULL;
}

/* Round trips of a len-byte line over loopback TCP, in microseconds. */
static void bench_pingpong(size_t len, double *p50, double *p99)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    struct echo e = { .len = len };
    double *t = malloc(PINGS * sizeof(*t));
    char line[1024], back[1024];
    pthread_t th;
    int fd, one = 1;

    memset(line, 'x', len - 1);
    line[len - 1] = '\n';
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.lfd = socket(AF_INET, SOCK_STREAM, 0);
    bind(e.lfd, (struct sockaddr *)&sa, sizeof(sa));
    listen(e.lfd, 1);
    getsockname(e.lfd, (struct sockaddr *)&sa, &sl);
    pthread_create(&th, NULL, echo_main, &e);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (int i = 0; i < PINGS; i++) {
        double t0 = now();
        if (send(fd, line, len, 0) != (ssize_t)len || recv_line(fd, back, len) < 0)
            break;
        t[i] = (now() - t0) * 1e6;
    }
    close(fd);
    pthread_join(th, NULL);
    close(e.lfd);
    *p50 = pct(t, PINGS, 0.5);
    *p99 = pct(t, PINGS, 0.99);
    free(t);
}

/* op NULL: a ping, which the daemon answers without a worker or a file. */
static int bench_roundtrip(winapi_handle_t h, const char *op, double *p50, double *p99)
{
    winapi_shared_buffer_t b;
    double *t = malloc(PINGS * sizeof(*t));
    int rc = -1;

    if (winapi_alloc_shared_buffer(h, 4096, &b) < 0)
        goto out;
    memset(b.data, 1, b.size);
    for (int i = 0; i < PINGS; i++) {
        double t0 = now();
        if ((op ? winapi_process_shared_buffer(h, &b, op)
                : winapi_request_json(h, "{\"api\":\"ping\"}", NULL)) < 0)
            goto out_free;
        t[i] = (now() - t0) * 1e6;
    }
    *p50 = pct(t, PINGS, 0.5);
    *p99 = pct(t, PINGS, 0.99);
    rc = 0;
out_free:
    winapi_free_shared_buffer(&b);
out:
    free(t);
    return rc;
}

/* The same four-way sum the host's `process` runs. */
static uint64_t read_all(const uint64_t *w, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;

    for (size_t i = 0; i + 4 <= n; i += 4) {
        a += w[i];
        b += w[i + 1];
        c += w[i + 2];
        d += w[i + 3];
    }
    return a + b + c + d;
}

static double median_of(double *v, int n)
{
    return pct(v, n, 0.5);
}

#define ROUNDS 5

/* What the host does, done here: map the file afresh, read it, unmap. */
static uint64_t map_and_read(const winapi_shared_buffer_t *b)
{
    void *p = mmap(NULL, b->size, PROT_READ, MAP_SHARED | MAP_POPULATE, b->fd, 0);
    uint64_t s;

    if (p == MAP_FAILED)
        return 0;
    s = read_all(p, b->size / 8);
    munmap(p, b->size);
    return s;
}

static int bench_throughput(winapi_handle_t h, size_t size)
{
    static const struct { const char *label, *op, *params; } ops[] = {
        { "process", "process", NULL },
        { "checksum crc32", "checksum", "{\"algorithm\":\"crc32\"}" },
        { "checksum sha256", "checksum", "{\"algorithm\":\"sha256\"}" },
    };
    double mem[ROUNDS], fresh[ROUNDS], t[3][ROUNDS], lib[2][ROUNDS], membw, freshbw;
    winapi_shared_buffer_t b;
    volatile uint64_t sink = 0;

    if (winapi_alloc_shared_buffer(h, size, &b) < 0)
        return -1;
    for (size_t i = 0; i < size / 8; i++)       /* touch every page first */
        ((uint64_t *)b.data)[i] = i * 0x9e3779b97f4a7c15ull;
    /* Rounds alternate between the targets, so drift hits them alike. */
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now();
        sink += read_all(b.data, size / 8);
        mem[r] = now() - t0;
        t0 = now();
        sink += map_and_read(&b);
        fresh[r] = now() - t0;
        for (int a = 0; a < 2; a++) {
            unsigned char digest[32];
            t0 = now();
            gcry_md_hash_buffer(a ? GCRY_MD_SHA256 : GCRY_MD_CRC32, digest, b.data, size);
            lib[a][r] = now() - t0;
        }
        for (int o = 0; o < 3; o++) {
            winapi_request_t req = { .operation = ops[o].op, .params_json = ops[o].params };
            t0 = now();
            if (winapi_request(h, &b, &req, NULL) < 0) {
                fprintf(stderr, "bench: %s: %s\n", ops[o].label, winapi_last_error());
                winapi_free_shared_buffer(&b);
                return -1;
            }
            t[o][r] = now() - t0;
        }
    }
    (void)sink;
    membw = (double)size / GIB / median_of(mem, ROUNDS);
    freshbw = (double)size / GIB / median_of(fresh, ROUNDS);
    printf("\n%-32s %8s %12s %12s\n", "1 GiB buffer (median of 5)", "GiB/s",
           "vs memory", "vs mmap+read");
    printf("%-32s %8.2f %12.2f %12s\n", "memory read, 1 thread, mapped", membw, 1.0, "");
    printf("%-32s %8.2f %12.2f %12.2f\n", "mmap+read+munmap here (direct)", freshbw,
           freshbw / membw, 1.0);
    for (int o = 0; o < 3; o++) {
        double bw = (double)size / GIB / median_of(t[o], ROUNDS);
        printf("%-32s %8.2f %12.2f %12.2f", ops[o].label, bw, bw / membw, bw / freshbw);
        if (o > 0) {
            double lbw = (double)size / GIB / median_of(lib[o - 1], ROUNDS);
            printf("   libgcrypt here, warm: %.2f GiB/s (%.2f)", lbw, bw / lbw);
        }
        printf("\n");
    }
    winapi_free_shared_buffer(&b);
    return 0;
}

int main(void)
{
    winapi_handle_t h;
    static const char *const ops[] = { NULL, "stat", "process" };
    static const char *const labels[] = {
        "ping, client API", "stat 4 KiB, client API", "process 4 KiB, client API",
    };
    double pp50, pp99, rt50[3], rt99[3];
    /* A request line as the client sends it, about this long. */
    size_t req_len = 220;

    if (!gcry_check_version(GCRYPT_VERSION))
        return 1;
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    if (winapi_open(NULL, &h) < 0) {
        fprintf(stderr, "bench_hostd: %s\n", winapi_last_error());
        return 1;
    }
    bench_pingpong(req_len, &pp50, &pp99);
    for (int i = 0; i < 3; i++)
        if (bench_roundtrip(h, ops[i], &rt50[i], &rt99[i]) < 0) {
            fprintf(stderr, "bench_hostd: round trip: %s\n", winapi_last_error());
            return 1;
        }
    printf("%-28s %10s %10s %10s\n", "latency (20000 round trips)", "p50 us", "p99 us",
           "p50 ratio");
    printf("%-28s %10.1f %10.1f %10.2f\n", "TCP ping-pong, 220 B line", pp50, pp99, 1.0);
    for (int i = 0; i < 3; i++)
        printf("%-28s %10.1f %10.1f %10.2f\n", labels[i], rt50[i], rt99[i], rt50[i] / pp50);
    if (bench_throughput(h, (size_t)1 << 30) < 0)
        return 1;
    winapi_close(h);
    return 0;
}

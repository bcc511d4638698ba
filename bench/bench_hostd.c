/*
 * bench_hostd.c - how close a request gets to the bare costs underneath it.
 *
 *   bench_hostd [latency|throughput|crypt]   (the first two by default)
 *   bench_hostd hosts PORT                    this daemon beside another
 *
 * In one run, against a running winapi-hostd (WINAPI_* settings):
 *   - raw loopback TCP ping-pong of a line the size of a request with a
 *     process of its own (p50/p99);
 *   - `process` round trip on a 4 KiB buffer through the client API (p50/p99)
 *     and its ratio to the ping-pong;
 *   - process / checksum crc32 / checksum sha256 throughput on a 1 GiB
 *     buffer beside single-thread memory read bandwidth of the same pages.
 * The round trips take turns, 1,000 at a time, so that a noisy machine's
 * moods weigh on all of them alike; throughput figures are medians of
 * several rounds.  Read the ratios, not the absolute times.
 *
 * `hosts PORT` compares two daemons serving the same directory, the one
 * of WINAPI_PORT and the one on PORT (run-bench-wine.sh: the POSIX host
 * and winapi-hostd.exe under Wine), in alternate rounds on the same 1 GiB
 * buffer: process and checksums, and round trips of ping, stat and a
 * 4 KiB process; the second's figures over the first's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "stats.h"
#include "winapi.h"

#define PINGS 20000
#define TURNS 20
#define GIB (1024.0 * 1024 * 1024)


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

/*
 * The reference peer: a child process echoing lines of len bytes over
 * loopback TCP.  A process, like the host daemon, not a thread: on a VM,
 * switching between address spaces costs more than switching threads,
 * and a round trip to the daemon pays for it.
 */
struct pingpong {
    pid_t child;
    int fd;
    size_t len;
    char line[1024];
};

static void echo_main(int lfd, size_t len)
{
    int c = accept(lfd, NULL, NULL), one = 1;
    char buf[1024];

    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while (recv_line(c, buf, len) == 0)
        if (send(c, buf, len, 0) != (ssize_t)len)
            break;
    _exit(0);
}

static int pingpong_open(struct pingpong *p, size_t len)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int lfd, one = 1;

    p->len = len;
    p->fd = -1;
    p->child = -1;
    memset(p->line, 'x', len - 1);
    p->line[len - 1] = '\n';
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        goto fail;
    p->child = fork();
    if (p->child < 0)
        goto fail;
    if (p->child == 0)
        echo_main(lfd, len);
    p->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    close(lfd);
    setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
fail:
    if (lfd >= 0)
        close(lfd);
    return -1;
}

static int pingpong_once(struct pingpong *p)
{
    char back[1024];

    if (send(p->fd, p->line, p->len, 0) != (ssize_t)p->len)
        return -1;
    return recv_line(p->fd, back, p->len);
}

/* Also after a failed open: the child ends when the connection does. */
static void pingpong_close(struct pingpong *p)
{
    if (p->fd >= 0)
        close(p->fd);
    if (p->child > 0) {
        if (p->fd < 0)
            kill(p->child, SIGKILL);
        waitpid(p->child, NULL, 0);
    }
}

/*
 * The kinds of round trip, measured in turns of PINGS / TURNS each so that
 * all of them see the same machine: the reference ping-pong, then the
 * client API's ping (answered without a file), stat and process.
 */
enum { PINGPONG, PING, STAT, PROCESS, KINDS };

static int round_trip(int kind, struct pingpong *p, winapi_handle_t h,
                      winapi_shared_buffer_t *b)
{
    switch (kind) {
    case PINGPONG:
        return pingpong_once(p);
    case PING:
        return winapi_request_json(h, "{\"api\":\"ping\"}", NULL);
    case STAT:
        return winapi_process_shared_buffer(h, b, "stat");
    default:
        return winapi_process_shared_buffer(h, b, "process");
    }
}

static int bench_latency(winapi_handle_t h, double p50[KINDS], double p99[KINDS])
{
    /* A request line as the client sends it, about this long. */
    const size_t req_len = 220;
    const int per_turn = PINGS / TURNS;
    struct pingpong p;
    winapi_shared_buffer_t b;
    double *t[KINDS] = { NULL };
    int rc = -1;

    if (winapi_alloc_shared_buffer(h, 4096, &b) < 0)
        return -1;
    memset(b.data, 1, b.size);
    if (pingpong_open(&p, req_len) < 0) {
        perror("bench_hostd: loopback ping-pong");
        goto out;
    }
    for (int k = 0; k < KINDS; k++)
        if (!(t[k] = malloc(PINGS * sizeof(*t[k]))))
            goto out;
    for (int r = 0; r < TURNS; r++)
        for (int k = 0; k < KINDS; k++)
            for (int i = 0; i < per_turn; i++) {
                double t0 = bench_now();
                if (round_trip(k, &p, h, &b) < 0)
                    goto out;
                t[k][r * per_turn + i] = (bench_now() - t0) * 1e6;
            }
    for (int k = 0; k < KINDS; k++) {
        p50[k] = bench_pct(t[k], TURNS * per_turn, 0.5);
        p99[k] = bench_pct(t[k], TURNS * per_turn, 0.99);
    }
    rc = 0;
out:
    for (int k = 0; k < KINDS; k++)
        free(t[k]);
    pingpong_close(&p);
    winapi_free_shared_buffer(&b);
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
    return bench_pct(v, n, 0.5);
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
        double t0 = bench_now();
        sink += read_all(b.data, size / 8);
        mem[r] = bench_now() - t0;
        t0 = bench_now();
        sink += map_and_read(&b);
        fresh[r] = bench_now() - t0;
        for (int a = 0; a < 2; a++) {
            unsigned char digest[32];
            t0 = bench_now();
            gcry_md_hash_buffer(a ? GCRY_MD_SHA256 : GCRY_MD_CRC32, digest, b.data, size);
            lib[a][r] = bench_now() - t0;
        }
        for (int o = 0; o < 3; o++) {
            winapi_request_t req = { .operation = ops[o].op, .params_json = ops[o].params };
            t0 = bench_now();
            if (winapi_request(h, &b, &req, NULL) < 0) {
                fprintf(stderr, "bench: %s: %s\n", ops[o].label, winapi_last_error());
                winapi_free_shared_buffer(&b);
                return -1;
            }
            t[o][r] = bench_now() - t0;
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

/* The tag of data checked without writing it, as the host's first pass does. */
static double gcm_check_here(const void *data, size_t size, const unsigned char *key)
{
    static const unsigned char nonce[12];
    unsigned char tag[16] = { 0 }, scratch[65536];
    gcry_cipher_hd_t hd;
    double t0 = bench_now();

    gcry_cipher_open(&hd, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0);
    gcry_cipher_setkey(hd, key, 32);
    gcry_cipher_setiv(hd, nonce, sizeof(nonce));
    for (size_t off = 0; off < size; off += sizeof(scratch)) {
        size_t n = size - off < sizeof(scratch) ? size - off : sizeof(scratch);
        gcry_cipher_decrypt(hd, scratch, n, (const char *)data + off, n);
    }
    (void)gcry_cipher_checktag(hd, tag, sizeof(tag));
    gcry_cipher_close(hd);
    return bench_now() - t0;
}

/* AES-256-GCM of 1 GiB in this process: what the host's encrypt and decrypt are held to. */
static double gcm_here(void *data, size_t size, const unsigned char *key, bool decrypt)
{
    static const unsigned char nonce[12];
    unsigned char tag[16];
    gcry_cipher_hd_t hd;
    double t0 = bench_now();

    gcry_cipher_open(&hd, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0);
    gcry_cipher_setkey(hd, key, 32);
    gcry_cipher_setiv(hd, nonce, sizeof(nonce));
    if (decrypt) {
        gcry_cipher_decrypt(hd, data, size, NULL, 0);
        (void)gcry_cipher_checktag(hd, tag, sizeof(tag));   /* fails: the cost is the point */
    } else {
        gcry_cipher_encrypt(hd, data, size, NULL, 0);
        gcry_cipher_gettag(hd, tag, sizeof(tag));
    }
    gcry_cipher_close(hd);
    return bench_now() - t0;
}

/* A field of a response's result, copied into out. */
static void result_field(const char *resp, const char *key, char *out, size_t len)
{
    const char *p = strstr(resp, key);

    out[0] = '\0';
    if (p && (p = strchr(p + strlen(key) + 1, '"')))
        snprintf(out, len, "%.*s", (int)strcspn(p + 1, "\""), p + 1);
}

/* encrypt and decrypt of 1 GiB by the host beside libgcrypt here (WINAPI_BENCH_KEY: hex). */
static int bench_crypt(winapi_handle_t h, size_t size)
{
    const char *hex = getenv("WINAPI_BENCH_KEY");
    double host[2][ROUNDS], here[2][ROUNDS], checked[ROUNDS];
    unsigned char key[32];
    winapi_shared_buffer_t b;

    if (!hex || strlen(hex) != 64) {
        fprintf(stderr, "bench_hostd crypt: set WINAPI_BENCH_KEY to the daemon's key in hex\n");
        return -1;
    }
    for (int i = 0; i < 32; i++)
        sscanf(hex + 2 * i, "%2hhx", &key[i]);
    if (winapi_alloc_shared_buffer(h, size, &b) < 0)
        return -1;
    for (size_t i = 0; i < size / 8; i++)
        ((uint64_t *)b.data)[i] = i * 0x9e3779b97f4a7c15ull;
    for (int r = 0; r < ROUNDS; r++) {
        char *resp = NULL, params[160], nonce[32], tag[40];
        winapi_request_t enc = { .operation = "encrypt" }, dec = { .operation = "decrypt" };
        double t0 = bench_now();

        if (winapi_request(h, &b, &enc, &resp) < 0) {
            fprintf(stderr, "bench: encrypt: %s\n", winapi_last_error());
            free(resp);
            winapi_free_shared_buffer(&b);
            return -1;
        }
        host[0][r] = bench_now() - t0;
        result_field(resp, "\"nonce\"", nonce, sizeof(nonce));
        result_field(resp, "\"tag\"", tag, sizeof(tag));
        free(resp);
        snprintf(params, sizeof(params), "{\"nonce\":\"%s\",\"tag\":\"%s\"}", nonce, tag);
        dec.params_json = params;
        t0 = bench_now();
        if (winapi_request(h, &b, &dec, NULL) < 0) {
            fprintf(stderr, "bench: decrypt: %s\n", winapi_last_error());
            winapi_free_shared_buffer(&b);
            return -1;
        }
        host[1][r] = bench_now() - t0;
        here[0][r] = gcm_here(b.data, size, key, false);
        checked[r] = gcm_check_here(b.data, size, key);
        here[1][r] = gcm_here(b.data, size, key, true);     /* back to the plaintext */
    }
    printf("\n%-32s %10s %14s %8s\n", "AES-256-GCM, 1 GiB (median of 5)", "host GiB/s",
           "libgcrypt here", "ratio");
    for (int k = 0; k < 2; k++) {
        double hb = (double)size / GIB / median_of(host[k], ROUNDS);
        double lb = (double)size / GIB / median_of(here[k], ROUNDS);
        printf("%-32s %10.2f %14.2f %8.2f\n", k ? "decrypt (tag checked first)" : "encrypt",
               hb, lb, hb / lb);
    }
    /* The same guarantee here: the tag checked before a byte is written
     * takes a pass of its own, in this process too. */
    {
        double hb = (double)size / GIB / median_of(host[1], ROUNDS);
        double lb = (double)size / GIB / (median_of(checked, ROUNDS) + median_of(here[1], ROUNDS));
        printf("%-32s %10.2f %14.2f %8.2f\n", "  beside check, then decrypt here", hb, lb, hb / lb);
    }
    winapi_free_shared_buffer(&b);
    return 0;
}

#define HOST_OPS 3
#define HOST_RTTS 3
#define HOST_RTT_N 2000

/* Median seconds of one kind of round trip on h, n times. */
static int host_rtt(winapi_handle_t h, winapi_shared_buffer_t *b, int kind, double *out)
{
    double t[HOST_RTT_N];

    for (int i = 0; i < HOST_RTT_N; i++) {
        double t0 = bench_now();
        if (round_trip(kind + PING, NULL, h, b) < 0)
            return -1;
        t[i] = bench_now() - t0;
    }
    *out = median_of(t, HOST_RTT_N);
    return 0;
}

static int bench_hosts(winapi_handle_t a, winapi_handle_t bh, size_t size)
{
    static const struct { const char *label, *op, *params; } ops[HOST_OPS] = {
        { "process 1 GiB", "process", NULL },
        { "checksum crc32 1 GiB", "checksum", "{\"algorithm\":\"crc32\"}" },
        { "checksum sha256 1 GiB", "checksum", "{\"algorithm\":\"sha256\"}" },
    };
    static const char *const rtts[HOST_RTTS] = { "ping", "stat 4 KiB", "process 4 KiB" };
    winapi_handle_t hs[2] = { a, bh };
    double t[2][HOST_OPS][ROUNDS], rt[2][HOST_RTTS][ROUNDS];
    winapi_shared_buffer_t big, small;

    if (winapi_alloc_shared_buffer(a, size, &big) < 0)
        return -1;
    if (winapi_alloc_shared_buffer(a, 4096, &small) < 0) {
        winapi_free_shared_buffer(&big);
        return -1;
    }
    for (size_t i = 0; i < size / 8; i++)
        ((uint64_t *)big.data)[i] = i * 0x9e3779b97f4a7c15ull;
    memset(small.data, 1, small.size);
    /* Each host once first, so that both start from a kept mapping. */
    for (int k = 0; k < 2; k++)
        if (winapi_process_shared_buffer(hs[k], &big, "process") < 0)
            goto fail;
    for (int r = 0; r < ROUNDS; r++)
        for (int k = 0; k < 2; k++) {
            for (int o = 0; o < HOST_OPS; o++) {
                winapi_request_t req = { .operation = ops[o].op,
                                         .params_json = ops[o].params };
                double t0 = bench_now();
                if (winapi_request(hs[k], &big, &req, NULL) < 0)
                    goto fail;
                t[k][o][r] = bench_now() - t0;
            }
            for (int q = 0; q < HOST_RTTS; q++)
                if (host_rtt(hs[k], &small, q, &rt[k][q][r]) < 0)
                    goto fail;
        }
    printf("%-28s %12s %12s %10s\n", "two hosts, median of 5", "first", "second",
           "2nd/1st");
    for (int o = 0; o < HOST_OPS; o++) {
        double g0 = (double)size / GIB / median_of(t[0][o], ROUNDS);
        double g1 = (double)size / GIB / median_of(t[1][o], ROUNDS);
        printf("%-28s %8.2f GiB/s %6.2f GiB/s %9.2f\n", ops[o].label, g0, g1, g1 / g0);
    }
    for (int q = 0; q < HOST_RTTS; q++) {
        double u0 = median_of(rt[0][q], ROUNDS) * 1e6, u1 = median_of(rt[1][q], ROUNDS) * 1e6;
        printf("%-28s %9.0f us %9.0f us %9.2f\n", rtts[q], u0, u1, u1 / u0);
    }
    printf("(throughput: second/first above 1 is faster; round trips: above 1 is slower)\n");
    winapi_free_shared_buffer(&small);
    winapi_free_shared_buffer(&big);
    return 0;
fail:
    fprintf(stderr, "bench_hostd: hosts: %s\n", winapi_last_error());
    winapi_free_shared_buffer(&small);
    winapi_free_shared_buffer(&big);
    return -1;
}

int main(int argc, char **argv)
{
    static const char *const labels[KINDS] = {
        "TCP ping-pong, 220 B line", "ping, client API", "stat 4 KiB, client API",
        "process 4 KiB, client API",
    };
    const char *what = argc > 1 ? argv[1] : "all";
    bool latency = strcmp(what, "all") == 0 || strcmp(what, "latency") == 0;
    bool throughput = strcmp(what, "all") == 0 || strcmp(what, "throughput") == 0;
    bool crypt = strcmp(what, "crypt") == 0;
    winapi_handle_t h;
    double p50[KINDS], p99[KINDS];

    bool hosts = strcmp(what, "hosts") == 0 && argc > 2;

    if (!latency && !throughput && !crypt && !hosts) {
        fprintf(stderr, "usage: bench_hostd [latency|throughput|crypt]\n"
                        "       bench_hostd hosts PORT\n");
        return 2;
    }
    if (!gcry_check_version(GCRYPT_VERSION))
        return 1;
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    if (winapi_open(NULL, &h) < 0) {
        fprintf(stderr, "bench_hostd: %s\n", winapi_last_error());
        return 1;
    }
    if (hosts) {
        winapi_options_t o = { .port = atoi(argv[2]) };
        winapi_handle_t h2;
        int rc;
        if (winapi_open(&o, &h2) < 0) {
            fprintf(stderr, "bench_hostd: %s\n", winapi_last_error());
            return 1;
        }
        rc = bench_hosts(h, h2, (size_t)1 << 30);
        winapi_close(h2);
        winapi_close(h);
        return rc < 0 ? 1 : 0;
    }
    if (latency) {
        if (bench_latency(h, p50, p99) < 0) {
            fprintf(stderr, "bench_hostd: round trip: %s\n", winapi_last_error());
            return 1;
        }
        printf("%-28s %10s %10s %10s\n", "latency (20000 round trips)", "p50 us", "p99 us",
               "p50 ratio");
        for (int k = 0; k < KINDS; k++)
            printf("%-28s %10.1f %10.1f %10.2f\n", labels[k], p50[k], p99[k],
                   p50[k] / p50[PINGPONG]);
    }
    if (throughput && bench_throughput(h, (size_t)1 << 30) < 0)
        return 1;
    if (crypt && bench_crypt(h, (size_t)1 << 30) < 0)
        return 1;
    winapi_close(h);
    return 0;
}

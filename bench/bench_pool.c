/*
 * bench_pool.c - what a buffer pool saves: a 64 MiB buffer ready to use,
 * made fresh (winapi_alloc_shared_buffer, then the first touch of each
 * page, which a fresh buffer pays whenever it is first used, then
 * winapi_free_shared_buffer) beside taken from a pool (winapi_pool_get,
 * winapi_pool_put), zeroed and WINAPI_POOL_DIRTY, in turns; and the same
 * with the whole buffer written once, as a program would fill it.
 * Buffers live in WINAPI_BACKING_DIR; no host is needed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "winapi.h"

#define SIZE ((size_t)64 << 20)
#define ROUNDS 15

static void die(const char *what)
{
    fprintf(stderr, "bench_pool: %s: %s (%s)\n", what, strerror(errno), winapi_last_error());
    exit(1);
}

int main(void)
{
    static double t[3][ROUNDS];
    static const char *const labels[3] = {
        "fresh: alloc, first touch, free", "pool: get (zeroed), put",
        "pool: get (WINAPI_POOL_DIRTY), put",
    };
    winapi_handle_t h;
    winapi_pool_t *pool;
    winapi_shared_buffer_t b;

    if (winapi_open(NULL, &h) < 0 || winapi_pool_open(h, SIZE, &pool) < 0)
        die("open");
    /* The pool's one buffer, made once. */
    if (winapi_pool_get(pool, SIZE, 0, &b) < 0)
        die("pool get");
    winapi_pool_put(pool, &b);
    for (int fill = 0; fill < 2; fill++) {
        for (int r = 0; r < ROUNDS; r++)
            for (int k = 0; k < 3; k++) {
                double t0 = bench_now();
                int rc = k == 0 ? winapi_alloc_shared_buffer(h, SIZE, &b)
                                : winapi_pool_get(pool, SIZE,
                                                  k == 2 ? WINAPI_POOL_DIRTY : 0, &b);
                if (rc < 0)
                    die(labels[k]);
                if (fill)
                    memset(b.data, r + k, b.size);
                else if (k == 0)
                    for (size_t i = 0; i < b.size; i += 4096)
                        ((volatile char *)b.data)[i] = 1;
                if (k == 0)
                    winapi_free_shared_buffer(&b);
                else
                    winapi_pool_put(pool, &b);
                t[k][r] = bench_now() - t0;
            }
        printf("%-38s %9s %9s %9s\n", fill ? "64 MiB, then written whole (ms)"
                                            : "64 MiB buffer, ready to use (ms)",
               "p50", "p99", "speed-up");
        for (int k = 0; k < 3; k++) {
            double p50 = bench_pct(t[k], ROUNDS, 0.5) * 1e3;
            printf("%-38s %9.2f %9.2f %8.1fx\n", labels[k], p50,
                   bench_pct(t[k], ROUNDS, 0.99) * 1e3, bench_pct(t[0], ROUNDS, 0.5) * 1e3 / p50);
        }
    }
    winapi_pool_close(pool);
    winapi_close(h);
    return 0;
}

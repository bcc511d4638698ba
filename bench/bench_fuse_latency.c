/*
 * bench_fuse_latency.c - the latency of setxattr(user.winapi.process) on a
 * 4 KiB buffer in a winapifs mount, beside libwinapi's own round trip for
 * the same operation on a 4 KiB buffer of its own.
 *
 *   bench_fuse_latency FILE [BLOCKS [CALLS]]
 *
 * FILE is created in the mount.  The kinds of call alternate in BLOCKS
 * blocks (default 20) of CALLS calls each (default 250), after a warm-up, so
 * that all see the same machine.  Prints one line, in microseconds:
 *   lib_p50 lib_p99 fuse_p50 fuse_p99 null_p50 null_p99
 * where "null" is getxattr(user.winapi.status): a FUSE round trip that
 * never leaves winapifs, the floor under any request through the mount.
 * The library reads WINAPI_PORT and the rest from the environment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "winapi.h"

#define BUF_SIZE 4096

static double now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double percentile(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    qsort(v, n, sizeof(*v), cmp_double);
    return v[i];
}

static int make_file(const char *path)
{
    char data[BUF_SIZE];
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

    memset(data, 0x5a, sizeof(data));
    if (fd < 0 || write(fd, data, sizeof(data)) != (ssize_t)sizeof(data)) {
        fprintf(stderr, "bench_fuse_latency: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd);
}

static int lib_call(winapi_handle_t h, winapi_shared_buffer_t *b, double *us)
{
    double t0 = now_us();

    if (winapi_process_shared_buffer(h, b, "process") < 0) {
        fprintf(stderr, "bench_fuse_latency: library: %s\n", winapi_last_error());
        return -1;
    }
    *us = now_us() - t0;
    return 0;
}

static int null_call(const char *path, double *us)
{
    char v[64];
    double t0 = now_us();

    if (getxattr(path, "user.winapi.status", v, sizeof(v)) < 0) {
        fprintf(stderr, "bench_fuse_latency: %s: getxattr: %s\n", path, strerror(errno));
        return -1;
    }
    *us = now_us() - t0;
    return 0;
}

static int fuse_call(const char *path, double *us)
{
    double t0 = now_us();

    if (setxattr(path, "user.winapi.process", "process", 7, 0) < 0) {
        fprintf(stderr, "bench_fuse_latency: %s: setxattr: %s\n", path, strerror(errno));
        return -1;
    }
    *us = now_us() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    winapi_shared_buffer_t b;
    winapi_handle_t h = NULL;
    double *lib = NULL, *fs = NULL, *null = NULL, dummy;
    long blocks = argc > 2 ? atol(argv[2]) : 20, calls = argc > 3 ? atol(argv[3]) : 250;
    size_t n = 0, total;
    int ret = 1;

    if (argc < 2 || blocks < 1 || calls < 1) {
        fprintf(stderr, "usage: bench_fuse_latency FILE [BLOCKS [CALLS]]\n");
        return 2;
    }
    total = (size_t)blocks * (size_t)calls;
    lib = malloc(total * sizeof(*lib));
    fs = malloc(total * sizeof(*fs));
    null = malloc(total * sizeof(*null));
    if (!lib || !fs || !null || make_file(argv[1]) < 0)
        goto out1;
    if (winapi_open(NULL, &h) < 0) {
        fprintf(stderr, "bench_fuse_latency: %s\n", winapi_last_error());
        goto out1;
    }
    /* On failure b is zeroed, which winapi_free_shared_buffer() accepts. */
    if (winapi_alloc_shared_buffer(h, BUF_SIZE, &b) < 0) {
        fprintf(stderr, "bench_fuse_latency: %s\n", winapi_last_error());
        goto out2;
    }
    memset(b.data, 0x5a, BUF_SIZE);
    for (int i = 0; i < 200; i++)       /* warm-up: connections, caches */
        if (lib_call(h, &b, &dummy) < 0 || fuse_call(argv[1], &dummy) < 0)
            goto out2;
    for (long blk = 0; blk < blocks; blk++) {
        for (long i = 0; i < calls; i++)
            if (lib_call(h, &b, &lib[n + (size_t)i]) < 0)
                goto out2;
        for (long i = 0; i < calls; i++)
            if (fuse_call(argv[1], &fs[n + (size_t)i]) < 0)
                goto out2;
        for (long i = 0; i < calls; i++)
            if (null_call(argv[1], &null[n + (size_t)i]) < 0)
                goto out2;
        n += (size_t)calls;
    }
    printf("%.1f %.1f %.1f %.1f %.1f %.1f\n",
           percentile(lib, n, 0.5), percentile(lib, n, 0.99),
           percentile(fs, n, 0.5), percentile(fs, n, 0.99),
           percentile(null, n, 0.5), percentile(null, n, 0.99));
    ret = 0;
out2:
    winapi_free_shared_buffer(&b);
    winapi_close(h);
out1:
    free(lib);
    free(fs);
    free(null);
    return ret;
}

/*
 * bench_zstd.c - the host's compress and decompress beside the zstd
 * command, in the same run, on the same 1 GiB (half random, half text in
 * alternate 64 KiB runs, so about half of it compresses):
 *
 *   bench_zstd [LEVEL]        (default 3)
 *
 * Against a running winapi-hostd (WINAPI_* settings), whose C:\temp is
 * WINAPI_BACKING_DIR.  The command runs with --single-thread, as the host
 * compresses in the thread of the request; both read the buffer's file
 * and write a file beside it, empty to start with (the command's -f
 * truncates it; the host would first copy aside what a dest holds, to put
 * it back should the request fail).  Rounds alternate between the two, and the
 * figures are medians: read the ratios, not the absolute rates.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "winapi.h"

#define GIB (1024.0 * 1024 * 1024)
#define ROUNDS 5

extern char **environ;

/* An empty file beside the buffer, for a dest; its path in out. */
static int empty_file(const char *dir, const char *name, char *out, size_t len)
{
    int fd;

    snprintf(out, len, "%s/%s", dir, name);
    fd = open(out, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Seconds the zstd command takes with these arguments, or -1. */
static double run_zstd(char *const argv[])
{
    double t0 = bench_now();
    pid_t pid;
    int status;

    if (posix_spawnp(&pid, "zstd", NULL, NULL, argv, environ) != 0)
        return -1;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return bench_now() - t0;
}

/* Seconds the host takes for op on the file path (size bytes) into dest, or -1. */
static double run_host(winapi_handle_t h, const char *path, uint64_t size, const char *op,
                       const char *dest, int level)
{
    char params[4200];
    winapi_request_t req = { .operation = op, .params_json = params };
    double t0 = bench_now();

    snprintf(params, sizeof(params), "{\"dest\":\"%s\",\"level\":%d}", dest, level);
    if (strcmp(op, "decompress") == 0)
        snprintf(params, sizeof(params), "{\"dest\":\"%s\"}", dest);
    if (winapi_request_path(h, path, size, 1, &req, NULL) < 0) {
        fprintf(stderr, "bench_zstd: %s: %s\n", op, winapi_last_error());
        return -1;
    }
    return bench_now() - t0;
}

static uint64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int main(int argc, char **argv)
{
    int level = argc > 1 ? atoi(argv[1]) : 3;
    size_t size = (size_t)1 << 30;
    char lvl[8], hz[4200], cz[4200], hd[4200], cd[4200];
    double t[4][ROUNDS];
    winapi_handle_t h;
    winapi_shared_buffer_t b;
    const char *dir;
    static const char words[] = "the quick brown fox jumps over the lazy dog, ";
    int rc = 1;

    if (level < 1 || level > 19) {
        fprintf(stderr, "usage: bench_zstd [LEVEL 1-19]\n");
        return 2;
    }
    if (winapi_open(NULL, &h) < 0 || winapi_alloc_shared_buffer(h, size, &b) < 0) {
        fprintf(stderr, "bench_zstd: %s\n", winapi_last_error());
        return 1;
    }
    dir = winapi_backing_dir(h);
    srand(1);
    for (size_t off = 0; off < size; off += 65536) {
        unsigned char *p = (unsigned char *)b.data + off;
        if ((off / 65536) % 2 == 0)
            for (size_t i = 0; i < 65536; i++)
                p[i] = (unsigned char)rand();
        else
            for (size_t i = 0; i < 65536; i++)
                p[i] = (unsigned char)words[i % (sizeof(words) - 1)];
    }
    snprintf(lvl, sizeof(lvl), "-%d", level);
    if (empty_file(dir, "bench-host.zst", hz, sizeof(hz)) < 0 ||
        empty_file(dir, "bench-cmd.zst", cz, sizeof(cz)) < 0 ||
        empty_file(dir, "bench-host.out", hd, sizeof(hd)) < 0 ||
        empty_file(dir, "bench-cmd.out", cd, sizeof(cd)) < 0) {
        perror("bench_zstd: a file beside the buffer");
        goto out;
    }
    for (int r = 0; r < ROUNDS; r++) {
        char *comp[] = { "zstd", "-q", "-f", "--single-thread", lvl, b.file_path, "-o", cz, NULL };
        char *decomp[] = { "zstd", "-q", "-f", "-d", cz, "-o", cd, NULL };
        t[0][r] = truncate(hz, 0) == 0 ? run_host(h, b.file_path, size, "compress", hz, level)
                                       : -1;
        t[1][r] = run_zstd(comp);
        t[2][r] = truncate(hd, 0) == 0 ? run_host(h, hz, file_size(hz), "decompress", hd, level)
                                       : -1;
        t[3][r] = run_zstd(decomp);
        for (int k = 0; k < 4; k++)
            if (t[k][r] < 0) {
                fprintf(stderr, "bench_zstd: %s failed\n", k % 2 ? "the zstd command" : "the host");
                goto out;
            }
    }
    if (file_size(hd) != size || file_size(cd) != size) {
        fprintf(stderr, "bench_zstd: a decompressed file is not the buffer's size\n");
        goto out;
    }
    printf("zstd level %d, 1 GiB half compressible (median of %d)\n", level, ROUNDS);
    printf("%-12s %12s %12s %8s   %s\n", "", "host GiB/s", "zstd GiB/s", "ratio", "frame bytes");
    for (int k = 0; k < 2; k++) {
        double host = size / GIB / bench_pct(t[2 * k], ROUNDS, 0.5);
        double cmd = size / GIB / bench_pct(t[2 * k + 1], ROUNDS, 0.5);
        printf("%-12s %12.3f %12.3f %8.2f", k ? "decompress" : "compress", host, cmd, host / cmd);
        if (k == 0)
            printf("   host %llu, zstd %llu", (unsigned long long)file_size(hz),
                   (unsigned long long)file_size(cz));
        printf("\n");
    }
    rc = 0;
out:
    unlink(hz);
    unlink(cz);
    unlink(hd);
    unlink(cd);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
    return rc;
}

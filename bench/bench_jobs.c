/*
 * bench_jobs.c - what jobs cost and how fast they stop, through libwinapi
 * against a running winapi-hostd (WINAPI_* settings; buffers in
 * WINAPI_BACKING_DIR, which should be on disk: the cancelled checksums run
 * over sparse files of up to 64 GiB).
 *
 *   - accept: submit of a small request (time until the job id is back)
 *     beside a synchronous ping and a synchronous request of the same
 *     size, in turns, p50/p99 and the ratio to ping;
 *   - cancel: a sha256 of a 1, 16 and 64 GiB sparse file, cancelled 200 ms
 *     after it started; time from the cancel until its status is
 *     "cancelled", p50/p99/max;
 *   - in flight: 1,000 jobs submitted at once, then waited for: all done,
 *     none lost, and the time.
 * Read the ratios; absolute times on a shared VM mean little.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"
#include "winapi.h"

#define TURNS 20
#define PER_TURN 100
#define CANCELS 10
#define IN_FLIGHT 1000


static void die(const char *what)
{
    fprintf(stderr, "bench_jobs: %s: %s (%s)\n", what, strerror(errno), winapi_last_error());
    exit(1);
}

/* A sparse file of size bytes in the backing directory; its guest path in path. */
static void sparse(const char *name, uint64_t size, char *path, size_t len)
{
    int fd;

    snprintf(path, len, "%s/%s", getenv("WINAPI_BACKING_DIR"), name);
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        die(path);
    close(fd);
}

static void bench_accept(winapi_handle_t h)
{
    static double ping[TURNS * PER_TURN], sync_rt[TURNS * PER_TURN], accept[TURNS * PER_TURN];
    winapi_request_t sum = { .operation = "checksum" };
    winapi_shared_buffer_t b;
    uint64_t job;
    int n = 0;

    if (winapi_alloc_shared_buffer(h, 4096, &b) < 0)
        die("alloc");
    /* Turns of each, so that the machine's moods weigh on all alike. */
    for (int t = 0; t < TURNS; t++) {
        for (int i = 0; i < PER_TURN; i++) {
            char *resp;
            double t0 = bench_now();
            if (winapi_request_json(h, "{\"api\":\"ping\"}", &resp) < 0)
                die("ping");
            ping[n + i] = bench_now() - t0;
            free(resp);
        }
        for (int i = 0; i < PER_TURN; i++) {
            double t0 = bench_now();
            if (winapi_request(h, &b, &sum, NULL) < 0)
                die("checksum");
            sync_rt[n + i] = bench_now() - t0;
        }
        for (int i = 0; i < PER_TURN; i++) {
            winapi_job_t j;
            double t0 = bench_now();
            if (winapi_submit(h, &b, &sum, &job) < 0)
                die("submit");
            accept[n + i] = bench_now() - t0;
            /* Not timed: the job's end, so that jobs do not pile up. */
            if (winapi_job_wait(h, job, -1, &j) < 0)
                die("wait");
            winapi_job_release(&j);
        }
        n += PER_TURN;
    }
    winapi_free_shared_buffer(&b);
    double p50 = bench_pct(ping, n, 0.5);
    printf("%-40s %10s %10s %8s\n", "round trips (us)", "p50", "p99", "/ ping");
    printf("%-40s %10.1f %10.1f %8.2f\n", "ping, synchronous", p50 * 1e6,
           bench_pct(ping, n, 0.99) * 1e6, 1.0);
    printf("%-40s %10.1f %10.1f %8.2f\n", "checksum 4 KiB, synchronous",
           bench_pct(sync_rt, n, 0.5) * 1e6, bench_pct(sync_rt, n, 0.99) * 1e6, bench_pct(sync_rt, n, 0.5) / p50);
    printf("%-40s %10.1f %10.1f %8.2f\n", "checksum 4 KiB, async: until accepted",
           bench_pct(accept, n, 0.5) * 1e6, bench_pct(accept, n, 0.99) * 1e6, bench_pct(accept, n, 0.5) / p50);
}

static void bench_cancel(winapi_handle_t h)
{
    static const int gib[] = { 1, 16, 64 };
    winapi_request_t sha = { .operation = "checksum", .params_json = "{\"algorithm\":\"sha256\"}" };
    char path[4096];

    printf("%-40s %10s %10s %8s %10s\n", "cancel of a running sha256 (ms)", "p50", "p99", "max",
           "MiB done");
    for (size_t g = 0; g < sizeof(gib) / sizeof(gib[0]); g++) {
        uint64_t size = (uint64_t)gib[g] << 30, done = 0, job;
        double lat[CANCELS];
        char label[64];

        sparse("bench-jobs-cancel", size, path, sizeof(path));
        for (int i = 0; i < CANCELS; i++) {
            winapi_job_t j;
            double t0;

            if (winapi_submit_path(h, path, size, 1, &sha, 1, &job) < 0)
                die("submit");
            usleep(200 * 1000);
            t0 = bench_now();
            if (winapi_job_cancel(h, job, &j) < 0)
                die("cancel");
            while (strcmp(j.state, "cancelled") != 0) {
                winapi_job_release(&j);
                if (winapi_job_status(h, job, &j) < 0)
                    die("status");
            }
            lat[i] = bench_now() - t0;
            done += j.bytes_done;
            winapi_job_release(&j);
        }
        snprintf(label, sizeof(label), "%d GiB", gib[g]);
        double p50 = bench_pct(lat, CANCELS, 0.5), p99 = bench_pct(lat, CANCELS, 0.99);
        printf("%-40s %10.2f %10.2f %8.2f %10.0f\n", label, p50 * 1e3, p99 * 1e3,
               lat[CANCELS - 1] * 1e3, (double)done / CANCELS / (1 << 20));
        unlink(path);
    }
}

static void bench_in_flight(winapi_handle_t h)
{
    static uint64_t jobs[IN_FLIGHT];
    winapi_request_t sum = { .operation = "checksum" };
    winapi_shared_buffer_t b;
    int done = 0, lost = 0;
    double t0;

    if (winapi_alloc_shared_buffer(h, 65536, &b) < 0)
        die("alloc");
    t0 = bench_now();
    for (int i = 0; i < IN_FLIGHT; i++)
        if (winapi_submit(h, &b, &sum, &jobs[i]) < 0)
            die("submit");
    double submitted = bench_now() - t0;
    for (int i = 0; i < IN_FLIGHT; i++) {
        winapi_job_t j;
        if (winapi_job_wait(h, jobs[i], -1, &j) < 0)
            lost++;
        else
            done += strcmp(j.state, "done") == 0 && j.response != NULL;
        winapi_job_release(&j);
    }
    double all = bench_now() - t0;
    winapi_free_shared_buffer(&b);
    printf("%-40s %d submitted in %.1f ms, %d done, %d lost, all ended in %.1f ms\n",
           "1,000 jobs in flight", IN_FLIGHT, submitted * 1e3, done, lost, all * 1e3);
}

int main(void)
{
    winapi_handle_t h;

    if (!getenv("WINAPI_BACKING_DIR")) {
        fprintf(stderr, "bench_jobs: set WINAPI_BACKING_DIR (run-bench-hostd.sh does)\n");
        return 2;
    }
    if (winapi_open(NULL, &h) < 0)
        die("open");
    bench_accept(h);
    bench_cancel(h);
    bench_in_flight(h);
    winapi_close(h);
    return 0;
}

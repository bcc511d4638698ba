/*
 * test_client.c - the seed's test client: allocates 1, 8 and 32 MB shared
 * buffers, fills each with a pattern, has the host process it, verifies
 * the buffer (pattern intact, and the host's CRC-32 equal to our own), and
 * frees it, printing the seed's transcript.  With --pool the buffers come
 * from a buffer pool, and the scenario runs twice: the second round gets
 * the first round's buffers back, zeroed.  Settings come from the WINAPI_*
 * environment variables.  Exits 1, leaving no file behind, on any failure.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <zlib.h>

#include "winapi.h"

static void usage(FILE *out)
{
    fprintf(out,
"Usage: test_client [--shared-only] [--pool]\n"
"Run the shared-buffer scenario (1, 8 and 32 MB buffers) against winapi-hostd.\n"
"Settings: WINAPI_HOST, WINAPI_PORT, WINAPI_TOKEN_FILE, WINAPI_BACKING_DIR,\n"
"WINAPI_AUTOMOUNT_ROOT (see libwinapi(3)).\n"
"\n"
"  --shared-only   the shared-buffer tests only (the only tests there are)\n"
"  --pool          take the buffers from a buffer pool, twice over\n"
"  --help          show this help\n");
}

static void fill_pattern(winapi_shared_buffer_t *b)
{
    unsigned char *p = b->data;

    for (size_t i = 0; i < b->size; i++)
        p[i] = (unsigned char)((i ^ (i >> 8) ^ b->buffer_id) & 0xff);
}

static int pattern_intact(const winapi_shared_buffer_t *b)
{
    const unsigned char *p = b->data;

    for (size_t i = 0; i < b->size; i++)
        if (p[i] != (unsigned char)((i ^ (i >> 8) ^ b->buffer_id) & 0xff))
            return 0;
    return 1;
}

/* The host's CRC-32 of the buffer must equal ours: it read our bytes. */
static int host_saw_our_bytes(winapi_handle_t h, const winapi_shared_buffer_t *b)
{
    winapi_request_t r = { .operation = "checksum", .params_json = "{\"algorithm\":\"crc32\"}" };
    char *resp = NULL, want[9];
    json_object *o = NULL, *res, *sum;
    int ok = 0;

    snprintf(want, sizeof(want), "%08lx",
             (unsigned long)crc32(crc32(0L, Z_NULL, 0), b->data, (uInt)b->size));
    if (winapi_request(h, b, &r, &resp) < 0)
        goto out;
    o = json_tokener_parse(resp);
    ok = o && json_object_object_get_ex(o, "result", &res) &&
         json_object_object_get_ex(res, "checksum", &sum) &&
         strcmp(json_object_get_string(sum), want) == 0;
    if (!ok)
        fprintf(stderr, "  host checksum differs from ours (%s): %s\n", want, resp);
out:
    json_object_put(o);
    free(resp);
    return ok;
}

static int all_zero(const winapi_shared_buffer_t *b)
{
    const unsigned char *p = b->data;

    for (size_t i = 0; i < b->size; i++)
        if (p[i])
            return 0;
    return 1;
}

/* One buffer's scenario; from pool when it is not NULL, and back into it. */
static int test_buffer(winapi_handle_t h, winapi_pool_t *pool, size_t size)
{
    winapi_shared_buffer_t b;
    int got;

    printf("Testing %.2f MB dynamic buffer...\n", (double)size / (1024 * 1024));
    got = pool ? winapi_pool_get(pool, size, 0, &b) : winapi_alloc_shared_buffer(h, size, &b);
    if (got < 0) {
        fprintf(stderr, "❌ Failed to allocate shared buffer: %s\n", winapi_last_error());
        return -1;
    }
    printf("✅ Allocated shared buffer: %s (%zu bytes)\n", b.file_path, b.size);
    if (pool && !all_zero(&b)) {
        fprintf(stderr, "❌ Pooled buffer not zeroed: %s\n", b.file_path);
        goto fail;
    }
    printf("  Filling buffer with test pattern...\n");
    fill_pattern(&b);
    printf("  Sending to host for processing...\n");
    if (winapi_process_shared_buffer(h, &b, "process") < 0) {
        fprintf(stderr, "❌ Host failed to process %s: %s\n", b.file_path,
                winapi_last_error());
        goto fail;
    }
    printf("✅ Host processed shared buffer: %s\n", b.file_path);
    printf("  Verifying buffer integrity...\n");
    if (!pattern_intact(&b) || !host_saw_our_bytes(h, &b)) {
        fprintf(stderr, "❌ Buffer integrity check failed: %s\n", b.file_path);
        goto fail;
    }
    printf("  ✅ Buffer integrity verified\n");
    printf("✅ Cleaned up shared buffer: %s\n", b.file_path);
    if (pool)
        winapi_pool_put(pool, &b);
    else
        winapi_free_shared_buffer(&b);
    printf("  ✅ Buffer cleaned up\n\n");
    return 0;
fail:
    winapi_free_shared_buffer(&b);
    return -1;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = { 1 << 20, 8 << 20, 32 << 20 };
    winapi_handle_t h;
    winapi_pool_t *pool = NULL;
    int rc = EXIT_SUCCESS, rounds = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return EXIT_SUCCESS;
        }
        if (strcmp(argv[i], "--pool") == 0) {
            rounds = 2;
            continue;
        }
        if (strcmp(argv[i], "--shared-only") != 0) {
            fprintf(stderr, "test_client: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (winapi_open(NULL, &h) < 0) {
        fprintf(stderr, "test_client: %s\n", winapi_last_error());
        return EXIT_FAILURE;
    }
    /* Room for all three buffers: the second round gets them back. */
    if (rounds == 2 && winapi_pool_open(h, 64 << 20, &pool) < 0) {
        fprintf(stderr, "test_client: %s\n", strerror(errno));
        winapi_close(h);
        return EXIT_FAILURE;
    }
    printf("=== Dynamic Shared Buffer Test ===\n");
    for (int r = 0; r < rounds && rc == EXIT_SUCCESS; r++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && rc == EXIT_SUCCESS; i++)
            if (test_buffer(h, pool, sizes[i]) < 0)
                rc = EXIT_FAILURE;
    winapi_pool_close(pool);
    if (rc == EXIT_SUCCESS)
        printf("Dynamic shared buffer tests completed successfully!\n");
    else
        fprintf(stderr, "Dynamic shared buffer tests FAILED\n");
    winapi_close(h);
    return rc;
}

/*
 * fuzz_request.c - the host daemon's request handling (hostd/request.c,
 * ops.c, conf.c's config_locate, plat_posix.c's safe open and mapping)
 * against any request line, on real files.
 *
 * At start a directory stands for C:\ (--drive C=DIR, allowed root
 * C:\temp) with what a hostile client would aim at: files of sizes 0, 1,
 * 4097 and 64 KiB, one with a second hard link, a symlink to a file and
 * one out of the root, a directory, a FIFO, a file outside the allowed
 * root.  The guest's automount root is /winapifuzz/ (it need not exist:
 * guest paths are only translated), so the seeds can name files as
 * /winapifuzz/c/temp/f4097 or C:\temp\f4097.
 *
 * Each input is parsed as the daemon parses a line; a shared_buffer
 * request is then carried out in steps of a size the input picks, exactly
 * as the workers do, and its answer checked: one valid UTF-8 JSON line
 * with the request's id, bytes_processed equal to the range on success.
 * The FIFO is refused without being opened (else the fuzzer would hang),
 * and nothing outside the allowed root is ever written: its file is
 * checked after every input.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "ops.h"
#include "ops_crypt.h"
#include "plat.h"
#include "request.h"

static struct hostd_config cfg;
static char dir[64], secret[128];

static void make_file(const char *name, size_t size, unsigned seed)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "%s/c/temp/%s", dir, name);
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        abort();
    for (size_t i = 0; i < size; i++) {
        unsigned char b = (unsigned char)(i * 31 + seed);
        if (write(fd, &b, 1) != 1)
            abort();
    }
    close(fd);
}

static void at(const char *rel, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", dir, rel);
}

static void make_tree(void)
{
    char a[256], b[256];

    strcpy(dir, "/tmp/winapi-fuzz-request.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    at("c", a, sizeof(a));
    mkdir(a, 0700);
    at("c/temp", a, sizeof(a));
    mkdir(a, 0700);
    at("c/temp/d", a, sizeof(a));
    mkdir(a, 0700);
    make_file("f0", 0, 1);
    make_file("f1", 1, 2);
    make_file("f4097", 4097, 3);
    make_file("f65536", 65536, 4);
    make_file("d/inner", 100, 5);
    make_file("h1", 10, 6);
    at("c/temp/h1", a, sizeof(a));
    at("c/temp/h2", b, sizeof(b));
    if (link(a, b) < 0)
        abort();
    at("c/temp/link", a, sizeof(a));
    if (symlink("f1", a) < 0)
        abort();
    at("c/temp/escape", a, sizeof(a));
    if (symlink("../secret", a) < 0)
        abort();
    at("c/temp/pipe", a, sizeof(a));
    if (mkfifo(a, 0600) < 0)
        abort();
    at("c/secret", secret, sizeof(secret));
    snprintf(b, sizeof(b), "%s", secret);
    {
        int fd = open(b, O_CREAT | O_WRONLY, 0600);
        if (fd < 0 || write(fd, "secret", 6) != 6)
            abort();
        close(fd);
    }
}

/* Remove the tree at exit (libFuzzer exits through exit()). */
static void remove_tree(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_request: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char drive[128], err[256];
    char *args[] = { "winapi-hostd", "--drive", drive, "--automount-root", "/winapifuzz",
                     "--allow", "C:\\temp", NULL };
    sigset_t stop;

    (void)argc;
    (void)argv;
    make_tree();
    atexit(remove_tree);
    snprintf(drive, sizeof(drive), "C=%s/c", dir);
    if (plat_init(err, sizeof(err)) < 0 || ops_init() < 0 ||
        config_parse(&cfg, 7, args) != 0) {
        fprintf(stderr, "fuzz_request: setup failed: %s\n", err);
        abort();
    }
    /* encrypt and decrypt exist only with a key: one, so that they are fuzzed too. */
    crypt_set_key((const unsigned char *)"0123456789abcdef0123456789abcdef");
    /* plat_init blocks these for the daemon's own wait; libFuzzer wants them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
    return 0;
}

/* The file outside the allowed root still holds what it held. */
static void check_secret(void)
{
    char buf[16];
    int fd = open(secret, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;

    FUZZ_CHECK(n == 6 && memcmp(buf, "secret", 6) == 0, "the file outside the root changed");
    close(fd);
}

static void run(wp_request *req, uint64_t step)
{
    bool has_id = req->has_request_id;
    uint64_t id = req->request_id, length = req->length;
    struct request *r = request_new(&cfg, NULL, req, "fuzz");
    char *line, *bytes;
    json_object *o;
    int steps = 0;

    if (!r) {
        wp_request_release(req);
        return;
    }
    while (!request_step(r, step))
        FUZZ_CHECK(++steps < 1000000, "a request that never ends");
    line = request_answer(r);
    fuzz_check_answer(line, has_id, id);
    if (request_succeeded(r)) {
        unsigned long long processed;
        o = json_tokener_parse(line);
        bytes = strstr(line, "\"bytes_processed\":");
        FUZZ_CHECK(o && bytes, "success without bytes_processed: %s", line);
        processed = strtoull(bytes + 18, NULL, 10);
        /* The whole range, or nothing for stat (which maps nothing). */
        FUZZ_CHECK(processed == length || processed == 0, "bytes_processed %llu of %llu: %s",
                   processed, (unsigned long long)length, line);
        if (processed > 0)
            FUZZ_CHECK(request_done(r) == request_length(r), "done %llu of %llu",
                       (unsigned long long)request_done(r),
                       (unsigned long long)request_length(r));
        json_object_put(o);
    }
    free(line);
    request_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    wp_request req;
    uint64_t step;
    wp_code rc;

    if (size < 1)
        return 0;
    /* The first byte: the step size, as a slice of the scheduler would take. */
    step = (uint64_t)REQUEST_STEP_ALIGN << (data[0] % 6);
    rc = wp_request_parse((const char *)data + 1, size - 1, &req, err, sizeof(err));
    fuzz_check_reason(err, sizeof(err));
    if (rc == WP_OK && req.api == WP_API_SHARED_BUFFER) {
        (void)request_is_quick(&req);
        (void)request_work(&req);
        run(&req, step);        /* takes req */
    } else {
        wp_request_release(&req);
    }
    check_secret();
    return 0;
}

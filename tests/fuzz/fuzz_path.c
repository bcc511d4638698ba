/*
 * fuzz_path.c - guest <-> host path translation (protocol/wp_path.c)
 * against any bytes.
 *
 * The first byte picks the size of the output and error buffers (so that
 * short ones are tried too: each is allocated at exactly that size, for
 * AddressSanitizer to see any overrun); the rest is the path.  Promises
 * checked: a failure says why and sets errno to EINVAL or ENAMETOOLONG; a
 * host path that passes is canonical (upper-case drive, '\' separators, no
 * trailing separator but a drive root's, shorter than MAX_PATH) and
 * canonicalising it again changes nothing; a translation goes back to
 * where it came from; a file's path never names a directory.
 */
#include "config.h"

#include <errno.h>

#include "fuzz.h"
#include "wp_path.h"

#define ROOT "/mnt/"

/*
 * A failure: errno, and a reason that fits (and is UTF-8 when the path
 * was: a reason cut short never ends inside a character).
 */
static void check_failed(const char *what, const char *in, const char *err, size_t errlen)
{
    FUZZ_CHECK(errno == EINVAL || errno == ENAMETOOLONG, "%s(%s): errno %d", what, in, errno);
    if (errlen == 0)
        return;
    FUZZ_CHECK(strnlen(err, errlen) < errlen, "%s(%s): reason not terminated", what, in);
    FUZZ_CHECK(err[0] != '\0' || errlen == 1, "%s(%s): no reason", what, in);
    if (wp_utf8_valid(in, strlen(in)))
        fuzz_check_reason(err, errlen);
}

static void check_canonical(const char *h)
{
    size_t n = strlen(h);

    FUZZ_CHECK(n >= 3 && n < WP_HOST_PATH_MAX, "length %zu: %s", n, h);
    FUZZ_CHECK(h[0] >= 'A' && h[0] <= 'Z' && h[1] == ':' && h[2] == '\\', "not X:\\: %s", h);
    FUZZ_CHECK(!strchr(h, '/'), "a '/' in %s", h);
    FUZZ_CHECK(n == 3 || h[n - 1] != '\\', "trailing separator: %s", h);
    FUZZ_CHECK(!strstr(h, "\\\\"), "empty component: %s", h);
}

/* Host paths: canonical form, idempotence, and back and forth to the guest. */
static void host(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    char again[WP_HOST_PATH_MAX], guest[WP_GUEST_PATH_MAX], back[WP_HOST_PATH_MAX], e[256];
    int file;

    if (wp_path_host_canon(in, out, outlen, err, errlen) < 0) {
        check_failed("host_canon", in, err, errlen);
        /* Refused for itself, not for a short buffer: no file's path either. */
        if (wp_path_host_canon(in, again, sizeof(again), e, sizeof(e)) < 0)
            FUZZ_CHECK(wp_path_host_file_canon(in, again, sizeof(again), e, sizeof(e)) < 0,
                       "a file's path but no path: %s", in);
        return;
    }
    check_canonical(out);
    FUZZ_CHECK(wp_path_host_canon(out, again, sizeof(again), e, sizeof(e)) == 0 &&
               strcmp(out, again) == 0, "not idempotent: %s -> %s -> %s", in, out, again);
    FUZZ_CHECK(wp_path_host_to_guest(out, ROOT, guest, sizeof(guest), e, sizeof(e)) == 0,
               "%s does not translate: %s", out, e);
    FUZZ_CHECK(wp_path_guest_to_host(guest, ROOT, back, sizeof(back), e, sizeof(e)) == 0 &&
               strcmp(back, out) == 0, "%s -> %s -> %s", out, guest, back);
    file = wp_path_host_file_canon(in, again, sizeof(again), e, sizeof(e));
    if (file == 0)
        FUZZ_CHECK(strcmp(again, out) == 0 && strlen(out) > 3, "file %s -> %s", in, again);
    else
        FUZZ_CHECK(strchr("\\/", in[strlen(in) - 1]) || strlen(out) == 3,
                   "a file's path refused: %s: %s", in, e);
}

/* Guest paths: what translates is canonical and translates back. */
static void guest(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    char back[WP_GUEST_PATH_MAX], again[WP_HOST_PATH_MAX], e[256];

    if (wp_path_guest_to_host(in, ROOT, out, outlen, err, errlen) < 0) {
        check_failed("guest_to_host", in, err, errlen);
        return;
    }
    check_canonical(out);
    FUZZ_CHECK(wp_path_host_to_guest(out, ROOT, back, sizeof(back), e, sizeof(e)) == 0,
               "%s does not go back: %s", out, e);
    FUZZ_CHECK(wp_path_guest_to_host(back, ROOT, again, sizeof(again), e, sizeof(e)) == 0 &&
               strcmp(again, out) == 0, "%s -> %s -> %s -> %s", in, out, back, again);
    if (wp_path_guest_file_to_host(in, ROOT, again, sizeof(again), e, sizeof(e)) == 0)
        FUZZ_CHECK(strcmp(again, out) == 0 && in[strlen(in) - 1] != '/', "file %s", in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t outlen, errlen;
    char *in, *out, *err, *guest_out;

    if (size < 1)
        return 0;
    outlen = (data[0] & 0x0f) ? (size_t)(data[0] & 0x0f) * 20 : WP_HOST_PATH_MAX;
    errlen = (size_t)(data[0] >> 4) * 3;
    in = fuzz_string(data + 1, size - 1);
    out = malloc(outlen);
    err = malloc(errlen ? errlen : 1);
    guest_out = malloc(outlen);
    if (!out || !err || !guest_out)
        abort();
    host(in, out, outlen, err, errlen);
    guest(in, out, outlen, err, errlen);
    if (wp_path_host_to_guest(in, ROOT, guest_out, outlen, err, errlen) < 0)
        check_failed("host_to_guest", in, err, errlen);
    if (wp_path_name_ok((const char *)data + 1, size - 1, err, errlen) < 0)
        check_failed("name_ok", in, err, errlen);
    free(guest_out);
    free(err);
    free(out);
    free(in);
    return 0;
}

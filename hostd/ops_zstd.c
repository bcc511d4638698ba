/*
 * ops_zstd.c - compress and decompress: a zstd frame of the range into
 * params.dest, or the zstd frames in the range decoded into it (SPEC,
 * "Compression and encryption").  libzstd's streaming API, one thread, a
 * part of the range per run(), so progress and cancel work as for every
 * operation.
 *
 * dest is checked and opened as the request's own file is
 * (request_open_dest), written from its start and set to the exact size
 * of the output at the end.  A request that does not get to its end (a
 * frame that is not valid zstd, a cancel, a failed write) leaves dest as
 * it was: what it held is copied to a temporary file of the host's first,
 * if it held anything, and put back.  compress writes frames with a
 * checksum; decompress checks the checksum of a frame that has one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "log.h"
#include "ops.h"
#include "request.h"

#define LEVEL_DEFAULT 3
#define LEVEL_MAX 19
#define OUT_BYTES (1u << 20)
#define DEST_CHARS 4096

struct zst {
    ZSTD_CCtx *cc;              /* compress */
    ZSTD_DCtx *dc;              /* decompress */
    char dest_path[DEST_CHARS];
    plat_file *dest;            /* open from the first run() on */
    plat_file *backup;          /* what dest held, if anything */
    uint64_t old_size;
    bool touched;               /* dest written or resized: put it back on failure */
    uint64_t written;           /* bytes of output in dest */
    size_t frame_left;          /* decompress: the last call's hint; 0 at a frame's end */
    unsigned char *out;
};

static int fail(struct winapi_plugin_call *c, enum winapi_plugin_error code, const char *msg)
{
    c->set_error(c, code, msg);
    return -1;
}

static void zst_free(struct zst *s)
{
    ZSTD_freeCCtx(s->cc);
    ZSTD_freeDCtx(s->dc);
    plat_file_close(s->dest);
    plat_file_close(s->backup);
    free(s->out);
    free(s);
}

/* The state and params.dest (and level), for either operation. */
static int start(struct winapi_plugin_call *c, bool compress)
{
    struct zst *s = calloc(1, sizeof(*s));
    json_object *params = s ? op_params(c) : NULL, *v;
    int level = LEVEL_DEFAULT;
    char err[128];

    if (!s)
        return fail(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
    if (!params) {
        free(s);
        return -1;      /* op_params() said why */
    }
    if (!json_object_object_get_ex(params, "dest", &v) ||
        (size_t)json_object_get_string_len(v) >= sizeof(s->dest_path) ||
        json_object_get_string_len(v) == 0) {
        json_object_put(params);
        free(s);
        return fail(c, WINAPI_PLUGIN_BAD_REQUEST, compress
                    ? "compress needs params.dest: the file to write the frame into"
                    : "decompress needs params.dest: the file to write the data into");
    }
    strcpy(s->dest_path, json_object_get_string(v));
    if (compress && json_object_object_get_ex(params, "level", &v))
        level = (int)json_object_get_int64(v);
    json_object_put(params);
    if (level < 1 || level > LEVEL_MAX) {
        free(s);
        snprintf(err, sizeof(err), "params.level must be from 1 to %d", LEVEL_MAX);
        return fail(c, WINAPI_PLUGIN_BAD_REQUEST, err);
    }
    s->out = malloc(OUT_BYTES);
    if (compress) {
        s->cc = ZSTD_createCCtx();
        if (s->cc && (ZSTD_isError(ZSTD_CCtx_setParameter(s->cc, ZSTD_c_compressionLevel, level)) ||
                      ZSTD_isError(ZSTD_CCtx_setParameter(s->cc, ZSTD_c_checksumFlag, 1)) ||
                      ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(s->cc, c->range_length)))) {
            zst_free(s);
            return fail(c, WINAPI_PLUGIN_INTERNAL, "cannot set up zstd");
        }
    } else {
        s->dc = ZSTD_createDCtx();
    }
    if (!s->out || (compress ? !s->cc : !s->dc)) {
        zst_free(s);
        return fail(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
    }
    c->state = s;
    return 0;
}

static int start_compress(struct winapi_plugin_call *c)
{
    return start(c, true);
}

static int start_decompress(struct winapi_plugin_call *c)
{
    return start(c, false);
}

/* Copy n bytes from one file to another, a buffer at a time; c, if given,
 * may cancel it (WP_CANCELLED). */
static wp_code copy(struct winapi_plugin_call *c, plat_file *from, plat_file *to, uint64_t n,
                    unsigned char *buf, char *err, size_t errlen)
{
    for (uint64_t off = 0; off < n;) {
        if (c && c->cancelled(c)) {
            snprintf(err, errlen, "cancelled");
            return WP_CANCELLED;
        }
        size_t want = n - off < OUT_BYTES ? (size_t)(n - off) : OUT_BYTES, got;
        wp_code rc = plat_file_read(from, off, buf, want, &got, err, errlen);
        if (rc == WP_OK && got == 0) {
            snprintf(err, errlen, "the file ended early");
            rc = WP_IO_ERROR;
        }
        if (rc == WP_OK)
            rc = plat_file_write(to, off, buf, got, err, errlen);
        if (rc != WP_OK)
            return rc;
        off += got;
    }
    return WP_OK;
}

/* The first run(): dest opened, and what it holds kept for putting back. */
static int open_dest(struct winapi_plugin_call *c, struct zst *s)
{
    char err[1024], why[512];
    wp_code rc = request_open_dest(c, s->dest_path, &s->dest, &s->old_size, err, sizeof(err));

    if (rc != WP_OK) {
        /* not_found, path_not_allowed, forbidden... as for the request's file */
        request_error(c, rc, err);
        return -1;
    }
    if (s->old_size == 0)
        return 0;
    rc = plat_temp_open(&s->backup, why, sizeof(why));
    if (rc == WP_OK)
        rc = copy(c, s->dest, s->backup, s->old_size, s->out, why, sizeof(why));
    if (rc == WP_CANCELLED)
        return -1;      /* the host ends it as cancelled */
    if (rc != WP_OK) {
        snprintf(err, sizeof(err), "cannot keep what dest held, to put it back on failure: %s",
                 why);
        return fail(c, WINAPI_PLUGIN_IO_ERROR, err);
    }
    return 0;
}

/* Output in s->out, n bytes, to dest. */
static int put(struct winapi_plugin_call *c, struct zst *s, size_t n)
{
    char why[512], err[600];

    if (n == 0)
        return 0;
    s->touched = true;
    if (plat_file_write(s->dest, s->written, s->out, n, why, sizeof(why)) != WP_OK) {
        snprintf(err, sizeof(err), "dest: %s", why);
        return fail(c, WINAPI_PLUGIN_IO_ERROR, err);
    }
    s->written += n;
    return 0;
}

/* The output done: dest cut to it, its size in the result. */
static int end(struct winapi_plugin_call *c, struct zst *s)
{
    char why[512], err[600], json[64];

    s->touched = true;
    if (plat_file_resize(s->dest, s->written, why, sizeof(why)) != WP_OK) {
        snprintf(err, sizeof(err), "dest: %s", why);
        return fail(c, WINAPI_PLUGIN_IO_ERROR, err);
    }
    snprintf(json, sizeof(json), "{\"dest_size\":%llu}", (unsigned long long)s->written);
    if (c->set_result(c, json) < 0)
        return fail(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
    return 0;
}

static int run_compress(struct winapi_plugin_call *c)
{
    struct zst *s = c->state;
    bool last = c->offset + c->length == c->range_length;
    ZSTD_inBuffer in = { c->data, (size_t)c->length, 0 };
    size_t left;
    char err[256];

    if (c->offset == 0 && open_dest(c, s) < 0)
        return -1;
    do {
        ZSTD_outBuffer out = { s->out, OUT_BYTES, 0 };
        left = ZSTD_compressStream2(s->cc, &out, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left)) {
            snprintf(err, sizeof(err), "zstd: %s", ZSTD_getErrorName(left));
            return fail(c, WINAPI_PLUGIN_INTERNAL, err);
        }
        if (put(c, s, out.pos) < 0)
            return -1;
    } while (last ? left != 0 : in.pos < in.size);
    return last ? end(c, s) : 0;
}

static int run_decompress(struct winapi_plugin_call *c)
{
    struct zst *s = c->state;
    bool last = c->offset + c->length == c->range_length, full;
    ZSTD_inBuffer in = { c->data, (size_t)c->length, 0 };
    char err[256];

    if (c->offset == 0 && open_dest(c, s) < 0)
        return -1;
    if (c->offset == 0)
        s->frame_left = 1;      /* no frame yet: an empty range is not one */
    do {
        ZSTD_outBuffer out = { s->out, OUT_BYTES, 0 };
        size_t r = ZSTD_decompressStream(s->dc, &out, &in);
        if (ZSTD_isError(r)) {
            snprintf(err, sizeof(err), "not a valid zstd frame at byte %llu of the range: %s",
                     (unsigned long long)(c->offset + in.pos), ZSTD_getErrorName(r));
            return fail(c, WINAPI_PLUGIN_DATA_ERROR, err);
        }
        s->frame_left = r;
        if (put(c, s, out.pos) < 0)
            return -1;
        /* A full buffer may leave output behind in zstd, unless the frame
         * just ended (0): call again.  A part of a few bytes can decode to
         * gigabytes: a cancel is looked at every buffer. */
        full = out.pos == out.size && r != 0;
        if (full && c->cancelled(c))
            return -1;
    } while (in.pos < in.size || full);
    if (!last)
        return 0;
    if (s->frame_left != 0)
        return fail(c, WINAPI_PLUGIN_DATA_ERROR, c->range_length == 0
                    ? "an empty range holds no zstd frame"
                    : "the zstd frame is cut short");
    return end(c, s);
}

/* Put dest back as it was (a request that did not get to its end). */
static void restore(struct zst *s)
{
    char why[512], why2[512];
    /* The bytes first: a size Windows refuses to set (a view of dest in
     * use) must not keep the new output in place of the old. */
    wp_code rc = s->backup ? copy(NULL, s->backup, s->dest, s->old_size, s->out, why,
                                  sizeof(why)) : WP_OK;
    wp_code rc2 = plat_file_resize(s->dest, s->old_size, why2, sizeof(why2));

    if (rc != WP_OK || rc2 != WP_OK)
        log_warn("dest %s could not be put back as it was: %s", s->dest_path,
                 rc != WP_OK ? why : why2);
}

static void finish(struct winapi_plugin_call *c, int done)
{
    struct zst *s = c->state;

    if (!done && s->touched)
        restore(s);
    zst_free(s);
    c->state = NULL;
}

const struct winapi_plugin op_compress = {
    .abi = WINAPI_PLUGIN_ABI, .name = "compress", .access = WINAPI_PLUGIN_READ,
    .description = "a zstd frame of the range, written into params.dest",
    .start = start_compress, .run = run_compress, .finish = finish,
};

const struct winapi_plugin op_decompress = {
    .abi = WINAPI_PLUGIN_ABI, .name = "decompress", .access = WINAPI_PLUGIN_READ,
    .description = "the zstd frames of the range, decoded into params.dest",
    .start = start_decompress, .run = run_decompress, .finish = finish,
};

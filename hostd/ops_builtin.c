/*
 * ops_builtin.c - process, checksum, fill and stat, written against
 * <winapi/plugin.h> like any plugin.
 *
 * Checksums come from libgcrypt, which picks the CPU's CRC and SHA
 * instructions where it has them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>

#include "ops.h"
#include "wp_utf8.h"

json_object *op_params(struct winapi_plugin_call *c)
{
    json_object *o = json_tokener_parse(c->params);

    /* The host made the text from an object: only memory can fail. */
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        c->set_error(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
        return NULL;
    }
    return o;
}

/*
 * An 8-byte load from any address: a range may start at an odd offset, and
 * a misaligned uint64_t load is undefined behaviour.  memcpy of a constant
 * size compiles to the same single load.
 */
static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/*
 * Read every byte.  Four independent sums keep the loads in flight; the
 * result is stored so the compiler cannot drop the loop.
 */
static int run_process(struct winapi_plugin_call *c)
{
    const unsigned char *p = c->data;
    size_t n = (size_t)(c->length / 8), i;
    uint64_t a = 0, b = 0, d = 0, e = 0;

    /* An empty range has no mapping: data is NULL, and NULL + 0 is undefined too. */
    if (c->length == 0)
        return 0;
    for (i = 0; i + 4 <= n; i += 4) {
        a += load64(p + 8 * i);
        b += load64(p + 8 * (i + 1));
        d += load64(p + 8 * (i + 2));
        e += load64(p + 8 * (i + 3));
    }
    for (; i < n; i++)
        a += load64(p + 8 * i);
    for (i = n * 8; i < c->length; i++)
        a += p[i];
    /* Tell the compiler the sum is used, so the loads stay. */
    __asm__ volatile("" : : "r"(a + b + d + e));
    return 0;
}

const struct winapi_plugin op_process = {
    .abi = WINAPI_PLUGIN_ABI, .name = "process", .access = WINAPI_PLUGIN_READ,
    .description = "read every byte of the range",
    .run = run_process,
};

static const struct {
    const char *name;
    int algo;
} algorithms[] = {
    { "crc32", GCRY_MD_CRC32 },
    { "sha256", GCRY_MD_SHA256 },
};

struct checksum {
    int algorithm;              /* in algorithms[] */
    gcry_md_hd_t md;
};

static int start_checksum(struct winapi_plugin_call *c)
{
    json_object *params = op_params(c), *v;
    const char *name = "crc32";
    char shown[4 * 32], err[256];
    struct checksum *s;

    if (!params)
        return -1;
    if (json_object_object_get_ex(params, "algorithm", &v))
        name = json_object_get_string(v);
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
        if (strcmp(name, algorithms[i].name) != 0)
            continue;
        json_object_put(params);
        if (!(s = calloc(1, sizeof(*s)))) {
            c->set_error(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
            return -1;
        }
        s->algorithm = (int)i;
        if (gcry_md_open(&s->md, algorithms[i].algo, 0) != 0) {
            snprintf(err, sizeof(err), "cannot start %s", algorithms[i].name);
            free(s);
            c->set_error(c, WINAPI_PLUGIN_INTERNAL, err);
            return -1;
        }
        c->state = s;
        return 0;
    }
    wp_utf8_copy(shown, sizeof(shown), name, strlen(name), 32);
    snprintf(err, sizeof(err), "unknown checksum algorithm \"%s\" (crc32, sha256)", shown);
    json_object_put(params);
    c->set_error(c, WINAPI_PLUGIN_BAD_REQUEST, err);
    return -1;
}

static int run_checksum(struct winapi_plugin_call *c)
{
    struct checksum *s = c->state;

    if (c->length > 0)
        gcry_md_write(s->md, c->data, (size_t)c->length);
    return 0;
}

static void finish_checksum(struct winapi_plugin_call *c, int done)
{
    struct checksum *s = c->state;
    int algo = algorithms[s->algorithm].algo;
    unsigned int len = gcry_md_get_algo_dlen(algo);
    const unsigned char *digest;
    char json[64 + 2 * 64 + 1];
    int n;

    if (done) {
        digest = gcry_md_read(s->md, algo);
        n = snprintf(json, sizeof(json), "{\"algorithm\":\"%s\",\"checksum\":\"",
                     algorithms[s->algorithm].name);
        for (unsigned int i = 0; i < len; i++)
            n += snprintf(json + n, sizeof(json) - (size_t)n, "%02x", digest[i]);
        snprintf(json + n, sizeof(json) - (size_t)n, "\"}");
        c->set_result(c, json);
    }
    gcry_md_close(s->md);
    free(s);
    c->state = NULL;
}

const struct winapi_plugin op_checksum = {
    .abi = WINAPI_PLUGIN_ABI, .name = "checksum", .access = WINAPI_PLUGIN_READ,
    .description = "CRC-32 or SHA-256 of the range",
    .start = start_checksum, .run = run_checksum, .finish = finish_checksum,
};

/* The pattern is all fill keeps: in state's place. */
static int start_fill(struct winapi_plugin_call *c)
{
    json_object *params = op_params(c), *v;
    uint32_t pattern = 0;

    if (!params)
        return -1;
    if (json_object_object_get_ex(params, "pattern", &v))
        pattern = (uint32_t)json_object_get_int64(v);
    json_object_put(params);
    c->state = (void *)(uintptr_t)pattern;
    return 0;
}

/* The pattern, little-endian, repeated from the start of the range. */
static int run_fill(struct winapi_plugin_call *c)
{
    uint32_t pattern = (uint32_t)(uintptr_t)c->state;
    unsigned char block[4096];
    unsigned char *dst = c->data;
    uint64_t left = c->length;
    unsigned phase = (unsigned)(c->offset % 4);

    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (unsigned char)(pattern >> (8 * ((i + phase) % 4)));
    while (left > 0) {
        size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);
        memcpy(dst, block, n);
        dst += n;
        left -= n;
    }
    return 0;
}

const struct winapi_plugin op_fill = {
    .abi = WINAPI_PLUGIN_ABI, .name = "fill", .access = WINAPI_PLUGIN_WRITE,
    .description = "write a 32-bit pattern over the range",
    .start = start_fill, .run = run_fill,
};

static int run_stat(struct winapi_plugin_call *c)
{
    json_object *o = json_object_new_object();
    int rc = -1;

    if (o) {
        json_object_object_add(o, "host_path", json_object_new_string(c->host_path));
        json_object_object_add(o, "file_size", json_object_new_int64((int64_t)c->file_size));
        rc = c->set_result(c, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    if (rc < 0)
        c->set_error(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
    return rc;
}

const struct winapi_plugin op_stat = {
    .abi = WINAPI_PLUGIN_ABI, .name = "stat", .access = WINAPI_PLUGIN_NONE,
    .description = "the file's host path and size",
    .run = run_stat,
};

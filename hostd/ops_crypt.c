/*
 * ops_crypt.c - encrypt and decrypt (see ops_crypt.h).
 *
 * encrypt: AES-256-GCM over the range, in place; a 96-bit nonce from
 * libgcrypt's nonce generator for every request (never the same twice for
 * one key, across restarts too: it is random, 2^-32 for 2^32 requests, as
 * NIST SP 800-38D allows); nonce and tag in the result.
 *
 * decrypt: two passes over the range.  The first decrypts into a scratch
 * buffer and checks the tag, so that a wrong key, nonce or tag, or changed
 * data, leaves the buffer exactly as it was (data_error); the second
 * decrypts in place.
 *
 * Stopped half way (cancelled, or its connection gone), either one puts
 * back what it changed: GCM's keystream is plain CTR from nonce||2, so the
 * done part is run through it once more.  A request never leaves a buffer
 * half encrypted unless the file shrank under it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>

#include "log.h"
#include "ops_crypt.h"
#include "plat.h"
#include "wp_secret.h"

/* What GCM encrypts with one nonce: 2^32 - 2 blocks (SP 800-38D). */
#define GCM_MAX_BYTES ((UINT64_C(1) << 36) - 32)
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define SCRATCH (64 * 1024)

static unsigned char the_key[CRYPT_KEY_BYTES];
static bool have_key;

void crypt_set_key(const unsigned char key[CRYPT_KEY_BYTES])
{
    memcpy(the_key, key, CRYPT_KEY_BYTES);
    have_key = true;
}

bool crypt_have_key(void)
{
    return have_key;
}

static int hex_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* n bytes from 2n hex digits; 0 or -1. */
static int from_hex(const char *s, size_t slen, unsigned char *out, size_t n)
{
    if (slen != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value((unsigned char)s[2 * i]), lo = hex_value((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static void to_hex(const unsigned char *v, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", v[i]);
}

int crypt_key_load(const char *path, unsigned char key[CRYPT_KEY_BYTES], char *err,
                   size_t errlen)
{
    unsigned char buf[2 * CRYPT_KEY_BYTES + 3];
    FILE *fp = fopen(path, "rb");
    size_t n;
    int rc = -1;

    if (!fp) {
        snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
        return -1;
    }
    if (wp_secret_check_private(fp, "key file", path, err, errlen) < 0)
        goto out;
    n = fread(buf, 1, sizeof(buf), fp);
    if (ferror(fp)) {
        snprintf(err, errlen, "key file %s: read error", path);
        goto out;
    }
    if (n == CRYPT_KEY_BYTES) {
        memcpy(key, buf, CRYPT_KEY_BYTES);
        rc = 0;
    } else {
        /* 64 hex digits, and at most a line end. */
        while (n > 2 * CRYPT_KEY_BYTES && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (from_hex((const char *)buf, n, key, CRYPT_KEY_BYTES) == 0)
            rc = 0;
        else
            snprintf(err, errlen, "key file %s: expected 32 raw bytes or 64 hex digits",
                     path);
    }
out:
    memset(buf, 0, sizeof(buf));
    fclose(fp);
    return rc;
}

/* One request's: the handle, and what to put back if it stops half way. */
struct crypt {
    gcry_cipher_hd_t h;
    unsigned char nonce[NONCE_BYTES], tag[TAG_BYTES];
    void *range;                /* known from run() on */
    uint64_t written;           /* bytes of it changed in place */
};

static void fail(struct winapi_plugin_call *c, enum winapi_plugin_error code, const char *msg)
{
    c->set_error(c, code, msg);
}

/* A GCM handle with the key and nonce in c->state; 0, or -1 with the error set. */
static int open_gcm(struct winapi_plugin_call *c, struct crypt *s)
{
    if (c->range_length > GCM_MAX_BYTES) {
        fail(c, WINAPI_PLUGIN_BAD_REQUEST, "AES-GCM takes at most 64 GiB less 32 bytes "
             "at once: give an offset and length");
        return -1;
    }
    if (gcry_cipher_open(&s->h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0) ||
        gcry_cipher_setkey(s->h, the_key, CRYPT_KEY_BYTES) ||
        gcry_cipher_setiv(s->h, s->nonce, NONCE_BYTES)) {
        if (s->h)
            gcry_cipher_close(s->h);
        s->h = NULL;
        fail(c, WINAPI_PLUGIN_INTERNAL, "cannot start AES-256-GCM");
        return -1;
    }
    return 0;
}

static struct crypt *new_state(struct winapi_plugin_call *c)
{
    struct crypt *s = calloc(1, sizeof(*s));

    if (!s)
        fail(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
    return s;
}

/* Either start: the state, once the handle is open. */
static int keep_state(struct winapi_plugin_call *c, struct crypt *s)
{
    if (open_gcm(c, s) < 0) {
        free(s);
        return -1;
    }
    c->state = s;
    return 0;
}

static int start_encrypt(struct winapi_plugin_call *c)
{
    struct crypt *s = new_state(c);

    if (!s)
        return -1;
    gcry_create_nonce(s->nonce, NONCE_BYTES);
    return keep_state(c, s);
}

/* params.nonce and params.tag, in hex, into s; 0 or -1 with the error set. */
static int read_nonce_tag(struct winapi_plugin_call *c, struct crypt *s)
{
    json_object *params = op_params(c), *n, *t;
    const char *why = NULL;

    if (!params)
        return -1;
    if (!json_object_object_get_ex(params, "nonce", &n) ||
        !json_object_object_get_ex(params, "tag", &t))
        why = "decrypt needs params.nonce and params.tag, as encrypt gave them";
    else if (from_hex(json_object_get_string(n), (size_t)json_object_get_string_len(n),
                      s->nonce, NONCE_BYTES) < 0)
        why = "params.nonce must be 24 hex digits";
    else if (from_hex(json_object_get_string(t), (size_t)json_object_get_string_len(t),
                      s->tag, TAG_BYTES) < 0)
        why = "params.tag must be 32 hex digits";
    json_object_put(params);
    if (why) {
        fail(c, WINAPI_PLUGIN_BAD_REQUEST, why);
        return -1;
    }
    return 0;
}

static int start_decrypt(struct winapi_plugin_call *c)
{
    struct crypt *s = new_state(c);

    if (!s)
        return -1;
    if (read_nonce_tag(c, s) < 0) {
        free(s);
        return -1;
    }
    return keep_state(c, s);
}

/* {"nonce":…,"tag":…} into the result: 0, or -1 with the error set. */
static int give_nonce_tag(struct winapi_plugin_call *c, struct crypt *s)
{
    unsigned char tag[TAG_BYTES];
    char json[64 + 2 * (NONCE_BYTES + TAG_BYTES)];
    int n;

    if (gcry_cipher_gettag(s->h, tag, TAG_BYTES) != 0) {
        fail(c, WINAPI_PLUGIN_INTERNAL, "cannot get the AES-GCM tag");
        return -1;
    }
    n = snprintf(json, sizeof(json), "{\"nonce\":\"");
    to_hex(s->nonce, NONCE_BYTES, json + n);
    n += 2 * NONCE_BYTES;
    n += snprintf(json + n, sizeof(json) - (size_t)n, "\",\"tag\":\"");
    to_hex(tag, TAG_BYTES, json + n);
    n += 2 * TAG_BYTES;
    snprintf(json + n, sizeof(json) - (size_t)n, "\"}");
    if (c->set_result(c, json) < 0) {
        fail(c, WINAPI_PLUGIN_INTERNAL, "out of memory");
        return -1;
    }
    return 0;
}

static int run_encrypt(struct winapi_plugin_call *c)
{
    struct crypt *s = c->state;

    if (c->length > 0)
        gcry_cipher_encrypt(s->h, c->data, (size_t)c->length, NULL, 0);
    s->range = c->range;
    s->written = c->offset + c->length;
    /* The nonce and tag are the answer's before the end: without them the
     * buffer could not be decrypted, and failing here undoes it. */
    return c->offset + c->length == c->range_length ? give_nonce_tag(c, s) : 0;
}

/* The end of the first pass: only a matching tag lets the second begin. */
static int check_tag(struct winapi_plugin_call *c, struct crypt *s)
{
    if (gcry_cipher_checktag(s->h, s->tag, TAG_BYTES) != 0) {
        fail(c, WINAPI_PLUGIN_DATA_ERROR, "the tag does not match (wrong nonce or tag, "
             "another key, or changed data): the buffer is left as it was");
        return -1;
    }
    gcry_cipher_reset(s->h);
    if (gcry_cipher_setiv(s->h, s->nonce, NONCE_BYTES) != 0) {
        fail(c, WINAPI_PLUGIN_INTERNAL, "cannot restart AES-256-GCM");
        return -1;
    }
    return 0;
}

static int run_decrypt(struct winapi_plugin_call *c)
{
    struct crypt *s = c->state;
    unsigned char scratch[SCRATCH];
    bool last = c->offset + c->length == c->range_length;

    if (c->pass == 1) {
        if (c->length > 0)
            gcry_cipher_decrypt(s->h, c->data, (size_t)c->length, NULL, 0);
        s->range = c->range;
        s->written = c->offset + c->length;
        /* Changed since the first pass checked it: not what was authenticated
         * (finish() puts it back). */
        if (last && gcry_cipher_checktag(s->h, s->tag, TAG_BYTES) != 0) {
            fail(c, WINAPI_PLUGIN_DATA_ERROR, "the data changed while it was decrypted: "
                 "the buffer is left as it was");
            return -1;
        }
        return 0;
    }
    /* The first pass only authenticates: the plaintext goes nowhere. */
    for (uint64_t off = 0; off < c->length; off += SCRATCH) {
        size_t n = c->length - off < SCRATCH ? (size_t)(c->length - off) : SCRATCH;
        gcry_cipher_decrypt(s->h, scratch, n, (const char *)c->data + off, n);
    }
    return last ? check_tag(c, s) : 0;
}

/*
 * Put back the first bytes of the range written: GCM encrypts with CTR
 * from the counter block nonce||00000002, which is its own inverse.
 */
static void undo(void *arg)
{
    struct crypt *s = arg;
    unsigned char ctr[16];
    gcry_cipher_hd_t h;

    memcpy(ctr, s->nonce, NONCE_BYTES);
    memcpy(ctr + NONCE_BYTES, "\0\0\0\2", 4);
    if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR, 0) == 0) {
        if (gcry_cipher_setkey(h, the_key, CRYPT_KEY_BYTES) == 0 &&
            gcry_cipher_setctr(h, ctr, sizeof(ctr)) == 0)
            gcry_cipher_encrypt(h, s->range, (size_t)s->written, NULL, 0);
        gcry_cipher_close(h);
    }
}

static void finish(struct winapi_plugin_call *c, int done)
{
    struct crypt *s = c->state;

    if (!done && s->written > 0 && !c->faulted && c->guard(c, undo, s) < 0)
        log_warn("a file shrank while its %s was being undone: part of it is left as it was",
                 c->pass == 0 ? "encryption" : "decryption");
    gcry_cipher_close(s->h);
    free(s);
    c->state = NULL;
}

const struct winapi_plugin op_encrypt = {
    .abi = WINAPI_PLUGIN_ABI, .name = "encrypt", .access = WINAPI_PLUGIN_WRITE,
    /* A later step failing would leave the buffer encrypted, and the answer
     * an error without the nonce and tag to decrypt it. */
    .flags = WINAPI_PLUGIN_CHAIN_LAST,
    .description = "AES-256-GCM over the range, in place, with the host's key",
    .start = start_encrypt, .run = run_encrypt, .finish = finish,
};

const struct winapi_plugin op_decrypt = {
    .abi = WINAPI_PLUGIN_ABI, .name = "decrypt", .access = WINAPI_PLUGIN_WRITE,
    .passes = 2,
    .description = "check the AES-256-GCM tag of the range, then decrypt it in place",
    .start = start_decrypt, .run = run_decrypt, .finish = finish,
};

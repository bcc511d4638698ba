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

static void undo(struct op_run *r);

/* A GCM handle with the key and nonce; WP_OK, or the error with the reason. */
static wp_code open_gcm(struct op_run *r, char *err, size_t errlen)
{
    if (r->range_length > GCM_MAX_BYTES) {
        snprintf(err, errlen, "AES-GCM takes at most 64 GiB less 32 bytes at once: "
                 "give an offset and length");
        return WP_BAD_REQUEST;
    }
    if (gcry_cipher_open(&r->cipher, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0) ||
        gcry_cipher_setkey(r->cipher, the_key, CRYPT_KEY_BYTES) ||
        gcry_cipher_setiv(r->cipher, r->nonce, NONCE_BYTES)) {
        if (r->cipher)
            gcry_cipher_close(r->cipher);
        r->cipher = NULL;
        snprintf(err, errlen, "cannot start AES-256-GCM");
        return WP_INTERNAL;
    }
    return WP_OK;
}

wp_code crypt_check_encrypt(struct op_run *r, char *err, size_t errlen)
{
    gcry_create_nonce(r->nonce, NONCE_BYTES);
    return open_gcm(r, err, errlen);
}

/* params.nonce and params.tag, in hex, into r. */
static wp_code read_nonce_tag(struct op_run *r, char *err, size_t errlen)
{
    json_object *n, *t;

    if (!r->params || !json_object_object_get_ex(r->params, "nonce", &n) ||
        !json_object_object_get_ex(r->params, "tag", &t)) {
        snprintf(err, errlen, "decrypt needs params.nonce and params.tag, as encrypt gave them");
        return WP_BAD_REQUEST;
    }
    if (from_hex(json_object_get_string(n), (size_t)json_object_get_string_len(n), r->nonce,
                 NONCE_BYTES) < 0) {
        snprintf(err, errlen, "params.nonce must be 24 hex digits");
        return WP_BAD_REQUEST;
    }
    if (from_hex(json_object_get_string(t), (size_t)json_object_get_string_len(t), r->tag,
                 TAG_BYTES) < 0) {
        snprintf(err, errlen, "params.tag must be 32 hex digits");
        return WP_BAD_REQUEST;
    }
    return WP_OK;
}

wp_code crypt_check_decrypt(struct op_run *r, char *err, size_t errlen)
{
    wp_code rc = read_nonce_tag(r, err, errlen);

    return rc == WP_OK ? open_gcm(r, err, errlen) : rc;
}

void crypt_run_encrypt(struct op_run *r)
{
    if (r->length > 0)
        gcry_cipher_encrypt(r->cipher, r->addr, (size_t)r->length, NULL, 0);
}

void crypt_run_decrypt(struct op_run *r)
{
    unsigned char scratch[SCRATCH];

    if (r->pass == 1) {
        if (r->length > 0)
            gcry_cipher_decrypt(r->cipher, r->addr, (size_t)r->length, NULL, 0);
        return;
    }
    /* The first pass only authenticates: the plaintext goes nowhere. */
    for (uint64_t off = 0; off < r->length; off += SCRATCH) {
        size_t n = r->length - off < SCRATCH ? (size_t)(r->length - off) : SCRATCH;
        gcry_cipher_decrypt(r->cipher, scratch, n, (const char *)r->addr + off, n);
    }
}

wp_code crypt_between_decrypt(struct op_run *r, char *err, size_t errlen)
{
    if (r->pass == 1) {
        /* Changed since the first pass checked it: not what was authenticated. */
        if (gcry_cipher_checktag(r->cipher, r->tag, TAG_BYTES) == 0)
            return WP_OK;
        undo(r);
        r->done = 0;
        snprintf(err, errlen, "the data changed while it was decrypted: the buffer is "
                 "left as it was");
        return WP_DATA_ERROR;
    }
    if (gcry_cipher_checktag(r->cipher, r->tag, TAG_BYTES) != 0) {
        snprintf(err, errlen, "the tag does not match (wrong nonce or tag, another key, "
                 "or changed data): the buffer is left as it was");
        return WP_DATA_ERROR;
    }
    gcry_cipher_reset(r->cipher);
    if (gcry_cipher_setiv(r->cipher, r->nonce, NONCE_BYTES) != 0) {
        snprintf(err, errlen, "cannot restart AES-256-GCM");
        return WP_INTERNAL;
    }
    return WP_OK;
}

/*
 * Put back the first done bytes of the range: GCM encrypts with CTR from
 * the counter block nonce||00000002, which is its own inverse.  Guarded:
 * the file may have shrunk since the last pass.
 */
static void undo_guarded(void *arg)
{
    struct op_run *r = arg;
    unsigned char ctr[16];
    gcry_cipher_hd_t h;

    memcpy(ctr, r->nonce, NONCE_BYTES);
    memcpy(ctr + NONCE_BYTES, "\0\0\0\2", 4);
    if (gcry_cipher_open(&h, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_CTR, 0) == 0) {
        if (gcry_cipher_setkey(h, the_key, CRYPT_KEY_BYTES) == 0 &&
            gcry_cipher_setctr(h, ctr, sizeof(ctr)) == 0)
            gcry_cipher_encrypt(h, r->base, (size_t)r->done, NULL, 0);
        gcry_cipher_close(h);
    }
}

static void undo(struct op_run *r)
{
    if (plat_guard(undo_guarded, r) < 0) {
        r->faulted = true;
        log_warn("a file shrank while its %s was being undone: part of it is left as it was",
                 r->passes == 1 ? "encryption" : "decryption");
    }
}

void crypt_finish(struct op_run *r)
{
    /* No result yet: the request was refused before it started. */
    bool completed = r->result && r->pass == r->passes - 1 && r->done == r->range_length;
    unsigned char tag[TAG_BYTES];
    char hex[2 * TAG_BYTES + 1];

    if (!completed) {
        /* Only the writing pass changed anything. */
        if (r->pass == r->passes - 1 && r->done > 0 && !r->faulted)
            undo(r);
    } else if (r->passes == 1 && gcry_cipher_gettag(r->cipher, tag, TAG_BYTES) == 0) {
        to_hex(r->nonce, NONCE_BYTES, hex);
        json_object_object_add(r->result, "nonce", json_object_new_string(hex));
        to_hex(tag, TAG_BYTES, hex);
        json_object_object_add(r->result, "tag", json_object_new_string(hex));
    }
    gcry_cipher_close(r->cipher);
    r->cipher = NULL;
}

/*
 * ops.c - process, checksum, fill and stat.
 *
 * Checksums come from libgcrypt, which picks the CPU's CRC and SHA
 * instructions where it has them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <gcrypt.h>

#include "ops.h"
#include "ops_crypt.h"
#include "wp_utf8.h"

static wp_code no_params(struct op_run *r, char *err, size_t errlen)
{
    (void)r;
    (void)err;
    (void)errlen;
    return WP_OK;
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
static void run_process(struct op_run *r)
{
    const unsigned char *p = r->addr;
    size_t n = (size_t)(r->length / 8), i;
    uint64_t a = 0, b = 0, c = 0, d = 0;

    /* An empty range has no mapping: addr is NULL, and NULL + 0 is undefined too. */
    if (r->length == 0)
        return;
    for (i = 0; i + 4 <= n; i += 4) {
        a += load64(p + 8 * i);
        b += load64(p + 8 * (i + 1));
        c += load64(p + 8 * (i + 2));
        d += load64(p + 8 * (i + 3));
    }
    for (; i < n; i++)
        a += load64(p + 8 * i);
    for (i = n * 8; i < r->length; i++)
        a += p[i];
    /* Tell the compiler the sum is used, so the loads stay. */
    __asm__ volatile("" : : "r"(a + b + c + d));
}

static const struct {
    const char *name;
    int algo;
} algorithms[] = {
    { "crc32", GCRY_MD_CRC32 },
    { "sha256", GCRY_MD_SHA256 },
};

static wp_code check_checksum(struct op_run *r, char *err, size_t errlen)
{
    json_object *v;
    const char *name = "crc32";
    char shown[4 * 32];

    if (r->params && json_object_object_get_ex(r->params, "algorithm", &v))
        name = json_object_get_string(v);
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
        if (strcmp(name, algorithms[i].name) == 0) {
            r->algorithm = (int)i;
            if (gcry_md_open(&r->md, algorithms[i].algo, 0) != 0) {
                snprintf(err, errlen, "cannot start %s", name);
                return WP_INTERNAL;
            }
            return WP_OK;
        }
    wp_utf8_copy(shown, sizeof(shown), name, strlen(name), 32);
    snprintf(err, errlen, "unknown checksum algorithm \"%s\" (crc32, sha256)", shown);
    return WP_BAD_REQUEST;
}

static void run_checksum(struct op_run *r)
{
    /* Slices of 1 GiB, so no length ever nears an int limit inside. */
    for (uint64_t off = 0; off < r->length; off += (1u << 30)) {
        uint64_t n = r->length - off < (1u << 30) ? r->length - off : (1u << 30);
        gcry_md_write(r->md, (const char *)r->addr + off, (size_t)n);
    }
    r->md_done = true;
}

/* Outside the guard: a fault mid-hash still releases the handle. */
static void finish_checksum(struct op_run *r)
{
    int algo = algorithms[r->algorithm].algo;
    unsigned int len = gcry_md_get_algo_dlen(algo);
    const unsigned char *digest;
    char hex[2 * 64 + 1];

    if (r->md_done) {
        digest = gcry_md_read(r->md, algo);
        for (unsigned int i = 0; i < len; i++)
            snprintf(hex + 2 * i, 3, "%02x", digest[i]);
        json_object_object_add(r->result, "algorithm",
                               json_object_new_string(algorithms[r->algorithm].name));
        json_object_object_add(r->result, "checksum", json_object_new_string(hex));
    }
    gcry_md_close(r->md);
    r->md = NULL;
}

static wp_code check_fill(struct op_run *r, char *err, size_t errlen)
{
    json_object *v;

    (void)err;
    (void)errlen;
    r->pattern = 0;
    if (r->params && json_object_object_get_ex(r->params, "pattern", &v))
        r->pattern = (uint32_t)json_object_get_int64(v);
    return WP_OK;
}

/* The pattern, little-endian, repeated from the start of the range. */
static void run_fill(struct op_run *r)
{
    unsigned char block[4096];
    unsigned char *dst = r->addr;
    uint64_t left = r->length;

    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (unsigned char)(r->pattern >> (8 * (i % 4)));
    while (left > 0) {
        size_t n = left < sizeof(block) ? (size_t)left : sizeof(block);
        memcpy(dst, block, n);
        dst += n;
        left -= n;
    }
}

static struct op table[] = {
    { .name = "process",  .check = no_params, .run = run_process },
    { .name = "checksum", .check = check_checksum, .run = run_checksum,
      .finish = finish_checksum },
    { .name = "fill",     .check = check_fill, .run = run_fill },
    { .name = "stat",     .check = no_params },
    { .name = "encrypt",  .check = crypt_check_encrypt, .run = crypt_run_encrypt,
      .finish = crypt_finish, .chain_last = true },
    { .name = "decrypt",  .check = crypt_check_decrypt, .run = crypt_run_decrypt,
      .finish = crypt_finish, .passes = 2, .between = crypt_between_decrypt },
};

/* encrypt and decrypt exist only with a key. */
static bool available(const struct op *op)
{
    return op->run != crypt_run_encrypt && op->run != crypt_run_decrypt
           ? true : crypt_have_key();
}

const struct op *ops_find(const char *name)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return available(&table[i]) ? &table[i] : NULL;
    return NULL;
}

json_object *ops_names(void)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (available(&table[i]))
            json_object_array_add(a, json_object_new_string(table[i].name));
    return a;
}

int ops_init(void)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (!(table[i].proto = wp_op_find(table[i].name)))
            return -1;      /* a row missing in wp_ops.c: caught by every test */
    if (!gcry_check_version(GCRYPT_VERSION))
        return -1;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return 0;
}

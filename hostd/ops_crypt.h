/*
 * ops_crypt.h - encrypt and decrypt: AES-256-GCM in place, with the host's
 * key (--key-file): op_encrypt and op_decrypt (ops.h), apart from the
 * others because they need a key and an undo.
 */
#ifndef HOSTD_OPS_CRYPT_H
#define HOSTD_OPS_CRYPT_H

#include <stdbool.h>
#include <stddef.h>

#include "ops.h"

#define CRYPT_KEY_BYTES 32

/*
 * Read a key file: 32 raw bytes, or 64 hex digits and a line end.  POSIX:
 * refused if others may read or write it.  0, or -1 with the reason in err
 * naming the file.
 */
int crypt_key_load(const char *path, unsigned char key[CRYPT_KEY_BYTES], char *err,
                   size_t errlen);
/* The key encrypt and decrypt use; without one they do not exist. */
void crypt_set_key(const unsigned char key[CRYPT_KEY_BYTES]);
bool crypt_have_key(void);

#endif /* HOSTD_OPS_CRYPT_H */

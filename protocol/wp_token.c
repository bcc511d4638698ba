/*
 * wp_token.c - reading and comparing tokens.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_token.h"

#define TOKEN_MAX 4096

char *wp_token_read(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *tok = NULL;
    size_t n;
    int e;

    if (!fp) {
        e = errno;
        snprintf(err, errlen, "token file %s: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    tok = malloc(TOKEN_MAX + 1);
    if (!tok) {
        e = ENOMEM;
        snprintf(err, errlen, "token file %s: out of memory", path);
        goto fail;
    }
    n = fread(tok, 1, TOKEN_MAX + 1, fp);
    if (ferror(fp) || n > TOKEN_MAX) {
        e = ferror(fp) ? EIO : EINVAL;
        snprintf(err, errlen, "token file %s: %s", path,
                 e == EIO ? "read error" : "larger than 4096 bytes");
        goto fail;
    }
    while (n > 0 && strchr(" \t\r\n\v\f", tok[n - 1]))
        n--;
    tok[n] = '\0';
    if (n == 0 || strlen(tok) != n) {
        e = EINVAL;
        snprintf(err, errlen, "token file %s: %s", path,
                 n == 0 ? "empty token" : "token contains a NUL byte");
        goto fail;
    }
    fclose(fp);
    return tok;
fail:
    free(tok);
    fclose(fp);
    errno = e;
    return NULL;
}

int wp_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

/*
 * wp_token.c - reading and comparing tokens.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_secret.h"
#include "wp_token.h"
#include "wp_utf8.h"

#define TOKEN_MAX 4096

/* White space as isspace() has it in the C locale; NUL is not among it. */
static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Check the token's n bytes; 0, or -1 with the reason (after "token file F: "). */
static int check_text(const char *tok, size_t n, char *why, size_t whylen)
{
    const char *nul = memchr(tok, '\0', n);

    if (n == 0) {
        snprintf(why, whylen, "empty token");
        return -1;
    }
    if (nul) {
        snprintf(why, whylen, "a NUL byte at offset %lu; a token is text",
                 (unsigned long)(nul - tok));
        return -1;
    }
    if (!wp_utf8_valid(tok, n)) {
        snprintf(why, whylen, "the token is not UTF-8 text");
        return -1;
    }
    return 0;
}

char *wp_token_load(const char *path, unsigned flags, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    char *tok = NULL, why[128];
    size_t n;
    int e;

    if (!fp) {
        e = errno;
        snprintf(err, errlen, "token file %s: %s", path, strerror(e));
        errno = e;
        return NULL;
    }
    if ((flags & WP_TOKEN_PRIVATE) &&
        wp_secret_check_private(fp, "token file", path, err, errlen) < 0) {
        e = errno;
        goto fail;
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
    while (n > 0 && is_blank(tok[n - 1]))
        n--;
    tok[n] = '\0';
    if (check_text(tok, n, why, sizeof(why)) < 0) {
        e = EINVAL;
        snprintf(err, errlen, "token file %s: %s", path, why);
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

char *wp_token_read(const char *path, char *err, size_t errlen)
{
    return wp_token_load(path, WP_TOKEN_PRIVATE, err, errlen);
}

int wp_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    for (size_t i = 0; i < la; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

/*
 * wp_token.c - reading and comparing tokens.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_path.h"
#include "wp_secret.h"
#include "wp_token.h"
#include "wp_utf8.h"

#define TOKEN_MAX 65536

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
                 e == EIO ? "read error" : "larger than 65536 bytes");
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

/* ---- grants ---- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Split value at sep into a new array of n strings; NULL (ENOMEM, or an empty item). */
static char **split(const char *value, char sep, size_t *n, int *empty)
{
    size_t count = 1, i = 0;
    char **v;

    *empty = 0;
    for (const char *p = value; *p; p++)
        count += *p == sep;
    v = calloc(count, sizeof(*v));
    if (!v)
        return NULL;
    for (const char *p = value;; i++) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            *empty = 1;
        if (len == 0 || !(v[i] = dup_n(p, len))) {
            for (size_t k = 0; k < i; k++)
                free(v[k]);
            free(v);
            return NULL;
        }
        if (!end)
            break;
        p = end + 1;
    }
    *n = count;
    return v;
}

static void grant_free(wp_grant *g)
{
    for (size_t i = 0; i < g->nops; i++)
        free(g->ops[i]);
    for (size_t i = 0; i < g->nroots; i++)
        free(g->roots[i]);
    free(g->ops);
    free(g->roots);
    free(g->token);
    memset(g, 0, sizeof(*g));
}

/* One field ("ops=..."); 0, or -1 with the reason in why. */
static int grant_field(wp_grant *g, const char *f, size_t len, char *why, size_t whylen)
{
    char *v = dup_n(f, len), *eq;
    int rc = -1, empty;

    if (!v) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    eq = strchr(v, '=') + 1;
    if (strncmp(v, "access=", 7) == 0) {
        if (g->read_only != -1)
            snprintf(why, whylen, "access= given twice");
        else if (strcmp(eq, "read") != 0 && strcmp(eq, "write") != 0)
            snprintf(why, whylen, "access=%s: expected read or write", eq);
        else {
            g->read_only = strcmp(eq, "read") == 0;
            rc = 0;
        }
    } else if (strncmp(v, "ops=", 4) == 0) {
        if (g->ops)
            snprintf(why, whylen, "ops= given twice");
        else if (!(g->ops = split(eq, ',', &g->nops, &empty)))
            snprintf(why, whylen, empty ? "ops=%s: an empty operation name" : "out of memory", eq);
        else
            rc = 0;
    } else {
        if (g->roots)
            snprintf(why, whylen, "roots= given twice");
        else if (!(g->roots = split(eq, ';', &g->nroots, &empty)))
            snprintf(why, whylen, empty ? "roots=%s: an empty root" : "out of memory", eq);
        else {
            rc = 0;
            for (size_t i = 0; i < g->nroots && rc == 0; i++) {
                char canon[WP_HOST_PATH_MAX], e[200];
                if (wp_path_host_canon(g->roots[i], canon, sizeof(canon), e, sizeof(e)) < 0) {
                    snprintf(why, whylen, "root %s: %s", g->roots[i], e);
                    rc = -1;
                } else {
                    free(g->roots[i]);
                    if (!(g->roots[i] = dup_n(canon, strlen(canon)))) {
                        snprintf(why, whylen, "out of memory");
                        rc = -1;
                    }
                }
            }
        }
    }
    free(v);
    return rc;
}

static int is_field(const char *f)
{
    return strncmp(f, "ops=", 4) == 0 || strncmp(f, "roots=", 6) == 0 ||
           strncmp(f, "access=", 7) == 0;
}

/*
 * Whether the token part of a line holds a word that means to be a field
 * (ops=, roots=, access=, in any case) but is not among the fields at the
 * end: a root with a blank, a list with ", ", "Access=read".  Read as part
 * of the token it would grant everything; such a line is refused instead.
 */
static const char *stray_field(const char *tok, size_t len)
{
    static const char *const names[] = { "ops=", "roots=", "access=" };

    for (size_t i = 0; i < len; i++) {
        if (i > 0 && !is_blank(tok[i - 1]))
            continue;
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
            size_t n = strlen(names[k]), j;
            for (j = 0; j < n && i + j < len; j++)
                if (tolower((unsigned char)tok[i + j]) != names[k][j])
                    break;
            if (j == n)
                return names[k];
        }
    }
    return NULL;
}

/* One line, trimmed and not a comment: its fields from the end, then the token. */
static int grant_line(wp_grant *g, const char *line, size_t len, char *why, size_t whylen)
{
    memset(g, 0, sizeof(*g));
    g->read_only = -1;          /* no access= yet */
    for (;;) {
        size_t start = len;
        while (start > 0 && !is_blank(line[start - 1]))
            start--;
        if (start == 0 || !is_field(line + start))
            break;
        if (grant_field(g, line + start, len - start, why, whylen) < 0)
            return -1;
        len = start;
        while (len > 0 && is_blank(line[len - 1]))
            len--;
    }
    if (len == 0 || is_field(line)) {
        snprintf(why, whylen, "no token before the fields");
        return -1;
    }
    if (stray_field(line, len)) {
        snprintf(why, whylen, "\"%s\" before the end of the line: fields come last, "
                 "each one word (no blanks in a list or a root), in lower case",
                 stray_field(line, len));
        return -1;
    }
    if (!(g->token = dup_n(line, len))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (g->read_only == -1)
        g->read_only = 0;
    return 0;
}

int wp_grants_parse(const char *text, wp_grant **grants, size_t *n, char *err, size_t errlen)
{
    wp_grant *v = NULL;
    size_t count = 0, lineno = 0, *lines = NULL;
    char why[256];

    *grants = NULL;
    *n = 0;
    for (const char *p = text; *p; ) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *line = p;
        wp_grant *bigger;
        size_t *bigger_lines;

        lineno++;
        p = end ? end + 1 : p + len;
        while (len > 0 && is_blank(*line)) {
            line++;
            len--;
        }
        while (len > 0 && is_blank(line[len - 1]))
            len--;
        if (len == 0 || line[0] == '#')
            continue;
        bigger = realloc(v, (count + 1) * sizeof(*v));
        if (bigger)
            v = bigger;
        if (!bigger || !(bigger_lines = realloc(lines, (count + 1) * sizeof(*lines)))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        lines = bigger_lines;
        lines[count] = lineno;
        if (grant_line(&v[count], line, len, why, sizeof(why)) < 0) {
            grant_free(&v[count]);
            snprintf(err, errlen, "line %zu: %s", lineno, why);
            goto fail;
        }
        for (size_t i = 0; i < count; i++)
            if (strcmp(v[i].token, v[count].token) == 0) {
                grant_free(&v[count]);
                snprintf(err, errlen, "line %zu: the token of line %zu again", lineno,
                         lines[i]);
                goto fail;
            }
        count++;
    }
    if (count == 0) {
        snprintf(err, errlen, "no token");
        goto fail;
    }
    free(lines);
    *grants = v;
    *n = count;
    return 0;
fail:
    free(lines);
    wp_grants_free(v, count);
    errno = EINVAL;
    return -1;
}

void wp_grants_free(wp_grant *grants, size_t n)
{
    for (size_t i = 0; i < n; i++)
        grant_free(&grants[i]);
    free(grants);
}

char *wp_token_client(const char *path, char *err, size_t errlen)
{
    char *text = wp_token_load(path, 0, err, errlen), *tok = NULL, why[300];
    wp_grant *g;
    size_t n;

    if (!text)
        return NULL;
    if (wp_grants_parse(text, &g, &n, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "token file %s: %s", path, why);
    } else {
        if (!(tok = strdup(g[0].token)))
            snprintf(err, errlen, "token file %s: out of memory", path);
        wp_grants_free(g, n);
    }
    free(text);
    if (!tok)
        errno = EINVAL;
    return tok;
}

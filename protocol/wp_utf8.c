/*
 * wp_utf8.c - strict UTF-8 checks, and safe copies of untrusted text.
 *
 * The decoder follows RFC 3629's table of well-formed byte sequences
 * (also Unicode's Table 3-7): the second byte's range depends on the
 * first, which is what rules out overlong forms, surrogates and anything
 * above U+10FFFF without decoding the code point.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "wp_utf8.h"

#define ELLIPSIS "..."

size_t wp_utf8_char_len(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (len == 0)
        return 0;
    if (p[0] < 0x80)
        return 1;
    if (p[0] < 0xc2)                /* continuation byte, or overlong C0/C1 */
        return 0;
    if (p[0] < 0xe0)
        n = 2;
    else if (p[0] < 0xf0) {
        n = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;              /* overlong */
        else if (p[0] == 0xed)
            hi = 0x9f;              /* surrogates D800-DFFF */
    } else if (p[0] < 0xf5) {
        n = 4;
        if (p[0] == 0xf0)
            lo = 0x90;              /* overlong */
        else if (p[0] == 0xf4)
            hi = 0x8f;              /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

bool wp_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        /* ASCII runs are most of every message: skip them a word at a time. */
        uint64_t w;
        if (len - i >= sizeof(w)) {
            memcpy(&w, s + i, sizeof(w));
            if (!(w & UINT64_C(0x8080808080808080))) {
                i += sizeof(w);
                continue;
            }
        }
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = wp_utf8_char_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/*
 * The character at in[i]: sets *c and *clen to what to write for it (the
 * character, or U+FFFD for a byte that is not one, and for NUL) and returns
 * how many input bytes it takes.
 */
static size_t next_char(const char *in, size_t len, size_t i,
                        const char **c, size_t *clen)
{
    size_t n = wp_utf8_char_len(in + i, len - i);

    if (n == 0 || in[i] == '\0') {
        *c = WP_UTF8_REPLACEMENT;
        *clen = sizeof(WP_UTF8_REPLACEMENT) - 1;
        return 1;
    }
    *c = in + i;
    *clen = n;
    return n;
}

/* Whether all of in, as copied, fits in outlen bytes and max_chars. */
static bool fits(const char *in, size_t len, size_t outlen, size_t max_chars)
{
    size_t i = 0, o = 0, chars = 0, clen;
    const char *c;

    while (i < len) {
        i += next_char(in, len, i, &c, &clen);
        o += clen;
        if (++chars > max_chars || o >= outlen)
            return false;
    }
    return true;
}

size_t wp_utf8_copy(char *out, size_t outlen, const char *in, size_t len,
                    size_t max_chars)
{
    size_t i = 0, o = 0, chars = 0, clen, n;
    size_t room = outlen, ell = sizeof(ELLIPSIS) - 1;
    bool cut;
    const char *c;

    if (outlen == 0)
        return 0;
    cut = !fits(in, len, outlen, max_chars);
    if (cut && outlen > ell)
        room = outlen - ell;        /* keep room for the ellipsis */
    while (i < len && (!cut || chars < max_chars)) {
        n = next_char(in, len, i, &c, &clen);
        if (o + clen >= room)
            break;
        memcpy(out + o, c, clen);
        o += clen;
        i += n;
        chars++;
    }
    if (cut && o + ell < outlen) {
        memcpy(out + o, ELLIPSIS, ell);
        o += ell;
    }
    out[o] = '\0';
    return o;
}

size_t wp_utf8_whole(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = len;

    /* A character is at most 4 bytes: its lead byte is among the last 3. */
    while (start > 0 && len - start < 3 && (p[start - 1] & 0xc0) == 0x80)
        start--;
    if (start == 0 || p[start - 1] < 0xc2)
        return len;                 /* no lead byte before the tail */
    start--;
    /* A lead byte whose character needs more bytes than there are. */
    size_t need = p[start] < 0xe0 ? 2 : p[start] < 0xf0 ? 3 : p[start] < 0xf5 ? 4 : 0;
    if (need <= len - start)
        return len;
    if (len - start == 1)
        return start;               /* a lead byte alone */
    /* Cut only what would have been a character had it gone on. */
    char probe[4];
    memcpy(probe, s + start, len - start);
    memset(probe + (len - start), 0x80, need - (len - start));
    return wp_utf8_char_len(probe, need) ? start : len;
}

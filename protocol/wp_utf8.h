/*
 * wp_utf8.h - UTF-8 as RFC 3629 has it, for text that crosses the control
 * channel.
 *
 * json-c checks that a string's bytes look like UTF-8, but lets overlong
 * forms (C0 AF for '/'), surrogates (ED A0 80) and code points above
 * U+10FFFF (F4 90 80 80) through, and C's "%.64s" cuts a character in half.
 * A peer's JSON parser (Python's, a browser's) refuses either.  These
 * functions are the one place that knows what valid UTF-8 is: requests are
 * checked with them, and every piece of a request echoed in an answer is
 * copied with wp_utf8_copy().
 *
 * Pure functions on caller-owned memory: thread-safe, no allocation.
 */
#ifndef WP_UTF8_H
#define WP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, what an invalid byte is shown as. */
#define WP_UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Length (1 to 4) of the valid character at s, or 0 if the len bytes at s
 * do not start with one (a stray continuation byte, an overlong form, a
 * surrogate, a code point above U+10FFFF, or a character cut short).
 */
size_t wp_utf8_char_len(const char *s, size_t len);

/* Whether the len bytes at s are valid UTF-8 (NUL bytes are valid). */
bool wp_utf8_valid(const char *s, size_t len);

/*
 * Copy untrusted text (len bytes at in) into out for a message: valid
 * characters as they are, every byte that is not part of one, and NUL, as
 * U+FFFD.  At most max_chars characters are copied, and never more than
 * fits in outlen with its NUL; text that was cut ends in "..." and is always
 * cut between two characters.  out is always NUL-terminated when
 * outlen > 0.  Returns the bytes written, NUL not counted.
 */
size_t wp_utf8_copy(char *out, size_t outlen, const char *in, size_t len,
                    size_t max_chars);

/*
 * The length of s less a character cut short at its very end (what a
 * bounded snprintf leaves when it truncates inside one), so that s[0..n)
 * never ends inside a character.  Invalid bytes before the end are left
 * for the caller to replace.
 */
size_t wp_utf8_whole(const char *s, size_t len);

#endif /* WP_UTF8_H */

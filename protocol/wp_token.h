/*
 * wp_token.h - the shared secret of the control channel.
 */
#ifndef WP_TOKEN_H
#define WP_TOKEN_H

#include <stddef.h>

/* wp_token_load flag: refuse a file its group or others may read or write. */
#define WP_TOKEN_PRIVATE 1u

/*
 * Read a token file: its content less trailing white space (space, tab,
 * CR, LF, VT, FF; a NUL byte is no white space).  Returns a malloc'd
 * string, or NULL with errno set and the reason in err, naming the file: a
 * missing or unreadable file, an empty token, a file larger than 4 KiB, a
 * NUL byte in the token, a token that is not UTF-8 text (it travels in
 * JSON), and with WP_TOKEN_PRIVATE a file others may read or write (EACCES;
 * see wp_secret.h).
 *
 * The host daemon reads its token with WP_TOKEN_PRIVATE, through
 * wp_token_read().  The guest side does not: it only sends the token the
 * host owns, and a file on a Windows drive (drvfs without metadata) shows
 * mode 0777 whatever its owner does.
 */
char *wp_token_load(const char *path, unsigned flags, char *err, size_t errlen);

/* The daemon's: wp_token_load(path, WP_TOKEN_PRIVATE, err, errlen). */
char *wp_token_read(const char *path, char *err, size_t errlen);

/* Compare tokens in time independent of where they differ. */
int wp_token_equal(const char *a, const char *b);

#endif /* WP_TOKEN_H */

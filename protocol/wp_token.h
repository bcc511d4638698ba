/*
 * wp_token.h - the shared secret of the control channel.
 */
#ifndef WP_TOKEN_H
#define WP_TOKEN_H

#include <stddef.h>

/*
 * Read a token file: its content less trailing white space.  Returns a
 * malloc'd string, or NULL with errno set and the reason in err (a missing
 * or unreadable file, an empty token, a file larger than 4 KiB).
 */
char *wp_token_read(const char *path, char *err, size_t errlen);

/* Compare tokens in time independent of where they differ. */
int wp_token_equal(const char *a, const char *b);

#endif /* WP_TOKEN_H */

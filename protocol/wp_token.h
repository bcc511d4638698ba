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

/*
 * A token file's grants (SPEC, "Permissions"): one a line,
 *   TOKEN [ops=OP,OP...] [roots=HOSTDIR;HOSTDIR...] [access=read|write]
 * with blank lines and lines starting with '#' left out.  The fields are
 * taken from the end of the line as long as they start with "ops=",
 * "roots=" or "access="; the rest of the line is the token, blanks inside
 * it included, so that a version 1 token file (one line, any text) means
 * what it meant: that token, granted everything.
 */
typedef struct {
    char *token;
    char **ops;                 /* NULL: every operation */
    size_t nops;
    char **roots;               /* canonical host directories; NULL: every allowed root */
    size_t nroots;
    int read_only;              /* access=read */
} wp_grant;

/*
 * Parse the text of a token file (as wp_token_load returns it) into *grants
 * (free with wp_grants_free) and *n (at least one).  -1 with errno EINVAL
 * and the reason in err, naming the line: no token at all, a token twice,
 * a field twice or empty, an access other than read or write, a root that
 * is no host directory.
 */
int wp_grants_parse(const char *text, wp_grant **grants, size_t *n, char *err, size_t errlen);
void wp_grants_free(wp_grant *grants, size_t n);

/*
 * The token a client sends, from the token file at path: its first grant's
 * (a file of several lines may be the host's own).  NULL with errno and
 * the reason in err, as wp_token_load() and wp_grants_parse() fail.
 */
char *wp_token_client(const char *path, char *err, size_t errlen);

/* Compare tokens in time independent of where they differ. */
int wp_token_equal(const char *a, const char *b);

#endif /* WP_TOKEN_H */

/*
 * wp_secret.h - files that hold a secret: the control channel's token, a
 * key.
 *
 * The host daemon refuses at start a secret file that anyone but its owner
 * may read or write, as ssh refuses such a private key: whoever can read
 * the token can use the host, and whoever can write it can lock everyone
 * out.  The message names the file, its mode and the fix:
 *
 *   token file /etc/winapi.token is mode 0644: readable by others; chmod 600 /etc/winapi.token
 *
 * On Windows access is a matter of ACLs, not mode bits (the C library
 * makes them up), so nothing is refused there.  One implementation per
 * platform, chosen by the build: wp_secret_posix.c, wp_secret_win32.c.
 */
#ifndef WP_SECRET_H
#define WP_SECRET_H

#include <stddef.h>
#include <stdio.h>

/*
 * Whether fp, opened from path, is private to its owner.  what names the
 * kind of file for the message ("token file", "key file").  Returns 0, or
 * -1 with errno EACCES (or fstat's errno) and the reason in err, always
 * NUL-terminated.
 */
int wp_secret_check_private(FILE *fp, const char *what, const char *path,
                            char *err, size_t errlen);

#endif /* WP_SECRET_H */

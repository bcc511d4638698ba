/*
 * wp_secret_win32.c - on Windows who may read a file is its ACL's to say;
 * the mode bits the C library reports are made up from the read-only
 * attribute.  Nothing is refused here (SPEC: the mode rule is POSIX's).
 */
#include "config.h"

#include "wp_secret.h"

int wp_secret_check_private(FILE *fp, const char *what, const char *path,
                            char *err, size_t errlen)
{
    (void)fp;
    (void)what;
    (void)path;
    if (errlen > 0)
        err[0] = '\0';
    return 0;
}

/*
 * wp_secret_posix.c - a secret file is private when neither its group nor
 * others have any permission on it.  The mode is taken from the open file
 * (fstat), so it is the mode of what was read, not of what the name points
 * to a moment later.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "wp_secret.h"

/* The widest class that has the permission: "others", else "its group". */
static const char *who(mode_t mode, mode_t other_bit)
{
    return mode & other_bit ? "others" : "its group";
}

/* "readable by others", "readable and writable by its group", ... */
static void describe(mode_t mode, char *out, size_t outlen)
{
    bool r = mode & (S_IRGRP | S_IROTH), w = mode & (S_IWGRP | S_IWOTH);
    const char *rwho = who(mode, S_IROTH), *wwho = who(mode, S_IWOTH);

    if (r && w && rwho == wwho)
        snprintf(out, outlen, "readable and writable by %s", rwho);
    else if (r && w)
        snprintf(out, outlen, "readable by %s, writable by %s", rwho, wwho);
    else if (r)
        snprintf(out, outlen, "readable by %s", rwho);
    else if (w)
        snprintf(out, outlen, "writable by %s", wwho);
    else
        snprintf(out, outlen, "executable by %s", who(mode, S_IXOTH));
}

int wp_secret_check_private(FILE *fp, const char *what, const char *path,
                            char *err, size_t errlen)
{
    struct stat st;
    char how[96];

    if (fstat(fileno(fp), &st) < 0) {
        int e = errno;
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
        errno = e;
        return -1;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return 0;
    describe(st.st_mode, how, sizeof(how));
    snprintf(err, errlen, "%s %s is mode %04o: %s; chmod 600 %s", what, path,
             (unsigned)(st.st_mode & 07777), how, path);
    errno = EACCES;
    return -1;
}

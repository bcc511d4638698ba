/*
 * wp_path.c - guest <-> host path translation and Windows naming rules.
 *
 * Both directions go through one component checker, so a path that
 * translates one way always translates back to itself.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_mountinfo.h"
#include "wp_path.h"
#include "wp_utf8.h"

/* Write the reason (cut short between characters if it must be) and set errno. */
static int fail(int e, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (errlen > 0) {
        va_start(ap, fmt);
        n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n >= errlen)
            err[wp_utf8_whole(err, strlen(err))] = '\0';
    }
    errno = e;
    return -1;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t i;

    for (i = 0; i < alen && b[i]; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return i == alen && b[i] == '\0';
}

/* CON, NUL, COM1 ... are devices in every directory, with any extension. */
static bool is_reserved(const char *name, size_t len)
{
    static const char *const devices[] = {
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
        "COM\xc2\xb9", "COM\xc2\xb2", "COM\xc2\xb3",
        "LPT\xc2\xb9", "LPT\xc2\xb2", "LPT\xc2\xb3",
    };
    const char *dot = memchr(name, '.', len);
    size_t base = dot ? (size_t)(dot - name) : len;

    while (base > 0 && name[base - 1] == ' ')
        base--;
    if (base < 3 || base > 7)           /* shorter or longer than every name above */
        return false;
    for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
        if (ieq(name, base, devices[i]))
            return true;
    return false;
}

int wp_path_name_ok(const char *name, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return fail(EINVAL, err, errlen, "empty path component");
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return fail(EINVAL, err, errlen, "\".\" or \"..\" component");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return fail(EINVAL, err, errlen, "control character in path");
        /* Letters and digits are most of every name: no search for them. */
        if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))
            continue;
        if (strchr("<>:\"|?*\\/", c))
            return fail(EINVAL, err, errlen, "character '%c' not allowed in a Windows name%s",
                        c, c == ':' ? " (alternate data stream)" : "");
    }
    /* Windows strips these, so "a." would open "a": refuse the alias. */
    if (name[len - 1] == '.' || name[len - 1] == ' ')
        return fail(EINVAL, err, errlen, "name ends in a dot or space");
    if (is_reserved(name, len))
        return fail(EINVAL, err, errlen, "reserved device name \"%.*s\"", (int)len, name);
    return 0;
}

/*
 * Append the components of rel (separated by any of seps) to out at *pos,
 * each preceded by sep.  A single trailing separator is tolerated.
 */
static int append_components(const char *rel, const char *seps, char sep,
                             char *out, size_t outlen, size_t *pos,
                             char *err, size_t errlen)
{
    const char *p = rel;

    while (*p) {
        size_t n = strcspn(p, seps);
        if (n == 0 && p[0] != '\0' && p[1] == '\0')
            break;              /* trailing separator */
        if (wp_path_name_ok(p, n, err, errlen) < 0)
            return -1;
        if (*pos + 1 + n >= outlen)
            return fail(ENAMETOOLONG, err, errlen, "path too long");
        out[(*pos)++] = sep;
        memcpy(out + *pos, p, n);
        *pos += n;
        p += n;
        if (*p)
            p++;
    }
    out[*pos] = '\0';
    return 0;
}

int wp_path_root_normalize(const char *root, char *out, size_t outlen)
{
    size_t n = strlen(root);

    if (root[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n + 2 > outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(out, root, n);
    if (out[n - 1] != '/')
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

int wp_path_guest_to_host(const char *guest, const char *automount_root,
                          char *out, size_t outlen, char *err, size_t errlen)
{
    char root[WP_GUEST_PATH_MAX];
    size_t rlen, pos = 0;
    const char *p;

    if (wp_path_root_normalize(automount_root, root, sizeof(root)) < 0)
        return fail(EINVAL, err, errlen, "automount root \"%s\" is not absolute",
                    automount_root);
    if (guest[0] != '/')
        return fail(EINVAL, err, errlen, "not an absolute path");
    if (strlen(guest) >= WP_GUEST_PATH_MAX)
        return fail(ENAMETOOLONG, err, errlen, "guest path too long");
    rlen = strlen(root);
    if (strncmp(guest, root, rlen) != 0 || !is_letter(guest[rlen]) ||
        (guest[rlen + 1] != '/' && guest[rlen + 1] != '\0'))
        return fail(EINVAL, err, errlen, "outside the automount root %s", root);
    if (outlen < 4)
        return fail(ENAMETOOLONG, err, errlen, "path too long");
    out[pos++] = upper(guest[rlen]);
    out[pos++] = ':';
    out[pos] = '\0';
    p = guest + rlen + 1;
    if (*p == '/')
        p++;
    if (append_components(p, "/", '\\', out, outlen, &pos, err, errlen) < 0)
        return -1;
    if (pos == 2) {
        out[pos++] = '\\';
        out[pos] = '\0';
    }
    if (pos >= WP_HOST_PATH_MAX)
        return fail(ENAMETOOLONG, err, errlen, "host path longer than %d characters",
                    WP_HOST_PATH_MAX - 1);
    return 0;
}

/* Validate "X:\..." and return a pointer past "X:" and its separator. */
static const char *host_drive(const char *host, char *err, size_t errlen)
{
    if (strlen(host) >= WP_HOST_PATH_MAX) {
        fail(ENAMETOOLONG, err, errlen, "host path longer than %d characters",
             WP_HOST_PATH_MAX - 1);
        return NULL;
    }
    if (!is_letter(host[0]) || host[1] != ':' || (host[2] != '\\' && host[2] != '/')) {
        fail(EINVAL, err, errlen, "not an absolute Windows path");
        return NULL;
    }
    return host + 3;
}

size_t wp_path_host_below(const char *root, const char *path)
{
    size_t rl = strlen(root), pl = strlen(path);
    /* "C:\" ends in its separator; "C:\temp" needs one after it. */
    size_t skip = rl > 0 && root[rl - 1] == '\\' ? rl : rl + 1;

    if (rl == 0 || pl <= skip)
        return 0;
    for (size_t i = 0; i < rl; i++)
        if (tolower((unsigned char)path[i]) != tolower((unsigned char)root[i]))
            return 0;
    if (root[rl - 1] != '\\' && path[rl] != '\\')
        return 0;
    return skip;
}

int wp_path_host_canon(const char *host, char *out, size_t outlen,
                       char *err, size_t errlen)
{
    const char *p = host_drive(host, err, errlen);
    size_t pos = 2;

    if (!p)
        return -1;
    if (outlen < 4)
        return fail(ENAMETOOLONG, err, errlen, "path too long");
    out[0] = upper(host[0]);
    out[1] = ':';
    if (append_components(p, "\\/", '\\', out, outlen, &pos, err, errlen) < 0)
        return -1;
    if (pos == 2) {
        out[pos++] = '\\';
        out[pos] = '\0';
    }
    return 0;
}

int wp_path_host_to_guest(const char *host, const char *automount_root,
                          char *out, size_t outlen, char *err, size_t errlen)
{
    const char *p = host_drive(host, err, errlen);
    size_t pos;

    if (!p)
        return -1;
    if (wp_path_root_normalize(automount_root, out, outlen) < 0)
        return fail(EINVAL, err, errlen, "automount root \"%s\" is not absolute",
                    automount_root);
    pos = strlen(out);
    if (pos + 2 > outlen)
        return fail(ENAMETOOLONG, err, errlen, "path too long");
    out[pos++] = lower(host[0]);
    out[pos] = '\0';
    return append_components(p, "\\/", '/', out, outlen, &pos, err, errlen);
}

/* A file's path: no trailing separator (a directory), not a drive root. */
static int file_ok(const char *path, const char *seps, char *canon,
                   char *err, size_t errlen)
{
    size_t n = strlen(path);
    const char *why = NULL;

    if (n > 0 && strchr(seps, path[n - 1]))
        why = "ends in a separator, which names a directory, not a file";
    else if (strlen(canon) == 3)
        why = "a drive root is not a file";
    if (!why)
        return 0;
    canon[0] = '\0';
    return fail(EINVAL, err, errlen, "%s", why);
}

int wp_path_guest_file_to_host(const char *guest, const char *automount_root,
                               char *out, size_t outlen, char *err, size_t errlen)
{
    if (wp_path_guest_to_host(guest, automount_root, out, outlen, err, errlen) < 0)
        return -1;
    return file_ok(guest, "/", out, err, errlen);
}

int wp_path_host_file_canon(const char *host, char *out, size_t outlen,
                            char *err, size_t errlen)
{
    if (wp_path_host_canon(host, out, outlen, err, errlen) < 0)
        return -1;
    return file_ok(host, "\\/", out, err, errlen);
}

struct root_search {
    char *out;
    size_t outlen;
};

/*
 * WSL1 shows drvfs as the type, WSL2 as a 9p mount whose source is "drvfs"
 * (or C:\ with aname=drvfs).  The root is the mount point's parent.
 */
static int drvfs_root(void *arg, const struct wp_mount *m)
{
    struct root_search *rs = arg;
    const char *slash = strrchr(m->mount_point, '/');
    size_t len;

    if (!(strcmp(m->fstype, "drvfs") == 0 ||
          (strcmp(m->fstype, "9p") == 0 &&
           (strcmp(m->source, "drvfs") == 0 || strstr(m->super_opts, "aname=drvfs")))))
        return 0;
    if (!slash || slash == m->mount_point || !is_letter(slash[1]) || slash[2] != '\0')
        return 0;
    len = (size_t)(slash - m->mount_point) + 1;
    if (len >= rs->outlen)
        return 0;
    memcpy(rs->out, m->mount_point, len);
    rs->out[len] = '\0';
    return 1;
}

int wp_path_find_automount_root(const char *mountinfo, char *out, size_t outlen)
{
    struct root_search rs = { out, outlen };

    if (wp_mountinfo_each(mountinfo, drvfs_root, &rs) > 0)
        return 0;
    if (outlen < sizeof(WP_DEFAULT_AUTOMOUNT_ROOT)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(out, WP_DEFAULT_AUTOMOUNT_ROOT);
    return 0;
}

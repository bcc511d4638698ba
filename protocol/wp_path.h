/*
 * wp_path.h - guest (Linux) <-> host (Windows) path translation.
 *
 *   /mnt/c/temp/winapi_shared_buffer_1_1234  <->  C:\temp\winapi_shared_buffer_1_1234
 *   /mnt/d                                   <->  D:\
 *
 * Translation never guesses: relative paths, "." and ".." components, empty
 * components, control bytes, characters Windows forbids in names (":" among
 * them, so no alternate data streams), names Windows would silently alias
 * (trailing dot or space), reserved device names (CON, NUL, COM1, ...),
 * over-long paths and guest paths outside the automount root are all
 * rejected with a reason.  Drive letters are accepted in either case and
 * written lower-case on the guest side, upper-case on the host side.
 *
 * All functions are thread-safe.  Each returns 0, or -1 with errno set
 * (EINVAL for a rejected path, ENAMETOOLONG for one too long for out) and
 * the reason in err (always NUL-terminated when errlen > 0; it does not repeat
 * the path, so callers can say "PATH: reason").
 */
#ifndef WP_PATH_H
#define WP_PATH_H

#include <stddef.h>

/* Longest host path, NUL included: Windows' MAX_PATH. */
#define WP_HOST_PATH_MAX 260
/* Longest guest path, NUL included. */
#define WP_GUEST_PATH_MAX 4096
#define WP_DEFAULT_AUTOMOUNT_ROOT "/mnt/"

int wp_path_guest_to_host(const char *guest, const char *automount_root,
                          char *out, size_t outlen, char *err, size_t errlen);
int wp_path_host_to_guest(const char *host, const char *automount_root,
                          char *out, size_t outlen, char *err, size_t errlen);

/*
 * Where the canonical host path path lies below the canonical directory
 * root (whole components, case-insensitively, as Windows compares: C:\ro
 * does not hold C:\rox): the offset of the rest of path after root's
 * separator, or 0 when path is not below root (root itself included).
 */
size_t wp_path_host_below(const char *root, const char *path);

/*
 * Check a host path and write its canonical form: upper-case drive, '\'
 * separators ('/' is accepted on input, as Windows does), no trailing
 * separator except on a drive root.
 */
int wp_path_host_canon(const char *host, char *out, size_t outlen,
                       char *err, size_t errlen);

/*
 * The same, for the path of a file rather than a directory: a trailing
 * separator names a directory ("C:\temp\good\" is not the file
 * C:\temp\good, and open() of "good/" fails on Linux too), and a drive
 * root is no file either; both are refused.  Use these for the file a
 * request names; the ones above for directories such as allowed roots.
 */
int wp_path_guest_file_to_host(const char *guest, const char *automount_root,
                               char *out, size_t outlen, char *err, size_t errlen);
int wp_path_host_file_canon(const char *host, char *out, size_t outlen,
                            char *err, size_t errlen);

/* Check one host path component (len bytes) against Windows' naming rules. */
int wp_path_name_ok(const char *name, size_t len, char *err, size_t errlen);

/*
 * The automount root as wslpath finds it: the parent of the drvfs mounts in
 * mountinfo (normally /proc/self/mountinfo; a file name for tests), else
 * "/mnt/".  Always ends in '/'.
 */
int wp_path_find_automount_root(const char *mountinfo, char *out, size_t outlen);

/* Copy root to out with exactly one trailing '/'; root must be absolute. */
int wp_path_root_normalize(const char *root, char *out, size_t outlen);

#endif /* WP_PATH_H */

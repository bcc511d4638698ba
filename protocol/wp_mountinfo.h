/*
 * wp_mountinfo.h - the one reader of /proc/self/mountinfo.
 *
 * A line is "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE
 * SOURCE SUPEROPTS"; the kernel escapes blanks, tabs, newlines and
 * backslashes in paths as \ooo (a mount point with a space reads
 * "/mnt/my\040disk"), and every string handed out here is unescaped.
 */
#ifndef WP_MOUNTINFO_H
#define WP_MOUNTINFO_H

/* One mount; the strings live until the callback returns. */
struct wp_mount {
    const char *dev;            /* "MAJ:MIN" */
    const char *mount_point;
    const char *fstype;
    const char *source;
    const char *super_opts;
};

/* Return nonzero to stop the walk. */
typedef int wp_mountinfo_fn(void *arg, const struct wp_mount *m);

/*
 * Call fn for every well-formed line of mountinfo (NULL for
 * /proc/self/mountinfo; another file for tests), in order, until it
 * returns nonzero; malformed lines are skipped.  Returns fn's nonzero
 * value, 0 when the walk ended, or -1 with errno when the file cannot be
 * read.  Thread-safe.
 */
int wp_mountinfo_each(const char *mountinfo, wp_mountinfo_fn *fn, void *arg);

/* Undo mountinfo's \ooo escapes in place. */
void wp_mountinfo_unescape(char *s);

#endif /* WP_MOUNTINFO_H */

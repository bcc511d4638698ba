/*
 * xattr.h - the user.* extended attributes winapifs stores with a buffer.
 *
 * They live in memory, with the inode, for as long as the file exists;
 * cp -a, rsync -X and tar --xattrs can copy them in and out like on any
 * file system.  The control attributes (user.winapi.*) are not stored here:
 * see ctl.h.
 *
 * None of these functions locks: the caller holds the owning inode's lock.
 * All return 0 or a positive errno, as node.h does, with the kernel's
 * meanings: ENODATA for a missing attribute, EEXIST and
 * ENODATA for XATTR_CREATE and XATTR_REPLACE, ERANGE when the caller's
 * buffer is too small, ENOSPC when the inode's attributes would exceed
 * XATTR_SET_MAX bytes.
 */
#ifndef WINAPIFS_XATTR_H
#define WINAPIFS_XATTR_H

#include <stddef.h>
#include <sys/types.h>

/* Names and values of one inode, at most; ext4 allows one block, tmpfs 128 KiB. */
#define XATTR_SET_MAX (64 * 1024)

struct xattr;

struct xattr_set {
    struct xattr *head;
    size_t total;           /* bytes of names and values */
};

/*
 * Copy the value of name into buf (size bytes); its length into *len.
 * size 0 asks for the length only.  ENODATA or ERANGE.
 */
int xattr_get(const struct xattr_set *s, const char *name, void *buf,
              size_t size, size_t *len);

/* Set name to value, honouring XATTR_CREATE / XATTR_REPLACE in flags. */
int xattr_set(struct xattr_set *s, const char *name, const void *value,
              size_t size, int flags);

int xattr_remove(struct xattr_set *s, const char *name);

/*
 * The names, each NUL-terminated, into buf (size bytes; 0 asks for the
 * length); their length into *len.  ERANGE.
 */
int xattr_list(const struct xattr_set *s, char *buf, size_t size, size_t *len);

/* Call fn for every attribute, in the order they were set. */
typedef void xattr_each_fn(void *arg, const char *name, const void *value, size_t size);
void xattr_each(const struct xattr_set *s, xattr_each_fn *fn, void *arg);

void xattr_clear(struct xattr_set *s);

#endif /* WINAPIFS_XATTR_H */

/*
 * xattr.c - stored user.* attributes: a short list per inode.
 *
 * A list, because a buffer carries a handful of attributes at most and a
 * list keeps them in the order they were set, which listxattr shows.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "xattr.h"

struct xattr {
    struct xattr *next;
    size_t size;
    char *name;
    unsigned char value[];
};

static struct xattr **find(struct xattr_set *s, const char *name)
{
    struct xattr **pp;

    for (pp = &s->head; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0)
            break;
    return pp;
}

static size_t cost(const struct xattr *x)
{
    return strlen(x->name) + 1 + x->size;
}

int xattr_get(const struct xattr_set *s, const char *name, void *buf,
              size_t size, size_t *len)
{
    const struct xattr *x = *find((struct xattr_set *)s, name);

    if (!x)
        return ENODATA;
    *len = x->size;
    if (size == 0)
        return 0;
    if (size < x->size)
        return ERANGE;
    memcpy(buf, x->value, x->size);
    return 0;
}

int xattr_set(struct xattr_set *s, const char *name, const void *value,
              size_t size, int flags)
{
    struct xattr **pp = find(s, name), *old = *pp, *x;
    size_t namelen = strlen(name);
    size_t total = s->total - (old ? cost(old) : 0) + namelen + 1 + size;

    if ((flags & XATTR_CREATE) && old)
        return EEXIST;
    if ((flags & XATTR_REPLACE) && !old)
        return ENODATA;
    if (total > XATTR_SET_MAX)
        return ENOSPC;
    x = malloc(sizeof(*x) + size + namelen + 1);
    if (!x)
        return ENOMEM;
    x->size = size;
    memcpy(x->value, value, size);
    x->name = (char *)x->value + size;
    memcpy(x->name, name, namelen + 1);
    /* Replace in place, so the listing order stays the order of creation. */
    x->next = old ? old->next : NULL;
    *pp = x;
    free(old);
    s->total = total;
    return 0;
}

int xattr_remove(struct xattr_set *s, const char *name)
{
    struct xattr **pp = find(s, name), *x = *pp;

    if (!x)
        return ENODATA;
    *pp = x->next;
    s->total -= cost(x);
    free(x);
    return 0;
}

int xattr_list(const struct xattr_set *s, char *buf, size_t size, size_t *len)
{
    *len = 0;
    for (const struct xattr *x = s->head; x; x = x->next)
        *len += strlen(x->name) + 1;
    if (size == 0)
        return 0;
    if (size < *len)
        return ERANGE;
    for (const struct xattr *x = s->head; x; x = x->next) {
        size_t n = strlen(x->name) + 1;
        memcpy(buf, x->name, n);
        buf += n;
    }
    return 0;
}

void xattr_each(const struct xattr_set *s, xattr_each_fn *fn, void *arg)
{
    for (const struct xattr *x = s->head; x; x = x->next)
        fn(arg, x->name, x->value, x->size);
}

void xattr_clear(struct xattr_set *s)
{
    struct xattr *x, *next;

    for (x = s->head; x; x = next) {
        next = x->next;
        free(x);
    }
    s->head = NULL;
    s->total = 0;
}

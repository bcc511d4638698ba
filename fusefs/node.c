/*
 * node.c - the namespace: a tree of inodes, a (parent, name) hash for
 * lookups, and the backing files of regular files.
 *
 * FUSE inode numbers are the inodes' addresses, as in libfuse's
 * passthrough_ll: the kernel never uses a number after forgetting it, and
 * an inode is only freed once it has been forgotten and unlinked.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_log.h>

#include "node.h"
#include "wp_buf.h"
#include "wp_path.h"

/* FUSE_ROOT_ID; the kernel always calls the root 1. */
#define NODE_ROOT_ID 1

struct timespec node_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return t;
}

/* ---- the (parent, name) hash ---- */

static size_t hash_of(const struct node *dir, const char *name)
{
    uint64_t h = UINT64_C(14695981039346656037) ^ (uint64_t)(uintptr_t)dir;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return (size_t)(h ^ (h >> 29));
}

static struct node *hash_find(struct node_ns *ns, const struct node *dir,
                              const char *name)
{
    struct node *n = ns->hash[hash_of(dir, name) & (ns->hash_size - 1)];

    while (n && (n->parent != dir || strcmp(n->name, name) != 0))
        n = n->hash_next;
    return n;
}

/* Double the table when it fills up; if memory is short, chains just grow. */
static void hash_grow(struct node_ns *ns)
{
    size_t size = ns->hash_size * 2;
    struct node **t = calloc(size, sizeof(*t));

    if (!t)
        return;
    for (size_t i = 0; i < ns->hash_size; i++) {
        struct node *n = ns->hash[i], *next;
        for (; n; n = next) {
            size_t b = hash_of(n->parent, n->name) & (size - 1);
            next = n->hash_next;
            n->hash_next = t[b];
            t[b] = n;
        }
    }
    free(ns->hash);
    ns->hash = t;
    ns->hash_size = size;
}

static void hash_insert(struct node_ns *ns, struct node *n)
{
    size_t b;

    if (ns->hash_count >= ns->hash_size)
        hash_grow(ns);
    b = hash_of(n->parent, n->name) & (ns->hash_size - 1);
    n->hash_next = ns->hash[b];
    ns->hash[b] = n;
    ns->hash_count++;
}

static void hash_remove(struct node_ns *ns, struct node *n)
{
    struct node **pp = &ns->hash[hash_of(n->parent, n->name) & (ns->hash_size - 1)];

    while (*pp != n)
        pp = &(*pp)->hash_next;
    *pp = n->hash_next;
    n->hash_next = NULL;
    ns->hash_count--;
}

/* ---- inodes ---- */

static struct node *node_alloc(mode_t mode, uid_t uid, gid_t gid)
{
    struct node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    pthread_mutex_init(&n->lock, NULL);
    n->is_dir = S_ISDIR(mode);
    n->mode = mode;
    n->uid = uid;
    n->gid = gid;
    n->fd = -1;
    n->next_cookie = 3;         /* readdir offsets 1 and 2 are "." and ".." */
    n->atime = n->mtime = n->ctime = node_now();
    return n;
}

static void node_free(struct node *n)
{
    if (n->fd >= 0)
        close(n->fd);
    if (n->backing_linked && unlink(n->backing_path) < 0 && errno != ENOENT)
        fuse_log(FUSE_LOG_WARNING, "winapifs: cannot remove %s: %s\n",
                 n->backing_path, strerror(errno));
    xattr_clear(&n->xattrs);
    pthread_mutex_destroy(&n->lock);
    free(n->result);
    free(n->backing_path);
    free(n->host_path);
    free(n->name);
    free(n);
}

static void all_insert(struct node_ns *ns, struct node *n)
{
    n->ino = ns->next_ino++;
    n->all_next = ns->all.all_next;
    n->all_prev = &ns->all;
    ns->all.all_next->all_prev = n;
    ns->all.all_next = n;
}

/* Free n if nothing refers to it any more.  ns->lock held. */
static void node_release(struct node_ns *ns, struct node *n)
{
    if (n == ns->root || n->parent || n->nlookup > 0)
        return;
    n->all_prev->all_next = n->all_next;
    n->all_next->all_prev = n->all_prev;
    node_free(n);
}

/*
 * Give a new file its backing file.  Done before the tree is locked: on a
 * host share (drvfs, 9p) creating a file can take milliseconds, and
 * lookups elsewhere should not wait for it.
 */
static int backing_create(struct node_ns *ns, struct node *n)
{
    char path[WP_GUEST_PATH_MAX], host[WP_HOST_PATH_MAX], err[256];

    n->fd = wp_buf_create(ns->backing_dir, 0, path, sizeof(path), &n->buffer_id);
    if (n->fd < 0)
        return errno;
    n->backing_linked = true;
    n->backing_path = strdup(path);
    if (!n->backing_path)
        return ENOMEM;
    /* Checked for the directory at mount time; a name of ours always passes. */
    if (wp_path_guest_to_host(path, ns->automount_root, host, sizeof(host),
                              err, sizeof(err)) == 0)
        n->host_path = strdup(host);
    else
        fuse_log(FUSE_LOG_WARNING, "winapifs: %s: no host path: %s\n", path, err);
    return 0;
}

static void backing_unlink(struct node *n)
{
    if (!n->backing_linked)
        return;
    if (unlink(n->backing_path) < 0 && errno != ENOENT)
        fuse_log(FUSE_LOG_WARNING, "winapifs: cannot remove %s: %s\n",
                 n->backing_path, strerror(errno));
    n->backing_linked = false;
}

/* ---- the tree; ns->lock held in all of these ---- */

static void dir_touch(struct node *dir)
{
    pthread_mutex_lock(&dir->lock);
    dir->mtime = dir->ctime = node_now();
    dir->nlink = 2 + dir->nsubdirs;
    pthread_mutex_unlock(&dir->lock);
}

/* Link n into dir under name, which n now owns. */
static void attach(struct node_ns *ns, struct node *dir, struct node *n, char *name)
{
    n->parent = dir;
    n->name = name;
    n->cookie = dir->next_cookie++;
    n->sib_next = NULL;
    n->sib_prev = dir->child_tail;
    if (dir->child_tail)
        dir->child_tail->sib_next = n;
    else
        dir->child_head = n;
    dir->child_tail = n;
    dir->nchildren++;
    if (n->is_dir)
        dir->nsubdirs++;
    hash_insert(ns, n);
    dir_touch(dir);
    pthread_mutex_lock(&n->lock);
    n->nlink = n->is_dir ? 2 + n->nsubdirs : 1;
    n->ctime = node_now();
    pthread_mutex_unlock(&n->lock);
}

/* Unlink n from its directory; returns its name, which the caller now owns. */
static char *detach(struct node_ns *ns, struct node *n)
{
    struct node *dir = n->parent;
    char *name = n->name;

    hash_remove(ns, n);
    if (n->sib_prev)
        n->sib_prev->sib_next = n->sib_next;
    else
        dir->child_head = n->sib_next;
    if (n->sib_next)
        n->sib_next->sib_prev = n->sib_prev;
    else
        dir->child_tail = n->sib_prev;
    dir->nchildren--;
    if (n->is_dir)
        dir->nsubdirs--;
    dir_touch(dir);
    n->parent = NULL;
    n->name = NULL;
    n->sib_prev = n->sib_next = NULL;
    pthread_mutex_lock(&n->lock);
    n->nlink = 0;
    n->ctime = node_now();
    pthread_mutex_unlock(&n->lock);
    return name;
}

/* A directory that was removed can hold nothing new. */
static int dir_usable(const struct node_ns *ns, const struct node *dir)
{
    if (!dir->is_dir)
        return ENOTDIR;
    if (dir != ns->root && !dir->parent)
        return ENOENT;
    return 0;
}

static bool is_ancestor(const struct node *a, const struct node *d)
{
    for (; d; d = d->parent)
        if (d == a)
            return true;
    return false;
}

/* Take dst out of the tree because something is renamed over it. */
static void replace(struct node_ns *ns, struct node *dst)
{
    free(detach(ns, dst));
    if (!dst->is_dir)
        backing_unlink(dst);
    node_release(ns, dst);
}

static int move(struct node_ns *ns, struct node *src, struct node *dst,
                struct node *newdir, char **newname, unsigned flags)
{
    if (dst == src)
        return 0;
    if (dst && (flags & RENAME_NOREPLACE))
        return EEXIST;
    if (src->is_dir && is_ancestor(src, newdir))
        return EINVAL;
    if (dst) {
        if (src->is_dir && !dst->is_dir)
            return ENOTDIR;
        if (!src->is_dir && dst->is_dir)
            return EISDIR;
        if (dst->is_dir && dst->nchildren > 0)
            return ENOTEMPTY;
        replace(ns, dst);
    }
    free(detach(ns, src));
    attach(ns, newdir, src, *newname);
    *newname = NULL;
    return 0;
}

static int exchange(struct node_ns *ns, struct node *a, struct node *b)
{
    struct node *adir, *bdir;
    char *aname, *bname;

    if (!b)
        return ENOENT;
    if (a == b)
        return 0;
    adir = a->parent;
    bdir = b->parent;
    if ((a->is_dir && is_ancestor(a, bdir)) || (b->is_dir && is_ancestor(b, adir)))
        return EINVAL;
    aname = detach(ns, a);
    bname = detach(ns, b);
    attach(ns, bdir, a, bname);
    attach(ns, adir, b, aname);
    return 0;
}

/* ---- the API ---- */

int node_ns_init(struct node_ns *ns, const char *backing_dir,
                 const char *automount_root, uid_t uid, gid_t gid)
{
    memset(ns, 0, sizeof(*ns));
    pthread_mutex_init(&ns->lock, NULL);
    ns->backing_dirfd = open(backing_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ns->backing_dirfd < 0) {
        int e = errno;
        node_ns_destroy(ns);
        errno = e;
        return -1;
    }
    ns->all.all_next = ns->all.all_prev = &ns->all;
    ns->next_ino = NODE_ROOT_ID;
    ns->hash_size = 64;
    ns->hash = calloc(ns->hash_size, sizeof(*ns->hash));
    ns->backing_dir = strdup(backing_dir);
    ns->automount_root = strdup(automount_root);
    ns->root = node_alloc(S_IFDIR | 0755, uid, gid);
    if (ns->root) {
        all_insert(ns, ns->root);
        ns->root->nlink = 2;
    }
    if (!ns->hash || !ns->backing_dir || !ns->automount_root || !ns->root) {
        node_ns_destroy(ns);
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void node_ns_destroy(struct node_ns *ns)
{
    struct node *n, *next;

    for (n = ns->all.all_next; n && n != &ns->all; n = next) {
        next = n->all_next;
        node_free(n);
    }
    if (ns->backing_dirfd >= 0)
        close(ns->backing_dirfd);
    free(ns->hash);
    free(ns->backing_dir);
    free(ns->automount_root);
    pthread_mutex_destroy(&ns->lock);
    memset(ns, 0, sizeof(*ns));
    ns->backing_dirfd = -1;
}

struct node *node_get(struct node_ns *ns, uint64_t nodeid)
{
    if (nodeid == NODE_ROOT_ID)
        return ns->root;
    return (struct node *)(uintptr_t)nodeid;
}

uint64_t node_id(const struct node_ns *ns, const struct node *n)
{
    return n == ns->root ? NODE_ROOT_ID : (uint64_t)(uintptr_t)n;
}

void node_ref_locked(struct node *n)
{
    n->nlookup++;
}

int node_lookup(struct node_ns *ns, struct node *dir, const char *name,
                struct node **out)
{
    struct node *n;

    *out = NULL;
    if (strlen(name) > NAME_MAX)
        return ENAMETOOLONG;
    if (!dir->is_dir)
        return ENOTDIR;
    pthread_mutex_lock(&ns->lock);
    n = hash_find(ns, dir, name);
    if (n)
        n->nlookup++;
    pthread_mutex_unlock(&ns->lock);
    *out = n;
    return 0;
}

int node_create(struct node_ns *ns, struct node *dir, const char *name,
                mode_t mode, uid_t uid, gid_t gid, struct node **out)
{
    struct node *n;
    char *dup;
    int err = ENOMEM;

    *out = NULL;
    if (strlen(name) > NAME_MAX)
        return ENAMETOOLONG;
    n = node_alloc(mode, uid, gid);
    dup = strdup(name);
    if (!n || !dup)
        goto fail;
    if (!n->is_dir && (err = backing_create(ns, n)) != 0)
        goto fail;
    pthread_mutex_lock(&ns->lock);
    err = dir_usable(ns, dir);
    if (!err && hash_find(ns, dir, name))
        err = EEXIST;
    if (err) {
        pthread_mutex_unlock(&ns->lock);
        goto fail;
    }
    all_insert(ns, n);
    attach(ns, dir, n, dup);
    n->nlookup = 1;
    pthread_mutex_unlock(&ns->lock);
    *out = n;
    return 0;
fail:
    free(dup);
    if (n)
        node_free(n);
    return err;
}

int node_remove(struct node_ns *ns, struct node *dir, const char *name,
                bool want_dir)
{
    struct node *n;
    int err = 0;

    pthread_mutex_lock(&ns->lock);
    n = dir->is_dir ? hash_find(ns, dir, name) : NULL;
    if (!dir->is_dir)
        err = ENOTDIR;
    else if (!n)
        err = ENOENT;
    else if (want_dir && !n->is_dir)
        err = ENOTDIR;
    else if (!want_dir && n->is_dir)
        err = EISDIR;
    else if (n->nchildren > 0)
        err = ENOTEMPTY;
    else
        replace(ns, n);
    pthread_mutex_unlock(&ns->lock);
    return err;
}

int node_rename(struct node_ns *ns, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags)
{
    struct node *src, *dst;
    char *dup;
    int err;

    if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
        return EINVAL;
    if (strlen(newname) > NAME_MAX)
        return ENAMETOOLONG;
    dup = strdup(newname);
    if (!dup)
        return ENOMEM;
    pthread_mutex_lock(&ns->lock);
    err = dir->is_dir ? dir_usable(ns, newdir) : ENOTDIR;
    src = err ? NULL : hash_find(ns, dir, name);
    if (!err && !src)
        err = ENOENT;
    if (!err) {
        dst = hash_find(ns, newdir, newname);
        if (flags & RENAME_EXCHANGE)
            err = exchange(ns, src, dst);
        else
            err = move(ns, src, dst, newdir, &dup, flags);
    }
    pthread_mutex_unlock(&ns->lock);
    free(dup);
    return err;
}

void node_forget(struct node_ns *ns, struct node *n, uint64_t count)
{
    pthread_mutex_lock(&ns->lock);
    n->nlookup -= count < n->nlookup ? count : n->nlookup;
    node_release(ns, n);
    pthread_mutex_unlock(&ns->lock);
}

static struct timespec later(struct timespec a, struct timespec b)
{
    if (a.tv_sec != b.tv_sec)
        return a.tv_sec > b.tv_sec ? a : b;
    return a.tv_nsec > b.tv_nsec ? a : b;
}

int node_stat(struct node *n, struct stat *st, blksize_t blksize)
{
    memset(st, 0, sizeof(*st));
    if (!n->is_dir && fstat(n->fd, st) < 0)
        return errno;
    pthread_mutex_lock(&n->lock);
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = n->nlink;
    st->st_uid = n->uid;
    st->st_gid = n->gid;
    if (n->is_dir) {
        st->st_size = 4096;
        st->st_blocks = 8;
        st->st_atim = n->atime;
        st->st_mtim = n->mtime;
        st->st_ctim = n->ctime;
    } else {
        st->st_ctim = later(st->st_ctim, n->ctime);
    }
    st->st_blksize = blksize;
    pthread_mutex_unlock(&n->lock);
    return 0;
}

int node_readdir(struct node_ns *ns, struct node *dir, uint64_t cookie,
                 node_dir_fn *fn, void *arg)
{
    struct node *c;

    if (!dir->is_dir)
        return ENOTDIR;
    pthread_mutex_lock(&ns->lock);
    if (cookie < 1 && fn(arg, ".", dir, 1) != 0)
        goto out;
    if (cookie < 2 && fn(arg, "..", dir->parent ? dir->parent : dir, 2) != 0)
        goto out;
    /* Children are in cookie order: skip what the caller has seen. */
    for (c = dir->child_head; c; c = c->sib_next)
        if (c->cookie > cookie && fn(arg, c->name, c, c->cookie) != 0)
            break;
out:
    pthread_mutex_unlock(&ns->lock);
    return 0;
}

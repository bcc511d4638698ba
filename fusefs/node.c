/*
 * node.c - the namespace: inodes, a (directory, name) hash of the names
 * that link them, and the backing files of regular files.
 *
 * FUSE inode numbers are the inodes' addresses, as in libfuse's
 * passthrough_ll: the kernel never uses a number after forgetting it, and
 * an inode is only freed once it has been forgotten and has no name left.
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
#include "node_int.h"
#include "persist.h"
#include "wp_buf.h"
#include "wp_path.h"

/* FUSE_ROOT_ID; the kernel always calls the root 1. */
#define NODE_ROOT_ID 1

/* Backing files are opened by name only in the backing directory, never followed. */
#define BACKING_OPEN_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)

struct timespec node_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return t;
}

/* ---- the (dir, name) hash ---- */

static size_t hash_of(const struct node *dir, const char *name)
{
    uint64_t h = UINT64_C(14695981039346656037) ^ (uint64_t)(uintptr_t)dir;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return (size_t)(h ^ (h >> 29));
}

struct dentry *node_hash_find(struct node_ns *ns, const struct node *dir,
                                const char *name)
{
    struct dentry *d = ns->hash[hash_of(dir, name) & (ns->hash_size - 1)];

    while (d && (d->dir != dir || strcmp(d->name, name) != 0))
        d = d->hash_next;
    return d;
}

/* Double the table when it fills up; if memory is short, chains just grow. */
static void hash_grow(struct node_ns *ns)
{
    size_t size = ns->hash_size * 2;
    struct dentry **t = calloc(size, sizeof(*t));

    if (!t)
        return;
    for (size_t i = 0; i < ns->hash_size; i++) {
        struct dentry *d = ns->hash[i], *next;
        for (; d; d = next) {
            size_t b = hash_of(d->dir, d->name) & (size - 1);
            next = d->hash_next;
            d->hash_next = t[b];
            t[b] = d;
        }
    }
    free(ns->hash);
    ns->hash = t;
    ns->hash_size = size;
}

static void hash_insert(struct node_ns *ns, struct dentry *d)
{
    size_t b;

    if (ns->hash_count >= ns->hash_size)
        hash_grow(ns);
    b = hash_of(d->dir, d->name) & (ns->hash_size - 1);
    d->hash_next = ns->hash[b];
    ns->hash[b] = d;
    ns->hash_count++;
}

static void hash_remove(struct node_ns *ns, struct dentry *d)
{
    struct dentry **pp = &ns->hash[hash_of(d->dir, d->name) & (ns->hash_size - 1)];

    while (*pp != d)
        pp = &(*pp)->hash_next;
    *pp = d->hash_next;
    d->hash_next = NULL;
    ns->hash_count--;
}

/* ---- inodes ---- */

struct node *node_alloc(mode_t mode, uid_t uid, gid_t gid)
{
    struct node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    pthread_mutex_init(&n->lock, NULL);
    n->type = mode & S_IFMT;
    n->mode = mode;
    n->uid = uid;
    n->gid = gid;
    n->fd = -1;
    n->next_cookie = 3;         /* readdir offsets 1 and 2 are "." and ".." */
    n->atime = n->mtime = n->ctime = node_now();
    return n;
}

/*
 * The backing file loses its name.  backing_linked changes under both
 * locks (ns->lock held by the caller, or no other reference left), so
 * either suffices to read it; the name is never reached without it.
 */
void node_backing_unlink(struct node_ns *ns, struct node *n)
{
    pthread_mutex_lock(&n->lock);
    if (n->backing_linked && unlinkat(ns->backing_dirfd, n->backing_name, 0) < 0 &&
        errno != ENOENT)
        fuse_log(FUSE_LOG_WARNING, "winapifs: cannot remove %s: %s\n",
                 n->backing_path, strerror(errno));
    n->backing_linked = false;
    pthread_mutex_unlock(&n->lock);
}

void node_free(struct node_ns *ns, struct node *n)
{
    if (n->fd >= 0)
        close(n->fd);
    /* A kept namespace keeps the data of every file with a name. */
    if (!(ns->keep && n->nlink > 0))
        node_backing_unlink(ns, n);
    xattr_clear(&n->xattrs);
    pthread_mutex_destroy(&n->lock);
    free(n->result);
    free(n->progress);
    free(n->backing_path);
    free(n->host_path);
    free(n->target);
    free(n);
}

void node_all_insert(struct node_ns *ns, struct node *n)
{
    n->ino = ns->next_ino++;
    n->all_next = ns->all.all_next;
    n->all_prev = &ns->all;
    ns->all.all_next->all_prev = n;
    ns->all.all_next = n;
}

/* Free n if nothing refers to it any more.  ns->lock held. */
void node_release(struct node_ns *ns, struct node *n)
{
    if (n == ns->root || n->nlink > 0 || n->nlookup > 0 || n->pins > 0)
        return;
    n->all_prev->all_next = n->all_next;
    n->all_next->all_prev = n->all_prev;
    node_free(ns, n);
}

/*
 * Give a new file its backing file; keep its descriptor only if it is
 * opened right away.  Done before the tree is locked: on a host share
 * (drvfs, 9p) creating a file can take milliseconds, and lookups elsewhere
 * should not wait for it.
 */
static int backing_create(struct node_ns *ns, struct node *n, bool open)
{
    char path[WP_GUEST_PATH_MAX], host[WP_HOST_PATH_MAX], err[256];
    int fd = wp_buf_create(ns->backing_dir, 0, path, sizeof(path), &n->buffer_id);

    if (fd < 0)
        return errno;
    n->backing_linked = true;
    if (open) {
        n->fd = fd;
        n->nopen = 1;
    } else {
        close(fd);
    }
    n->backing_path = strdup(path);
    if (!n->backing_path) {
        /* node_free() cannot name it: remove it here. */
        unlink(path);
        n->backing_linked = false;
        return ENOMEM;
    }
    n->backing_name = strrchr(n->backing_path, '/') + 1;
    /* Checked for the directory at mount time; a name of ours always passes. */
    if (wp_path_guest_to_host(path, ns->automount_root, host, sizeof(host),
                              err, sizeof(err)) == 0)
        n->host_path = strdup(host);
    else
        fuse_log(FUSE_LOG_WARNING, "winapifs: %s: no host path: %s\n", path, err);
    return 0;
}

/* ---- the tree; ns->lock held in all of these ---- */

static void node_dir_touch(struct node *dir)
{
    pthread_mutex_lock(&dir->lock);
    dir->mtime = dir->ctime = node_now();
    dir->nlink = 2 + dir->nsubdirs;
    pthread_mutex_unlock(&dir->lock);
}

/*
 * A name's coming or going changes its inode's link count and ctime.
 * nlink is written under both locks, so either suffices to read it.
 */
void node_links_changed(struct node *n, int delta)
{
    pthread_mutex_lock(&n->lock);
    if (node_is_dir(n))
        n->nlink = n->dent ? 2 + n->nsubdirs : 0;
    else
        n->nlink += delta;
    n->ctime = node_now();
    pthread_mutex_unlock(&n->lock);
}

/* Link d (naming d->node) into dir as the last entry. */
void node_attach(struct node_ns *ns, struct node *dir, struct dentry *d)
{
    d->dir = dir;
    d->cookie = dir->next_cookie++;
    d->sib_next = NULL;
    d->sib_prev = dir->child_tail;
    if (dir->child_tail)
        dir->child_tail->sib_next = d;
    else
        dir->child_head = d;
    dir->child_tail = d;
    dir->nchildren++;
    if (node_is_dir(d->node)) {
        dir->nsubdirs++;
        d->node->dent = d;
    }
    hash_insert(ns, d);
    node_dir_touch(dir);
}

/* Take d out of its directory; d stays the caller's. */
void node_detach(struct node_ns *ns, struct dentry *d)
{
    struct node *dir = d->dir;

    hash_remove(ns, d);
    if (d->sib_prev)
        d->sib_prev->sib_next = d->sib_next;
    else
        dir->child_head = d->sib_next;
    if (d->sib_next)
        d->sib_next->sib_prev = d->sib_prev;
    else
        dir->child_tail = d->sib_prev;
    dir->nchildren--;
    if (node_is_dir(d->node)) {
        dir->nsubdirs--;
        d->node->dent = NULL;
    }
    node_dir_touch(dir);
    d->dir = NULL;
    d->sib_prev = d->sib_next = NULL;
}

struct dentry *node_dentry_new(struct node *n, const char *name)
{
    struct dentry *d = calloc(1, sizeof(*d));

    if (d && !(d->name = strdup(name))) {
        free(d);
        d = NULL;
    }
    if (d)
        d->node = n;
    return d;
}

void node_dentry_free(struct dentry *d)
{
    if (d) {
        free(d->name);
        free(d);
    }
}

/* Remove the name d and free it; its inode goes if nothing else holds it. */
static void unlink_dentry(struct node_ns *ns, struct dentry *d)
{
    struct node *n = d->node, *dir = d->dir;

    node_detach(ns, d);
    persist_unlink(ns, dir, d->name);
    node_dentry_free(d);
    node_links_changed(n, -1);
    if (n->nlink == 0 && node_is_reg(n))
        node_backing_unlink(ns, n);
    node_release(ns, n);
}

/* A directory that was removed can hold nothing new. */
static int dir_usable(const struct node_ns *ns, const struct node *dir)
{
    if (!node_is_dir(dir))
        return ENOTDIR;
    if (dir != ns->root && !dir->dent)
        return ENOENT;
    return 0;
}

static struct node *parent_of(const struct node *dir)
{
    return dir->dent ? dir->dent->dir : NULL;
}

static bool is_ancestor(const struct node *a, const struct node *d)
{
    for (; d; d = parent_of(d))
        if (d == a)
            return true;
    return false;
}

static int move(struct node_ns *ns, struct dentry *src, struct dentry *dst,
                struct node *newdir, char **newname, unsigned flags)
{
    struct node *n = src->node, *olddir;
    char *oldname;

    if (dst && (flags & RENAME_NOREPLACE))
        return EEXIST;
    /* Two names of one file: rename(2) does nothing and succeeds. */
    if (dst && dst->node == n)
        return 0;
    if (node_is_dir(n) && is_ancestor(n, newdir))
        return EINVAL;
    if (dst) {
        if (node_is_dir(n) && !node_is_dir(dst->node))
            return ENOTDIR;
        if (!node_is_dir(n) && node_is_dir(dst->node))
            return EISDIR;
        if (node_is_dir(dst->node) && dst->node->nchildren > 0)
            return ENOTEMPTY;
        unlink_dentry(ns, dst);
    }
    olddir = src->dir;
    oldname = src->name;
    node_detach(ns, src);
    src->name = *newname;
    *newname = NULL;
    node_attach(ns, newdir, src);
    persist_move(ns, olddir, oldname, src);
    free(oldname);
    node_links_changed(n, 0);
    return 0;
}

/* The two names stay where they are; the inodes they name trade places. */
int node_exchange(struct dentry *a, struct dentry *b)
{
    struct node *an = a->node, *bn = b->node;

    if (an == bn)
        return 0;
    if ((node_is_dir(an) && is_ancestor(an, b->dir)) ||
        (node_is_dir(bn) && is_ancestor(bn, a->dir)))
        return EINVAL;
    a->node = bn;
    b->node = an;
    if (node_is_dir(an)) {
        an->dent = b;
        a->dir->nsubdirs--;
        b->dir->nsubdirs++;
    }
    if (node_is_dir(bn)) {
        bn->dent = a;
        b->dir->nsubdirs--;
        a->dir->nsubdirs++;
    }
    node_dir_touch(a->dir);
    node_dir_touch(b->dir);
    node_links_changed(an, 0);
    node_links_changed(bn, 0);
    return 0;
}

/* ---- the API ---- */

int node_ns_init(struct node_ns *ns, const char *backing_dir,
                 const char *automount_root, uid_t uid, gid_t gid)
{
    memset(ns, 0, sizeof(*ns));
    pthread_mutex_init(&ns->lock, NULL);
    ns->all.all_next = ns->all.all_prev = &ns->all;
    ns->backing_dirfd = open(backing_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ns->backing_dirfd < 0) {
        int e = errno;
        node_ns_destroy(ns);
        errno = e;
        return -1;
    }
    ns->next_ino = NODE_ROOT_ID;
    ns->hash_size = 64;
    ns->hash = calloc(ns->hash_size, sizeof(*ns->hash));
    ns->backing_dir = strdup(backing_dir);
    ns->automount_root = strdup(automount_root);
    ns->root = node_alloc(S_IFDIR | 0755, uid, gid);
    if (ns->root) {
        node_all_insert(ns, ns->root);
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

    /* Kept: the journal describes the files before they are let go. */
    if (ns->keep)
        persist_stop(ns);
    for (size_t i = 0; ns->hash && i < ns->hash_size; i++) {
        struct dentry *d = ns->hash[i], *dnext;
        for (; d; d = dnext) {
            dnext = d->hash_next;
            node_dentry_free(d);
        }
    }
    for (n = ns->all.all_next; n && n != &ns->all; n = next) {
        next = n->all_next;
        node_free(ns, n);
    }
    /* Not kept: the journal goes once the files it lists have gone. */
    persist_stop(ns);
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

void node_pin(struct node_ns *ns, struct node *n)
{
    pthread_mutex_lock(&ns->lock);
    n->pins++;
    pthread_mutex_unlock(&ns->lock);
}

/* The regular file at rel from the root; under ns->lock. */
static struct node *find_path_locked(struct node_ns *ns, const char *rel)
{
    char comp[NAME_MAX + 1];
    struct node *n = ns->root;
    struct dentry *d;

    while (*rel) {
        size_t len = strcspn(rel, "/");
        if (len == 0 || len > NAME_MAX || !node_is_dir(n))
            return NULL;
        memcpy(comp, rel, len);
        comp[len] = '\0';
        if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0 ||
            !(d = node_hash_find(ns, n, comp)))
            return NULL;
        n = d->node;
        rel += len + (rel[len] == '/');
    }
    return node_is_reg(n) ? n : NULL;
}

struct node *node_pin_file(struct node_ns *ns, const char *path, bool backing)
{
    struct node *n = NULL;

    pthread_mutex_lock(&ns->lock);
    if (!backing) {
        n = find_path_locked(ns, path);
    } else {
        for (struct node *m = ns->all.all_next; m != &ns->all; m = m->all_next)
            if (node_is_reg(m) && m->backing_path && strcmp(m->backing_path, path) == 0) {
                n = m;
                break;
            }
    }
    if (n)
        n->pins++;
    pthread_mutex_unlock(&ns->lock);
    return n;
}

void node_unpin(struct node_ns *ns, struct node *n)
{
    pthread_mutex_lock(&ns->lock);
    n->pins--;
    node_release(ns, n);
    pthread_mutex_unlock(&ns->lock);
}

int node_lookup(struct node_ns *ns, struct node *dir, const char *name,
                struct node **out)
{
    struct dentry *d;

    *out = NULL;
    if (strlen(name) > NAME_MAX)
        return ENAMETOOLONG;
    if (!node_is_dir(dir))
        return ENOTDIR;
    pthread_mutex_lock(&ns->lock);
    d = node_hash_find(ns, dir, name);
    if (d) {
        d->node->nlookup++;
        *out = d->node;
    }
    pthread_mutex_unlock(&ns->lock);
    return 0;
}

/* Link a new inode n into dir under d's name, with one kernel reference. */
static int create_locked(struct node_ns *ns, struct node *dir, struct dentry *d)
{
    int err = dir_usable(ns, dir);

    if (!err && node_hash_find(ns, dir, d->name))
        err = EEXIST;
    if (err)
        return err;
    node_all_insert(ns, d->node);
    node_attach(ns, dir, d);
    node_links_changed(d->node, 1);
    d->node->nlookup = 1;
    persist_node(ns, d->node);
    persist_link(ns, d);
    return 0;
}

int node_create(struct node_ns *ns, struct node *dir, const char *name,
                mode_t mode, uid_t uid, gid_t gid, const char *target,
                bool open, struct node **out)
{
    struct node *n;
    struct dentry *d = NULL;
    int err = ENOMEM;

    *out = NULL;
    if (strlen(name) > NAME_MAX)
        return ENAMETOOLONG;
    n = node_alloc(mode, uid, gid);
    if (!n || !(d = node_dentry_new(n, name)))
        goto fail;
    if (target && !(n->target = strdup(target)))
        goto fail;
    if (node_is_reg(n) && (err = backing_create(ns, n, open)) != 0)
        goto fail;
    pthread_mutex_lock(&ns->lock);
    err = create_locked(ns, dir, d);
    pthread_mutex_unlock(&ns->lock);
    if (err)
        goto fail;
    *out = n;
    persist_maybe_compact(ns);
    return 0;
fail:
    node_dentry_free(d);
    if (n)
        node_free(ns, n);
    return err;
}

int node_link(struct node_ns *ns, struct node *n, struct node *dir,
              const char *name)
{
    struct dentry *d;
    int err;

    if (node_is_dir(n))
        return EPERM;
    if (strlen(name) > NAME_MAX)
        return ENAMETOOLONG;
    if (!(d = node_dentry_new(n, name)))
        return ENOMEM;
    pthread_mutex_lock(&ns->lock);
    err = dir_usable(ns, dir);
    if (!err && node_hash_find(ns, dir, name))
        err = EEXIST;
    /* A file whose last name is gone cannot get a new one: its data is. */
    if (!err && n->nlink == 0)
        err = ENOENT;
    if (!err) {
        node_attach(ns, dir, d);
        node_links_changed(n, 1);
        n->nlookup++;
        persist_link(ns, d);
    }
    pthread_mutex_unlock(&ns->lock);
    if (err)
        node_dentry_free(d);
    else
        persist_maybe_compact(ns);
    return err;
}

int node_remove(struct node_ns *ns, struct node *dir, const char *name,
                bool want_dir)
{
    struct dentry *d;
    int err = 0;

    pthread_mutex_lock(&ns->lock);
    d = node_is_dir(dir) ? node_hash_find(ns, dir, name) : NULL;
    if (!node_is_dir(dir))
        err = ENOTDIR;
    else if (!d)
        err = ENOENT;
    else if (want_dir && !node_is_dir(d->node))
        err = ENOTDIR;
    else if (!want_dir && node_is_dir(d->node))
        err = EISDIR;
    else if (d->node->nchildren > 0)
        err = ENOTEMPTY;
    else
        unlink_dentry(ns, d);
    pthread_mutex_unlock(&ns->lock);
    if (!err)
        persist_maybe_compact(ns);
    return err;
}

int node_rename(struct node_ns *ns, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags)
{
    struct dentry *src, *dst;
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
    err = node_is_dir(dir) ? dir_usable(ns, newdir) : ENOTDIR;
    src = err ? NULL : node_hash_find(ns, dir, name);
    if (!err && !src)
        err = ENOENT;
    if (!err) {
        dst = node_hash_find(ns, newdir, newname);
        if (!(flags & RENAME_EXCHANGE))
            err = move(ns, src, dst, newdir, &dup, flags);
        else if (!dst)
            err = ENOENT;
        else if ((err = node_exchange(src, dst)) == 0)
            persist_swap(ns, src, dst);
    }
    pthread_mutex_unlock(&ns->lock);
    free(dup);
    if (!err)
        persist_maybe_compact(ns);
    return err;
}

void node_forget(struct node_ns *ns, struct node *n, uint64_t count)
{
    pthread_mutex_lock(&ns->lock);
    n->nlookup -= count < n->nlookup ? count : n->nlookup;
    node_release(ns, n);
    pthread_mutex_unlock(&ns->lock);
}

/* ---- backing files ---- */

int node_open(struct node_ns *ns, struct node *n)
{
    int err = 0;

    if (!node_is_reg(n))
        return node_is_dir(n) ? EISDIR : ELOOP;
    pthread_mutex_lock(&n->lock);
    if (n->fd < 0) {
        /* Unlinked and closed: nothing is left to open. */
        if (!n->backing_linked)
            err = ENOENT;
        else if ((n->fd = openat(ns->backing_dirfd, n->backing_name,
                                 O_RDWR | BACKING_OPEN_FLAGS)) < 0)
            err = errno;
    }
    if (!err)
        n->nopen++;
    pthread_mutex_unlock(&n->lock);
    return err;
}

int node_close(struct node *n)
{
    int id = 0;

    pthread_mutex_lock(&n->lock);
    if (n->nopen > 0 && --n->nopen == 0) {
        close(n->fd);
        n->fd = -1;
        id = n->backing_id;
        n->backing_id = 0;
    }
    pthread_mutex_unlock(&n->lock);
    return id;
}

static struct timespec later(struct timespec a, struct timespec b)
{
    if (a.tv_sec != b.tv_sec)
        return a.tv_sec > b.tv_sec ? a : b;
    return a.tv_nsec > b.tv_nsec ? a : b;
}

/* The backing file's stat; n->lock held, which keeps n->fd open. */
static int backing_stat(struct node_ns *ns, struct node *n, struct stat *st)
{
    int res;

    if (n->fd >= 0)
        res = fstat(n->fd, st);
    else if (n->backing_linked)
        res = fstatat(ns->backing_dirfd, n->backing_name, st, AT_SYMLINK_NOFOLLOW);
    else
        return 0;       /* gone, and closed: an empty file */
    return res < 0 ? errno : 0;
}

int node_stat(struct node_ns *ns, struct node *n, struct stat *st,
              blksize_t blksize)
{
    int err = 0;

    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&n->lock);
    if (node_is_reg(n))
        err = backing_stat(ns, n, st);
    st->st_ino = n->ino;
    st->st_mode = n->mode;
    st->st_nlink = n->nlink;
    st->st_uid = n->uid;
    st->st_gid = n->gid;
    if (node_is_reg(n)) {
        st->st_ctim = later(st->st_ctim, n->ctime);
    } else {
        st->st_size = node_is_dir(n) ? 4096 : (off_t)strlen(n->target);
        st->st_blocks = node_is_dir(n) ? 8 : 0;
        st->st_atim = n->atime;
        st->st_mtim = n->mtime;
        st->st_ctim = n->ctime;
    }
    st->st_blksize = blksize;
    pthread_mutex_unlock(&n->lock);
    return err;
}

int node_truncate(struct node_ns *ns, struct node *n, off_t size)
{
    int fd, err = 0;

    if (!node_is_reg(n))
        return node_is_dir(n) ? EISDIR : EINVAL;
    pthread_mutex_lock(&n->lock);
    fd = n->fd;
    if (fd < 0 && n->backing_linked)
        fd = openat(ns->backing_dirfd, n->backing_name, O_WRONLY | BACKING_OPEN_FLAGS);
    if (fd < 0)
        err = n->backing_linked ? errno : ENOENT;
    else if (ftruncate(fd, size) < 0)
        err = errno;
    if (fd >= 0 && fd != n->fd)
        close(fd);
    pthread_mutex_unlock(&n->lock);
    return err;
}

int node_utimens(struct node_ns *ns, struct node *n, const struct timespec ts[2])
{
    struct timespec now = node_now();
    int res = 0;

    pthread_mutex_lock(&n->lock);
    if (node_is_reg(n)) {
        if (n->fd >= 0)
            res = futimens(n->fd, ts);
        else if (n->backing_linked)
            res = utimensat(ns->backing_dirfd, n->backing_name, ts, AT_SYMLINK_NOFOLLOW);
    } else {
        if (ts[0].tv_nsec != UTIME_OMIT)
            n->atime = ts[0].tv_nsec == UTIME_NOW ? now : ts[0];
        if (ts[1].tv_nsec != UTIME_OMIT)
            n->mtime = ts[1].tv_nsec == UTIME_NOW ? now : ts[1];
        n->ctime = now;
        persist_attr(ns, n);
    }
    pthread_mutex_unlock(&n->lock);
    return res < 0 ? errno : 0;
}

/* FUSE's KILL_SUIDGID: set-group-ID only with group execute.  n->lock held. */
static void kill_suidgid_locked(struct node *n)
{
    n->mode &= ~(mode_t)S_ISUID;
    if (n->mode & S_IXGRP)
        n->mode &= ~(mode_t)S_ISGID;
}

bool node_chmod(struct node_ns *ns, struct node *n, const mode_t *mode,
                uid_t uid, gid_t gid, bool kill)
{
    mode_t before;
    bool changed, mode_changed;

    pthread_mutex_lock(&n->lock);
    before = n->mode;
    if (kill && node_is_reg(n))
        kill_suidgid_locked(n);
    if (mode)
        n->mode = (n->mode & S_IFMT) | (*mode & 07777);
    changed = n->mode != before || mode;
    if (uid != (uid_t)-1)
        n->uid = uid;
    if (gid != (gid_t)-1)
        n->gid = gid;
    changed = changed || uid != (uid_t)-1 || gid != (gid_t)-1;
    if (changed) {
        n->ctime = node_now();
        persist_attr(ns, n);
    }
    mode_changed = n->mode != before;
    pthread_mutex_unlock(&n->lock);
    return mode_changed;
}

int node_xattr_set(struct node_ns *ns, struct node *n, const char *name,
                   const void *value, size_t size, int flags)
{
    int err;

    pthread_mutex_lock(&n->lock);
    err = xattr_set(&n->xattrs, name, value, size, flags);
    if (!err) {
        n->ctime = node_now();
        persist_xattr(ns, n, name, value ? value : "", size);
    }
    pthread_mutex_unlock(&n->lock);
    return err;
}

int node_xattr_remove(struct node_ns *ns, struct node *n, const char *name)
{
    int err;

    pthread_mutex_lock(&n->lock);
    err = xattr_remove(&n->xattrs, name);
    if (!err) {
        n->ctime = node_now();
        persist_xattr(ns, n, name, NULL, 0);
    }
    pthread_mutex_unlock(&n->lock);
    return err;
}

int node_readlink(struct node_ns *ns, struct node *n, char **target)
{
    int err = 0;

    *target = NULL;
    /* A copy, taken where the inode cannot go away: the reply outlives the lock. */
    pthread_mutex_lock(&ns->lock);
    if (n->type != S_IFLNK)
        err = EINVAL;
    else if (!(*target = strdup(n->target)))
        err = ENOMEM;
    pthread_mutex_unlock(&ns->lock);
    return err;
}

int node_readdir(struct node_ns *ns, struct node *dir, uint64_t cookie,
                 node_dir_fn *fn, void *arg)
{
    struct node *up;

    if (!node_is_dir(dir))
        return ENOTDIR;
    pthread_mutex_lock(&ns->lock);
    up = parent_of(dir);
    if (cookie < 1 && fn(arg, ".", dir, 1) != 0)
        goto out;
    if (cookie < 2 && fn(arg, "..", up ? up : dir, 2) != 0)
        goto out;
    /* Entries are in cookie order: skip what the caller has seen. */
    for (struct dentry *d = dir->child_head; d; d = d->sib_next)
        if (d->cookie > cookie && fn(arg, d->name, d->node, d->cookie) != 0)
            break;
out:
    pthread_mutex_unlock(&ns->lock);
    return 0;
}

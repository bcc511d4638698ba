/*
 * persist.c - the namespace in the journal (see persist.h).
 *
 * Inode numbers in a journal are the st_ino of the mount that wrote it
 * (the root is 1); recovery maps them to the inodes it makes, one map per
 * adopted journal, and rebuilds each adopted namespace under a private
 * root, whose entries then join this mount's root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_log.h>

#include "journal.h"
#include "node_int.h"
#include "persist.h"
#include "wp_path.h"

/* Journals adopted by one mount, at most; more wait for the next. */
#define ORPHANS_MAX 64

/* ---- records ---- */

static void owner_of(struct jrec *r, const struct node *n)
{
    r->ino = n->ino;
    r->mode = n->mode;
    r->uid = n->uid;
    r->gid = n->gid;
    r->atime = n->atime;
    r->mtime = n->mtime;
    r->ctime = n->ctime;
}

void persist_node(struct node_ns *ns, struct node *n)
{
    struct jrec r = { .op = JR_NODE, .buffer_id = n->buffer_id };

    owner_of(&r, n);
    r.str = node_is_reg(n) ? n->backing_name : n->target ? n->target : "";
    journal_append(ns->journal, &r);
}

void persist_attr(struct node_ns *ns, struct node *n)
{
    struct jrec r = { .op = JR_ATTR };

    owner_of(&r, n);
    journal_append(ns->journal, &r);
}

/*
 * Tree records carry the changed directory's new mtime (written under
 * ns->lock, as these run), which recovery gives the directories back.
 */
void persist_link(struct node_ns *ns, const struct dentry *d)
{
    struct jrec r = { .op = JR_LINK, .dir = d->dir->ino, .name = d->name,
                      .ino = d->node->ino, .mtime = d->dir->mtime };

    journal_append(ns->journal, &r);
}

void persist_unlink(struct node_ns *ns, const struct node *dir, const char *name)
{
    struct jrec r = { .op = JR_UNLINK, .dir = dir->ino, .name = name, .mtime = dir->mtime };

    journal_append(ns->journal, &r);
}

void persist_move(struct node_ns *ns, const struct node *dir, const char *name,
                  const struct dentry *to)
{
    struct jrec r = { .op = JR_MOVE, .dir = dir->ino, .name = name,
                      .dir2 = to->dir->ino, .name2 = to->name, .mtime = to->dir->mtime };

    journal_append(ns->journal, &r);
}

void persist_swap(struct node_ns *ns, const struct dentry *a, const struct dentry *b)
{
    struct jrec r = { .op = JR_SWAP, .dir = a->dir->ino, .name = a->name,
                      .dir2 = b->dir->ino, .name2 = b->name, .mtime = b->dir->mtime };

    journal_append(ns->journal, &r);
}

void persist_xattr(struct node_ns *ns, const struct node *n, const char *name,
                   const void *value, size_t size)
{
    struct jrec r = { .op = value ? JR_XSET : JR_XDEL, .ino = n->ino, .str = name,
                      .value = value, .value_len = size };

    journal_append(ns->journal, &r);
}

/* ---- snapshots ---- */

struct xattr_dump {
    struct node_ns *ns;
    const struct node *n;
};

static void dump_xattr(void *arg, const char *name, const void *value, size_t size)
{
    struct xattr_dump *x = arg;

    persist_xattr(x->ns, x->n, name, value ? value : "", size);
}

/* Every inode with a name, then every name.  ns->lock held. */
static void snapshot(struct node_ns *ns)
{
    for (struct node *n = ns->all.all_next; n != &ns->all; n = n->all_next) {
        struct xattr_dump x = { ns, n };

        pthread_mutex_lock(&n->lock);
        if (n == ns->root)
            persist_attr(ns, n);
        else if (n->nlink > 0)
            persist_node(ns, n);
        if (n == ns->root || n->nlink > 0)
            xattr_each(&n->xattrs, dump_xattr, &x);
        pthread_mutex_unlock(&n->lock);
    }
    for (size_t i = 0; i < ns->hash_size; i++)
        for (const struct dentry *d = ns->hash[i]; d; d = d->hash_next)
            persist_link(ns, d);
}

void persist_maybe_compact(struct node_ns *ns)
{
    if (!journal_wants_compaction(ns->journal))
        return;
    pthread_mutex_lock(&ns->lock);
    if (journal_wants_compaction(ns->journal) && journal_compact_begin(ns->journal) == 0) {
        snapshot(ns);
        journal_compact_end(ns->journal, true);
    }
    pthread_mutex_unlock(&ns->lock);
}

/* ---- recovery ---- */

/* Journal inode number -> inode, open addressing. */
struct imap {
    uint64_t *keys;             /* 0: empty */
    struct node **vals;
    size_t cap, used;
};

static size_t slot_of(const struct imap *m, uint64_t key)
{
    size_t i = (size_t)(key * UINT64_C(0x9e3779b97f4a7c15)) & (m->cap - 1);

    while (m->keys[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static struct node *imap_get(const struct imap *m, uint64_t key)
{
    size_t i;

    if (!key || !m->cap)
        return NULL;
    i = slot_of(m, key);
    return m->keys[i] ? m->vals[i] : NULL;
}

static int imap_put(struct imap *m, uint64_t key, struct node *n)
{
    size_t i;

    if (!key)
        return EINVAL;
    if (2 * (m->used + 1) > m->cap) {
        struct imap big = { .cap = m->cap ? m->cap * 2 : 1024 };
        big.keys = calloc(big.cap, sizeof(*big.keys));
        big.vals = calloc(big.cap, sizeof(*big.vals));
        if (!big.keys || !big.vals) {
            free(big.keys);
            free(big.vals);
            return ENOMEM;
        }
        for (size_t j = 0; j < m->cap; j++)
            if (m->keys[j])
                imap_put(&big, m->keys[j], m->vals[j]);
        free(m->keys);
        free(m->vals);
        *m = big;
    }
    i = slot_of(m, key);
    if (!m->keys[i])
        m->used++;
    m->keys[i] = key;
    m->vals[i] = n;
    return 0;
}

struct replay {
    struct node_ns *ns;
    struct imap map;
    struct node *root;          /* private: the adopted namespace's root */
};

/* A regular file's backing file, as the journal names it. */
static int set_backing(struct node_ns *ns, struct node *n, const char *name,
                       uint32_t id)
{
    char host[WP_HOST_PATH_MAX], err[256];

    /* Only a name of ours, in the backing directory itself. */
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return EINVAL;
    if (asprintf(&n->backing_path, "%s/%s", ns->backing_dir, name) < 0) {
        n->backing_path = NULL;
        return ENOMEM;
    }
    n->backing_name = strrchr(n->backing_path, '/') + 1;
    n->buffer_id = id;
    n->backing_linked = true;
    if (wp_path_guest_to_host(n->backing_path, ns->automount_root, host, sizeof(host),
                              err, sizeof(err)) == 0)
        n->host_path = strdup(host);
    return 0;
}

static void set_times(struct node *n, const struct jrec *r)
{
    n->atime = r->atime;
    n->mtime = r->mtime;
    n->ctime = r->ctime;
}

static int replay_node(struct replay *rp, const struct jrec *r)
{
    mode_t type = r->mode & S_IFMT;
    struct node *n;
    int err = 0;

    if (imap_get(&rp->map, r->ino) || (type != S_IFDIR && type != S_IFREG && type != S_IFLNK))
        return 0;
    n = node_alloc(r->mode, r->uid, r->gid);
    if (!n)
        return ENOMEM;
    set_times(n, r);
    if (type == S_IFREG)
        err = set_backing(rp->ns, n, r->str, r->buffer_id);
    else if (type == S_IFLNK && !(n->target = strdup(r->str)))
        err = ENOMEM;
    if (!err)
        err = imap_put(&rp->map, r->ino, n);
    if (err) {
        n->backing_linked = false;      /* a bad record names nothing to remove */
        node_free(rp->ns, n);
        return err == EINVAL ? 0 : err;
    }
    node_all_insert(rp->ns, n);
    return 0;
}

static void replay_attr(struct replay *rp, const struct jrec *r)
{
    struct node *n = imap_get(&rp->map, r->ino);

    if (!n)
        return;
    n->mode = (n->mode & S_IFMT) | (r->mode & 07777);
    n->uid = r->uid;
    n->gid = r->gid;
    set_times(n, r);
}

static void dir_changed(struct node *dir, const struct jrec *r)
{
    dir->mtime = dir->ctime = r->mtime;
}

static int replay_link(struct replay *rp, const struct jrec *r)
{
    struct node *dir = imap_get(&rp->map, r->dir), *n = imap_get(&rp->map, r->ino);
    struct dentry *d;

    if (!dir || !n || !node_is_dir(dir) || node_hash_find(rp->ns, dir, r->name) ||
        (node_is_dir(n) && n->dent))
        return 0;
    if (!(d = node_dentry_new(n, r->name)))
        return ENOMEM;
    node_attach(rp->ns, dir, d);
    node_links_changed(n, 1);
    dir_changed(dir, r);
    return 0;
}

static struct dentry *find(struct replay *rp, uint64_t dir, const char *name)
{
    struct node *d = imap_get(&rp->map, dir);

    return d && node_is_dir(d) ? node_hash_find(rp->ns, d, name) : NULL;
}

/* The directories' times come from the record, after the tree ops set them to now. */
static void replay_unlink(struct replay *rp, const struct jrec *r)
{
    struct dentry *d = find(rp, r->dir, r->name);
    struct node *n, *from;

    if (!d || (node_is_dir(d->node) && d->node->nchildren))
        return;
    n = d->node;
    from = d->dir;
    node_detach(rp->ns, d);
    dir_changed(from, r);
    node_dentry_free(d);
    node_links_changed(n, -1);
}

static int replay_move(struct replay *rp, const struct jrec *r)
{
    struct dentry *d = find(rp, r->dir, r->name);
    struct node *to = imap_get(&rp->map, r->dir2), *from;
    char *name;

    if (!d || !to || !node_is_dir(to) || node_hash_find(rp->ns, to, r->name2))
        return 0;
    for (struct node *up = to; up; up = up->dent ? up->dent->dir : NULL)
        if (up == d->node)
            return 0;   /* into itself: a damaged journal */
    if (!(name = strdup(r->name2)))
        return ENOMEM;
    from = d->dir;
    node_detach(rp->ns, d);
    free(d->name);
    d->name = name;
    node_attach(rp->ns, to, d);
    dir_changed(from, r);
    dir_changed(to, r);
    return 0;
}

static int apply(void *arg, const struct jrec *r)
{
    struct replay *rp = arg;
    struct dentry *a, *b;
    struct node *n;

    switch (r->op) {
    case JR_NODE:
        return replay_node(rp, r);
    case JR_ATTR:
        replay_attr(rp, r);
        return 0;
    case JR_LINK:
        return replay_link(rp, r);
    case JR_UNLINK:
        replay_unlink(rp, r);
        return 0;
    case JR_MOVE:
        return replay_move(rp, r);
    case JR_SWAP:
        a = find(rp, r->dir, r->name);
        b = find(rp, r->dir2, r->name2);
        if (a && b && node_exchange(a, b) == 0) {
            dir_changed(a->dir, r);
            dir_changed(b->dir, r);
        }
        return 0;
    case JR_XSET:
    case JR_XDEL:
        n = imap_get(&rp->map, r->ino);
        if (n && r->op == JR_XSET)
            xattr_set(&n->xattrs, r->str, r->value, r->value_len, 0);
        else if (n)
            xattr_remove(&n->xattrs, r->str);
        return 0;
    }
    return 0;
}

/*
 * A name for an adopted entry in the root: its own, unless this mount has
 * it already (two adopted namespaces may share names).
 */
static char *free_name(struct node_ns *ns, const char *name)
{
    char *alt = NULL;

    for (unsigned i = 1; i < 1000; i++) {
        free(alt);
        if (asprintf(&alt, "%s.recovered-%u", name, i) < 0)
            return NULL;
        if (!node_hash_find(ns, ns->root, alt))
            return alt;
    }
    free(alt);
    return NULL;
}

/* The adopted namespace joins this mount's root. */
static void graft(struct replay *rp)
{
    struct node_ns *ns = rp->ns;
    /* Its times, before the moves below touch them. */
    struct timespec atime = rp->root->atime, mtime = rp->root->mtime, ctime = rp->root->ctime;
    struct dentry *d, *next;

    for (d = rp->root->child_head; d; d = next) {
        next = d->sib_next;
        node_detach(ns, d);
        if (node_hash_find(ns, ns->root, d->name)) {
            char *alt = free_name(ns, d->name);
            if (!alt) {
                /* Nowhere to put it: it goes, as if unlinked. */
                struct node *n = d->node;
                node_dentry_free(d);
                node_links_changed(n, -1);
                continue;
            }
            fuse_log(FUSE_LOG_WARNING, "winapifs: recovered %s as %s: the name was taken\n",
                     d->name, alt);
            free(d->name);
            d->name = alt;
        }
        node_attach(ns, ns->root, d);
    }
    /* The root as the adopted journal left it: grafting is no change. */
    ns->root->mode = rp->root->mode;
    ns->root->uid = rp->root->uid;
    ns->root->gid = rp->root->gid;
    ns->root->atime = atime;
    ns->root->mtime = mtime;
    ns->root->ctime = ctime;
}

/*
 * What the adopted journal left without a name goes now, backing files
 * included; a file whose backing file is gone shows empty.  Counts files.
 */
static unsigned long settle(struct replay *rp)
{
    unsigned long files = 0;
    struct stat st;

    for (size_t i = 0; i < rp->map.cap; i++) {
        struct node *n = rp->map.keys[i] ? rp->map.vals[i] : NULL;
        if (!n || n == rp->root)
            continue;
        if (n->nlink == 0) {
            node_release(rp->ns, n);
            continue;
        }
        if (node_is_reg(n)) {
            files++;
            if (fstatat(rp->ns->backing_dirfd, n->backing_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                !S_ISREG(st.st_mode))
                n->backing_linked = false;
        }
    }
    return files;
}

static int adopt(struct node_ns *ns, struct journal_orphan *o, unsigned long *files)
{
    struct replay rp = { .ns = ns };
    int err = ENOMEM;

    rp.root = node_alloc(S_IFDIR | 0755, ns->root->uid, ns->root->gid);
    if (rp.root && (err = imap_put(&rp.map, 1, rp.root)) == 0)
        err = journal_replay(o, apply, &rp);
    if (!err) {
        graft(&rp);
        *files += settle(&rp);
    }
    if (rp.root)
        node_free(ns, rp.root);
    free(rp.map.keys);
    free(rp.map.vals);
    return err;
}

int persist_start(struct node_ns *ns, unsigned long *files)
{
    struct journal_orphan orphans[ORPHANS_MAX];
    size_t n;
    int err;

    *files = 0;
    /* This mount's own first: if it cannot journal, it adopts nothing. */
    err = journal_open(ns->backing_dirfd, &ns->journal);
    if (err)
        return err;
    n = journal_find_orphans(ns->backing_dirfd, orphans, ORPHANS_MAX);
    pthread_mutex_lock(&ns->lock);
    for (size_t i = 0; i < n; i++) {
        if (adopt(ns, &orphans[i], files) != 0) {
            fuse_log(FUSE_LOG_ERR, "winapifs: cannot recover the namespace in %s/%s\n",
                     ns->backing_dir, orphans[i].name);
            journal_orphan_done(ns->backing_dirfd, &orphans[i], false);
        }
    }
    /*
     * What was adopted is in this mount's journal, on disk, before the
     * adopted journals go: a crash in between leaves both, never neither.
     */
    if (journal_compact_begin(ns->journal) == 0) {
        snapshot(ns);
        err = journal_compact_end(ns->journal, true);
    }
    pthread_mutex_unlock(&ns->lock);
    for (size_t i = 0; i < n; i++)
        if (orphans[i].fd >= 0)
            journal_orphan_done(ns->backing_dirfd, &orphans[i], err == 0);
    return 0;
}

int persist_run(struct node_ns *ns)
{
    return journal_start_syncer(ns->journal);
}

void persist_stop(struct node_ns *ns)
{
    if (!ns->journal)
        return;
    if (ns->keep) {
        pthread_mutex_lock(&ns->lock);
        if (journal_compact_begin(ns->journal) == 0) {
            snapshot(ns);
            journal_compact_end(ns->journal, true);
        }
        pthread_mutex_unlock(&ns->lock);
    }
    journal_close(ns->journal, ns->keep);
    ns->journal = NULL;
}

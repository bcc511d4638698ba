/*
 * node_int.h - the tree's building blocks, shared by node.c, which changes
 * the namespace, and persist.c, which journals it and rebuilds it after a
 * crash.  Not for anyone else: the rest of winapifs goes through node.h.
 *
 * Unless said otherwise, ns->lock is held.
 */
#ifndef WINAPIFS_NODE_INT_H
#define WINAPIFS_NODE_INT_H

#include "node.h"

struct dentry *node_hash_find(struct node_ns *ns, const struct node *dir,
                              const char *name);

/* An inode in no tree, of mode (type included); no lock needed. */
struct node *node_alloc(mode_t mode, uid_t uid, gid_t gid);
/* Close, unlink (unless the namespace is kept) and free; no lock needed. */
void node_free(struct node_ns *ns, struct node *n);
/* Give n its st_ino and put it on the list of all inodes. */
void node_all_insert(struct node_ns *ns, struct node *n);
/* Free n if nothing refers to it any more. */
void node_release(struct node_ns *ns, struct node *n);
void node_backing_unlink(struct node_ns *ns, struct node *n);

/* A name, not yet in any directory; no lock needed.  NULL: out of memory. */
struct dentry *node_dentry_new(struct node *n, const char *name);
void node_dentry_free(struct dentry *d);
/* Link d into dir as its last entry; take it out again. */
void node_attach(struct node_ns *ns, struct node *dir, struct dentry *d);
void node_detach(struct node_ns *ns, struct dentry *d);
/* A name of n came (+1) or went (-1): link count and ctime. */
void node_links_changed(struct node *n, int delta);
/* RENAME_EXCHANGE of two names.  0 or EINVAL. */
int node_exchange(struct dentry *a, struct dentry *b);

#endif /* WINAPIFS_NODE_INT_H */

/*
 * persist.h - the namespace in the journal (journal.h): every change of
 * node.c as a record, snapshots that rewrite the journal, and the recovery
 * of what killed mounts (or mounts with -o keep) left in the backing
 * directory.
 *
 * The records of one inode are written under its lock, those of the tree
 * under ns->lock, so the journal orders them as the namespace did.
 */
#ifndef WINAPIFS_PERSIST_H
#define WINAPIFS_PERSIST_H

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

/* A new inode (its lock held, or nobody else can see it yet). */
void persist_node(struct node_ns *ns, struct node *n);
/* n's mode, owner or times changed; its lock held. */
void persist_attr(struct node_ns *ns, struct node *n);
/* The tree: ns->lock held. */
void persist_link(struct node_ns *ns, const struct dentry *d);
void persist_unlink(struct node_ns *ns, const struct node *dir, const char *name);
void persist_move(struct node_ns *ns, const struct node *dir, const char *name,
                  const struct dentry *to);
void persist_swap(struct node_ns *ns, const struct dentry *a, const struct dentry *b);
/* A stored attribute set (value non-NULL) or removed; n's lock held. */
void persist_xattr(struct node_ns *ns, const struct node *n, const char *name,
                   const void *value, size_t size);

/* Rewrite the journal if it has grown enough; no lock held. */
void persist_maybe_compact(struct node_ns *ns);

/*
 * Before mounting: adopt the namespaces that no running mount holds in the
 * backing directory, start this mount's journal, and write the namespace
 * into it.  *files counts the regular files recovered.  0 or an errno.
 */
int persist_start(struct node_ns *ns, unsigned long *files);

/* Once the daemon runs in the background: the journal's sync thread. */
int persist_run(struct node_ns *ns);

/*
 * At a clean unmount: with keep, write the namespace into the journal and
 * leave both for the next mount; without, remove the journal (node.c
 * removes the backing files).
 */
void persist_stop(struct node_ns *ns);

#endif /* WINAPIFS_PERSIST_H */

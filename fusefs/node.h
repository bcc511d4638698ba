/*
 * node.h - winapifs's namespace: inodes, directories, and the backing file
 * behind every regular file.
 *
 * Directories exist only in memory.  A regular file is one backing file,
 * created with wp_buf_create() in the backing directory; its bytes, size
 * and times are the backing file's, and the daemon keeps no copy of them.
 * There are no hard links, so every linked inode has exactly one name and
 * the name lives in the inode itself.
 *
 * An inode lives while it is linked into the tree or the kernel holds a
 * reference to it (nlookup > 0).  Unlinking a file unlinks its backing file
 * at once; the descriptor stays open, so open files keep working, and is
 * closed when the kernel forgets the inode.
 *
 * Locking: ns->lock guards the tree (parent, name, children, the name hash),
 * lookup counts and the list of all inodes.  node->lock guards the inode's
 * own mutable fields: mode, owner, times kept in memory, stored extended
 * attributes and the control state.  ns->lock is always taken first.
 * The backing descriptor needs no lock; it never changes while the inode
 * can be reached.
 */
#ifndef WINAPIFS_NODE_H
#define WINAPIFS_NODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "xattr.h"

enum node_status { NODE_IDLE, NODE_PROCESSING, NODE_PROCESSED, NODE_FAILED };

struct node {
    /* The tree, under ns->lock. */
    struct node *parent;            /* NULL: the root, or unlinked */
    char *name;                     /* NULL when unlinked */
    struct node *hash_next;         /* chain of the (parent, name) hash */
    struct node *sib_prev, *sib_next;   /* parent's children, by cookie */
    struct node *child_head, *child_tail;
    uint64_t cookie;                /* readdir offset within the parent */
    uint64_t next_cookie;           /* directories: the next child's */
    unsigned long nsubdirs;
    unsigned long nchildren;
    uint64_t nlookup;               /* the kernel's references */
    struct node *all_prev, *all_next;
    bool backing_linked;            /* the backing file still has its name */

    /* Fixed when created. */
    ino_t ino;                      /* st_ino, never reused while mounted */
    bool is_dir;
    int fd;                         /* regular files: the backing file */
    uint32_t buffer_id;
    char *backing_path;             /* guest path of the backing file */
    char *host_path;                /* the host's name for it */

    /* Under node->lock. */
    pthread_mutex_t lock;
    mode_t mode;
    nlink_t nlink;                  /* 0 once unlinked */
    uid_t uid;
    gid_t gid;
    struct timespec atime, mtime;   /* directories only */
    struct timespec ctime;          /* files: the later of this and the backing file's */
    struct xattr_set xattrs;
    enum node_status status;        /* outcome of the last finished request */
    unsigned in_flight;             /* requests sent and not yet answered */
    char *result;                   /* the last response line, or NULL */
};

struct node_ns {
    pthread_mutex_t lock;
    struct node *root;
    struct node **hash;
    size_t hash_size;               /* a power of two */
    size_t hash_count;
    struct node all;                /* list head of every inode */
    ino_t next_ino;
    char *backing_dir;
    int backing_dirfd;              /* for statfs: the directory we opened */
    char *automount_root;
};

/*
 * Set up an empty tree whose root belongs to uid:gid.  Backing files go to
 * backing_dir and are named to the host with automount_root (both copied).
 * Returns 0 or -1 with errno.
 */
int node_ns_init(struct node_ns *ns, const char *backing_dir,
                 const char *automount_root, uid_t uid, gid_t gid);

/*
 * Free every inode: close every backing file and unlink those still
 * linked, so that nothing is left behind.  Only when no request can run.
 */
void node_ns_destroy(struct node_ns *ns);

/* The inode for a FUSE inode number (the root for FUSE_ROOT_ID). */
struct node *node_get(struct node_ns *ns, uint64_t nodeid);
/* The FUSE inode number of n. */
uint64_t node_id(const struct node_ns *ns, const struct node *n);

/*
 * Find name in dir and take a kernel reference on it.  Returns 0 with
 * *out set (NULL when there is no such entry), or a positive errno.
 */
int node_lookup(struct node_ns *ns, struct node *dir, const char *name,
                struct node **out);

/*
 * Create name in dir with a kernel reference: a directory, or a regular
 * file with a new, empty backing file.  mode includes the type.  Returns
 * 0 or a positive errno (EEXIST, ENOENT for a removed dir, ENOTDIR,
 * ENAMETOOLONG, ENOMEM, or the backing file's creation error).
 */
int node_create(struct node_ns *ns, struct node *dir, const char *name,
                mode_t mode, uid_t uid, gid_t gid, struct node **out);

/*
 * Remove name from dir: a directory (must be empty) when want_dir, else a
 * file, whose backing file is unlinked now.  0 or a positive errno.
 */
int node_remove(struct node_ns *ns, struct node *dir, const char *name,
                bool want_dir);

/* rename(2) with RENAME_NOREPLACE / RENAME_EXCHANGE.  0 or a positive errno. */
int node_rename(struct node_ns *ns, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags);

/* Drop n kernel references; frees an unlinked inode left with none. */
void node_forget(struct node_ns *ns, struct node *n, uint64_t count);

/* Take one more kernel reference (for readdirplus).  ns->lock held. */
void node_ref_locked(struct node *n);

/*
 * stat of an inode: type, mode, owner and st_ino from memory; size, blocks
 * and times from the backing file.  0 or a positive errno.
 */
int node_stat(struct node *n, struct stat *st, blksize_t blksize);

/*
 * Walk dir's entries after cookie, in order, calling fn for each until it
 * returns nonzero: "." (cookie 1), ".." (cookie 2), then the children.
 * Cookies are stable: an entry added meanwhile comes later, a removed one
 * is skipped.  ns->lock is held throughout, so fn must not take it.
 * Returns ENOTDIR or 0.
 */
typedef int node_dir_fn(void *arg, const char *name, struct node *n,
                        uint64_t cookie);
int node_readdir(struct node_ns *ns, struct node *dir, uint64_t cookie,
                 node_dir_fn *fn, void *arg);

/* The current time, for times kept in memory. */
struct timespec node_now(void);

#endif /* WINAPIFS_NODE_H */

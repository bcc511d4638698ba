/*
 * node.h - winapifs's namespace: inodes, the names that link them into
 * directories, and the backing file behind every regular file.
 *
 * Directories and symbolic links exist only in memory.  A regular file is
 * one backing file, created with wp_buf_create() in the backing directory;
 * its bytes, size and times are the backing file's, and the daemon keeps no
 * copy of them.  A name (struct dentry) links an inode into a directory: a
 * directory has one, a regular file or a symlink one per hard link.  The
 * backing file keeps its name while the file has one of its own; when the
 * last name goes, the backing file is unlinked, and open descriptors keep
 * working until they are closed.
 *
 * Descriptors on demand: a file holds a descriptor of its backing file only
 * while it is open (nopen > 0), so a mount of any number of files stays
 * within the descriptor limit.  Without one, a file is reached by its name
 * in the backing directory, relative to the directory descriptor opened at
 * mount time.
 *
 * An inode lives while it has a name or the kernel holds a reference to it
 * (nlookup > 0); the kernel forgets no inode that is still open.
 *
 * Locking: ns->lock guards the tree (names, children, the name hash), link
 * and lookup counts and the list of all inodes.  node->lock guards the
 * inode's own mutable fields: mode, owner, times kept in memory, the
 * descriptor and its open count, stored extended attributes and the
 * control state.  ns->lock is always taken first.
 *
 * Every function returns 0 or a positive errno, unless it says otherwise.
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

enum node_status {
    NODE_IDLE, NODE_PROCESSING, NODE_PROCESSED, NODE_FAILED, NODE_CANCELLED
};

struct node;

/* One name: dir/name -> node. */
struct dentry {
    struct node *dir;
    struct node *node;
    char *name;
    struct dentry *hash_next;           /* chain of the (dir, name) hash */
    struct dentry *sib_prev, *sib_next; /* dir's entries, by cookie */
    uint64_t cookie;                    /* readdir offset within dir */
};

struct node {
    /* Under ns->lock. */
    struct dentry *dent;            /* directories: their name; NULL for the root or once removed */
    struct dentry *child_head, *child_tail;
    uint64_t next_cookie;           /* directories: the next entry's */
    unsigned long nsubdirs;
    unsigned long nchildren;
    uint64_t nlookup;               /* the kernel's references */
    unsigned pins;                  /* the daemon's own (a job being watched) */
    struct node *all_prev, *all_next;

    /* Fixed when created. */
    ino_t ino;                      /* st_ino, never reused while mounted */
    mode_t type;                    /* S_IFDIR, S_IFREG or S_IFLNK */
    uint32_t buffer_id;             /* regular files */
    char *backing_path;             /* guest path of the backing file */
    const char *backing_name;       /* its last component, in backing_path */
    char *host_path;                /* the host's name for it */
    char *target;                   /* symlinks: what they point to */

    /* Under node->lock. */
    pthread_mutex_t lock;
    mode_t mode;                    /* type and permissions */
    /* These two change under both locks: either suffices to read them. */
    nlink_t nlink;                  /* names (directories: 2 + subdirectories); 0 once removed */
    bool backing_linked;            /* the backing file still has its name */
    uid_t uid;
    gid_t gid;
    struct timespec atime, mtime;   /* directories and symlinks */
    struct timespec ctime;          /* files: the later of this and the backing file's */
    int fd;                         /* the backing file while open, else -1 */
    unsigned nopen;                 /* open file handles */
    int backing_id;                 /* the kernel's passthrough id while open, else 0 */
    struct xattr_set xattrs;
    enum node_status status;        /* outcome of the last finished request */
    unsigned in_flight;             /* requests sent and not yet answered */
    char *result;                   /* the last response line, or NULL */
    uint64_t job_id;                /* the host's job for the last request, 0: none */
    bool job_running;               /* and it has not ended yet */
    char *progress;                 /* that job's last status once it ended, JSON */
};

struct node_ns {
    pthread_mutex_t lock;
    struct node *root;
    struct dentry **hash;
    size_t hash_size;               /* a power of two */
    size_t hash_count;
    struct node all;                /* list head of every inode */
    ino_t next_ino;
    char *backing_dir;
    int backing_dirfd;              /* names backing files; statfs */
    char *automount_root;
    struct journal *journal;        /* persist.h; NULL: none */
    bool keep;                      /* -o keep: the namespace outlives the mount */
};

static inline bool node_is_dir(const struct node *n)
{
    return n->type == S_IFDIR;
}

static inline bool node_is_reg(const struct node *n)
{
    return n->type == S_IFREG;
}

/*
 * Set up an empty tree whose root belongs to uid:gid.  Backing files go to
 * backing_dir and are named to the host with automount_root (both copied).
 * Returns 0 or -1 with errno (the one exception to the rule above: main()
 * reports it with perror).
 */
int node_ns_init(struct node_ns *ns, const char *backing_dir,
                 const char *automount_root, uid_t uid, gid_t gid);

/*
 * Free every inode and close every descriptor.  Unless ns->keep, unlink
 * every backing file and the journal, so that nothing is left behind;
 * with it, leave the files and a journal describing them for the next
 * mount.  Only when no request can run.
 */
void node_ns_destroy(struct node_ns *ns);

/*
 * Change mode, owner (-1: unchanged) as chmod/chown do; kill clears the
 * set-user-ID and executable set-group-ID bits first.  Returns whether
 * anything changed.
 */
bool node_chmod(struct node_ns *ns, struct node *n, const mode_t *mode,
                uid_t uid, gid_t gid, bool kill);

/* A symlink's target, copied into *target (the caller frees it); EINVAL for anything else. */
int node_readlink(struct node_ns *ns, struct node *n, char **target);

/* Stored user.* attributes (xattr.h), persisted. */
int node_xattr_set(struct node_ns *ns, struct node *n, const char *name,
                   const void *value, size_t size, int flags);
int node_xattr_remove(struct node_ns *ns, struct node *n, const char *name);

/* The inode for a FUSE inode number (the root for FUSE_ROOT_ID). */
struct node *node_get(struct node_ns *ns, uint64_t nodeid);
/* The FUSE inode number of n. */
uint64_t node_id(const struct node_ns *ns, const struct node *n);

/*
 * Find name in dir and take a kernel reference on it.  *out is NULL when
 * there is no such entry.
 */
int node_lookup(struct node_ns *ns, struct node *dir, const char *name,
                struct node **out);

/*
 * Create name in dir with a kernel reference.  mode includes the type: a
 * directory, a symlink to target, or a regular file with a new, empty
 * backing file.  With open (regular files only) the new file is also open
 * once, as node_open() leaves it.  Errors: EEXIST, ENOENT for a removed
 * dir, ENOTDIR, ENAMETOOLONG, ENOMEM, or the backing file's creation error.
 */
int node_create(struct node_ns *ns, struct node *dir, const char *name,
                mode_t mode, uid_t uid, gid_t gid, const char *target,
                bool open, struct node **out);

/*
 * A new name for n (not a directory: EPERM) in dir, with a kernel
 * reference; the hard link of link(2).
 */
int node_link(struct node_ns *ns, struct node *n, struct node *dir,
              const char *name);

/*
 * Remove name from dir: a directory (must be empty) when want_dir, else a
 * file or symlink.  A file's backing file is unlinked with its last name.
 */
int node_remove(struct node_ns *ns, struct node *dir, const char *name,
                bool want_dir);

/* rename(2) with RENAME_NOREPLACE / RENAME_EXCHANGE. */
int node_rename(struct node_ns *ns, struct node *dir, const char *name,
                struct node *newdir, const char *newname, unsigned flags);

/* Drop count kernel references; frees an inode left with no name and none. */
void node_forget(struct node_ns *ns, struct node *n, uint64_t count);

/* Take one more kernel reference (for readdirplus).  ns->lock held. */
void node_ref_locked(struct node *n);

/*
 * Keep n alive while the daemon uses it outside any request (a job the
 * mount watches), whatever the kernel forgets meanwhile; unpin frees an
 * inode left with no name, no reference and no pin.
 */
void node_pin(struct node_ns *ns, struct node *n);
/*
 * The regular file at rel, a path from the mount's root ("a/b/f": no ".",
 * "..", empty component or symlink on the way), or, with backing, the one
 * whose backing file has that guest path; pinned (node_unpin), or NULL.
 */
struct node *node_pin_file(struct node_ns *ns, const char *path, bool backing);
void node_unpin(struct node_ns *ns, struct node *n);

/*
 * Open a regular file: on the first open, a descriptor of its backing file
 * (read-write; the kernel has checked the caller's permissions).  n->fd is
 * valid until the matching node_close().  ENOENT once the file has neither
 * a name nor an open descriptor.
 */
int node_open(struct node_ns *ns, struct node *n);

/*
 * Undo one node_open(); the last one closes the descriptor.  Returns the
 * passthrough id the caller must now release (0: none).
 */
int node_close(struct node *n);

/*
 * stat of an inode: type, mode, owner, links and st_ino from memory; a
 * file's size, blocks and times from its backing file.
 */
int node_stat(struct node_ns *ns, struct node *n, struct stat *st,
              blksize_t blksize);

/* ftruncate(2) of a file's backing file, open or not. */
int node_truncate(struct node_ns *ns, struct node *n, off_t size);

/*
 * Set times (UTIME_NOW and UTIME_OMIT as for utimensat(2)): a file's on its
 * backing file, anything else's in memory.
 */
int node_utimens(struct node_ns *ns, struct node *n, const struct timespec ts[2]);

/*
 * Walk dir's entries after cookie, in order, calling fn for each until it
 * returns nonzero: "." (cookie 1), ".." (cookie 2), then the entries.
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

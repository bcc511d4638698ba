/*
 * ops.c - winapifs's FUSE low-level operations.
 *
 * Each handler turns one request into calls on node.c (the namespace), on
 * the backing file's descriptor (the data), on xattr.c or on ctl.c, and
 * replies; nothing below calls back up here.
 *
 * With kernel passthrough (passthrough.c) an open file is handed to the
 * kernel, which reads, writes and maps the backing file itself: its page
 * cache is the one the host maps.  Without it the daemon keeps no copy of
 * any data either: reads are answered with fd-backed buffers that libfuse
 * splices from the backing file into /dev/fuse, and a write goes from the
 * request buffer into the backing file before it is answered (see
 * WFS_MAX_WRITE for why not by splice).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ctl.h"
#include "passthrough.h"
#include "winapifs.h"

_Static_assert(FUSE_ROOT_ID == 1, "node.c calls the root 1");
_Static_assert(sizeof(fuse_ino_t) >= sizeof(uintptr_t),
               "inode numbers are addresses");

static struct wfs *wfs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static struct node *node_of(fuse_req_t req, fuse_ino_t ino)
{
    return node_get(&wfs_of(req)->ns, ino);
}

/* ---- entries ---- */

static int fill_entry(struct wfs *fs, struct node *n, struct fuse_entry_param *e)
{
    memset(e, 0, sizeof(*e));
    e->ino = node_id(&fs->ns, n);
    e->attr_timeout = WFS_ATTR_TIMEOUT;
    e->entry_timeout = WFS_ENTRY_TIMEOUT;
    return node_stat(&fs->ns, n, &e->attr, WFS_MAX_WRITE);
}

/*
 * Reply with n, on which a kernel reference was just taken.  If the kernel
 * does not get the reply (the request was interrupted), it does not get
 * the reference either.
 */
static void reply_entry(fuse_req_t req, struct node *n)
{
    struct wfs *fs = wfs_of(req);
    struct fuse_entry_param e;
    int err = fill_entry(fs, n, &e);

    if (err) {
        node_forget(&fs->ns, n, 1);
        fuse_reply_err(req, err);
    } else if (fuse_reply_entry(req, &e) != 0) {
        node_forget(&fs->ns, n, 1);
    }
}

static void wfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct wfs *fs = wfs_of(req);
    struct fuse_entry_param none = { .entry_timeout = WFS_ENTRY_TIMEOUT };
    struct node *n;
    int err = node_lookup(&fs->ns, node_get(&fs->ns, parent), name, &n);

    if (err)
        fuse_reply_err(req, err);
    else if (n)
        reply_entry(req, n);
    else
        fuse_reply_entry(req, &none);   /* cached: names appear only through us */
}

static void wfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    node_forget(&wfs_of(req)->ns, node_of(req, ino), nlookup);
    fuse_reply_none(req);
}

static void wfs_forget_multi(fuse_req_t req, size_t count,
                             struct fuse_forget_data *forgets)
{
    for (size_t i = 0; i < count; i++)
        node_forget(&wfs_of(req)->ns, node_of(req, forgets[i].ino),
                    forgets[i].nlookup);
    fuse_reply_none(req);
}

/* ---- attributes ---- */

static void wfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct stat st;
    int err = node_stat(&wfs_of(req)->ns, node_of(req, ino), &st, WFS_MAX_WRITE);

    (void)fi;
    if (err)
        fuse_reply_err(req, err);
    else
        fuse_reply_attr(req, &st, WFS_ATTR_TIMEOUT);
}

static void pick_time(struct timespec *t, const struct timespec *given,
                      int to_set, int now_bit, int bit)
{
    if (to_set & now_bit)
        t->tv_nsec = UTIME_NOW;
    else if (to_set & bit)
        *t = *given;
}

static int set_times(struct wfs *fs, struct node *n, const struct stat *attr,
                     int to_set)
{
    struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

    pick_time(&ts[0], &attr->st_atim, to_set, FUSE_SET_ATTR_ATIME_NOW, FUSE_SET_ATTR_ATIME);
    pick_time(&ts[1], &attr->st_mtim, to_set, FUSE_SET_ATTR_MTIME_NOW, FUSE_SET_ATTR_MTIME);
    if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
        return 0;
    return node_utimens(&fs->ns, n, ts);
}

/*
 * With HANDLE_KILLPRIV_V2 the kernel leaves set-user-ID and set-group-ID
 * bits to us (node_chmod() clears them): after a write or an O_TRUNC open
 * by a caller without CAP_FSETID, have the kernel ask again for the mode,
 * which neither reply carries.  Attributes only (offset -1): that waits
 * for no page lock.
 */
static void kill_suidgid_notify(fuse_req_t req, fuse_ino_t ino, struct node *n)
{
    struct wfs *fs = wfs_of(req);

    if (node_chmod(&fs->ns, n, NULL, (uid_t)-1, (gid_t)-1, true))
        fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
}

/*
 * Mode and owner live in memory; the backing file stays 0600, the
 * daemon's.  A truncate without CAP_FSETID and any change of owner clear
 * the set-user-ID bits, as the VFS does.
 */
static void set_owner_mode(struct wfs *fs, struct node *n, const struct stat *attr,
                           int to_set)
{
    mode_t mode = attr->st_mode;
    bool kill = to_set & (FUSE_SET_ATTR_KILL_SUID | FUSE_SET_ATTR_KILL_SGID |
                          FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID);

    if (!kill && !(to_set & FUSE_SET_ATTR_MODE))
        return;
    node_chmod(&fs->ns, n, to_set & FUSE_SET_ATTR_MODE ? &mode : NULL,
               to_set & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1,
               to_set & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1, kill);
}

static void wfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                        int to_set, struct fuse_file_info *fi)
{
    struct wfs *fs = wfs_of(req);
    struct node *n = node_of(req, ino);
    struct stat st;
    int err = 0;

    (void)fi;
    if (to_set & FUSE_SET_ATTR_SIZE)
        err = node_truncate(&fs->ns, n, attr->st_size);
    if (!err)
        err = set_times(fs, n, attr, to_set);
    if (!err) {
        set_owner_mode(fs, n, attr, to_set);
        err = node_stat(&fs->ns, n, &st, WFS_MAX_WRITE);
    }
    if (err)
        fuse_reply_err(req, err);
    else
        fuse_reply_attr(req, &st, WFS_ATTR_TIMEOUT);
}

/* ---- creating and removing ---- */

/* Create name in parent as the caller, inheriting a setgid directory's group. */
static int make(fuse_req_t req, fuse_ino_t parent, const char *name,
                mode_t mode, const char *target, bool open, struct node **out)
{
    struct wfs *fs = wfs_of(req);
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    struct node *dir = node_get(&fs->ns, parent);
    gid_t gid = ctx->gid;

    pthread_mutex_lock(&dir->lock);
    if (dir->mode & S_ISGID) {
        gid = dir->gid;
        if (S_ISDIR(mode))
            mode |= S_ISGID;
    }
    pthread_mutex_unlock(&dir->lock);
    return node_create(&fs->ns, dir, name, mode, ctx->uid, gid, target, open, out);
}

/*
 * Answer an open or (with e) a create of n, which node_open() has opened
 * for this handle.  If the kernel does not get the reply (the request was
 * interrupted), it does not get the handle, nor, for a create, the
 * reference either.
 */
static void reply_open(fuse_req_t req, struct node *n, struct fuse_file_info *fi,
                       const struct fuse_entry_param *e)
{
    struct wfs *fs = wfs_of(req);
    int err = pt_open(fs, req, n, fi);

    if (!err)
        err = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
    else
        fuse_reply_err(req, err);
    if (err) {
        pt_release(fs, NULL, n);
        if (e)
            node_forget(&fs->ns, n, 1);
    }
}

static void wfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                       mode_t mode, struct fuse_file_info *fi)
{
    struct wfs *fs = wfs_of(req);
    struct fuse_entry_param e;
    struct node *n;
    int err = make(req, parent, name, S_IFREG | (mode & 07777), NULL, true, &n);

    if (!err && (err = fill_entry(fs, n, &e)) != 0) {
        pt_release(fs, NULL, n);
        node_forget(&fs->ns, n, 1);
    }
    if (err)
        fuse_reply_err(req, err);
    else
        reply_open(req, n, fi, &e);
}

static void wfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, dev_t rdev)
{
    struct node *n;
    int err;

    (void)rdev;
    /* Every file here is a buffer; a device, FIFO or socket cannot be one. */
    if (!S_ISREG(mode)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    err = make(req, parent, name, mode, NULL, false, &n);
    if (err)
        fuse_reply_err(req, err);
    else
        reply_entry(req, n);
}

static void wfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode)
{
    struct node *n;
    int err = make(req, parent, name, S_IFDIR | (mode & 07777), NULL, false, &n);

    if (err)
        fuse_reply_err(req, err);
    else
        reply_entry(req, n);
}

static void wfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct wfs *fs = wfs_of(req);

    fuse_reply_err(req, node_remove(&fs->ns, node_get(&fs->ns, parent), name, false));
}

static void wfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct wfs *fs = wfs_of(req);

    fuse_reply_err(req, node_remove(&fs->ns, node_get(&fs->ns, parent), name, true));
}

static void wfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                       fuse_ino_t newparent, const char *newname, unsigned int flags)
{
    struct wfs *fs = wfs_of(req);

    fuse_reply_err(req, node_rename(&fs->ns, node_get(&fs->ns, parent), name,
                                 node_get(&fs->ns, newparent), newname, flags));
}

/* A second name for the same buffer: one backing file, two names. */
static void wfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                     const char *newname)
{
    struct wfs *fs = wfs_of(req);
    struct node *n = node_of(req, ino);
    int err = node_link(&fs->ns, n, node_get(&fs->ns, newparent), newname);

    if (err)
        fuse_reply_err(req, err);
    else
        reply_entry(req, n);
}

/* A symlink lives in the mount's namespace only; the host never sees it. */
static void wfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                        const char *name)
{
    struct node *n;
    int err = strlen(link) >= PATH_MAX ? ENAMETOOLONG
                                       : make(req, parent, name, S_IFLNK | 0777, link,
                                              false, &n);

    if (err)
        fuse_reply_err(req, err);
    else
        reply_entry(req, n);
}

static void wfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
    char *target;
    int err = node_readlink(&wfs_of(req)->ns, node_of(req, ino), &target);

    if (err)
        fuse_reply_err(req, err);
    else
        fuse_reply_readlink(req, target);
    free(target);
}

/* ---- data ---- */

static void wfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct wfs *fs = wfs_of(req);
    struct node *n = node_of(req, ino);
    int err = node_open(&fs->ns, n);

    if (err) {
        fuse_reply_err(req, err);
        return;
    }
    /* FUSE_CAP_ATOMIC_O_TRUNC: O_TRUNC arrives here, not as a setattr. */
    if ((fi->flags & O_TRUNC) && ftruncate(n->fd, 0) < 0) {
        err = errno;
        pt_release(fs, NULL, n);
        fuse_reply_err(req, err);
        return;
    }
    if (fi->kill_suidgid)
        kill_suidgid_notify(req, ino, n);
    reply_open(req, n, fi, NULL);
}

/* The handle's descriptor: the node's, open as long as the handle is. */
static int fd_of(const struct fuse_file_info *fi)
{
    return (int)fi->fh;
}

static void wfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

    (void)ino;
    buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    buf.buf[0].fd = fd_of(fi);
    buf.buf[0].pos = off;
    fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/* in is memory, or a pipe if someone asks for -o splice_read: either goes. */
static void wfs_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in,
                          off_t off, struct fuse_file_info *fi)
{
    struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
    ssize_t res;

    if (fi->kill_suidgid)
        kill_suidgid_notify(req, ino, node_of(req, ino));
    out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    out.buf[0].fd = fd_of(fi);
    out.buf[0].pos = off;
    res = fuse_buf_copy(&out, in, 0);
    if (res < 0)
        fuse_reply_err(req, (int)-res);
    else
        fuse_reply_write(req, (size_t)res);
}

/* Writes went to the backing file when they were answered: nothing to flush. */
static void wfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static void wfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    pt_release(wfs_of(req), req, node_of(req, ino));
    fuse_reply_err(req, 0);
}

static void wfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                      struct fuse_file_info *fi)
{
    int res = datasync ? fdatasync(fd_of(fi)) : fsync(fd_of(fi));

    (void)ino;
    fuse_reply_err(req, res < 0 ? errno : 0);
}

static void wfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                          off_t len, struct fuse_file_info *fi)
{
    (void)ino;
    fuse_reply_err(req, fallocate(fd_of(fi), mode, off, len) < 0 ? errno : 0);
}

/* SEEK_DATA/SEEK_HOLE, so that cp finds the holes of a truncated buffer. */
static void wfs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
                      struct fuse_file_info *fi)
{
    /* The shared descriptor's offset is free to move: all I/O is positional. */
    off_t res = lseek(fd_of(fi), off, whence);

    (void)ino;
    if (res < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_lseek(req, res);
}

/* A copy between two buffers stays between the backing files. */
static void wfs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
                                struct fuse_file_info *fi_in, fuse_ino_t ino_out,
                                off_t off_out, struct fuse_file_info *fi_out,
                                size_t len, int flags)
{
    ssize_t res;

    (void)ino_in;
    (void)ino_out;
    res = copy_file_range(fd_of(fi_in), &off_in, fd_of(fi_out), &off_out, len,
                          (unsigned)flags);
    if (res < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_write(req, (size_t)res);
}

static void wfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct statvfs sv;

    (void)ino;
    if (fstatvfs(wfs_of(req)->ns.backing_dirfd, &sv) < 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_statfs(req, &sv);
}

/* ---- directories ---- */

struct dirbuf {
    fuse_req_t req;
    struct wfs *fs;
    bool plus;
    char *buf;
    size_t size, pos;
};

static size_t dirbuf_plus(struct dirbuf *d, const char *name, struct node *n,
                          uint64_t cookie)
{
    struct fuse_entry_param e;
    bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
    size_t need;

    /* "." and ".." carry no reference, as in passthrough_ll. */
    if (dot || fill_entry(d->fs, n, &e) != 0) {
        memset(&e, 0, sizeof(e));
        e.attr.st_ino = n->ino;
        e.attr.st_mode = n->type;
    }
    need = fuse_add_direntry_plus(d->req, d->buf + d->pos, d->size - d->pos,
                                  name, &e, (off_t)cookie);
    if (need <= d->size - d->pos && e.ino)
        node_ref_locked(n);
    return need;
}

/* node_dir_fn: append one entry; nonzero when the buffer is full. */
static int dirbuf_add(void *arg, const char *name, struct node *n, uint64_t cookie)
{
    struct dirbuf *d = arg;
    size_t need;

    if (d->plus) {
        need = dirbuf_plus(d, name, n, cookie);
    } else {
        struct stat st = {
            .st_ino = n->ino,
            .st_mode = n->type,
        };
        need = fuse_add_direntry(d->req, d->buf + d->pos, d->size - d->pos,
                                 name, &st, (off_t)cookie);
    }
    if (need > d->size - d->pos)
        return 1;
    d->pos += need;
    return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
                           off_t off, bool plus)
{
    struct dirbuf d = {
        .req = req, .fs = wfs_of(req), .plus = plus, .size = size,
    };
    int err;

    d.buf = malloc(size);
    if (!d.buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    err = node_readdir(&d.fs->ns, node_of(req, ino), (uint64_t)off, dirbuf_add, &d);
    if (err)
        fuse_reply_err(req, err);
    else
        fuse_reply_buf(req, d.buf, d.pos);
    free(d.buf);
}

static void wfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    (void)fi;
    readdir_common(req, ino, size, off, false);
}

static void wfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                            off_t off, struct fuse_file_info *fi)
{
    (void)fi;
    readdir_common(req, ino, size, off, true);
}

/* ---- extended attributes ---- */

/*
 * Answer getxattr/listxattr with value (len bytes) for a caller with a
 * size-byte buffer: the length when size is 0, ERANGE when too small.
 */
static void reply_xattr(fuse_req_t req, const void *value, size_t len, size_t size)
{
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (size < len)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, value, len);
}

static bool is_user(const char *name)
{
    return strncmp(name, "user.", 5) == 0;
}

static void getxattr_control(fuse_req_t req, struct node *n, const char *name,
                             size_t size)
{
    struct wfs *fs = wfs_of(req);
    char pt[sizeof(fs->pt.why) + 8];
    char *value;
    int err;

    /* The mount's own state, on its root. */
    if (n == fs->ns.root && strcmp(name, CTL_PREFIX "passthrough") == 0) {
        pt_status(fs, pt, sizeof(pt));
        reply_xattr(req, pt, strlen(pt), size);
        return;
    }
    err = ctl_get(fs, n, name, &value);
    if (err)
        fuse_reply_err(req, err);
    else
        reply_xattr(req, value, strlen(value), size);
    free(value);
}

static void wfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                         size_t size)
{
    struct node *n = node_of(req, ino);
    void *buf = NULL;
    size_t len = 0;
    int err;

    /*
     * Only user.* is kept.  Without HANDLE_KILLPRIV_V2 the kernel would ask
     * for security.capability before every write(); the answer still comes
     * first and takes no lock.
     */
    if (!is_user(name)) {
        fuse_reply_err(req, ENODATA);
        return;
    }
    if (ctl_is_control(name)) {
        getxattr_control(req, n, name, size);
        return;
    }
    if (size > 0 && !(buf = malloc(size))) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    pthread_mutex_lock(&n->lock);
    err = xattr_get(&n->xattrs, name, buf, size, &len);
    pthread_mutex_unlock(&n->lock);
    if (err)
        fuse_reply_err(req, err);
    else if (size == 0)
        fuse_reply_xattr(req, len);
    else
        fuse_reply_buf(req, buf, len);
    free(buf);
}

static void setxattr_control(fuse_req_t req, fuse_ino_t ino, struct node *n,
                             const char *name, const char *value, size_t size)
{
    struct wfs *fs = wfs_of(req);
    struct notify_job *job;
    int err = ctl_set(fs, req, n, name, value, size, &job);

    /* The host may have written: the notifier drops the cache, then answers. */
    if (job)
        notify_submit(&fs->notifier, job, req, ino, err);
    else
        fuse_reply_err(req, err);
}

static void wfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                         const char *value, size_t size, int flags)
{
    struct node *n = node_of(req, ino);
    int err;

    if (ctl_is_control(name)) {
        setxattr_control(req, ino, n, name, value, size);
        return;
    }
    if (!is_user(name)) {
        fuse_reply_err(req, EOPNOTSUPP);
        return;
    }
    err = node_xattr_set(&wfs_of(req)->ns, n, name, value, size, flags);
    fuse_reply_err(req, err);
}

/* Stored attributes only: the control attributes are never listed. */
static void wfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct node *n = node_of(req, ino);
    char *buf = NULL;
    size_t len = 0;
    int err;

    if (size > 0 && !(buf = malloc(size))) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    pthread_mutex_lock(&n->lock);
    err = xattr_list(&n->xattrs, buf, size, &len);
    pthread_mutex_unlock(&n->lock);
    if (err)
        fuse_reply_err(req, err);
    else
        reply_xattr(req, buf, len, size);
    free(buf);
}

static void wfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    struct node *n = node_of(req, ino);
    int err;

    if (ctl_is_control(name)) {
        fuse_reply_err(req, EPERM);
        return;
    }
    if (!is_user(name)) {
        fuse_reply_err(req, ENODATA);
        return;
    }
    err = node_xattr_remove(&wfs_of(req)->ns, n, name);
    fuse_reply_err(req, err);
}

/* ---- the session ---- */

static void wfs_init(void *userdata, struct fuse_conn_info *conn)
{
    struct wfs *fs = userdata;

    /*
     * Feature-flag calls only: libfuse 3.17 takes a change to the old
     * 32-bit conn->want for the whole set of wants, dropping the rest.
     *
     * Reads are spliced out of the backing file (see WFS_MAX_READ).  Writes
     * of WFS_MAX_WRITE cannot be spliced in, and splicing every request in
     * would cost small ones a second system call.
     */
    fuse_set_feature_flag(conn, FUSE_CAP_SPLICE_WRITE);
    fuse_set_feature_flag(conn, FUSE_CAP_SPLICE_MOVE);
    fuse_unset_feature_flag(conn, FUSE_CAP_SPLICE_READ);
    /*
     * Set-user-ID bits are ours to clear (node_chmod()); otherwise
     * the kernel would ask for security.capability before every write.
     */
    fuse_unset_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV);
    fuse_set_feature_flag(conn, FUSE_CAP_HANDLE_KILLPRIV_V2);
    /*
     * A directory needs no handle of ours: no opendir or releasedir round
     * trip for every ls and rm -r.
     */
    fuse_set_feature_flag(conn, FUSE_CAP_NO_OPENDIR_SUPPORT);
    conn->max_write = WFS_MAX_WRITE;
    conn->max_readahead = fs->readahead;
    /* libfuse insists that init() repeat the max_read mount option. */
    conn->max_read = fs->max_read;
    /* The user's -o max_write=, max_readahead=, ... have the last word... */
    if (fs->conn_opts)
        fuse_apply_conn_info_opts(fs->conn_opts, conn);
    /*
     * ...but for writeback caching: the host writes buffers behind the
     * kernel's back, and the kernel refuses passthrough beside it.
     */
    fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
    pt_init(fs, conn);
}

const struct fuse_lowlevel_ops wfs_ops = {
    .init = wfs_init,
    .lookup = wfs_lookup,
    .forget = wfs_forget,
    .forget_multi = wfs_forget_multi,
    .getattr = wfs_getattr,
    .setattr = wfs_setattr,
    .mknod = wfs_mknod,
    .mkdir = wfs_mkdir,
    .unlink = wfs_unlink,
    .rmdir = wfs_rmdir,
    .symlink = wfs_symlink,
    .readlink = wfs_readlink,
    .rename = wfs_rename,
    .link = wfs_link,
    .create = wfs_create,
    .open = wfs_open,
    .read = wfs_read,
    .write_buf = wfs_write_buf,
    .flush = wfs_flush,
    .release = wfs_release,
    .fsync = wfs_fsync,
    .fallocate = wfs_fallocate,
    .lseek = wfs_lseek,
    .copy_file_range = wfs_copy_file_range,
    .readdir = wfs_readdir,
    .readdirplus = wfs_readdirplus,
    .statfs = wfs_statfs,
    .setxattr = wfs_setxattr,
    .getxattr = wfs_getxattr,
    .listxattr = wfs_listxattr,
    .removexattr = wfs_removexattr,
};

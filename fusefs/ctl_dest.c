/*
 * ctl_dest.c - files an operation writes besides its buffer (see ctl_dest.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctl_dest.h"
#include "node.h"
#include "winapifs.h"
#include "wp_ops.h"

#define GROUPS_MAX 256

/*
 * The file of the mount path names (under the mount point, or a backing
 * path), pinned; NULL with *in_mount set when the path is under the mount
 * point and names no regular file there.
 */
static struct node *find(struct wfs *fs, const char *path, bool *in_mount)
{
    size_t mlen = fs->mountpoint ? strlen(fs->mountpoint) : 0;

    *in_mount = mlen && strncmp(path, fs->mountpoint, mlen) == 0 && path[mlen] == '/';
    if (*in_mount)
        return node_pin_file(&fs->ns, path + mlen + 1, false);
    return node_pin_file(&fs->ns, path, true);
}

/* Whether the operation's protocol row has a dest (plugins' params are theirs). */
static bool takes_dest(const char *operation)
{
    const wp_op *op = wp_op_find(operation);

    for (size_t i = 0; op && i < WP_OP_MAX_PARAMS && op->params[i].name; i++)
        if (strcmp(op->params[i].name, "dest") == 0)
            return true;
    return false;
}

/* Whether req's caller may write n, as the kernel checks a file's mode. */
static bool caller_may_write(fuse_req_t req, struct node *n)
{
    const struct fuse_ctx *ctx = fuse_req_ctx(req);
    gid_t groups[GROUPS_MAX];
    mode_t mode;
    uid_t uid;
    gid_t gid;
    int ng;

    pthread_mutex_lock(&n->lock);
    mode = n->mode;
    uid = n->uid;
    gid = n->gid;
    pthread_mutex_unlock(&n->lock);
    if (ctx->uid == 0)
        return true;
    if (ctx->uid == uid)
        return mode & S_IWUSR;
    if (ctx->gid == gid)
        return mode & S_IWGRP;
    ng = fuse_req_getgroups(req, GROUPS_MAX, groups);
    for (int i = 0; i < ng && i < GROUPS_MAX; i++)
        if (groups[i] == gid)
            return mode & S_IWGRP;
    return mode & S_IWOTH;
}

int ctl_dests_resolve(struct wfs *fs, fuse_req_t req, struct ctl_req *c, struct ctl_dests *d)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < ctl_steps(c); i++) {
        json_object *params = ctl_step_params(c, i), *v, *s;
        struct node *n;
        bool in_mount;

        if (!takes_dest(ctl_step_operation(c, i)) || !params ||
            !json_object_object_get_ex(params, "dest", &v) ||
            !json_object_is_type(v, json_type_string))
            continue;
        if (!(n = find(fs, json_object_get_string(v), &in_mount)))
            return in_mount ? ENOENT : EXDEV;
        d->n[d->count++] = n;
        if (!caller_may_write(req, n))
            return EACCES;
        if (!(s = json_object_new_string(n->backing_path)) ||
            json_object_object_add(params, "dest", s) < 0) {
            json_object_put(s);
            return ENOMEM;
        }
    }
    return 0;
}

void ctl_dests_drop_cache(struct wfs *fs, const struct ctl_dests *d)
{
    for (size_t i = 0; i < d->count; i++) {
        int res = fuse_lowlevel_notify_inval_inode(fs->se, node_id(&fs->ns, d->n[i]), 0, 0);
        if (res < 0 && res != -ENOENT)
            fuse_log(FUSE_LOG_WARNING, "winapifs: %s: cannot drop the cached pages: %s\n",
                     d->n[i]->backing_path, strerror(-res));
    }
}

void ctl_dests_release(struct wfs *fs, struct ctl_dests *d)
{
    for (size_t i = 0; i < d->count; i++)
        node_unpin(&fs->ns, d->n[i]);
    d->count = 0;
}

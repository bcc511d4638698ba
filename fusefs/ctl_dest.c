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

int ctl_dests_resolve(struct wfs *fs, struct ctl_req *c, struct ctl_dests *d)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < ctl_steps(c); i++) {
        json_object *params = ctl_step_params(c, i), *v, *s;
        struct node *n;
        bool in_mount;

        if (!params || !json_object_object_get_ex(params, "dest", &v) ||
            !json_object_is_type(v, json_type_string))
            continue;
        if (!(n = find(fs, json_object_get_string(v), &in_mount))) {
            /* The host could not reach a path of the mount anyway. */
            if (in_mount)
                return ENOENT;
            continue;
        }
        d->n[d->count++] = n;
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

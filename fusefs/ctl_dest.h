/*
 * ctl_dest.h - the files an operation writes besides its buffer (the dest
 * of compress and decompress), when they are files of this mount.
 *
 * The host knows a file of the mount by its backing file's guest path
 * (user.winapi.backing_path), not by its name in the mount.  The dest of
 * an operation the protocol knows to take one, named by its path under
 * the mount point or by that backing path, is rewritten to the backing
 * path; and since the host writes that file behind the kernel's back, the
 * file's cached pages and attributes are dropped when the job ends, as the
 * buffer's are.
 *
 * The host writes dest with its own rights, not the caller's: so the
 * caller must be allowed to write it (its mode, owner and group, as the
 * kernel would check them), and a dest outside the mount is refused
 * (EXDEV): on a mount others may use (allow_other) it would let them have
 * the host write what they could not.
 */
#ifndef WINAPIFS_CTL_DEST_H
#define WINAPIFS_CTL_DEST_H

#include <stddef.h>
#include <fuse_lowlevel.h>

#include "ctl_parse.h"
#include "wp_msg.h"

struct wfs;
struct node;

struct ctl_dests {
    struct node *n[WP_MAX_STEPS];       /* pinned */
    size_t count;
};

/*
 * Rewrite each step's params.dest, and pin those files into d (zeroed
 * first), for req's caller.  0; ENOENT for a path under the mount point
 * that is no regular file there; EXDEV for one outside the mount; EACCES
 * when the caller may not write it; ENOMEM.
 */
int ctl_dests_resolve(struct wfs *fs, fuse_req_t req, struct ctl_req *c, struct ctl_dests *d);
/* Drop the kernel's cache of each (from a thread that is no FUSE worker). */
void ctl_dests_drop_cache(struct wfs *fs, const struct ctl_dests *d);
/* Unpin them. */
void ctl_dests_release(struct wfs *fs, struct ctl_dests *d);

#endif /* WINAPIFS_CTL_DEST_H */

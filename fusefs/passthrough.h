/*
 * passthrough.h - kernel passthrough: an open file handed to the kernel,
 * which then reads, writes and maps the backing file itself.
 *
 * Then there is one page cache, the backing file's, and it is what the
 * host maps: a write through a mapping in the guest is seen by the host
 * without msync(), and the host's writes are seen at once.  It needs
 * Linux 6.9 or later and CAP_SYS_ADMIN (FUSE_DEV_IOC_BACKING_OPEN), and
 * libfuse 3.17 or later.
 *
 * -o passthrough=auto (the default) uses it where the kernel grants it and
 * otherwise serves reads and writes in the daemon, after one log line
 * saying why; =on refuses to mount without it; =off never asks.
 *
 * The kernel allows one backing file per inode at a time, and wants every
 * open of an inode with passthrough handles to be one, so all handles of a
 * file share one backing id (node->backing_id), released with the last.
 * Set-user-ID and executable set-group-ID files are opened with direct I/O
 * instead, when no passthrough handle is open: their writes must reach the
 * daemon to clear the bits (and, as direct I/O, they cannot be mapped
 * shared).
 */
#ifndef WINAPIFS_PASSTHROUGH_H
#define WINAPIFS_PASSTHROUGH_H

#include <stddef.h>

#include "winapifs.h"

void pt_state_init(struct pt_state *pt, enum pt_mode mode);

/* "auto", "on" or "off" into *mode; -1 for anything else. */
int pt_parse_mode(const char *s, enum pt_mode *mode);

/*
 * Before mounting: can this process, on this kernel, over this backing
 * directory, use passthrough?  0, or -1 with the reason in why (always
 * NUL-terminated).  Also works out the stacking depth the backing
 * directory needs.
 */
int pt_probe(struct pt_state *pt, const char *backing_dir, char *why, size_t len);

/* From init(): ask the kernel for passthrough if the mode and the probe allow. */
void pt_init(struct wfs *fs, struct fuse_conn_info *conn);

/*
 * Set up the handle fi of n (opened with node_open()): passthrough, or the
 * daemon's own I/O.  0, or a positive errno after which the caller undoes
 * node_open() with pt_release().
 */
int pt_open(struct wfs *fs, fuse_req_t req, struct node *n, struct fuse_file_info *fi);

/*
 * Close one handle of n (node_close()), and with the last its backing id.
 * req may be NULL (an open whose reply the kernel never got): the id is
 * then released with a later request.
 */
void pt_release(struct wfs *fs, fuse_req_t req, struct node *n);

/* "on", or "off: REASON", into buf: user.winapi.passthrough on the root. */
void pt_status(struct wfs *fs, char *buf, size_t len);

void pt_state_destroy(struct pt_state *pt);

#endif /* WINAPIFS_PASSTHROUGH_H */

/*
 * ctl.h - the control attributes of a buffer.
 *
 *   user.winapi.process       write: run an operation on the buffer
 *   user.winapi.buffer_id     the buffer's ID
 *   user.winapi.backing_path  the backing file's guest path
 *   user.winapi.host_path     the same file as the host names it
 *   user.winapi.status        idle, processing, processed or failed
 *   user.winapi.result        the last response, JSON (ENODATA before one)
 *
 * The whole user.winapi. prefix is reserved: the attributes are read by
 * name and never listed (as CephFS does with its virtual attributes), so
 * cp -a, rsync -X and tar --xattrs neither copy nor replay them.  Setting
 * or removing anything but user.winapi.process fails with EPERM.
 */
#ifndef WINAPIFS_CTL_H
#define WINAPIFS_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "winapifs.h"

#define CTL_PREFIX "user.winapi."

/* Whether name is in the reserved user.winapi. namespace. */
bool ctl_is_control(const char *name);

/* getxattr of a control attribute; replies. */
void ctl_getxattr(struct wfs *fs, fuse_req_t req, struct node *n,
                  const char *name, size_t size);

/*
 * setxattr of a control attribute.  For user.winapi.process this sends
 * the request to the host and waits for the answer on the calling worker
 * (other requests go on in other workers); the reply comes from the
 * notifier when the operation may have written the buffer.
 */
void ctl_setxattr(struct wfs *fs, fuse_req_t req, fuse_ino_t ino,
                  struct node *n, const char *name, const char *value,
                  size_t size);

#endif /* WINAPIFS_CTL_H */

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

/*
 * The value of a control attribute, in *value (the caller frees it): 0 or
 * a positive errno (ENODATA for one that has none, or no such attribute).
 */
int ctl_get(struct node *n, const char *name, char **value);

/*
 * setxattr of a control attribute: for user.winapi.process, send the
 * request to the host and wait for the answer on the calling worker (other
 * requests go on in other workers); EPERM for any other.  Returns 0 or the
 * errno SPEC maps the host's answer to.  When *job is set the host may have
 * written the buffer: the caller hands the job to the notifier, which drops
 * the kernel's cache and then answers.
 */
int ctl_set(struct wfs *fs, struct node *n, const char *name,
            const char *value, size_t size, struct notify_job **job);

#endif /* WINAPIFS_CTL_H */

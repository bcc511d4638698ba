/*
 * ctl.h - the control attributes of a buffer.
 *
 *   user.winapi.process       write: run an operation (or a chain) and wait
 *   user.winapi.submit        write: the same, returning once the host took it
 *   user.winapi.cancel        write: cancel the file's running job
 *   user.winapi.progress      the last job's state, bytes_done, bytes_total
 *   user.winapi.buffer_id     the buffer's ID
 *   user.winapi.backing_path  the backing file's guest path
 *   user.winapi.host_path     the same file as the host names it
 *   user.winapi.status        idle, processing, processed, failed or cancelled
 *   user.winapi.result        the last response, JSON (ENODATA before one)
 *
 * The whole user.winapi. prefix is reserved: the attributes are read by
 * name and never listed (as CephFS does with its virtual attributes), so
 * cp -a, rsync -X and tar --xattrs neither copy nor replay them.  Setting
 * or removing anything but process, submit and cancel fails with EPERM.
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
int ctl_get(struct wfs *fs, struct node *n, const char *name, char **value);

/*
 * setxattr of a control attribute.  process sends the request to the host
 * and waits for its job to end on the calling worker (other requests go on
 * in other workers); an interrupt of req cancels the job (EINTR).  submit
 * returns once the host accepted it, cancel once the host was told; EPERM
 * for any other.  Returns 0 or the errno SPEC maps the host's answer to.
 * When *job is set the host may have written the buffer: the caller hands
 * the job to the notifier, which drops the kernel's cache and then answers.
 */
int ctl_set(struct wfs *fs, fuse_req_t req, struct node *n, const char *name,
            const char *value, size_t size, struct notify_job **job);

#endif /* WINAPIFS_CTL_H */

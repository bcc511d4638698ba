/*
 * mapcache_posix.h - mappings kept between requests on a POSIX host.
 *
 * Mapping a file costs more than reading it on many machines: every page
 * is faulted in afresh (here 0.4 s per GiB, against 0.04 s to read it once
 * mapped), and even a 4 KiB buffer pays an mmap and a munmap.  Buffers are
 * processed again and again, so the POSIX layer keeps a file's mapping
 * after a request and reuses it when the same file (device, inode, size,
 * access) comes again.  Every request still looks the file up by its name
 * and checks what it finds; when that is a file the cache holds, reached
 * through the same mount and unchanged since it was opened (device,
 * inode, size, type and mode, owner and group, one link, and its change
 * time, which moves with every chmod, chown, ACL, attribute or link
 * change), the cache's descriptor serves and the request opens nothing:
 * an open, a stat and a close are most of what a small request costs.
 * What the open would decide then is what it decided for that descriptor;
 * only a change of the system's security policy itself (an LSM's) is not
 * seen until the entry goes (MAPCACHE_IDLE seconds unused).  Reuse is safe because a MAP_SHARED mapping always shows the
 * file's current bytes.
 *
 * An entry is dropped when the file is unlinked, resized or unused for
 * --keep-maps seconds (default MAPCACHE_IDLE) (checked once a second by mapcache_sweep, so a
 * freed buffer's pages are released within a second), when its memory
 * faulted, or when the cache is full.  mapcache_win32.h is Windows' own.
 *
 * All functions are thread-safe.
 */
#ifndef HOSTD_MAPCACHE_POSIX_H
#define HOSTD_MAPCACHE_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "plat.h"

#define MAPCACHE_MAX 32
#define MAPCACHE_IDLE PLAT_KEEP_MAPS

struct mapcache_entry;

/*
 * Beside a file's stat, what a later request must find the same to use
 * the cache's descriptor: the mount the file was reached through and its
 * change time.  mnt_id 0: the open cannot vouch for them (the file changed
 * while it was opened, or the kernel does not say), and nothing is reused
 * without an open of its own.
 */
struct mapcache_key {
    uint64_t mnt_id;
    struct timespec ctime;
};

/*
 * A mapping of the whole file fd (described by st), from the cache or new
 * (the cache then keeps a duplicate of fd).  Returns the entry, holding a
 * reference, with its base address in *base and *fresh true when it was
 * mapped just now; NULL with errno set.
 */
struct mapcache_entry *mapcache_get(int fd, const struct stat *st,
                                    const struct mapcache_key *key, bool write,
                                    void **base, bool *fresh);
/*
 * The entry for st and key (a fresh look at the file's name) if the cache
 * holds that file, unchanged as above, for this access; holding a
 * reference (mapcache_put), with the cache's descriptor of it in *fd (not
 * to be closed).  NULL when it holds none.
 */
struct mapcache_entry *mapcache_find(const struct stat *st, const struct mapcache_key *key,
                                     bool write, int *fd);
/* Drop the reference; faulted: the mapping must not be used again. */
void mapcache_put(struct mapcache_entry *e, bool faulted);
/* Seconds an entry is kept after its last use (0: not kept). */
void mapcache_set_idle(int seconds);
/* Release entries whose file is gone, resized or idle. */
void mapcache_sweep(void);
/* Release everything (at exit). */
void mapcache_clear(void);

#endif /* HOSTD_MAPCACHE_POSIX_H */

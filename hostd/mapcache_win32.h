/*
 * mapcache_win32.h - views kept between requests on a Windows host.
 *
 * Mapping a file afresh makes every page fault in again on first touch:
 * under Wine here that is a quarter of what `process` of 1 GiB costs.  As
 * the POSIX host does (mapcache_posix.h), a view of the whole file is kept
 * after a request and used again when the same file comes back: the same
 * final path, file index and creation time, the same size, the same access
 * (a final path names one volume, whose serial number would cost Wine a
 * volume query of 0.7 ms; the creation time tells a new file apart where
 * a file system gives its index to the next file, as FAT does).  A file
 * without an index (0, as some network file systems say) is not kept.  Every request still opens and checks the file by its
 * name (plat_file_open); only the view is reused, found through the
 * handle just opened and checked.
 *
 * A view is kept --keep-maps seconds (default MAPCACHE_IDLE) after the
 * file's last request, and dropped when the file is deleted (its links
 * gone, or a delete pending) or resized: checked once a second by
 * mapcache_sweep.  Windows, unlike POSIX, refuses to shrink a file while
 * a view of it is mapped, and a classic delete (not a POSIX-semantics one,
 * as WSL's) too: winapi-hostd(8) says so, and --keep-maps 0 keeps none.
 *
 * All functions are thread-safe.
 */
#ifndef HOSTD_MAPCACHE_WIN32_H
#define HOSTD_MAPCACHE_WIN32_H

#include <windows.h>
#include <stdbool.h>
#include <stdint.h>

#include "plat.h"

#define MAPCACHE_MAX 32
#define MAPCACHE_IDLE PLAT_KEEP_MAPS

struct mapcache_entry;

/*
 * A view of the whole file h (size bytes, opened for write or not, whose
 * final path, as GetFinalPathNameByHandleW gives it, is final), from the
 * cache or new.  Returns the entry, holding a reference, with the
 * view's address in *base; NULL with the reason in err.
 */
struct mapcache_entry *mapcache_get(HANDLE h, const wchar_t *final, uint64_t size,
                                    bool write, void **base, char *err, size_t errlen);
/* Let go of every view of the file h (whose final path is final) that is
 * not in use, and never hand out those that are: it is being resized. */
void mapcache_forget(HANDLE h, const wchar_t *final);
/* Drop the reference; faulted: the view must not be used again. */
void mapcache_put(struct mapcache_entry *e, bool faulted);
/* Seconds a view is kept after its last use (0: not kept). */
void mapcache_set_idle(int seconds);
/* Release views whose file is gone, resized or idle. */
void mapcache_sweep(void);
/* Release everything (at exit). */
void mapcache_clear(void);

#endif /* HOSTD_MAPCACHE_WIN32_H */

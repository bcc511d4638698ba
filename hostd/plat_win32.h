/*
 * plat_win32.h - what the Windows platform files share among themselves
 * (plat_win32.c, service_win32.c); nothing above plat.h sees it.
 */
#ifndef HOSTD_PLAT_WIN32_H
#define HOSTD_PLAT_WIN32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <windows.h>

/* "Windows' reason (error N)" for a Win32 or Winsock error code, in out. */
void plat_win32_error(DWORD e, char *out, size_t outlen);

/*
 * A view of len bytes of file h from off (a multiple of the allocation
 * granularity), for reading or writing, of a section of the file's own
 * size; NULL with the reason in err.  UnmapViewOfFile releases it.
 */
void *plat_win32_map_view(HANDLE h, bool write, uint64_t off, size_t len,
                          char *err, size_t errlen);

/*
 * Make plat_wait_for_stop return, as Ctrl-C does: the service's stop and
 * shutdown controls.  Safe from any thread once plat_init succeeded.
 */
void plat_win32_stop(void);

#endif /* HOSTD_PLAT_WIN32_H */

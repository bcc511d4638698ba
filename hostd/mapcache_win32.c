/*
 * mapcache_win32.c - views kept between requests (see mapcache_win32.h).
 *
 * A short list under one lock, as on POSIX: at most MAPCACHE_MAX entries,
 * searched linearly.
 */
#include "config.h"

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601     /* GetFileInformationByHandleEx, SRW locks */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#include <winternl.h>

#include "mapcache_win32.h"
#include "plat_win32.h"

struct mapcache_entry {
    wchar_t *final;
    LONGLONG index;
    LONGLONG created;       /* with the index: a file system that reuses indexes
                               (FAT's are directory slots) gives the new file
                               another creation time */
    uint64_t size;
    bool write;
    bool dead;              /* never hand out again; free at last put */
    HANDLE h;               /* a duplicate, to notice a delete or a resize */
    void *base;
    int refs;
    ULONGLONG last_used;    /* GetTickCount64 */
    struct mapcache_entry *next;
};

static SRWLOCK lock = SRWLOCK_INIT;
static struct mapcache_entry *entries;
static int n_entries;
static volatile LONG idle_ms = MAPCACHE_IDLE * 1000;

void mapcache_set_idle(int seconds)
{
    InterlockedExchange(&idle_ms, (LONG)seconds * 1000);
}

static void entry_free(struct mapcache_entry *e)
{
    UnmapViewOfFile(e->base);
    CloseHandle(e->h);
    free(e->final);
    free(e);
}

/* Unlink e from the list (lock held); free it now if unused, else at put. */
static void retire_locked(struct mapcache_entry *e)
{
    for (struct mapcache_entry **pp = &entries; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            n_entries--;
            break;
        }
    e->dead = true;
    if (e->refs == 0)
        entry_free(e);
}

static struct mapcache_entry *lru_idle_locked(void)
{
    struct mapcache_entry *best = NULL;

    for (struct mapcache_entry *e = entries; e; e = e->next)
        if (e->refs == 0 && (!best || e->last_used < best->last_used))
            best = e;
    return best;
}

static struct mapcache_entry *entry_new(HANDLE h, const wchar_t *final, LONGLONG index,
                                        LONGLONG created, uint64_t size, bool write,
                                        char *err, size_t errlen)
{
    struct mapcache_entry *e = calloc(1, sizeof(*e));
    HANDLE self = GetCurrentProcess();
    char why[256];

    if (!e || !(e->final = wcsdup(final))) {
        free(e);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!DuplicateHandle(self, h, self, &e->h, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
        plat_win32_error(GetLastError(), why, sizeof(why));
        snprintf(err, errlen, "DuplicateHandle: %s", why);
        free(e->final);
        free(e);
        return NULL;
    }
    e->base = plat_win32_map_view(h, write, 0, (size_t)size, err, errlen);
    if (!e->base)
        goto fail;
    e->index = index;
    e->created = created;
    e->size = size;
    e->write = write;
    e->refs = 1;
    return e;
fail:
    CloseHandle(e->h);
    free(e->final);
    free(e);
    return NULL;
}

struct mapcache_entry *mapcache_get(HANDLE h, const wchar_t *final, uint64_t size,
                                    bool write, void **base, char *err, size_t errlen)
{
    IO_STATUS_BLOCK io;
    FILE_INTERNAL_INFORMATION ii;
    FILE_BASIC_INFO bi;
    struct mapcache_entry *e, *victim;

    /* Without a trustworthy identity, a view of its own, not kept. */
    if (NtQueryInformationFile(h, &io, &ii, sizeof(ii), FileInternalInformation) != 0 ||
        ii.IndexNumber.QuadPart == 0 ||
        !GetFileInformationByHandleEx(h, FileBasicInfo, &bi, sizeof(bi))) {
        snprintf(err, errlen, "no identity to keep a view by");
        return NULL;
    }
    AcquireSRWLockExclusive(&lock);
    for (e = entries; e; e = e->next)
        if (e->index == ii.IndexNumber.QuadPart && e->created == bi.CreationTime.QuadPart &&
            e->write == write && wcscmp(e->final, final) == 0) {
            if (e->size == size) {
                e->refs++;
                ReleaseSRWLockExclusive(&lock);
                *base = e->base;
                return e;
            }
            retire_locked(e);           /* resized: its view is stale */
            break;
        }
    ReleaseSRWLockExclusive(&lock);

    /* Mapped outside the lock: a large view must not hold up other requests. */
    e = entry_new(h, final, ii.IndexNumber.QuadPart, bi.CreationTime.QuadPart, size, write,
                  err, errlen);
    if (!e)
        return NULL;
    AcquireSRWLockExclusive(&lock);
    if (n_entries >= MAPCACHE_MAX && (victim = lru_idle_locked()))
        retire_locked(victim);
    if (idle_ms > 0 && n_entries < MAPCACHE_MAX) {
        e->next = entries;
        entries = e;
        n_entries++;
    } else {
        e->dead = true;                 /* not kept: use once, then free */
    }
    ReleaseSRWLockExclusive(&lock);
    *base = e->base;
    return e;
}

void mapcache_forget(HANDLE h, const wchar_t *final)
{
    IO_STATUS_BLOCK io;
    FILE_INTERNAL_INFORMATION ii;
    struct mapcache_entry *e, *next;

    if (NtQueryInformationFile(h, &io, &ii, sizeof(ii), FileInternalInformation) != 0)
        return;
    AcquireSRWLockExclusive(&lock);
    for (e = entries; e; e = next) {
        next = e->next;
        if (e->index == ii.IndexNumber.QuadPart && wcscmp(e->final, final) == 0)
            retire_locked(e);
    }
    ReleaseSRWLockExclusive(&lock);
}

void mapcache_put(struct mapcache_entry *e, bool faulted)
{
    AcquireSRWLockExclusive(&lock);
    e->last_used = GetTickCount64();
    if (faulted && !e->dead)
        retire_locked(e);
    if (--e->refs == 0 && e->dead)
        entry_free(e);
    ReleaseSRWLockExclusive(&lock);
}

/* The file is gone, going, or no longer the size of the view. */
static bool changed(const struct mapcache_entry *e)
{
    FILE_STANDARD_INFO si;

    return !GetFileInformationByHandleEx(e->h, FileStandardInfo, &si, sizeof(si)) ||
           si.DeletePending || si.NumberOfLinks == 0 ||
           (uint64_t)si.EndOfFile.QuadPart != e->size;
}

void mapcache_sweep(void)
{
    ULONGLONG t = GetTickCount64();
    struct mapcache_entry *e, *next;

    AcquireSRWLockExclusive(&lock);
    for (e = entries; e; e = next) {
        next = e->next;
        if (e->refs == 0 && (t - e->last_used >= (ULONGLONG)idle_ms || changed(e)))
            retire_locked(e);
    }
    ReleaseSRWLockExclusive(&lock);
}

void mapcache_clear(void)
{
    AcquireSRWLockExclusive(&lock);
    while (entries)
        retire_locked(entries);
    ReleaseSRWLockExclusive(&lock);
}

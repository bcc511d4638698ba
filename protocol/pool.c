/*
 * pool.c - buffer pools of the public API (<winapi.h>): buffers put back
 * keep their file, mapping and pages, and are handed out again.
 *
 * What a fresh buffer costs is its first touch: every page faulted in,
 * 1 to 2.5 s a GiB on a VM.  A pooled one is a buffer whose pages are
 * already there.  A kept buffer serves any request it can hold: its file
 * and mapping are cut (or grown) to the size asked for with ftruncate and
 * mremap, so that every buffer handed out is exactly what
 * winapi_alloc_shared_buffer() would have made, file size included (the
 * host compares it with buffer_size), and winapi_free_shared_buffer() may
 * free it.
 */
#define _GNU_SOURCE         /* mremap */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_int.h"
#include "winapi.h"
#include "wp_conn.h"

struct kept {
    winapi_shared_buffer_t b;
    struct kept *next;
};

struct winapi_pool {
    winapi_handle_t h;
    uint64_t max_bytes;
    pthread_mutex_t lock;
    struct kept *kept;          /* buffers put back */
    uint64_t kept_bytes;
};

int winapi_pool_open(winapi_handle_t h, uint64_t max_bytes, winapi_pool_t **pool)
{
    winapi_pool_t *p;

    if (!h || !pool) {
        errno = EINVAL;
        return -1;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    p->h = h;
    p->max_bytes = max_bytes;
    pthread_mutex_init(&p->lock, NULL);
    *pool = p;
    return 0;
}

/* The smallest kept buffer of at least size bytes, taken off the list; else NULL. */
static struct kept *take_fitting(winapi_pool_t *p, size_t size)
{
    struct kept **best = NULL, *k;

    for (struct kept **pp = &p->kept; *pp; pp = &(*pp)->next)
        if ((*pp)->b.size >= size && (!best || (*pp)->b.size < (*best)->b.size))
            best = pp;
    if (!best)
        return NULL;
    k = *best;
    *best = k->next;
    p->kept_bytes -= k->b.size;
    return k;
}

/* Cut b's file and mapping to size bytes (size <= b->size).  0, or -1 with errno. */
static int resize(winapi_shared_buffer_t *b, size_t size)
{
    void *q;

    if (size == b->size)
        return 0;
    if (ftruncate(b->fd, (off_t)size) < 0)
        return -1;
    if (size == 0) {
        munmap(b->data, b->size);
        q = NULL;
    } else {
        /* Shrinking stays in place. */
        q = mremap(b->data, b->size, size, 0);
        if (q == MAP_FAILED)
            return -1;
    }
    b->data = q;
    b->size = size;
    return 0;
}

int winapi_pool_get(winapi_pool_t *p, size_t size, unsigned flags,
                    winapi_shared_buffer_t *b)
{
    struct kept *k;

    if (!p || !b || (flags & ~(unsigned)WINAPI_POOL_DIRTY)) {
        errno = EINVAL;
        return -1;
    }
    pthread_mutex_lock(&p->lock);
    k = take_fitting(p, size);
    pthread_mutex_unlock(&p->lock);
    if (!k)
        return winapi_alloc_shared_buffer(p->h, size, b);   /* fresh: zeroed */
    *b = k->b;
    free(k);
    if (resize(b, size) < 0) {
        int e = errno;
        wp_set_error("%s: cannot resize a pooled buffer to %zu bytes: %s", b->file_path,
                     size, strerror(e));
        winapi_free_shared_buffer(b);
        errno = e;
        return -1;
    }
    if (!(flags & WINAPI_POOL_DIRTY) && size > 0)
        memset(b->data, 0, size);
    return 0;
}

void winapi_pool_put(winapi_pool_t *p, winapi_shared_buffer_t *b)
{
    struct kept *k = NULL;
    bool keep;

    if (!b)
        return;
    if (!p || !b->file_path[0]) {
        winapi_free_shared_buffer(b);
        return;
    }
    pthread_mutex_lock(&p->lock);
    keep = b->size > 0 && b->size <= p->max_bytes - p->kept_bytes && (k = malloc(sizeof(*k)));
    if (keep) {
        k->b = *b;
        k->next = p->kept;
        p->kept = k;
        p->kept_bytes += b->size;
    }
    pthread_mutex_unlock(&p->lock);
    if (keep)
        memset(b, 0, sizeof(*b));
    else
        winapi_free_shared_buffer(b);
}

void winapi_pool_close(winapi_pool_t *p)
{
    struct kept *k, *next;

    if (!p)
        return;
    for (k = p->kept; k; k = next) {
        next = k->next;
        winapi_free_shared_buffer(&k->b);
        free(k);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

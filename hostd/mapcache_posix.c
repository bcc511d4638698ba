/*
 * mapcache_posix.c - reuse of file mappings between requests.
 *
 * A short list under one mutex: at most MAPCACHE_MAX entries, so a linear
 * search costs less than the syscalls it saves.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mapcache_posix.h"

struct mapcache_entry {
    dev_t dev;
    ino_t ino;
    off_t size;
    mode_t mode;            /* with uid, gid and key: as last opened */
    uid_t uid;
    gid_t gid;
    struct mapcache_key key;
    bool write;
    bool dead;              /* never hand out again; free at last put */
    int fd;                 /* a duplicate, to notice unlink and resize */
    void *base;
    int refs;
    time_t last_used;
    struct mapcache_entry *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mapcache_entry *entries;
static int n_entries;
static _Atomic int idle = MAPCACHE_IDLE;

void mapcache_set_idle(int seconds)
{
    idle = seconds;
}

static time_t now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec;
}

static void entry_free(struct mapcache_entry *e)
{
    munmap(e->base, (size_t)e->size);
    close(e->fd);
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

/* The least recently used idle entry, to make room; NULL if all are busy. */
static struct mapcache_entry *lru_idle_locked(void)
{
    struct mapcache_entry *best = NULL;

    for (struct mapcache_entry *e = entries; e; e = e->next)
        if (e->refs == 0 && (!best || e->last_used < best->last_used))
            best = e;
    return best;
}

/* What mapcache_find compares, from an open that succeeded just now. */
static void entry_opened(struct mapcache_entry *e, const struct stat *st,
                         const struct mapcache_key *key)
{
    e->mode = st->st_mode;
    e->uid = st->st_uid;
    e->gid = st->st_gid;
    e->key = *key;
}

static struct mapcache_entry *entry_new(int fd, const struct stat *st,
                                        const struct mapcache_key *key, bool write)
{
    struct mapcache_entry *e = calloc(1, sizeof(*e));
    int prot = write ? PROT_READ | PROT_WRITE : PROT_READ;

    if (!e)
        return NULL;
    e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (e->fd < 0)
        goto fail;
    e->base = mmap(NULL, (size_t)st->st_size, prot, MAP_SHARED, fd, 0);
    if (e->base == MAP_FAILED)
        goto fail;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    entry_opened(e, st, key);
    e->write = write;
    e->refs = 1;
    return e;
fail:
    if (e->fd >= 0)
        close(e->fd);
    free(e);
    return NULL;
}

struct mapcache_entry *mapcache_get(int fd, const struct stat *st,
                                    const struct mapcache_key *key, bool write,
                                    void **base, bool *fresh)
{
    struct mapcache_entry *e, *victim;

    *fresh = false;
    pthread_mutex_lock(&lock);
    for (e = entries; e; e = e->next)
        if (e->dev == st->st_dev && e->ino == st->st_ino && e->write == write) {
            if (e->size == st->st_size) {
                entry_opened(e, st, key);
                e->refs++;
                pthread_mutex_unlock(&lock);
                *base = e->base;
                return e;
            }
            retire_locked(e);           /* resized: its mapping is stale */
            break;
        }
    pthread_mutex_unlock(&lock);

    /* Map outside the lock: a large mmap must not hold up other requests. */
    e = entry_new(fd, st, key, write);
    if (!e)
        return NULL;
    *fresh = true;
    pthread_mutex_lock(&lock);
    if (n_entries >= MAPCACHE_MAX && (victim = lru_idle_locked()))
        retire_locked(victim);
    if (idle > 0 && n_entries < MAPCACHE_MAX) {
        e->next = entries;
        entries = e;
        n_entries++;
    } else {
        e->dead = true;                 /* not kept, or every slot busy: use once */
    }
    pthread_mutex_unlock(&lock);
    *base = e->base;
    return e;
}

struct mapcache_entry *mapcache_find(const struct stat *st, const struct mapcache_key *key,
                                     bool write, int *fd)
{
    struct mapcache_entry *e;

    if (key->mnt_id == 0 || st->st_nlink != 1)
        return NULL;
    pthread_mutex_lock(&lock);
    for (e = entries; e; e = e->next)
        if (e->dev == st->st_dev && e->ino == st->st_ino && e->write == write &&
            e->size == st->st_size && e->mode == st->st_mode && e->uid == st->st_uid &&
            e->gid == st->st_gid && e->key.mnt_id == key->mnt_id &&
            e->key.ctime.tv_sec == key->ctime.tv_sec &&
            e->key.ctime.tv_nsec == key->ctime.tv_nsec) {
            e->refs++;
            *fd = e->fd;
            break;
        }
    pthread_mutex_unlock(&lock);
    return e;
}

void mapcache_put(struct mapcache_entry *e, bool faulted)
{
    pthread_mutex_lock(&lock);
    e->last_used = now();
    if (faulted && !e->dead)
        retire_locked(e);
    if (--e->refs == 0 && e->dead)
        entry_free(e);
    pthread_mutex_unlock(&lock);
}

void mapcache_sweep(void)
{
    time_t t = now();
    struct mapcache_entry *e, *next;
    struct stat st;

    pthread_mutex_lock(&lock);
    for (e = entries; e; e = next) {
        next = e->next;
        if (e->refs > 0)
            continue;
        if (t - e->last_used >= idle || fstat(e->fd, &st) < 0 ||
            st.st_nlink == 0 || st.st_size != e->size)
            retire_locked(e);
    }
    pthread_mutex_unlock(&lock);
}

void mapcache_clear(void)
{
    pthread_mutex_lock(&lock);
    while (entries)
        retire_locked(entries);
    pthread_mutex_unlock(&lock);
}

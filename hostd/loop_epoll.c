/*
 * loop_epoll.c - loop.h on Linux: epoll, level-triggered, and an eventfd
 * that loop_wake writes to.  Each call is O(1) whatever the number of
 * sockets watched; a wait costs O(ready).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"

/* Events taken from the kernel in one wait. */
#define LOOP_BATCH 256

struct loop {
    int ep;
    int wake_fd;
    /* Set by loop_wake until the loop has seen it: one write per wait, not per call. */
    atomic_bool woken;
    struct epoll_event got[LOOP_BATCH];
};

struct loop *loop_new(char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof(*l));
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->ep < 0 || l->wake_fd < 0 || epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        loop_free(l);
        return NULL;
    }
    atomic_init(&l->woken, false);
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->ep >= 0)
        close(l->ep);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    free(l);
}

static uint32_t to_epoll(int mask)
{
    return (mask & LOOP_READ ? EPOLLIN : 0) | (mask & LOOP_WRITE ? EPOLLOUT : 0);
}

int loop_add(struct loop *l, struct loop_item *it, plat_sock sock, int mask)
{
    struct epoll_event ev = { .events = to_epoll(mask), .data.ptr = it };

    it->sock = sock;
    it->mask = mask;
    it->slot = -1;
    return epoll_ctl(l->ep, EPOLL_CTL_ADD, (int)sock, &ev);
}

int loop_set(struct loop *l, struct loop_item *it, int mask)
{
    struct epoll_event ev = { .events = to_epoll(mask), .data.ptr = it };

    if (mask == it->mask)
        return 0;
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, (int)it->sock, &ev) < 0)
        return -1;
    it->mask = mask;
    return 0;
}

void loop_del(struct loop *l, struct loop_item *it)
{
    epoll_ctl(l->ep, EPOLL_CTL_DEL, (int)it->sock, NULL);
    it->mask = 0;
}

int loop_wait(struct loop *l, struct loop_event *ev, int max, int timeout_ms)
{
    int n, out = 0;

    if (max > LOOP_BATCH)
        max = LOOP_BATCH;
    n = epoll_wait(l->ep, l->got, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t e = l->got[i].events;
        if (!l->got[i].data.ptr) {
            uint64_t v;
            /* Clear the flag before draining: a wake after this read is not lost. */
            atomic_store(&l->woken, false);
            if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                return -1;
            continue;
        }
        ev[out].item = l->got[i].data.ptr;
        ev[out].mask = (e & EPOLLIN ? LOOP_READ : 0) | (e & EPOLLOUT ? LOOP_WRITE : 0) |
                       (e & (EPOLLHUP | EPOLLERR) ? LOOP_GONE : 0);
        out++;
    }
    return out;
}

void loop_wake(struct loop *l)
{
    uint64_t one = 1;

    if (atomic_exchange(&l->woken, true))
        return;
    /* Fails only when the counter would overflow: then a wake is pending anyway. */
    if (write(l->wake_fd, &one, sizeof(one)) < 0)
        return;
}

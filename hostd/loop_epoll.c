/*
 * loop_epoll.c - loop.h on Linux: epoll (edge-triggered for LOOP_EDGE), an
 * eventfd that loop_wake writes to, and a timerfd for timeouts.  Each call
 * is O(1) whatever the number of sockets watched; a wait costs O(ready).
 *
 * Timeouts: epoll_wait's own would arm and cancel a kernel timer on every
 * wait, which is most of what a wait costs beyond the socket's.  The
 * loop's callers wait towards the same deadline turn after turn (the next
 * sweep), so the timerfd is set once per deadline and each wait is
 * without a timeout.  A timer set earlier than a wait asks only ends that
 * wait early, which loop.h allows (a timeout is returned as 0 events).
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
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

/* Events taken from the kernel in one wait. */
#define LOOP_BATCH 256

/* The epoll_event data of the loop's own descriptors (sockets carry their item). */
static char wake_tag, timer_tag;

struct loop {
    int ep;
    int wake_fd;
    int timer_fd;
    int64_t timer_at;   /* monotonic ms the timer is set for; 0: not set */
    /* Set by loop_wake until the loop has seen it: one write per wait, not per call. */
    atomic_bool woken;
    struct epoll_event got[LOOP_BATCH];
};

struct loop *loop_new(char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof(*l));
    struct epoll_event wake = { .events = EPOLLIN, .data.ptr = &wake_tag };
    struct epoll_event timer = { .events = EPOLLIN, .data.ptr = &timer_tag };

    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->ep < 0 || l->wake_fd < 0 || l->timer_fd < 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->wake_fd, &wake) < 0 ||
        epoll_ctl(l->ep, EPOLL_CTL_ADD, l->timer_fd, &timer) < 0) {
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
    if (l->timer_fd >= 0)
        close(l->timer_fd);
    free(l);
}

static uint32_t to_epoll(int mask)
{
    /* Edge-triggered, the end of stream and urgent data come as edges of
     * their own; a read may stop short before either. */
    return (mask & LOOP_READ ? EPOLLIN : 0) | (mask & LOOP_WRITE ? EPOLLOUT : 0) |
           (mask & LOOP_EDGE ? EPOLLET | EPOLLRDHUP | EPOLLPRI : 0);
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

static int64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Have the timer fire by timeout_ms from now; 0, or -1 (the system's). */
static int timer_by(struct loop *l, int timeout_ms)
{
    int64_t at = now_ms() + timeout_ms;
    struct itimerspec when = { .it_value = { .tv_sec = at / 1000,
                                             .tv_nsec = (at % 1000) * 1000000 } };

    if (l->timer_at && l->timer_at <= at)
        return 0;
    if (timerfd_settime(l->timer_fd, TFD_TIMER_ABSTIME, &when, NULL) < 0)
        return -1;
    l->timer_at = at;
    return 0;
}

int loop_wait(struct loop *l, struct loop_event *ev, int max, int timeout_ms)
{
    int n, out = 0;
    uint64_t v;

    if (max > LOOP_BATCH)
        max = LOOP_BATCH;
    if (timeout_ms > 0) {
        if (timer_by(l, timeout_ms) < 0)
            return -1;
        timeout_ms = -1;
    }
    n = epoll_wait(l->ep, l->got, max, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t e = l->got[i].events;
        if (l->got[i].data.ptr == &wake_tag) {
            /* Clear the flag before draining: a wake after this read is not lost. */
            atomic_store(&l->woken, false);
            if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                return -1;
            continue;
        }
        if (l->got[i].data.ptr == &timer_tag) {
            l->timer_at = 0;
            if (read(l->timer_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                return -1;
            continue;
        }
        ev[out].item = l->got[i].data.ptr;
        ev[out].mask = (e & EPOLLIN ? LOOP_READ : 0) | (e & EPOLLOUT ? LOOP_WRITE : 0) |
                       (e & (EPOLLHUP | EPOLLERR) ? LOOP_GONE : 0) |
                       (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI) ? LOOP_DRAIN : 0);
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

/*
 * loop_win32.c - loop.h on Windows: WSAPoll, and a loopback datagram
 * socket connected to itself that loop_wake sends a byte to (WSAPoll waits
 * on sockets only, not on events).
 *
 * WSAPoll takes the whole array every time, so a wait costs O(sockets), as
 * poll() does: fine for the thousands of connections a Windows host serves
 * (IOCP would scale further, but turns every read into an outstanding
 * operation with its own buffer, and the loop above would differ by
 * platform).  The array is rebuilt only after a change, and a socket that
 * is watched for nothing is left out of it.
 */
#include "config.h"

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601     /* WSAPoll is Vista's */
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "loop.h"

struct loop {
    /* Every registered item; item->slot is its index. */
    struct loop_item **items;
    int nitems, cap;
    /* What WSAPoll gets: the wake socket first, then the watched items. */
    WSAPOLLFD *pfd;
    struct loop_item **pitem;
    int npfd, pcap;
    bool dirty;
    int start;              /* where reporting starts, turning, so no socket waits behind others */
    SOCKET wake;
    atomic_bool woken;
};

static int wake_socket(SOCKET *out)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    int sl = sizeof(sa);
    u_long nonblocking = 1;
    SOCKET s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s == INVALID_SOCKET)
        return -1;
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &sl) != 0 ||
        connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        ioctlsocket(s, FIONBIO, &nonblocking) != 0) {
        closesocket(s);
        return -1;
    }
    *out = s;
    return 0;
}

struct loop *loop_new(char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof(*l));

    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (wake_socket(&l->wake) < 0) {
        snprintf(err, errlen, "cannot make the loop's wake socket (error %d)",
                 WSAGetLastError());
        free(l);
        return NULL;
    }
    atomic_init(&l->woken, false);
    l->dirty = true;
    return l;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    closesocket(l->wake);
    free(l->items);
    free(l->pfd);
    free(l->pitem);
    free(l);
}

int loop_add(struct loop *l, struct loop_item *it, plat_sock sock, int mask)
{
    if (l->nitems == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        struct loop_item **n = realloc(l->items, (size_t)cap * sizeof(*n));
        if (!n)
            return -1;
        l->items = n;
        l->cap = cap;
    }
    it->sock = sock;
    it->mask = mask;
    it->slot = l->nitems;
    l->items[l->nitems++] = it;
    l->dirty = true;
    return 0;
}

int loop_set(struct loop *l, struct loop_item *it, int mask)
{
    if (mask != it->mask) {
        it->mask = mask;
        l->dirty = true;
    }
    return 0;
}

void loop_del(struct loop *l, struct loop_item *it)
{
    struct loop_item *last = l->items[--l->nitems];

    l->items[it->slot] = last;
    last->slot = it->slot;
    it->slot = -1;
    it->mask = 0;
    l->dirty = true;
}

/* The array for WSAPoll, after a change; -1 when out of memory. */
static int rebuild(struct loop *l)
{
    int n = 1;

    if (l->pcap < l->nitems + 1) {
        int cap = l->nitems + 64;
        WSAPOLLFD *p = realloc(l->pfd, (size_t)cap * sizeof(*p));
        struct loop_item **pi;
        if (!p)
            return -1;
        l->pfd = p;
        pi = realloc(l->pitem, (size_t)cap * sizeof(*pi));
        if (!pi)
            return -1;
        l->pitem = pi;
        l->pcap = cap;
    }
    l->pfd[0] = (WSAPOLLFD){ .fd = l->wake, .events = POLLRDNORM };
    l->pitem[0] = NULL;
    for (int i = 0; i < l->nitems; i++) {
        struct loop_item *it = l->items[i];
        if (!(it->mask & (LOOP_READ | LOOP_WRITE)))
            continue;
        l->pfd[n] = (WSAPOLLFD){
            .fd = (SOCKET)it->sock,
            .events = (SHORT)((it->mask & LOOP_READ ? POLLRDNORM : 0) |
                              (it->mask & LOOP_WRITE ? POLLWRNORM : 0)),
        };
        l->pitem[n++] = it;
    }
    l->npfd = n;
    l->dirty = false;
    return 0;
}

static void drain_wake(struct loop *l)
{
    char buf[64];

    /* Clear the flag first: a wake sent after this is seen by the next wait. */
    atomic_store(&l->woken, false);
    while (recv(l->wake, buf, sizeof(buf), 0) > 0)
        ;
}

int loop_wait(struct loop *l, struct loop_event *ev, int max, int timeout_ms)
{
    int n, out = 0, watched;

    if (l->dirty && rebuild(l) < 0)
        return -1;
    n = WSAPoll(l->pfd, (ULONG)l->npfd, timeout_ms);
    if (n == SOCKET_ERROR)
        return WSAGetLastError() == WSAEINTR ? 0 : -1;
    if (n == 0)
        return 0;
    if (l->pfd[0].revents)
        drain_wake(l);
    watched = l->npfd - 1;
    for (int k = 0; k < watched && out < max; k++) {
        int i = 1 + (l->start + k) % watched;
        SHORT r = l->pfd[i].revents;
        if (!r)
            continue;
        ev[out].item = l->pitem[i];
        ev[out].mask = (r & POLLRDNORM ? LOOP_READ : 0) | (r & POLLWRNORM ? LOOP_WRITE : 0) |
                       (r & (POLLHUP | POLLERR | POLLNVAL) ? LOOP_GONE : 0);
        out++;
    }
    if (watched > 0)
        l->start = (l->start + 1) % watched;
    return out;
}

void loop_wake(struct loop *l)
{
    if (atomic_exchange(&l->woken, true))
        return;
    send(l->wake, "w", 1, 0);
}

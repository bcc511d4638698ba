/*
 * loop.h - readiness of many sockets, for winapi-hostd's one event-loop
 * thread.
 *
 * One implementation per platform, chosen by the build as Redis picks
 * ae_epoll.c: loop_epoll.c (Linux, epoll and an eventfd) and loop_win32.c
 * (Windows, WSAPoll and a loopback datagram socket to wake it).  Both are
 * level-triggered: a socket that stays readable is reported again by the
 * next loop_wait until it is read or no longer watched.  A socket watched
 * with LOOP_EDGE may instead be reported only when it becomes ready (epoll
 * does so: it spares a poll of every ready socket on every wait); its
 * caller must read it until a read comes back short, or remember that it
 * has not and read it again without being told.
 *
 * Threads: everything but loop_wake belongs to the thread that calls
 * loop_wait.  loop_wake may be called from any thread at any time.
 */
#ifndef HOSTD_LOOP_H
#define HOSTD_LOOP_H

#include "plat.h"

/*
 * Only reported: LOOP_GONE, the peer hung up both ways or the socket
 * failed; LOOP_DRAIN, with LOOP_EDGE, a read that comes back short may
 * have left something all the same (the peer's end of stream, an error,
 * urgent data): read until a read returns 0 or would block.
 */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_GONE = 4, LOOP_EDGE = 8, LOOP_DRAIN = 16 };

/*
 * A watched socket.  The caller embeds one per socket (in its connection)
 * and finds its object again from the item a loop_wait event names.
 */
struct loop_item {
    plat_sock sock;
    int mask;           /* LOOP_READ | LOOP_WRITE now watched (none: 0), | LOOP_EDGE */
    int slot;           /* the implementation's */
};

struct loop_event {
    struct loop_item *item;
    /* What is ready: LOOP_READ, LOOP_WRITE, LOOP_GONE (also when not watched). */
    int mask;
};

struct loop;

/* A new loop; NULL with the reason in err. */
struct loop *loop_new(char *err, size_t errlen);
/* Frees the loop; the sockets still registered are left open. */
void loop_free(struct loop *l);

/* Watch sock for mask through it; 0, or -1 (out of memory, or the system's). */
int loop_add(struct loop *l, struct loop_item *it, plat_sock sock, int mask);
/* Watch it for mask instead (0: for nothing, but stay registered); 0 or -1. */
int loop_set(struct loop *l, struct loop_item *it, int mask);
/* Forget it (before the socket is closed). */
void loop_del(struct loop *l, struct loop_item *it);

/*
 * Wait up to timeout_ms (-1: no limit) for a watched socket to be ready or
 * for loop_wake.  Fills at most max events; returns their number, 0 on a
 * timeout or a wake, -1 on a failure of the system's (logged by the
 * caller).  The items named stay valid until the caller deletes them.
 */
int loop_wait(struct loop *l, struct loop_event *ev, int max, int timeout_ms);

/* Make the current or next loop_wait return.  Any thread; cheap when repeated. */
void loop_wake(struct loop *l);

#endif /* HOSTD_LOOP_H */

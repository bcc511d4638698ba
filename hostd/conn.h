/*
 * conn.h - one client connection of winapi-hostd: its socket, the answers
 * waiting to be sent, and the times and counts that decide when it is
 * closed.
 *
 * Threads.  The event loop owns the connection: it reads, frames and
 * dispatches requests, and is the only one to close it.  Workers only hand
 * answers to conn_queue(), which never blocks on the client: what the
 * socket does not take at once waits in the connection's queue, and the
 * loop sends it when the socket is writable.  Fields marked "loop" are the
 * loop thread's alone; the others are under lock.
 *
 * Lifetime.  The loop holds one reference while the connection is open, and
 * every request being worked on holds one; the last conn_unref closes the
 * socket and frees everything, so a worker finishing late never writes to
 * a socket that was closed, or to a descriptor reused since.
 */
#ifndef HOSTD_CONN_H
#define HOSTD_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "plat.h"
#include "jobs.h"
#include "wp_frame.h"
#include "wp_token.h"

/*
 * Requests of one connection being worked on at once; beyond, the loop
 * stops reading it until some are answered (the client's pipelined
 * requests then wait in its socket), so one client cannot fill the queue.
 */
#define CONN_MAX_IN_FLIGHT 64

struct conn_out;

struct conn {
    plat_sock sock;
    char peer[80];
    atomic_int refs;
    size_t max_pending;         /* answers waiting beyond this: closed */
    int64_t connected_ms;

    /* loop */
    struct loop_item item;
    wp_frame *frame;            /* a partial line, or lines not yet handled; NULL when none */
    const wp_grant *grant;      /* the token's it said hello with; NULL: none yet */
    bool requested;             /* sent a whole request line once */
    bool gone;                  /* closed (it lives on while requests hold it) */
    bool unread;                /* its socket may hold bytes not read yet (LOOP_EDGE) */
    bool drain;                 /* a short read says nothing: read to 0 or EAGAIN (LOOP_DRAIN) */
    bool backlog;               /* on the server's list of connections with work left */
    bool attention;             /* on the server's attention list (under its lock) */
    struct conn *prev, *next;   /* every connection */
    struct conn *backlog_next;
    struct conn *attention_next;
    struct jobs_owner owner;    /* its requests, for the scheduler's round robin */

    pthread_mutex_t lock;
    struct conn_out *out_head, *out_tail;
    size_t out_off;             /* bytes of out_head already sent */
    size_t out_bytes;           /* waiting in the queue */
    bool closed;                /* no more sending; the queue is dropped */
    bool want_write;            /* the loop must send the rest when the socket is writable */
    bool doomed;                /* over max_pending, or the socket failed: the loop closes it */
    int in_flight;              /* requests taken and not yet answered */
    int64_t last_answer_ms;     /* idle time counts from here */
};

/* Monotonic milliseconds, for every time the connections keep. */
int64_t conn_now_ms(void);

/* A connection with one reference (the loop's); NULL when out of memory. */
struct conn *conn_new(plat_sock sock, const char *peer, size_t max_pending);
void conn_ref(struct conn *c);
/* The last reference closes the socket and frees the connection. */
void conn_unref(struct conn *c);

enum {
    CONN_FLUSH = 1,             /* try to send at once (else the caller calls conn_flush) */
    CONN_JOB_DONE = 2,          /* the answer ends a request counted by conn_job_begin */
    CONN_NO_ANSWER = 4,         /* line is NULL on purpose: a cancelled request */
};
/*
 * Queue an answer line (malloc'd; taken, freed whatever happens; NULL when
 * building it ran out of memory, and then only the counting is done).
 * Any thread.  Returns true when the loop must look at the connection
 * (conn_settle): the rest waits for writability, the connection is
 * doomed, or it may be read again.  Never blocks on the client.
 */
bool conn_queue(struct conn *c, char *line, int flags);

/*
 * Send what waits, as far as the socket takes it (loop).  0 when all was
 * sent, 1 when the rest waits for writability, -1 when the connection is
 * doomed (a send failed, or more than max_pending bytes wait).
 */
int conn_flush(struct conn *c);

/* A request is taken (loop); false when the connection is closed. */
void conn_job_begin(struct conn *c);
/* True when the loop may read more requests from it now. */
bool conn_may_read(struct conn *c);

/* What the loop must do for it. */
struct conn_needs {
    bool close;                 /* doomed */
    bool write;                 /* watch for writability */
    bool read;                  /* may read */
};
/* conn_flush, then what the loop must do for it now (loop; one lock for both). */
struct conn_needs conn_settle(struct conn *c);

/*
 * True when the connection has outstayed its welcome at now (loop): no
 * whole request within handshake_ms of connecting, or nothing in flight
 * and no answer for idle_ms (0: never).
 */
bool conn_expired(struct conn *c, int64_t now, int64_t handshake_ms, int64_t idle_ms);

/*
 * Close it for good (loop): no more sending, the queue dropped, both
 * directions shut so the peer sees it at once.  The socket itself is
 * closed by the last conn_unref.
 */
void conn_close(struct conn *c);

#endif /* HOSTD_CONN_H */

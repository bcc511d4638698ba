/*
 * conn.c - a connection's output queue, counts and times.
 *
 * Sending never waits: a send takes what the socket takes now (up to
 * PLAT_IOV_MAX answers in one call) and leaves the rest queued, in order,
 * for the loop to send when the socket is writable.  The lock is held
 * across that non-blocking send so that answers never interleave.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "log.h"

struct conn_out {
    struct conn_out *next;
    char *line;
    size_t len;
};

int64_t conn_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct conn *conn_new(plat_sock sock, const char *peer, size_t max_pending)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->sock = sock;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    atomic_init(&c->refs, 1);
    c->max_pending = max_pending;
    c->connected_ms = c->last_answer_ms = conn_now_ms();
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void conn_ref(struct conn *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static void drop_queue(struct conn *c)
{
    struct conn_out *o, *next;

    for (o = c->out_head; o; o = next) {
        next = o->next;
        free(o->line);
        free(o);
    }
    c->out_head = c->out_tail = NULL;
    c->out_off = c->out_bytes = 0;
}

void conn_unref(struct conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    plat_close(c->sock);
    drop_queue(c);
    free(c->frame);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Send from the queue until it is empty or the socket is full (under lock). */
static int flush_locked(struct conn *c)
{
    while (c->out_head) {
        struct plat_iov iov[PLAT_IOV_MAX];
        struct conn_out *o = c->out_head;
        int n = 0;
        long sent;

        iov[n++] = (struct plat_iov){ o->line + c->out_off, o->len - c->out_off };
        for (o = o->next; o && n < PLAT_IOV_MAX; o = o->next)
            iov[n++] = (struct plat_iov){ o->line, o->len };
        sent = plat_sendv(c->sock, iov, n);
        if (sent == PLAT_AGAIN)
            return 1;
        if (sent < 0)
            return -1;
        c->out_bytes -= (size_t)sent;
        while (sent > 0) {
            o = c->out_head;
            if ((size_t)sent < o->len - c->out_off) {
                c->out_off += (size_t)sent;
                break;
            }
            sent -= (long)(o->len - c->out_off);
            c->out_off = 0;
            c->out_head = o->next;
            if (!c->out_head)
                c->out_tail = NULL;
            free(o->line);
            free(o);
        }
    }
    return 0;
}

/* Flush, and judge the result (under lock): the conn_flush values. */
static int flush_and_judge(struct conn *c)
{
    int r = flush_locked(c);

    if (r < 0 || c->out_bytes > c->max_pending)
        c->doomed = true;
    if (c->doomed)
        return -1;
    c->want_write = r > 0;
    return r;
}

bool conn_queue(struct conn *c, char *line, int flags)
{
    struct conn_out *o = line ? malloc(sizeof(*o)) : NULL;
    bool look = false;

    if (!o && !(flags & CONN_NO_ANSWER)) {
        log_err("%s: out of memory for an answer", c->peer);
        free(line);
    }
    pthread_mutex_lock(&c->lock);
    c->last_answer_ms = conn_now_ms();
    if (flags & CONN_JOB_DONE)
        look = c->in_flight-- == CONN_MAX_IN_FLIGHT && !c->closed;  /* may be read again */
    if (o && c->closed) {
        free(line);
        free(o);
    } else if (o) {
        o->line = line;
        o->len = strlen(line);
        o->next = NULL;
        if (c->out_tail)
            c->out_tail->next = o;
        else
            c->out_head = o;
        c->out_tail = o;
        c->out_bytes += o->len;
        /* While the loop waits for writability it sends the rest itself. */
        if ((flags & CONN_FLUSH) && !c->want_write)
            look |= flush_and_judge(c) != 0;
        else if (c->out_bytes > c->max_pending && !c->doomed)
            look = c->doomed = true;
    }
    pthread_mutex_unlock(&c->lock);
    return look;
}

int conn_flush(struct conn *c)
{
    int r;

    pthread_mutex_lock(&c->lock);
    r = c->closed ? 0 : flush_and_judge(c);
    pthread_mutex_unlock(&c->lock);
    return r;
}

void conn_job_begin(struct conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->in_flight++;
    pthread_mutex_unlock(&c->lock);
}

bool conn_may_read(struct conn *c)
{
    bool ok;

    pthread_mutex_lock(&c->lock);
    ok = !c->closed && !c->doomed && c->in_flight < CONN_MAX_IN_FLIGHT;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

struct conn_needs conn_settle(struct conn *c)
{
    struct conn_needs n;

    pthread_mutex_lock(&c->lock);
    if (!c->closed)
        flush_and_judge(c);
    n.close = c->doomed && !c->closed;
    n.write = c->want_write && !c->closed;
    n.read = !c->closed && !c->doomed && c->in_flight < CONN_MAX_IN_FLIGHT;
    pthread_mutex_unlock(&c->lock);
    return n;
}

bool conn_expired(struct conn *c, int64_t now, int64_t handshake_ms, int64_t idle_ms)
{
    bool expired;

    if (!c->requested)
        return handshake_ms > 0 && now - c->connected_ms >= handshake_ms;
    if (idle_ms <= 0)
        return false;
    pthread_mutex_lock(&c->lock);
    expired = c->in_flight == 0 && now - c->last_answer_ms >= idle_ms;
    pthread_mutex_unlock(&c->lock);
    return expired;
}

void conn_close(struct conn *c)
{
    pthread_mutex_lock(&c->lock);
    c->closed = true;
    c->want_write = false;
    drop_queue(c);
    pthread_mutex_unlock(&c->lock);
    plat_shutdown(c->sock);
    free(c->frame);
    c->frame = NULL;
}

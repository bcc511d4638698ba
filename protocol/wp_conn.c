/*
 * wp_conn.c - the guest's shared, pipelined connection to the host.
 *
 * Invariants, all under c->lock:
 *  - c->fd is -1 or a connected socket; only the thread holding the reader
 *    role (c->reading) or, when nobody reads, the thread holding the lock
 *    closes it, so no thread ever reads a recycled descriptor;
 *  - every registered waiter gets exactly one outcome: its response, or an
 *    errno when the connection it was sent on dies;
 *  - a failed send only shuts the socket down; the reader then sees the end
 *    of the stream and fails every waiter at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "wp_conn.h"
#include "wp_frame.h"

/* How often a blocked read or write looks at its deadline. */
#define WAIT_SLICE_MS 100

struct waiter {
    uint64_t id;
    bool done;
    int err;                /* errno when done without a response */
    char why[256];          /* and the reason, when err is EPROTO */
    wp_response resp;
    char *line;
    struct waiter *next;
};

struct wp_conn {
    char *host;
    int port;
    char *token;
    int timeout_s;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_mutex_t send_lock;
    int fd;
    unsigned long gen;          /* which connection fd is; under both locks */
    bool reading;
    struct waiter *waiters;     /* FIFO: oldest first */
    uint64_t next_id;
    wp_frame frame;             /* the reader's */
};

static _Thread_local char last_error[512];

const char *wp_error(void)
{
    return last_error;
}

void wp_set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof(last_error), fmt, ap);
    va_end(ap);
}

wp_conn *wp_conn_new(const char *host, int port, const char *token, int timeout_s)
{
    wp_conn *c = calloc(1, sizeof(*c));
    pthread_condattr_t ca;

    if (!c)
        return NULL;
    c->host = strdup(host);
    c->token = token ? strdup(token) : NULL;
    if (!c->host || (token && !c->token)) {
        free(c->host);
        free(c->token);
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->port = port;
    c->timeout_s = timeout_s;
    c->fd = -1;
    c->next_id = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->send_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

void wp_conn_free(wp_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->send_lock);
    pthread_cond_destroy(&c->cond);
    free(c->host);
    free(c->token);
    free(c);
}

static struct timespec deadline_in(int seconds)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += seconds;
    return t;
}

/* Milliseconds left until d (0 when past), for poll(). */
static int ms_left(const struct timespec *d)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(d->tv_sec - now.tv_sec) * 1000 + (d->tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Whether d has passed; if so errno is ETIMEDOUT. */
static bool past(const struct timespec *d)
{
    if (ms_left(d) > 0)
        return false;
    errno = ETIMEDOUT;
    return true;
}

/* Wait for fd to be ready for events; 0, or -1 with ETIMEDOUT or errno. */
static int wait_fd(int fd, short events, const struct timespec *deadline)
{
    struct pollfd p = { .fd = fd, .events = events };

    for (;;) {
        int n = poll(&p, 1, ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

static int send_all(int fd, const char *buf, size_t len, const struct timespec *deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* A signal restarts no timed send: look at the deadline then too. */
            if (past(deadline))
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Read what is available into the frame: >0 bytes, 0 at end of stream, -1. */
static ssize_t recv_some(int fd, wp_frame *f, const struct timespec *deadline)
{
    for (;;) {
        size_t avail;
        char *p = wp_frame_space(f, &avail);
        ssize_t n = recv(fd, p, avail, 0);

        if (n >= 0) {
            wp_frame_commit(f, (size_t)n);
            return n;
        }
        /* A signal restarts no timed recv: look at the deadline then too. */
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (past(deadline))
            return -1;
    }
}

static int try_connect(const struct addrinfo *ai, const struct timespec *deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
    const struct timeval slice = { .tv_usec = WAIT_SLICE_MS * 1000 };
    int one = 1, soerr = 0;
    socklen_t sl = sizeof(soerr);

    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            goto fail;
        if (soerr) {
            errno = soerr;
            goto fail;
        }
    }
    /* Requests are small and latency-bound: never wait for Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /*
     * Connected, the socket blocks, a slice at a time: a reply then costs
     * one recv() where a non-blocking socket costs recv(), poll() and
     * recv() again, and system calls are most of a round trip's cost on a
     * VM.  The slice bounds how late a deadline is noticed.
     */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof(slice)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, sizeof(slice)) < 0)
        goto fail;
    return fd;
fail:
    soerr = errno;
    close(fd);
    errno = soerr;
    return -1;
}

/* Take the next response line off the frame, synchronously (no other reader). */
static int read_response_sync(wp_conn *c, int fd, wp_response *resp,
                              const struct timespec *deadline)
{
    char *line;
    size_t len;
    int r;

    while ((r = wp_frame_next(&c->frame, &line, &len)) == 0) {
        ssize_t n = recv_some(fd, &c->frame, deadline);
        if (n == 0)
            errno = ECONNRESET;
        if (n <= 0)
            return -1;
    }
    if (r < 0) {
        errno = EPROTO;
        return -1;
    }
    return wp_response_parse(line, len, resp);
}

static int say_hello(wp_conn *c, int fd, const struct timespec *deadline)
{
    wp_request hello = { .api = WP_API_HELLO, .has_request_id = true, .token = c->token };
    json_object *o = wp_request_build(&hello);
    wp_response resp;
    char *line;
    int r = -1;

    line = o ? wp_json_line(o) : NULL;
    json_object_put(o);
    if (!line) {
        errno = ENOMEM;
        return -1;
    }
    if (send_all(fd, line, strlen(line), deadline) < 0 ||
        read_response_sync(c, fd, &resp, deadline) < 0) {
        wp_set_error("host %s:%d: hello failed: %s", c->host, c->port, strerror(errno));
        goto out;
    }
    if (!resp.has_request_id || resp.request_id != 0) {
        wp_set_error("host %s:%d answered hello with %s", c->host, c->port,
                     resp.has_request_id ? "another request's id" : "no request_id");
        errno = EPROTO;
    } else if (!resp.success) {
        wp_set_error("host %s:%d refused the token: %s", c->host, c->port, resp.message);
        errno = wp_code_errno(resp.code);
    } else {
        r = 0;
    }
    wp_response_release(&resp);
out:
    free(line);
    return r;
}

/* Called with the lock held and c->fd == -1. */
static int connect_locked(wp_conn *c)
{
    struct timespec deadline = deadline_in(c->timeout_s);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res, *ai;
    char port[16];
    int fd = -1, rc, e = ECONNREFUSED;

    snprintf(port, sizeof(port), "%d", c->port);
    rc = getaddrinfo(c->host, port, &hints, &res);
    if (rc != 0) {
        wp_set_error("host %s: %s", c->host, gai_strerror(rc));
        errno = EHOSTUNREACH;
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = try_connect(ai, &deadline);
        if (fd < 0)
            e = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (e == ECONNREFUSED)
            wp_set_error("host %s:%d refused the connection", c->host, c->port);
        else
            wp_set_error("host %s:%d: %s", c->host, c->port, strerror(e));
        errno = e;
        return -1;
    }
    wp_frame_init(&c->frame);
    if (c->token && say_hello(c, fd, &deadline) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    c->fd = fd;
    return 0;
}

/*
 * Fail every waiter with err (and why, for EPROTO) and forget the
 * connection.  Lock held, caller is the reader.
 */
static void teardown_locked(wp_conn *c, int err, const char *why)
{
    for (struct waiter *w = c->waiters; w; w = w->next) {
        w->done = true;
        w->err = err;
        snprintf(w->why, sizeof(w->why), "%s", why ? why : "");
    }
    c->waiters = NULL;
    /* Senders check gen under send_lock, so none writes to a closed fd. */
    pthread_mutex_lock(&c->send_lock);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->gen++;
    pthread_mutex_unlock(&c->send_lock);
    pthread_cond_broadcast(&c->cond);
}

static void unlink_waiter(wp_conn *c, struct waiter *me)
{
    for (struct waiter **pp = &c->waiters; *pp; pp = &(*pp)->next)
        if (*pp == me) {
            *pp = me->next;
            return;
        }
}

/*
 * Hand a response line to its waiter.  Lock held.  -1, with the reason in
 * why, for a line that is no answer we can place: not a response, or one
 * without a request_id.  The host leaves the id out when it could not read
 * a request's; which of ours that was nobody can tell, and taking it for
 * the oldest one's answer would hand a caller another request's result.
 */
static int dispatch_locked(wp_conn *c, const char *line, size_t len,
                           char *why, size_t whylen)
{
    wp_response resp;
    struct waiter *w = c->waiters;

    if (wp_response_parse(line, len, &resp) < 0) {
        snprintf(why, whylen, "host %s:%d sent a malformed response", c->host, c->port);
        return -1;
    }
    if (!resp.has_request_id) {
        snprintf(why, whylen, "host %s:%d answered without a request_id "
                 "(it could not read a request): %s: %s", c->host, c->port,
                 resp.success ? "success" : wp_code_name(resp.code), resp.message);
        wp_response_release(&resp);
        return -1;
    }
    while (w && w->id != resp.request_id)
        w = w->next;
    if (!w) {
        wp_response_release(&resp);     /* answer to a request that timed out */
        return 0;
    }
    w->line = strndup(line, len);
    w->resp = resp;
    w->done = true;
    unlink_waiter(c, w);
    return 0;
}

/* Read once as the reader and dispatch what arrived.  Lock held on entry and exit. */
static void read_as_reader(wp_conn *c, const struct timespec *deadline)
{
    int fd = c->fd, e = 0, bad = 0;
    ssize_t n;
    char *line, why[256] = "";
    size_t len;
    int r;

    c->reading = true;
    pthread_mutex_unlock(&c->lock);
    n = recv_some(fd, &c->frame, deadline);
    if (n < 0)
        e = errno;
    pthread_mutex_lock(&c->lock);
    c->reading = false;
    if (n < 0 && e == ETIMEDOUT)
        goto out;
    if (n <= 0) {
        wp_set_error("host %s:%d closed the connection", c->host, c->port);
        teardown_locked(c, n == 0 ? ECONNRESET : e, NULL);
        goto out;
    }
    while ((r = wp_frame_next(&c->frame, &line, &len)) == 1)
        if (!bad && dispatch_locked(c, line, len, why, sizeof(why)) < 0)
            bad = 1;
    if (r < 0 && !bad)
        snprintf(why, sizeof(why), "host %s:%d sent a line longer than %d bytes",
                 c->host, c->port, WP_MAX_LINE);
    if (r < 0 || bad)
        teardown_locked(c, EPROTO, why);
out:
    pthread_cond_broadcast(&c->cond);
}

/* Wait for me to be answered; lock held on entry and exit. */
static void await_locked(wp_conn *c, struct waiter *me, const struct timespec *deadline)
{
    while (!me->done) {
        if (ms_left(deadline) == 0) {
            unlink_waiter(c, me);
            me->done = true;
            me->err = ETIMEDOUT;
            wp_set_error("host %s:%d did not answer within %d s",
                         c->host, c->port, c->timeout_s);
            break;
        }
        if (!c->reading && c->fd >= 0)
            read_as_reader(c, deadline);
        else if (!c->reading) {
            me->done = true;    /* cannot happen: teardown marks all done */
            me->err = ECONNRESET;
        }
        else
            pthread_cond_timedwait(&c->cond, &c->lock, deadline);
    }
}

/*
 * Whether the host closed an idle connection (it restarted, say).  Nobody
 * reads an idle connection, so nobody has seen the end of the stream; a
 * request sent on it would fail with ECONNRESET although it never reached
 * the host.
 */
static bool peer_closed(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
    char b;

    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP))
        return true;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

int wp_conn_call(wp_conn *c, json_object *req, wp_response *resp, char **line)
{
    return wp_conn_call_longer(c, req, 0, resp, line);
}

int wp_conn_call_longer(wp_conn *c, json_object *req, uint64_t extra_ms,
                        wp_response *resp, char **line)
{
    struct timespec deadline;
    struct waiter me = { 0 };
    char *out;
    unsigned long gen;

    pthread_mutex_lock(&c->lock);
    /* No reader, no waiter: the lock holder may close it (see the top). */
    if (c->fd >= 0 && !c->reading && !c->waiters && peer_closed(c->fd))
        teardown_locked(c, ECONNRESET, NULL);
    if (c->fd < 0 && connect_locked(c) < 0) {
        int e = errno;
        pthread_mutex_unlock(&c->lock);
        errno = e;
        return -1;
    }
    me.id = c->next_id++;
    if (c->next_id > WP_MAX_REQUEST_ID)
        c->next_id = 1;
    json_object_object_add(req, "request_id", json_object_new_int64((int64_t)me.id));
    out = wp_json_line(req);
    if (!out) {
        pthread_mutex_unlock(&c->lock);
        errno = ENOMEM;
        return -1;
    }
    struct waiter **tail = &c->waiters;
    while (*tail)
        tail = &(*tail)->next;
    *tail = &me;
    gen = c->gen;
    deadline = deadline_in(c->timeout_s);
    deadline.tv_sec += (time_t)(extra_ms / 1000);
    deadline.tv_nsec += (long)(extra_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_unlock(&c->lock);

    pthread_mutex_lock(&c->send_lock);
    if (c->gen == gen && send_all(c->fd, out, strlen(out), &deadline) < 0)
        shutdown(c->fd, SHUT_RDWR); /* the reader fails everyone, me included */
    pthread_mutex_unlock(&c->send_lock);
    free(out);

    pthread_mutex_lock(&c->lock);
    await_locked(c, &me, &deadline);
    pthread_mutex_unlock(&c->lock);
    if (me.err) {
        if (me.err == EPROTO)
            wp_set_error("%s", me.why);
        else if (me.err != ETIMEDOUT)
            wp_set_error("host %s:%d closed the connection", c->host, c->port);
        errno = me.err;
        return -1;
    }
    *resp = me.resp;
    if (line)
        *line = me.line;
    else
        free(me.line);
    return 0;
}

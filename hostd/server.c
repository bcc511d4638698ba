/*
 * server.c - the event loop: accepting, reading and framing requests,
 * answering, and closing connections that outstay their welcome.
 *
 * One thread runs the loop; it never waits on a client.  ping, hello, bad
 * lines and small shared_buffer requests (request_is_quick) are answered
 * on it at once, as a thread per connection answered them before: a small
 * request costs no thread hand-over.  Bigger ones become jobs for the
 * scheduler's workers (jobs.h), which hand their answers to the
 * connection's queue (conn.h); what the socket does not take at once the
 * loop sends when it is writable.  Workers tell the loop about a
 * connection through the attention list and loop_wake.
 *
 * Fairness on the loop: a connection gets at most LINES_PER_TURN of its
 * pipelined lines handled per turn; the rest wait in its frame (on the
 * backlog) while every other ready connection gets its turn.
 *
 * Connections are watched with LOOP_EDGE: a socket is reported when bytes
 * arrive, not on every wait while they stay, so each connection remembers
 * (unread) whether its socket may still hold some, and one that does and
 * may be read is on the backlog until a read comes back short.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asyncjobs.h"
#include "conn.h"
#include "grants.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "ops.h"
#include "request.h"
#include "server.h"
#include "wp_frame.h"
#include "wp_token.h"

#define LINES_PER_TURN 32
/*
 * Small requests the loop works itself per turn, in bytes, each counted
 * REQUEST_FIXED_COST more for its opening and answer.  Beyond, small ones
 * go to the workers too: a turn stays short however many clients pipeline
 * small requests, and they share the workers round robin like big ones.
 */
#define INLINE_BYTES_PER_TURN ((uint64_t)64 << 20)
#define REQUEST_FIXED_COST 4096
#define ACCEPTS_PER_TURN 256
#define EVENTS_PER_WAIT 256
/* How often connections are checked for their timeouts. */
#define SWEEP_MS 1000
/* How long accepting pauses when the system has no descriptor to give. */
#define ACCEPT_PAUSE_MS 100

struct server {
    const struct hostd_config *cfg;
    struct loop *loop;
    struct jobs *jobs;
    struct ajobs *ajobs;            /* "async":true requests, {"api":"job"} */
    plat_sock listen;
    struct loop_item listen_item;
    int port;
    pthread_t thread;
    bool thread_started;
    atomic_bool stopping;
    int max_conns;

    /* the loop's */
    struct conn *conns;
    int nconns;
    struct conn *backlog;           /* whole lines left to handle; holds a reference */
    struct task *accepted;          /* async jobs answered this turn, to start at its end */
    int64_t next_sweep_ms;
    int64_t accept_paused_until;    /* 0: accepting */
    uint64_t inline_bytes;          /* small requests' work done on the loop this turn */
    wp_frame scratch;               /* a read's bytes when the connection keeps none */

    pthread_mutex_t attention_lock;
    struct conn *attention;         /* from workers; holds a reference */
    atomic_bool attention_set;      /* attention is not empty: a turn looks without the lock */
};

/* One shared_buffer request of a connection, as the scheduler's job. */
struct task {
    struct job job;
    struct request *r;
    struct conn *c;             /* NULL for an async job: it answers through async */
    struct server *s;
    bool on_loop;
    struct ajob *async;
    bool has_id;
    uint64_t id;
    struct task *accepted_next;     /* on the server's list of jobs to start */
};

static void attention(struct server *s, struct conn *c)
{
    bool wake = false;

    pthread_mutex_lock(&s->attention_lock);
    if (!c->attention) {
        c->attention = true;
        conn_ref(c);
        c->attention_next = s->attention;
        s->attention = c;
        atomic_store(&s->attention_set, true);
        wake = true;
    }
    pthread_mutex_unlock(&s->attention_lock);
    if (wake)
        loop_wake(s->loop);
}

/* ---- requests as jobs ------------------------------------------------ */

static enum job_state task_slice(struct job *j)
{
    struct task *t = (struct task *)j;
    int64_t deadline;
    uint64_t start;

    /* A small request on the loop is smaller than a slice: no clock.  Each
     * step of a chain is a call of its own. */
    if (t->on_loop) {
        while (!request_step(t->r, UINT64_MAX))
            continue;
        atomic_store(&j->bytes_done, request_done(t->r));
        return request_succeeded(t->r) ? JOB_DONE : JOB_FAILED;
    }
    deadline = conn_now_ms() + JOB_SLICE_MS;
    start = request_done(t->r);
    for (;;) {
        bool ended;

        if (job_cancelled(j))
            return JOB_CANCELLED;
        ended = request_step(t->r, JOB_STEP_BYTES);
        atomic_store(&j->bytes_done, request_done(t->r));
        /* A step that saw the cancel ends the request as cancelled. */
        if (ended)
            return request_succeeded(t->r) ? JOB_DONE
                   : job_cancelled(j) ? JOB_CANCELLED : JOB_FAILED;
        if (request_done(t->r) - start >= JOB_SLICE_BYTES || conn_now_ms() >= deadline)
            return JOB_RUNNING;
    }
}

/* Queue each answer on its connection and have the loop look at it (any thread). */
static void send_replies(struct server *s, struct ajob_reply *r)
{
    while (r) {
        struct ajob_reply *next = r->next;
        if (conn_queue(r->c, r->line, CONN_JOB_DONE | CONN_FLUSH))
            attention(s, r->c);
        conn_unref(r->c);
        free(r);
        r = next;
    }
}

/* An async job has ended: its response goes to the table, and to whoever waits. */
static void async_end(struct task *t, enum job_state st)
{
    char *line = st == JOB_CANCELLED
        ? wp_response_error(t->has_id, t->id, WP_CANCELLED, "cancelled")
        : request_answer(t->r);
    json_object *response = line ? json_tokener_parse(line) : NULL;

    free(line);
    /* Released first: a cancelled encrypt puts the buffer back before anyone
     * hears that the job ended. */
    request_free(t->r);
    send_replies(t->s, ajobs_end(t->s->ajobs, t->async, st,
                                 atomic_load(&t->job.bytes_done), response));
    free(t);
}

static void task_end(struct job *j)
{
    struct task *t = (struct task *)j;
    bool cancelled = atomic_load(&j->state) == JOB_CANCELLED;

    if (t->async) {
        async_end(t, (enum job_state)atomic_load(&j->state));
        return;
    }
    /* A cancelled request's connection is closed: nobody to answer. */
    char *line = cancelled ? NULL : request_answer(t->r);
    /* On the loop, the loop sends at the end of the connection's turn. */
    int flags = CONN_JOB_DONE | (cancelled ? CONN_NO_ANSWER : 0) | (t->on_loop ? 0 : CONN_FLUSH);

    if (conn_queue(t->c, line, flags) && !t->on_loop)
        attention(t->s, t->c);
    request_free(t->r);
    conn_unref(t->c);
    free(t);
}

static const struct job_ops task_ops = { .slice = task_slice, .end = task_end };

static void answer(struct conn *c, char *line)
{
    conn_queue(c, line, 0);
}

static void answer_error(struct conn *c, const wp_request *req, wp_code code,
                         const char *msg)
{
    answer(c, wp_response_error_at(req->has_request_id, req->request_id, code, msg,
                                   req->err_step));
}

/*
 * A shared_buffer request: small ones at once, while this turn has room,
 * else to the workers (and small ones at once all the same when the
 * workers' queue is full: they cost less than a busy answer's retry).
 */
/*
 * An async shared_buffer request: checked, opened and mapped here, so that
 * what is wrong with it is answered at once as for a synchronous one; then
 * accepted and queued as a job of its own, which outlives the connection.
 */
static void dispatch_async(struct server *s, struct conn *c, wp_request *req)
{
    bool has_id = req->has_request_id;
    uint64_t id = req->request_id, cost = request_work(req) + REQUEST_FIXED_COST;
    bool quick = request_is_quick(req);
    struct task *t = calloc(1, sizeof(*t));
    struct request *r = t ? request_new(s->cfg, c->grant, req, c->peer) : NULL;

    if (!r) {
        free(t);
        answer_error(c, req, WP_INTERNAL, "out of memory");
        return;
    }
    if (!request_check(r) && !request_succeeded(r)) {
        answer(c, request_answer(r));
        request_free(r);
        free(t);
        return;
    }
    job_init(&t->job, &task_ops, request_length(r));
    request_watch(r, &t->job.cancel, &t->job.bytes_done);
    t->r = r;
    t->s = s;
    t->has_id = has_id;
    t->id = id;
    t->async = ajobs_add(s->ajobs, c->grant, request_operation(r), request_length(r),
                         &t->job);
    if (!t->async) {
        request_free(r);
        free(t);
        answer(c, wp_response_error(has_id, id, WP_BUSY, "host at its limit of jobs "
                                    "(--max-jobs); retry later"));
        return;
    }
    answer(c, wp_response_accepted(has_id, id, ajob_id(t->async)));
    /* Started once this turn's answers are out: "accepted" waits for no
     * worker's wake-up, and a small job then runs here, as a small
     * synchronous request does. */
    t->on_loop = quick && s->inline_bytes < INLINE_BYTES_PER_TURN;
    if (t->on_loop)
        s->inline_bytes += cost;
    t->accepted_next = s->accepted;
    s->accepted = t;
}

/* The async jobs this turn accepted: small ones run here, the rest queue. */
static void start_accepted(struct server *s)
{
    struct task *list = s->accepted;

    s->accepted = NULL;
    while (list) {
        struct task *t = list;
        list = t->accepted_next;
        /* A full queue: it works here all the same, being accepted already. */
        if (t->on_loop || !jobs_submit(s->jobs, ajob_owner(t->async), &t->job)) {
            t->on_loop = false;
            job_run_here(&t->job);
        }
    }
}

static void dispatch(struct server *s, struct conn *c, wp_request *req)
{
    bool quick = request_is_quick(req), has_id = req->has_request_id;
    uint64_t id = req->request_id, cost = request_work(req) + REQUEST_FIXED_COST;
    struct task *t;

    if (req->async) {
        dispatch_async(s, c, req);
        return;
    }
    t = calloc(1, sizeof(*t));
    struct request *r = t ? request_new(s->cfg, c->grant, req, c->peer) : NULL;

    if (!r) {
        free(t);
        answer_error(c, req, WP_INTERNAL, "out of memory");
        return;
    }
    job_init(&t->job, &task_ops, request_length(r));
    request_watch(r, &t->job.cancel, &t->job.bytes_done);
    t->r = r;
    t->c = c;
    t->s = s;
    t->on_loop = quick && s->inline_bytes < INLINE_BYTES_PER_TURN;
    conn_ref(c);
    conn_job_begin(c);
    if (!t->on_loop && jobs_submit(s->jobs, &c->owner, &t->job))
        return;
    if (quick) {
        t->on_loop = true;
        s->inline_bytes += cost;
        job_run_here(&t->job);
    } else {
        request_free(r);
        conn_unref(c);
        free(t);
        conn_queue(c, wp_response_error(has_id, id, WP_BUSY,
                                        "host at its limit of queued requests; retry later"),
                   CONN_JOB_DONE);
    }
}

/* ---- lines ----------------------------------------------------------- */

/* hello's answer; with a token, what it grants too. */
static json_object *hello_result(const struct hostd_config *cfg, const wp_grant *g)
{
    json_object *r = wp_result_hello("winapi-hostd", PACKAGE_VERSION, ops_names());

    if (r && g)
        json_object_object_add(r, "granted", grant_json(g, cfg, ops_names()));
    return r;
}

/* Handle one line; false to close the connection. */
static bool handle_line(struct server *s, struct conn *c, const char *line, size_t len)
{
    const struct hostd_config *cfg = s->cfg;
    char err[256];
    wp_request req;
    wp_code rc = wp_request_parse(line, len, &req, err, sizeof(err));
    bool keep = true;

    if (cfg->grants.n && !c->grant) {
        const wp_grant *g = rc == WP_OK && req.api == WP_API_HELLO && req.token
                            ? grants_find(&cfg->grants, req.token) : NULL;
        if (g) {
            c->grant = g;
            answer(c, wp_response_success(req.has_request_id, req.request_id,
                                          hello_result(cfg, g)));
        } else {
            log_warn("%s: refused: %s", c->peer, req.api == WP_API_HELLO && rc == WP_OK
                     ? "wrong or missing token" : "request before hello");
            answer_error(c, &req, WP_UNAUTHORIZED, "say hello with the right token first");
            keep = false;
        }
    } else if (rc != WP_OK) {
        log_debug("%s: %s: %s", c->peer, wp_code_name(rc), err);
        answer_error(c, &req, rc, err);
    } else if (req.api == WP_API_PING) {
        answer(c, wp_response_success(req.has_request_id, req.request_id, wp_result_pong()));
    } else if (req.api == WP_API_HELLO && cfg->grants.n &&
               !(req.token && grants_find(&cfg->grants, req.token) == c->grant)) {
        /* A hello with the wrong token is refused also after a good one, and
         * so is another token's: a client that sends one has lost track of
         * who it is. */
        log_warn("%s: refused: wrong or missing token in a later hello", c->peer);
        answer_error(c, &req, WP_UNAUTHORIZED, "wrong or missing token");
        keep = false;
    } else if (req.api == WP_API_HELLO) {
        answer(c, wp_response_success(req.has_request_id, req.request_id,
                                      hello_result(cfg, c->grant)));
    } else if (req.api == WP_API_JOB) {
        char *reply = ajobs_request(s->ajobs, s->jobs, c, &req, conn_now_ms());
        if (reply)
            answer(c, reply);
    } else {
        dispatch(s, c, &req);
    }
    wp_request_release(&req);
    return keep;
}

enum turn { TURN_DRAINED, TURN_MORE, TURN_PAUSED, TURN_CLOSE };

/* Handle up to LINES_PER_TURN whole lines of f. */
static enum turn handle_lines(struct server *s, struct conn *c, wp_frame *f)
{
    char *line;
    size_t len;

    for (int n = 0; n < LINES_PER_TURN; n++) {
        int r;

        if (!conn_may_read(c))
            return TURN_PAUSED;
        r = wp_frame_next(f, &line, &len);
        if (r == 0)
            return TURN_DRAINED;
        if (r < 0) {
            log_warn("%s: line longer than %d bytes; closing", c->peer, WP_MAX_LINE);
            answer(c, wp_response_error(false, 0, WP_BAD_REQUEST,
                                        "line longer than 65536 bytes"));
            return TURN_CLOSE;
        }
        c->requested = true;
        if (!handle_line(s, c, line, len))
            return TURN_CLOSE;
    }
    return TURN_MORE;
}

/*
 * After a read into the scratch frame, the connection keeps the bytes not
 * handled yet in a frame of its own; one that has none left lets its frame
 * go.  So an idle connection holds no 64 KiB buffer.
 */
static bool keep_rest(struct conn *c, wp_frame *f)
{
    size_t rest = wp_frame_pending(f), avail;

    if (f == c->frame) {
        if (rest == 0) {
            free(c->frame);
            c->frame = NULL;
        }
        return true;
    }
    if (rest == 0)
        return true;
    c->frame = malloc(sizeof(*c->frame));
    if (!c->frame) {
        log_err("%s: out of memory for a partial line; closing", c->peer);
        return false;
    }
    wp_frame_init(c->frame);
    memcpy(wp_frame_space(c->frame, &avail), f->buf + f->start, rest);
    wp_frame_commit(c->frame, rest);
    return true;
}

/* ---- connections ----------------------------------------------------- */

static void close_conn(struct server *s, struct conn *c, const char *why)
{
    log_debug("%s: %s", c->peer, why);
    loop_del(s->loop, &c->item);
    conn_close(c);
    c->gone = true;
    /* Its requests waiting end now; those running stop at their next step. */
    jobs_cancel_owner(s->jobs, &c->owner);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    conn_unref(c);
}

static void backlog_add(struct server *s, struct conn *c)
{
    if (c->backlog)
        return;
    c->backlog = true;
    conn_ref(c);
    c->backlog_next = s->backlog;
    s->backlog = c;
}

/* Send what waits and watch the socket for what the connection needs now. */
static void settle(struct server *s, struct conn *c, enum turn t)
{
    struct conn_needs n;

    if (t == TURN_CLOSE) {
        /* Its last answer says why: it goes out if the socket takes it now. */
        conn_flush(c);
        close_conn(s, c, "closed after its last answer");
        return;
    }
    n = conn_settle(c);
    if (n.close) {
        close_conn(s, c, "not reading its answers, or gone");
        return;
    }
    if (loop_set(s->loop, &c->item,
                 LOOP_EDGE | (n.read ? LOOP_READ : 0) | (n.write ? LOOP_WRITE : 0)) < 0) {
        close_conn(s, c, "cannot watch its socket");
        return;
    }
    if (n.read && (t == TURN_MORE || (t == TURN_PAUSED && c->frame) || c->unread))
        backlog_add(s, c);
}

static void on_readable(struct server *s, struct conn *c)
{
    wp_frame *f = c->frame;
    enum turn t = TURN_DRAINED;
    size_t avail;
    char *space;
    long n;

    /* Lines already read come first; read more only once they are handled. */
    if (f) {
        t = handle_lines(s, c, f);
        if (t != TURN_DRAINED || !c->unread) {
            if (t != TURN_CLOSE && !keep_rest(c, f))
                t = TURN_CLOSE;
            settle(s, c, t);
            return;
        }
    } else {
        f = &s->scratch;
        wp_frame_init(f);
    }
    space = wp_frame_space(f, &avail);
    n = plat_recv(c->sock, space, avail);
    if (n == PLAT_AGAIN) {
        c->unread = false;
        settle(s, c, t);
        return;
    }
    if (n == 0) {
        /* The client's end of stream: what it was answered goes out first. */
        settle(s, c, TURN_CLOSE);
        return;
    }
    if (n < 0) {
        close_conn(s, c, "connection failed");
        return;
    }
    /* A short read took all there was: what comes next is reported anew.
     * Not so once the peer has shut its end or sent urgent data: the
     * read stops short before those, and they are reported only once. */
    if ((size_t)n < avail && !c->drain)
        c->unread = false;
    wp_frame_commit(f, (size_t)n);
    t = handle_lines(s, c, f);
    if (t != TURN_CLOSE && !keep_rest(c, f))
        t = TURN_CLOSE;
    settle(s, c, t);
}

static void on_event(struct server *s, struct conn *c, int mask)
{
    /* Held across: handling the read may close it. */
    conn_ref(c);
    if (mask & (LOOP_DRAIN | LOOP_GONE))
        c->drain = true;
    /* A hang-up is read like the rest: the lines before it are answered,
     * then the read that finds it closes (WSAPoll reports a client's end
     * of stream as a hang-up, with no readability). */
    if (mask & (LOOP_READ | LOOP_DRAIN | LOOP_GONE)) {
        c->unread = true;
        on_readable(s, c);
    }
    if (!c->gone && (mask & LOOP_WRITE))
        settle(s, c, TURN_DRAINED);
    conn_unref(c);
}

static void take_backlog(struct server *s)
{
    struct conn *list = s->backlog;

    s->backlog = NULL;
    while (list) {
        struct conn *c = list;
        list = c->backlog_next;
        c->backlog = false;
        if (!c->gone && (c->frame || c->unread))
            on_readable(s, c);
        conn_unref(c);
    }
}

static void take_attention(struct server *s)
{
    struct conn *list;

    if (!atomic_load(&s->attention_set))
        return;
    pthread_mutex_lock(&s->attention_lock);
    list = s->attention;
    s->attention = NULL;
    atomic_store(&s->attention_set, false);
    for (struct conn *c = list; c; c = c->attention_next)
        c->attention = false;
    pthread_mutex_unlock(&s->attention_lock);
    while (list) {
        struct conn *c = list;
        list = c->attention_next;
        if (!c->gone)
            settle(s, c, TURN_PAUSED);
        conn_unref(c);
    }
}

static void sweep(struct server *s, int64_t now)
{
    int64_t hs = (int64_t)s->cfg->handshake_timeout * 1000;
    int64_t idle = (int64_t)s->cfg->idle_timeout * 1000;
    struct conn *c, *next;

    /* O(connections) once a second: 10,000 take well under a millisecond. */
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (conn_expired(c, now, hs, idle))
            close_conn(s, c, c->requested ? "idle too long" : "no request in time");
    }
}

/* ---- accepting ------------------------------------------------------- */

static void refuse(plat_sock sock)
{
    char *busy = wp_response_error(false, 0, WP_BUSY, "too many connections");

    /* A fresh socket's buffer takes it whole, or the peer never learns why. */
    if (busy) {
        struct plat_iov iov = { busy, strlen(busy) };
        plat_sendv(sock, &iov, 1);
        free(busy);
    }
    plat_close(sock);
}

static void accept_some(struct server *s)
{
    char peer[80];
    plat_sock sock;

    for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
        struct conn *c;
        int r = plat_accept(s->listen, &sock, peer, sizeof(peer));

        if (r == 0)
            return;
        if (r < 0) {
            log_warn("cannot accept connections (out of descriptors?); pausing %d ms",
                     ACCEPT_PAUSE_MS);
            loop_set(s->loop, &s->listen_item, 0);
            s->accept_paused_until = conn_now_ms() + ACCEPT_PAUSE_MS;
            return;
        }
        if (s->nconns >= s->max_conns) {
            log_debug("%s: refused: already %d connections", peer, s->nconns);
            refuse(sock);
            continue;
        }
        c = conn_new(sock, peer, s->cfg->max_pending);
        if (!c) {
            plat_close(sock);
            continue;
        }
        if (loop_add(s->loop, &c->item, sock, LOOP_READ | LOOP_EDGE) < 0) {
            conn_unref(c);
            continue;
        }
        log_debug("%s: connected", peer);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
}

/* ---- the loop -------------------------------------------------------- */

static int wait_ms(struct server *s, int64_t now)
{
    int64_t until = s->next_sweep_ms;

    if (s->backlog)
        return 0;
    if (s->accept_paused_until && s->accept_paused_until < until)
        until = s->accept_paused_until;
    if (ajobs_next_deadline(s->ajobs) < until)
        until = ajobs_next_deadline(s->ajobs);
    return until > now ? (int)(until - now) : 0;
}

static void loop_turn(struct server *s)
{
    struct loop_event ev[EVENTS_PER_WAIT];
    int64_t now = conn_now_ms();
    int n = loop_wait(s->loop, ev, EVENTS_PER_WAIT, wait_ms(s, now));

    s->inline_bytes = 0;
    if (n < 0)
        log_err("waiting for sockets failed");
    for (int i = 0; i < n; i++) {
        if (ev[i].item == &s->listen_item)
            accept_some(s);
        else
            on_event(s, (struct conn *)((char *)ev[i].item - offsetof(struct conn, item)),
                     ev[i].mask);
    }
    take_attention(s);
    take_backlog(s);
    start_accepted(s);
    now = conn_now_ms();
    /* Waits that timed out now; jobs ended longer ago than the TTL, with the sweep. */
    if (now >= s->next_sweep_ms || now >= ajobs_next_deadline(s->ajobs))
        send_replies(s, ajobs_tick(s->ajobs, now));
    if (now >= s->next_sweep_ms) {
        sweep(s, now);
        s->next_sweep_ms = now + SWEEP_MS;
    }
    if (s->accept_paused_until && now >= s->accept_paused_until) {
        s->accept_paused_until = 0;
        loop_set(s->loop, &s->listen_item, LOOP_READ);
    }
}

static void *loop_main(void *arg)
{
    struct server *s = arg;

    s->next_sweep_ms = conn_now_ms() + SWEEP_MS;
    while (!atomic_load(&s->stopping))
        loop_turn(s);
    /* Stop: no more connections; every open one closed, its requests cancelled. */
    loop_del(s->loop, &s->listen_item);
    plat_close(s->listen);
    s->listen = PLAT_NO_SOCK;
    while (s->conns)
        close_conn(s, s->conns, "closed: the host is stopping");
    take_backlog(s);
    start_accepted(s);
    take_attention(s);
    return NULL;
}

/* ---- start and stop -------------------------------------------------- */

static int start_loop(struct server *s, char *err, size_t errlen)
{
    const struct hostd_config *cfg = s->cfg;

    s->max_conns = plat_socket_room(cfg->max_connections);
    if (s->max_conns < cfg->max_connections)
        log_warn("the descriptor limit allows %d connections, not %d (raise ulimit -n)",
                 s->max_conns, cfg->max_connections);
    s->listen = plat_listen(cfg->listen_addr, cfg->listen_port, &s->port, err, errlen);
    if (s->listen == PLAT_NO_SOCK)
        return -1;
    s->loop = loop_new(err, errlen);
    if (!s->loop)
        return -1;
    if (loop_add(s->loop, &s->listen_item, s->listen, LOOP_READ) < 0) {
        snprintf(err, errlen, "cannot watch the listening socket");
        return -1;
    }
    s->jobs = jobs_start(cfg->threads, cfg->queue, err, errlen);
    if (!s->jobs)
        return -1;
    s->ajobs = ajobs_new(cfg->max_jobs, cfg->job_ttl);
    if (!s->ajobs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_create(&s->thread, NULL, loop_main, s) != 0) {
        snprintf(err, errlen, "cannot start the event loop's thread");
        return -1;
    }
    s->thread_started = true;
    return 0;
}

struct server *server_start(const struct hostd_config *cfg)
{
    struct server *s = calloc(1, sizeof(*s));
    char err[256];

    if (!s) {
        log_err("out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->listen = PLAT_NO_SOCK;
    atomic_init(&s->stopping, false);
    pthread_mutex_init(&s->attention_lock, NULL);
    if (start_loop(s, err, sizeof(err)) < 0) {
        log_err("%s", err);
        server_stop(s);
        return NULL;
    }
    return s;
}

int server_port(const struct server *s)
{
    return s->port;
}

void server_stop(struct server *s)
{
    atomic_store(&s->stopping, true);
    if (s->thread_started) {
        loop_wake(s->loop);
        pthread_join(s->thread, NULL);
    }
    /* Requests still on a worker end within a step; their connections are closed. */
    jobs_stop(s->jobs);
    /* Whatever the workers asked the loop to look at since. */
    take_attention(s);
    ajobs_free(s->ajobs);
    if (s->listen != PLAT_NO_SOCK)
        plat_close(s->listen);
    loop_free(s->loop);
    pthread_mutex_destroy(&s->attention_lock);
    free(s);
}

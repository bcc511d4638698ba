/*
 * server.c - connections, the work queue and the worker pool.
 *
 * Lifetime: a connection is referenced by its reader and by each of its
 * queued or running requests; the last reference closes and frees it.
 * All writes to a connection go through its send_lock, whole lines at a
 * time, so pipelined answers never interleave.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ops.h"
#include "plat.h"
#include "request.h"
#include "server.h"
#include "wp_frame.h"
#include "wp_token.h"

#define MAX_CONNS 1024

struct conn {
    struct server *srv;
    plat_sock sock;
    char peer[80];
    pthread_mutex_t send_lock;
    int refs;                   /* under srv->lock */
    bool authed;
    struct conn *prev, *next;
    wp_frame frame;
};

struct work {
    wp_request req;
    struct conn *c;
    struct work *next;
};

struct server {
    const struct hostd_config *cfg;
    plat_sock listen;
    int port;
    pthread_t acceptor;
    pthread_t *workers;
    int nworkers;
    pthread_mutex_t lock;
    pthread_cond_t work_cv;     /* work queued, or stopping */
    pthread_cond_t idle_cv;     /* a connection or a reader went away */
    struct work *head, *tail;
    int queued;
    struct conn *conns;
    int nconns;
    int nreaders;
    bool reader_exited;         /* exited_reader is waiting to be joined */
    pthread_t exited_reader;
    bool stopping;
};

static void conn_unref(struct conn *c)
{
    struct server *s = c->srv;
    bool last;

    pthread_mutex_lock(&s->lock);
    last = --c->refs == 0;
    if (last) {
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        s->nconns--;
        pthread_cond_broadcast(&s->idle_cv);
    }
    pthread_mutex_unlock(&s->lock);
    if (last) {
        plat_close(c->sock);
        pthread_mutex_destroy(&c->send_lock);
        free(c);
    }
}

/* Send a line we own (NULL means we ran out of memory building it). */
static void conn_send(struct conn *c, char *line)
{
    if (!line) {
        log_err("%s: out of memory building a response", c->peer);
        return;
    }
    pthread_mutex_lock(&c->send_lock);
    if (plat_send_all(c->sock, line, strlen(line)) < 0)
        plat_shutdown(c->sock);     /* the reader sees it and ends */
    pthread_mutex_unlock(&c->send_lock);
    free(line);
}

static void send_error(struct conn *c, const wp_request *req, wp_code code,
                       const char *msg)
{
    conn_send(c, wp_response_error(req->has_request_id, req->request_id, code, msg));
}

static json_object *hello_result(void)
{
    json_object *r = json_object_new_object();

    json_object_object_add(r, "server", json_object_new_string("winapi-hostd"));
    json_object_object_add(r, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(r, "protocol", json_object_new_int(WP_PROTOCOL_VERSION));
    json_object_object_add(r, "operations", ops_names());
    return r;
}

/* Queue a request; false if the queue is full.  Takes req on success. */
static bool enqueue(struct conn *c, wp_request *req)
{
    struct server *s = c->srv;
    struct work *w = malloc(sizeof(*w));

    if (!w)
        return false;
    pthread_mutex_lock(&s->lock);
    if (s->queued >= s->cfg->queue || s->stopping) {
        pthread_mutex_unlock(&s->lock);
        free(w);
        return false;
    }
    w->req = *req;
    w->c = c;
    w->next = NULL;
    c->refs++;
    if (s->tail)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
    s->queued++;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->lock);
    memset(req, 0, sizeof(*req));
    return true;
}

/* Handle one line; false to close the connection. */
static bool handle_line(struct conn *c, const char *line, size_t len)
{
    const struct hostd_config *cfg = c->srv->cfg;
    char err[256];
    wp_request req;
    wp_code rc = wp_request_parse(line, len, &req, err, sizeof(err));
    bool keep = true;

    if (cfg->token && !c->authed) {
        if (rc == WP_OK && req.api == WP_API_HELLO && req.token &&
            wp_token_equal(req.token, cfg->token)) {
            c->authed = true;
            conn_send(c, wp_response_success(req.has_request_id, req.request_id,
                                              hello_result()));
        } else {
            log_warn("%s: refused: %s", c->peer, req.api == WP_API_HELLO && rc == WP_OK
                     ? "wrong or missing token" : "request before hello");
            send_error(c, &req, WP_UNAUTHORIZED, "say hello with the right token first");
            keep = false;
        }
    } else if (rc != WP_OK) {
        log_debug("%s: %s: %s", c->peer, wp_code_name(rc), err);
        send_error(c, &req, rc, err);
    } else if (req.api == WP_API_PING) {
        json_object *r = json_object_new_object();
        json_object_object_add(r, "pong", json_object_new_boolean(1));
        conn_send(c, wp_response_success(req.has_request_id, req.request_id, r));
    } else if (req.api == WP_API_HELLO && cfg->token &&
               !(req.token && wp_token_equal(req.token, cfg->token))) {
        /* A hello with the wrong token is refused also after a good one:
         * a client that sends one has lost track of who it is. */
        log_warn("%s: refused: wrong or missing token in a later hello", c->peer);
        send_error(c, &req, WP_UNAUTHORIZED, "wrong or missing token");
        keep = false;
    } else if (req.api == WP_API_HELLO) {
        conn_send(c, wp_response_success(req.has_request_id, req.request_id,
                                         hello_result()));
    } else if (request_is_quick(&req)) {
        conn_send(c, request_run(cfg, &req, c->peer));
    } else if (!enqueue(c, &req)) {
        send_error(c, &req, WP_BUSY, "host at its limit of queued requests; retry later");
    }
    wp_request_release(&req);
    return keep;
}

/*
 * Readers are joinable, so that stopping the server waits until each has
 * really ended (a detached thread still exiting when the process exits
 * leaks its stack).  Each exiting reader joins the one that exited before
 * it; server_stop joins the last.
 */
static void reader_exit(struct server *s)
{
    pthread_t prev;
    bool join;

    pthread_mutex_lock(&s->lock);
    join = s->reader_exited;
    prev = s->exited_reader;
    s->exited_reader = pthread_self();
    s->reader_exited = true;
    s->nreaders--;
    pthread_cond_broadcast(&s->idle_cv);
    pthread_mutex_unlock(&s->lock);
    if (join)
        pthread_join(prev, NULL);
}

static void *reader_main(void *arg)
{
    struct conn *c = arg;
    struct server *s = c->srv;
    char *line;
    size_t len, avail;
    int r;

    for (;;) {
        char *space = wp_frame_space(&c->frame, &avail);
        long n = plat_recv(c->sock, space, avail);
        if (n <= 0)
            break;
        wp_frame_commit(&c->frame, (size_t)n);
        while ((r = wp_frame_next(&c->frame, &line, &len)) == 1)
            if (!handle_line(c, line, len))
                goto out;
        if (r < 0) {
            log_warn("%s: line longer than %d bytes; closing", c->peer, WP_MAX_LINE);
            conn_send(c, wp_response_error(false, 0, WP_BAD_REQUEST,
                                           "line longer than 65536 bytes"));
            goto out;
        }
    }
out:
    log_debug("%s: disconnected", c->peer);
    plat_shutdown(c->sock);
    conn_unref(c);
    reader_exit(s);
    return NULL;
}

static void *worker_main(void *arg)
{
    struct server *s = arg;

    for (;;) {
        struct work *w;

        pthread_mutex_lock(&s->lock);
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->work_cv, &s->lock);
        w = s->head;
        if (!w) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        s->head = w->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        pthread_mutex_unlock(&s->lock);
        conn_send(w->c, request_run(s->cfg, &w->req, w->c->peer));
        wp_request_release(&w->req);
        conn_unref(w->c);
        free(w);
    }
}

static void start_conn(struct server *s, plat_sock sock, const char *peer)
{
    struct conn *c = calloc(1, sizeof(*c));
    pthread_t t;

    if (!c) {
        plat_close(sock);
        return;
    }
    c->srv = s;
    c->sock = sock;
    c->refs = 1;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    wp_frame_init(&c->frame);
    pthread_mutex_init(&c->send_lock, NULL);
    pthread_mutex_lock(&s->lock);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    s->nreaders++;
    pthread_mutex_unlock(&s->lock);
    if (pthread_create(&t, NULL, reader_main, c) != 0) {
        log_err("%s: cannot start a thread for the connection", peer);
        pthread_mutex_lock(&s->lock);
        s->nreaders--;
        pthread_mutex_unlock(&s->lock);
        conn_unref(c);
    }
}

static void *acceptor_main(void *arg)
{
    struct server *s = arg;
    char peer[80];
    plat_sock sock;

    while ((sock = plat_accept(s->listen, peer, sizeof(peer))) != PLAT_NO_SOCK) {
        bool full;

        pthread_mutex_lock(&s->lock);
        full = s->nconns >= MAX_CONNS || s->stopping;
        pthread_mutex_unlock(&s->lock);
        if (full) {
            static const char busy[] = "{\"status\":\"error\",\"error\":{\"code\":\"busy\","
                                       "\"message\":\"too many connections\"}}\n";
            plat_send_all(sock, busy, sizeof(busy) - 1);
            plat_close(sock);
            continue;
        }
        log_debug("%s: connected", peer);
        start_conn(s, sock, peer);
    }
    return NULL;
}

struct server *server_start(const struct hostd_config *cfg)
{
    struct server *s = calloc(1, sizeof(*s));
    char err[256];

    if (!s)
        return NULL;
    s->cfg = cfg;
    s->listen = plat_listen(cfg->listen_addr, cfg->listen_port, &s->port, err, sizeof(err));
    if (s->listen == PLAT_NO_SOCK) {
        log_err("%s", err);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    s->workers = calloc((size_t)cfg->threads, sizeof(*s->workers));
    for (int i = 0; s->workers && i < cfg->threads; i++)
        if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s) == 0)
            s->nworkers++;
    if (s->nworkers == 0 || pthread_create(&s->acceptor, NULL, acceptor_main, s) != 0) {
        log_err("cannot start threads");
        s->listen = (plat_close(s->listen), PLAT_NO_SOCK);
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
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->lock);
    if (s->listen != PLAT_NO_SOCK) {
        plat_shutdown(s->listen);
        pthread_join(s->acceptor, NULL);
        plat_close(s->listen);
    }
    /* Close every connection first, so no worker stays blocked sending to a
     * client that stopped reading; then let the workers drain the queue. */
    pthread_mutex_lock(&s->lock);
    for (struct conn *c = s->conns; c; c = c->next)
        plat_shutdown(c->sock);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    pthread_mutex_lock(&s->lock);
    while (s->nconns > 0 || s->nreaders > 0)
        pthread_cond_wait(&s->idle_cv, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->reader_exited)
        pthread_join(s->exited_reader, NULL);
    free(s->workers);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->idle_cv);
    free(s);
}

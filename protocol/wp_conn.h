/*
 * wp_conn.h - the guest's connection to the host: one TCP connection shared
 * by any number of threads, requests pipelined and matched by request_id.
 *
 * There is no background thread.  A caller waiting for its answer either
 * reads the socket itself (if nobody else does) and hands every other
 * caller's answer to it, or sleeps until the reader hands it its own.  A
 * single-threaded caller thus pays one send and one receive, nothing more.
 */
#ifndef WP_CONN_H
#define WP_CONN_H

#include <json-c/json.h>

#include "wp_msg.h"

typedef struct wp_conn wp_conn;

/*
 * A connection to host:port (not yet connected).  token may be NULL; when
 * set, every new connection says hello with it first.  timeout_s bounds
 * connecting and each wait for an answer.  Returns NULL (ENOMEM).
 */
wp_conn *wp_conn_new(const char *host, int port, const char *token, int timeout_s);
void wp_conn_free(wp_conn *c);

/*
 * Send req (its request_id is set here) and wait for the answer.  Returns 0
 * with the response parsed in *resp (release it) and, if line is not NULL,
 * the raw line in *line (free it); or -1 with errno ECONNREFUSED,
 * EHOSTUNREACH, ETIMEDOUT, ECONNRESET, EACCES (hello refused), EPROTO or
 * ENOMEM and the reason in wp_error().  Thread-safe.
 *
 * Only an answer carrying req's request_id is req's answer.  One with
 * another id is a late answer to a request that timed out, and dropped.
 * One without an id (the host could not read some request's), or a line
 * that is no response at all, puts the connection out of step: it is
 * closed, and every caller waiting on it fails with EPROTO.
 */
int wp_conn_call(wp_conn *c, json_object *req, wp_response *resp, char **line);
/* The same, waiting extra_ms longer than the timeout (a job "wait" that the host holds). */
int wp_conn_call_longer(wp_conn *c, json_object *req, uint64_t extra_ms,
                        wp_response *resp, char **line);

/* The calling thread's last failure reason ("" if none); see winapi_last_error(). */
const char *wp_error(void);
void wp_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WP_CONN_H */

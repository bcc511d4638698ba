/*
 * server.h - winapi-hostd's connections and workers.
 *
 * Threads: one event loop (loop.h) for every connection, which accepts,
 * reads, answers small requests itself and sends every answer that could
 * not go out at once; and a fixed pool of workers (jobs.h) that run the
 * larger shared_buffer requests a slice at a time, round robin across
 * connections.  The number of threads does not grow with the number of
 * connections, and no thread ever waits on a client.
 */
#ifndef HOSTD_SERVER_H
#define HOSTD_SERVER_H

#include "conf.h"

struct server;

/* Listen and start serving.  NULL with the reason logged. */
struct server *server_start(const struct hostd_config *cfg);
/* The port actually bound. */
int server_port(const struct server *s);
/*
 * Stop accepting, close every connection (cancelling its requests), join
 * every thread, free.  Also after a failed start's cleanup.
 */
void server_stop(struct server *s);

#endif /* HOSTD_SERVER_H */

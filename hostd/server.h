/*
 * server.h - winapi-hostd's connections and workers.
 *
 * Threads: one acceptor; one reader per connection, which parses lines and
 * answers ping, hello and small requests itself; a fixed pool of workers
 * that run the large shared_buffer requests.  A long checksum of a large buffer thus occupies one worker,
 * never a connection: other requests on the same connection (pipelined)
 * and on every other connection go on.  Threads rather than an event loop
 * because the work is CPU- and page-fault-bound inside operations that
 * cannot yield, and the same pthreads code runs on Windows (winpthreads).
 */
#ifndef HOSTD_SERVER_H
#define HOSTD_SERVER_H

#include "conf.h"

struct server;

/* Listen and start serving.  NULL with the reason logged. */
struct server *server_start(const struct hostd_config *cfg);
/* The port actually bound. */
int server_port(const struct server *s);
/* Stop accepting, close every connection, finish queued work, free. */
void server_stop(struct server *s);

#endif /* HOSTD_SERVER_H */

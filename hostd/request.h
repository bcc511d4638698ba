/*
 * request.h - carrying out one shared_buffer request.
 */
#ifndef HOSTD_REQUEST_H
#define HOSTD_REQUEST_H

#include <stdbool.h>

#include "conf.h"
#include "wp_msg.h"

/*
 * Run req and return its response line (malloc'd, '\n'-terminated), or NULL
 * when out of memory.  Never trusts buffer_size over the file, never maps
 * outside the allowed roots, survives the file shrinking under it.
 * Thread-safe.
 */
char *request_run(const struct hostd_config *cfg, const wp_request *req,
                  const char *peer);

/*
 * True when req is cheap enough to run on the connection's reader thread
 * (a stat, or a range of at most REQUEST_QUICK_MAX bytes).  Handing a small
 * request to a worker costs two thread wake-ups, more than the work itself;
 * a large one goes to a worker so that it never holds up the connection.
 */
#define REQUEST_QUICK_MAX (256 * 1024)
bool request_is_quick(const wp_request *req);

#endif /* HOSTD_REQUEST_H */

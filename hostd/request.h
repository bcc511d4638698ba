/*
 * request.h - carrying out one shared_buffer request.
 */
#ifndef HOSTD_REQUEST_H
#define HOSTD_REQUEST_H

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

#endif /* HOSTD_REQUEST_H */

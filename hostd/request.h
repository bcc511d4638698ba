/*
 * request.h - carrying out one shared_buffer request, a step at a time.
 *
 * The first step checks the request, opens the file and maps the range;
 * each further step runs the operation over the next part of the range, so
 * that the scheduler (jobs.h) can interleave big requests with others and
 * look at their cancel flag in between.  Operations carry their state
 * from step to step (a checksum goes on where it stopped).
 */
#ifndef HOSTD_REQUEST_H
#define HOSTD_REQUEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <winapi/plugin.h>

#include "conf.h"
#include "plat.h"
#include "wp_msg.h"

struct request;

/*
 * A request to carry out; takes req (zeroed).  NULL when out of memory
 * (req is then left to the caller).  grant is what the connection's token
 * may do (NULL: anything); peer names the client in the log.
 */
struct request *request_new(const struct hostd_config *cfg, const wp_grant *grant,
                            wp_request *req, const char *peer);

/*
 * For a built-in operation that writes a file of its own (compress's
 * dest), during a run(): path, guest or host form, checked as the
 * request's own file is (translated, canonical, in an allowed root and the
 * token's roots, a regular file with no other link, reached through no
 * link), opened for writing.  Refused if it is the request's own file, or
 * the token may only read.  WP_OK, or the error with the reason in err.
 */
wp_code request_open_dest(struct winapi_plugin_call *c, const char *path, plat_file **f,
                          uint64_t *size, char *err, size_t errlen);
/* set_error() with any of the protocol's codes, for a built-in operation. */
void request_error(struct winapi_plugin_call *c, wp_code code, const char *message);

/*
 * Where an operation looks whether the request is cancelled, and may
 * report progress within a step (bytes of the whole work done).
 */
void request_watch(struct request *r, const atomic_bool *cancel, _Atomic uint64_t *progress);

/*
 * The next step: at most max_bytes of the range, and the checks, opening
 * and mapping first.  True once the request has ended (done or failed).
 * Never trusts buffer_size over the file, never maps outside the allowed
 * roots, survives the file shrinking under it.  One thread at a time.
 */
bool request_step(struct request *r, uint64_t max_bytes);
/* Steps end on multiples of this within the range (fill's pattern restarts whole). */
#define REQUEST_STEP_ALIGN 4096

/*
 * The first step alone: the checks, opening and mapping.  False when that
 * ended the request: an error, or a stat, which has nothing more to do.
 */
bool request_check(struct request *r);
/* The request's operation, as it asked for it. */
const char *request_operation(const struct request *r);

/* Whether it ended with success (false while it has not ended). */
bool request_succeeded(const struct request *r);
/* Bytes of the range, and how many were processed so far. */
uint64_t request_length(const struct request *r);
uint64_t request_done(const struct request *r);

/*
 * The response line (malloc'd, '\n'-terminated; NULL when out of memory),
 * once: success, the error it ended with, or internal if it was stopped
 * before its end.  Logs the request when verbose.
 */
char *request_answer(struct request *r);
/* Release everything, ended or not; NULL is ignored. */
void request_free(struct request *r);

/*
 * True when req is cheap enough to run on the event loop's thread (a stat,
 * or a range of at most REQUEST_QUICK_MAX bytes, and no operation whose
 * work the range does not bound: a plugin's, compress's).  Handing a small
 * request to a worker costs two thread wake-ups, more than the work
 * itself; a large one, or an unbounded one, goes to a worker so that it
 * never holds up the connections.
 */
#define REQUEST_QUICK_MAX (256 * 1024)
bool request_is_quick(const wp_request *req);
/* The bytes req would work on: its range, or 0 (stat, unknown operations). */
uint64_t request_work(const wp_request *req);

#endif /* HOSTD_REQUEST_H */

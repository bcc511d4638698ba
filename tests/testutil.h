/*
 * testutil.h - what the Check suites share: running a suite, the test
 * environment set up by run-test.sh, raw JSON connections to the daemon,
 * and extra daemons for token and restart tests.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <json-c/json.h>

/* Run the suite; the process's exit status. */
int tu_run(Suite *s);

/* A setting exported by run-test.sh; fails the test when missing. */
const char *tu_env(const char *name);
int tu_port(void);

/*
 * Create C:\temp\name with size bytes of a seeded pattern; its local path
 * (for the test) and guest path (for requests) are written when not NULL.
 */
void tu_make_file(const char *name, size_t size, unsigned seed,
                  char *local, size_t locallen, char *guest, size_t guestlen);

/* Create C:\temp\name as a sparse file of size bytes (fast for big ones). */
void tu_make_sparse(const char *name, long long size);

/* A raw connection: connect, send a line (adds '\n'), read one line. */
int tu_connect(int port);
void tu_send(int fd, const char *data, size_t len);
void tu_send_line(int fd, const char *line);
/* One response line (malloc'd, no '\n'), or NULL at end of stream. */
char *tu_recv_line(int fd);
/* True if the peer closed the connection (reads to EOF, with a timeout). */
int tu_closed(int fd);

/* Send line on a fresh connection to port and return the parsed answer. */
json_object *tu_call(int port, const char *line);
/* The answer's error code, or "success". */
const char *tu_status(json_object *resp);
/* result.<key> as a string, or NULL. */
const char *tu_result_str(json_object *resp, const char *key);

/* Start a private daemon (state dir under the work dir); returns its port. */
int tu_hostd_start(const char *name, const char *extra_args);
void tu_hostd_stop(const char *name);

/* The daemon on tu_port() answers ping. */
int tu_alive(void);

/* Hex digests computed without the daemon: zlib's CRC-32, sha256sum. */
void tu_crc32_hex(const char *path, char out[9]);
void tu_sha256_hex(const char *path, char out[65]);

#endif /* TESTUTIL_H */

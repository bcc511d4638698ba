/*
 * log.h - winapi-hostd's log: one line per event on stderr, syslog once
 * detached, or a file.  Thread-safe (each line is written with one call).
 */
#ifndef HOSTD_LOG_H
#define HOSTD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/*
 * Where the lines go: to file when it is not NULL (appended, each line with
 * its UTC time, since nobody watches a file as it is written), else to
 * syslog when use_syslog, else to stderr.  Returns 0, or -1 with the reason
 * in err when the file cannot be opened; the log then stays on stderr.
 * Called once, before any thread logs.
 */
int log_setup(bool use_syslog, bool verbose, const char *file, char *err, size_t errlen);
/* Close the file of log_setup, if any; later lines go to log_early(). */
void log_close(void);
/*
 * Where what is said before log_setup goes (a bad option, a log file that
 * cannot be opened), and the log itself until then: stderr, unless
 * log_set_early named another stream (a Windows service, whose stderr
 * leads nowhere and cannot be reopened).  The caller keeps fp open until
 * the daemon is done.
 */
FILE *log_early(void);
void log_set_early(FILE *fp);
bool log_verbose(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* HOSTD_LOG_H */

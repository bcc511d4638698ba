/*
 * log.h - winapi-hostd's log: one line per event on stderr, or syslog once
 * detached.  Thread-safe (each line is written with one call).
 */
#ifndef HOSTD_LOG_H
#define HOSTD_LOG_H

#include <stdbool.h>

enum { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_setup(bool use_syslog, bool verbose);
bool log_verbose(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif /* HOSTD_LOG_H */

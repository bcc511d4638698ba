/*
 * log.c - the daemon's log.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#ifndef _WIN32
#include <syslog.h>
#endif

#include "log.h"

#ifndef _WIN32
static bool to_syslog;
#endif
static bool verbose;

void log_setup(bool use_syslog, bool be_verbose)
{
    verbose = be_verbose;
#ifndef _WIN32
    to_syslog = use_syslog;
    if (to_syslog)
        openlog("winapi-hostd", LOG_PID, LOG_DAEMON);
#else
    (void)use_syslog;
#endif
}

bool log_verbose(void)
{
    return verbose;
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    char line[1024];
    va_list ap;

    if (level == LOG_LVL_DEBUG && !verbose)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
#ifndef _WIN32
    if (to_syslog) {
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_INFO };
        syslog(prio[level], "%s", line);
        return;
    }
#endif
    fprintf(stderr, "winapi-hostd: %s: %s\n", names[level], line);
}

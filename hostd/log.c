/*
 * log.c - the daemon's log.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <syslog.h>
#endif

#include "log.h"

#ifdef _WIN32
/* The CRT's thread-safe gmtime, with its arguments the other way round. */
static struct tm *gmtime_r(const time_t *t, struct tm *tm)
{
    return gmtime_s(tm, t) == 0 ? tm : NULL;
}
#endif

#ifndef _WIN32
static bool to_syslog;
#endif
static bool verbose;
static FILE *log_file;          /* NULL: log_early() or syslog */
static FILE *early_file;        /* NULL: stderr */

int log_setup(bool use_syslog, bool be_verbose, const char *file, char *err, size_t errlen)
{
    verbose = be_verbose;
    if (file) {
        /* Text mode: a Windows log reads as lines in Notepad too. */
        log_file = fopen(file, "a");
        if (!log_file) {
            snprintf(err, errlen, "cannot open the log file %s: %s", file, strerror(errno));
            return -1;
        }
        return 0;
    }
#ifndef _WIN32
    to_syslog = use_syslog;
    if (to_syslog)
        openlog("winapi-hostd", LOG_PID, LOG_DAEMON);
#else
    (void)use_syslog;
#endif
    return 0;
}

void log_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}

FILE *log_early(void)
{
    return early_file ? early_file : stderr;
}

void log_set_early(FILE *fp)
{
    early_file = fp;
}

bool log_verbose(void)
{
    return verbose;
}

/* One line with its time, flushed: the file must hold it if we die next. */
static void log_to_file(const char *level, const char *line)
{
    time_t now = time(NULL);
    struct tm tm;
    char when[32] = "?";

    if (gmtime_r(&now, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(log_file, "%s winapi-hostd: %s: %s\n", when, level, line);
    fflush(log_file);
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
    if (log_file) {
        log_to_file(names[level], line);
        return;
    }
#ifndef _WIN32
    if (to_syslog) {
        static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_INFO };
        syslog(prio[level], "%s", line);
        return;
    }
#endif
    fprintf(log_early(), "winapi-hostd: %s: %s\n", names[level], line);
}

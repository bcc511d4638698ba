/*
 * wp_frame.h - newline-delimited framing of the control channel.
 *
 * A wp_frame collects bytes from a stream and hands out whole lines.  It
 * does no I/O itself, so the same code serves POSIX and Winsock sockets:
 * the caller reads into wp_frame_space() and reports with wp_frame_commit().
 * One frame belongs to one reader; it is not thread-safe.
 */
#ifndef WP_FRAME_H
#define WP_FRAME_H

#include <stddef.h>

#include "wp_msg.h"

typedef struct {
    char buf[WP_MAX_LINE];
    size_t start;   /* first byte not yet handed out */
    size_t end;     /* one past the last byte read */
} wp_frame;

void wp_frame_init(wp_frame *f);

/*
 * Where the next read may write, and how much (*avail > 0 unless a line is
 * already too long, which wp_frame_next() reports first).
 */
char *wp_frame_space(wp_frame *f, size_t *avail);
void wp_frame_commit(wp_frame *f, size_t n);

/*
 * The next complete line: returns 1 with *line and *len (without the '\n'; the
 * '\n' is replaced by NUL, and the pointer is valid until the next call),
 * 0 when more bytes are needed, -1 when the pending line exceeds
 * WP_MAX_LINE bytes counting its '\n' (the stream cannot be resynchronised
 * safely; close it).
 */
int wp_frame_next(wp_frame *f, char **line, size_t *len);

/* Bytes buffered but not yet handed out as lines. */
size_t wp_frame_pending(const wp_frame *f);

#endif /* WP_FRAME_H */

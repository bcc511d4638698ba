/*
 * wp_frame.c - line framing.  O(1) per byte: every byte is scanned for '\n'
 * once and moved at most once, when a partial line is shifted to the front.
 */
#include "config.h"

#include <string.h>

#include "wp_frame.h"

void wp_frame_init(wp_frame *f)
{
    f->start = f->end = 0;
}

char *wp_frame_space(wp_frame *f, size_t *avail)
{
    if (f->start > 0) {
        memmove(f->buf, f->buf + f->start, f->end - f->start);
        f->end -= f->start;
        f->start = 0;
    }
    *avail = sizeof(f->buf) - f->end;
    return f->buf + f->end;
}

void wp_frame_commit(wp_frame *f, size_t n)
{
    f->end += n;
}

int wp_frame_next(wp_frame *f, char **line, size_t *len)
{
    char *p = f->buf + f->start;
    char *nl = memchr(p, '\n', f->end - f->start);

    if (!nl) {
        /* A full buffer without '\n' means the line is longer than allowed. */
        if (f->start == 0 && f->end == sizeof(f->buf))
            return -1;
        return 0;
    }
    *nl = '\0';
    *line = p;
    *len = (size_t)(nl - p);
    f->start += *len + 1;
    if (f->start == f->end)
        f->start = f->end = 0;
    return 1;
}

size_t wp_frame_pending(const wp_frame *f)
{
    return f->end - f->start;
}

/*
 * wp_mountinfo.c - walk /proc/self/mountinfo (see wp_mountinfo.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wp_mountinfo.h"

static int is_octal(char c)
{
    return c >= '0' && c <= '7';
}

void wp_mountinfo_unescape(char *s)
{
    char *out = s;

    for (; *s; s++) {
        if (s[0] == '\\' && is_octal(s[1]) && is_octal(s[2]) && is_octal(s[3])) {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Split line into m; false for a line that does not have the fields. */
static int parse_line(char *line, struct wp_mount *m)
{
    char *save = NULL, *f[5] = { 0 };
    char *tok = strtok_r(line, " \n", &save);
    int i = 0;

    for (; tok && i < 5; tok = strtok_r(NULL, " \n", &save))
        f[i++] = tok;
    /* OPTS, then optional tags up to the "-" separator. */
    for (; tok && strcmp(tok, "-") != 0; tok = strtok_r(NULL, " \n", &save))
        ;
    if (i < 5 || !tok)
        return 0;
    m->dev = f[2];
    m->mount_point = f[4];
    m->fstype = strtok_r(NULL, " \n", &save);
    m->source = strtok_r(NULL, " \n", &save);
    m->super_opts = strtok_r(NULL, " \n", &save);
    if (!m->fstype)
        return 0;
    if (!m->source)
        m->source = "";
    if (!m->super_opts)
        m->super_opts = "";
    wp_mountinfo_unescape(f[4]);
    wp_mountinfo_unescape((char *)m->source);
    return 1;
}

/* Lines longer than this (two paths at PATH_MAX and more) are skipped. */
#define LINE_MAX_BYTES (3 * 4096)

int wp_mountinfo_each(const char *mountinfo, wp_mountinfo_fn *fn, void *arg)
{
    FILE *fp = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "r");
    char *line = malloc(LINE_MAX_BYTES);
    struct wp_mount m;
    bool whole = true;
    int res = 0;

    if (!fp || !line) {
        int e = fp ? ENOMEM : errno;
        if (fp)
            fclose(fp);
        free(line);
        errno = e;
        return -1;
    }
    while (res == 0 && fgets(line, LINE_MAX_BYTES, fp)) {
        bool ends = strchr(line, '\n') != NULL || feof(fp);
        if (whole && ends && parse_line(line, &m))
            res = fn(arg, &m);
        whole = ends;
    }
    free(line);
    fclose(fp);
    return res;
}

/*
 * journal.c - the journal's file, its record format and its sync thread
 * (see journal.h).  What the records mean is node.c's.
 *
 * A record: "%08x OP FIELD...\n", the CRC-32 (zlib's) of everything after
 * the first space, newline excluded.  Strings are escaped (%XX for bytes up
 * to space, '%' and DEL), so a record is one line whatever a name holds;
 * attribute values are hex; "-" is an empty value.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <fuse_log.h>

#include "journal.h"

#define PREFIX ".winapifs."
#define SUFFIX ".journal"
/* Rewrite when the file holds this many times what the last rewrite wrote. */
#define COMPACT_FACTOR 4
#define COMPACT_MIN (1024 * 1024)

struct journal {
    int dirfd;
    int fd;
    int new_fd;                 /* during a rewrite */
    char name[64], tmp[72];
    pthread_mutex_t lock;       /* fd, new_fd, sizes, dirty */
    off_t size, base;           /* now, and after the last rewrite */
    bool dirty;                 /* appended since the last sync */
    bool failed;                /* said once */
    bool stopping;
    pthread_cond_t cond;
    pthread_t syncer;
    bool syncing;               /* the syncer runs */
};

/* ---- encoding ---- */

struct buf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void buf_grow(struct buf *b, size_t more)
{
    char *p;
    size_t cap;

    if (b->oom || b->len + more <= b->cap)
        return;
    cap = (b->len + more) * 2;
    p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    buf_grow(b, (size_t)n + 1);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void put_str(struct buf *b, const char *s)
{
    /* An empty string (a directory's) is "%00": a field is never empty. */
    if (!*s) {
        buf_printf(b, " %%00");
        return;
    }
    buf_grow(b, strlen(s) * 3 + 2);
    if (b->oom)
        return;
    b->p[b->len++] = ' ';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c <= ' ' || *c == '%' || *c == 0x7f)
            b->len += (size_t)sprintf(b->p + b->len, "%%%02X", *c);
        else
            b->p[b->len++] = (char)*c;
    }
}

static void put_hex(struct buf *b, const void *v, size_t len)
{
    const unsigned char *c = v;

    if (len == 0) {
        buf_printf(b, " -");
        return;
    }
    buf_grow(b, len * 2 + 2);
    if (b->oom)
        return;
    b->p[b->len++] = ' ';
    for (size_t i = 0; i < len; i++)
        b->len += (size_t)sprintf(b->p + b->len, "%02x", c[i]);
}

static void put_when(struct buf *b, const struct timespec *t)
{
    buf_printf(b, " %lld.%09ld", (long long)t->tv_sec, t->tv_nsec);
}

static void put_times(struct buf *b, const struct jrec *r)
{
    put_when(b, &r->atime);
    put_when(b, &r->mtime);
    put_when(b, &r->ctime);
}

/* The record's line, CRC and newline included, in b. */
static void encode(struct buf *b, const struct jrec *r)
{
    buf_printf(b, "00000000 %c", (char)r->op);
    switch (r->op) {
    case JR_NODE:
        buf_printf(b, " %" PRIu64 " %o %u %u", r->ino, (unsigned)r->mode,
                   (unsigned)r->uid, (unsigned)r->gid);
        put_times(b, r);
        buf_printf(b, " %" PRIu32, r->buffer_id);
        put_str(b, r->str ? r->str : "");
        break;
    case JR_ATTR:
        buf_printf(b, " %" PRIu64 " %o %u %u", r->ino, (unsigned)r->mode,
                   (unsigned)r->uid, (unsigned)r->gid);
        put_times(b, r);
        break;
    case JR_LINK:
        put_when(b, &r->mtime);
        buf_printf(b, " %" PRIu64, r->dir);
        put_str(b, r->name);
        buf_printf(b, " %" PRIu64, r->ino);
        break;
    case JR_UNLINK:
        put_when(b, &r->mtime);
        buf_printf(b, " %" PRIu64, r->dir);
        put_str(b, r->name);
        break;
    case JR_MOVE:
    case JR_SWAP:
        put_when(b, &r->mtime);
        buf_printf(b, " %" PRIu64, r->dir);
        put_str(b, r->name);
        buf_printf(b, " %" PRIu64, r->dir2);
        put_str(b, r->name2);
        break;
    case JR_XSET:
        buf_printf(b, " %" PRIu64, r->ino);
        put_str(b, r->str);
        put_hex(b, r->value, r->value_len);
        break;
    case JR_XDEL:
        buf_printf(b, " %" PRIu64, r->ino);
        put_str(b, r->str);
        break;
    }
    buf_printf(b, "\n");
    if (!b->oom) {
        uLong crc = crc32(0, (const Bytef *)b->p + 9, (uInt)(b->len - 10));
        char head[9];
        snprintf(head, sizeof(head), "%08lx", crc);
        memcpy(b->p, head, 8);
    }
}

/* ---- decoding ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Next space-separated field of *p, unescaped in place; NULL at the end. */
static char *field(char **p)
{
    char *start = *p, *in, *out;

    if (!start || !*start)
        return NULL;
    in = out = start;
    while (*in && *in != ' ') {
        if (in[0] == '%' && hexval(in[1]) >= 0 && hexval(in[2]) >= 0) {
            *out++ = (char)(hexval(in[1]) * 16 + hexval(in[2]));
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *p = *in ? in + 1 : in;
    *out = '\0';
    return start;
}

static bool num(char **p, uint64_t *v)
{
    char *f = field(p), *end;

    if (!f)
        return false;
    errno = 0;
    *v = strtoull(f, &end, 10);
    return errno == 0 && *end == '\0' && end != f;
}

static bool octal(char **p, mode_t *m)
{
    char *f = field(p), *end;
    unsigned long v;

    if (!f)
        return false;
    v = strtoul(f, &end, 8);
    *m = (mode_t)v;
    return *end == '\0' && end != f;
}

static bool when(char **p, struct timespec *t)
{
    char *f = field(p);
    long long s;
    long ns;

    if (!f || sscanf(f, "%lld.%ld", &s, &ns) != 2)
        return false;
    t->tv_sec = (time_t)s;
    t->tv_nsec = ns;
    return ns >= 0 && ns < 1000000000L;
}

static bool owner(char **p, struct jrec *r)
{
    uint64_t uid, gid;

    if (!octal(p, &r->mode) || !num(p, &uid) || !num(p, &gid))
        return false;
    r->uid = (uid_t)uid;
    r->gid = (gid_t)gid;
    return when(p, &r->atime) && when(p, &r->mtime) && when(p, &r->ctime);
}

/* Attribute values decode into the same line, which outlives the record. */
static bool hexfield(char **p, struct jrec *r)
{
    char *f = field(p);
    size_t n;
    unsigned char *out;

    if (!f)
        return false;
    r->value = f;
    r->value_len = 0;
    if (strcmp(f, "-") == 0)
        return true;
    n = strlen(f);
    if (n % 2)
        return false;
    out = (unsigned char *)f;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(f[i]), lo = hexval(f[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi * 16 + lo);
    }
    r->value_len = n / 2;
    return true;
}

static bool decode_fields(char *p, struct jrec *r)
{
    char *op = field(&p);
    uint64_t bid;

    if (!op || strlen(op) != 1)
        return false;
    r->op = (enum jrec_op)op[0];
    switch (r->op) {
    case JR_NODE:
        if (!num(&p, &r->ino) || !owner(&p, r) || !num(&p, &bid) || bid > UINT32_MAX)
            return false;
        r->buffer_id = (uint32_t)bid;
        r->str = field(&p);
        return r->str != NULL;
    case JR_ATTR:
        return num(&p, &r->ino) && owner(&p, r);
    case JR_LINK:
        return when(&p, &r->mtime) && num(&p, &r->dir) && (r->name = field(&p)) &&
               num(&p, &r->ino);
    case JR_UNLINK:
        return when(&p, &r->mtime) && num(&p, &r->dir) && (r->name = field(&p));
    case JR_MOVE:
    case JR_SWAP:
        return when(&p, &r->mtime) && num(&p, &r->dir) && (r->name = field(&p)) &&
               num(&p, &r->dir2) && (r->name2 = field(&p));
    case JR_XSET:
        return num(&p, &r->ino) && (r->str = field(&p)) && hexfield(&p, r);
    case JR_XDEL:
        return num(&p, &r->ino) && (r->str = field(&p));
    }
    return false;
}

/* One line without its newline: a whole, undamaged record into r. */
static bool decode(char *line, size_t len, struct jrec *r)
{
    char crc[9];

    memset(r, 0, sizeof(*r));
    if (len < 11 || line[8] != ' ')
        return false;
    memcpy(crc, line, 8);
    crc[8] = '\0';
    if (strtoul(crc, NULL, 16) != crc32(0, (const Bytef *)line + 9, (uInt)(len - 9)))
        return false;
    line[len] = '\0';
    return decode_fields(line + 9, r);
}

/* ---- the file ---- */

/*
 * Lock a journal for its mount.  A file system without flock (some network
 * and host shares) is no reason to refuse a mount: there the process ID in
 * the journal's name tells a live mount instead (see held_by_live_mount()).
 */
static int lock_file(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
        return 0;
    return errno;
}

/* The journal is named after the process that keeps it. */
static void journal_name(char *out, size_t len, long pid, unsigned n)
{
    snprintf(out, len, PREFIX "%ld-%u" SUFFIX, pid, n);
}

static void say_failed(struct journal *j, const char *what, int err)
{
    if (j->failed)
        return;
    j->failed = true;
    fuse_log(FUSE_LOG_ERR, "winapifs: journal %s: %s: %s; the namespace will not "
                           "survive a crash of this mount\n", j->name, what, strerror(err));
}

static void *syncer_main(void *arg)
{
    struct journal *j = arg;
    struct timespec t;

    pthread_mutex_lock(&j->lock);
    while (!j->stopping) {
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += JOURNAL_SYNC_SECONDS;
        pthread_cond_timedwait(&j->cond, &j->lock, &t);
        if (j->dirty) {
            int fd = dup(j->fd);
            j->dirty = false;
            /* Not under the lock: appends go on while the disk works. */
            pthread_mutex_unlock(&j->lock);
            if (fd >= 0) {
                fdatasync(fd);
                close(fd);
            }
            pthread_mutex_lock(&j->lock);
        }
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

int journal_open(int dirfd, struct journal **out)
{
    struct journal *j = calloc(1, sizeof(*j));
    int e;

    *out = NULL;
    if (!j)
        return ENOMEM;
    j->dirfd = dirfd;
    j->new_fd = -1;
    /*
     * A name nobody has: the process ID that made it may be reused, by a
     * mount whose journal is still there (to be adopted).
     */
    j->fd = -1;
    for (unsigned n = 0; j->fd < 0 && n < 1000; n++) {
        journal_name(j->name, sizeof(j->name), (long)getpid(), n);
        j->fd = openat(dirfd, j->name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW |
                                        O_CLOEXEC, 0600);
        if (j->fd < 0 && errno != EEXIST)
            break;
    }
    snprintf(j->tmp, sizeof(j->tmp), "%s.new", j->name);
    if (j->fd < 0 || (errno = lock_file(j->fd)) != 0) {
        e = errno;
        if (j->fd >= 0)
            close(j->fd);
        free(j);
        return e;
    }
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    *out = j;
    return 0;
}

/*
 * fuse_daemonize() moved the mount to a new process: rename the journal
 * after it, so that its name names a live process for as long as the
 * mount runs.
 */
static void follow_pid(struct journal *j)
{
    char name[sizeof(j->name)];

    for (unsigned n = 0; n < 1000; n++) {
        journal_name(name, sizeof(name), (long)getpid(), n);
        if (strcmp(name, j->name) == 0)
            return;
        if (faccessat(j->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
            continue;
        if (renameat(j->dirfd, j->name, j->dirfd, name) == 0) {
            snprintf(j->name, sizeof(j->name), "%s", name);
            snprintf(j->tmp, sizeof(j->tmp), "%s.new", j->name);
        }
        return;
    }
}

int journal_start_syncer(struct journal *j)
{
    int e;

    if (!j || j->syncing)
        return 0;
    pthread_mutex_lock(&j->lock);
    follow_pid(j);
    pthread_mutex_unlock(&j->lock);
    e = pthread_create(&j->syncer, NULL, syncer_main, j);
    j->syncing = e == 0;
    return e;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void journal_append(struct journal *j, const struct jrec *r)
{
    struct buf b = { 0 };
    int err;

    if (!j)
        return;
    encode(&b, r);
    pthread_mutex_lock(&j->lock);
    if (b.oom) {
        say_failed(j, "cannot build a record", ENOMEM);
    } else {
        int fd = j->new_fd >= 0 ? j->new_fd : j->fd;
        err = write_all(fd, b.p, b.len);
        if (err)
            say_failed(j, "cannot append", err);
        else if (fd == j->fd)
            j->size += (off_t)b.len;
        else
            j->base += (off_t)b.len;
        j->dirty = true;
    }
    pthread_mutex_unlock(&j->lock);
    free(b.p);
}

bool journal_wants_compaction(const struct journal *j)
{
    return j && j->size > COMPACT_MIN && j->size > COMPACT_FACTOR * j->base;
}

int journal_compact_begin(struct journal *j)
{
    int fd = openat(j->dirfd, j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW |
                                       O_CLOEXEC, 0600);

    if (fd < 0)
        return errno;
    pthread_mutex_lock(&j->lock);
    j->new_fd = fd;
    j->base = 0;
    pthread_mutex_unlock(&j->lock);
    return 0;
}

int journal_compact_end(struct journal *j, bool ok)
{
    int err = 0, fd;

    pthread_mutex_lock(&j->lock);
    fd = j->new_fd;
    j->new_fd = -1;
    /*
     * The new file replaces the old only once it is on disk; it takes the
     * lock before the name, so a new mount never adopts it in between.
     */
    if (ok && fdatasync(fd) < 0)
        err = errno;
    if (ok && !err)
        err = lock_file(fd);
    if (ok && !err && renameat(j->dirfd, j->tmp, j->dirfd, j->name) < 0)
        err = errno;
    if (ok && !err) {
        close(j->fd);
        j->fd = fd;
        j->size = j->base;
        fsync(j->dirfd);
    } else {
        close(fd);
        unlinkat(j->dirfd, j->tmp, 0);
        if (err)
            say_failed(j, "cannot rewrite", err);
    }
    pthread_mutex_unlock(&j->lock);
    return err;
}

void journal_close(struct journal *j, bool keep)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (j->syncing)
        pthread_join(j->syncer, NULL);
    if (keep) {
        fdatasync(j->fd);
    } else if (unlinkat(j->dirfd, j->name, 0) < 0 && errno != ENOENT) {
        fuse_log(FUSE_LOG_WARNING, "winapifs: cannot remove journal %s: %s\n",
                 j->name, strerror(errno));
    }
    close(j->fd);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

/* ---- other mounts' journals ---- */

static bool is_journal_name(const char *name)
{
    size_t n = strlen(name), p = sizeof(PREFIX) - 1, s = sizeof(SUFFIX) - 1;

    if (n <= p + s || strncmp(name, PREFIX, p) != 0 || strcmp(name + n - s, SUFFIX) != 0)
        return false;
    for (size_t i = p; i < n - s; i++)
        if ((name[i] < '0' || name[i] > '9') && name[i] != '-')
            return false;
    return true;
}

static bool held_by_live_mount(int fd, const char *name)
{
    long pid;

    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return false;
    if (errno == EWOULDBLOCK)
        return true;
    /* No flock here: the process the name names, if it runs, holds it. */
    pid = strtol(name + sizeof(PREFIX) - 1, NULL, 10);
    return pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

size_t journal_find_orphans(int dirfd, struct journal_orphan *out, size_t max)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    size_t n = 0;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    while (n < max && (e = readdir(d))) {
        int jfd;

        if (!is_journal_name(e->d_name) || strlen(e->d_name) >= sizeof(out[n].name))
            continue;
        jfd = openat(dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (jfd < 0)
            continue;
        /* Held: its mount is alive (or it is ours). */
        if (held_by_live_mount(jfd, e->d_name)) {
            close(jfd);
            continue;
        }
        out[n].fd = jfd;
        memcpy(out[n].name, e->d_name, strlen(e->d_name) + 1);    /* fits: checked above */
        n++;
    }
    closedir(d);
    return n;
}

int journal_replay(struct journal_orphan *o, journal_replay_fn *fn, void *arg)
{
    FILE *fp;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    struct jrec r;
    int fd = dup(o->fd), res = 0;

    if (fd < 0 || !(fp = fdopen(fd, "r"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    while (res == 0 && (len = getline(&line, &cap, fp)) > 0) {
        /* A torn tail: the record the crash interrupted, and nothing after. */
        if (line[len - 1] != '\n' || !decode(line, (size_t)len - 1, &r))
            break;
        res = fn(arg, &r);
    }
    free(line);
    fclose(fp);
    return 0;
}

void journal_orphan_done(int dirfd, struct journal_orphan *o, bool remove)
{
    char tmp[sizeof(o->name) + 8];

    if (remove) {
        /* And what its mount left of a rewrite it did not finish. */
        snprintf(tmp, sizeof(tmp), "%s.new", o->name);
        unlinkat(dirfd, tmp, 0);
        unlinkat(dirfd, o->name, 0);
    }
    close(o->fd);
    o->fd = -1;
}

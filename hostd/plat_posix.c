/*
 * plat_posix.c - the POSIX platform layer of winapi-hostd (Linux hosts and
 * development).
 *
 * Files are opened one component at a time with openat(O_NOFOLLOW), so a
 * symlink anywhere below the allowed root is refused rather than followed,
 * and nothing can be swapped in between the check and the open.
 *
 * The allowed roots themselves stay open between requests: resolving a
 * root's whole path cost a request more than the rest of its lookup.  The
 * open roots are forgotten every second, so a root that is moved or
 * replaced is followed to its new self within a second.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mapcache_posix.h"
#include "plat.h"

/* plat_map.flags */
#define MAP_FLAG_WRITE 1u
#define MAP_FLAG_POPULATED 2u

struct plat_file {
    int fd;
    struct stat st;
    struct mapcache_key key;        /* for the mapping cache */
    struct mapcache_entry *cached;  /* fd is the cache's: put, not closed */
};

static _Thread_local sigjmp_buf *guard_jmp;

/*
 * An allowed root kept open, at most one for each root configured.  A
 * request walking down from it holds a use; a root let go while in use is
 * closed by its last user, so no lock is held across the walk (a walk can
 * hang on a dead file system).
 */
struct open_root {
    char *path;
    int fd;
    int users;
    bool let_go;
    struct open_root *next;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_root *open_roots;

static void root_free(struct open_root *r)
{
    close(r->fd);
    free(r->path);
    free(r);
}

static void roots_forget(void)
{
    struct open_root *r, *next, *unused = NULL;

    pthread_mutex_lock(&roots_lock);
    for (r = open_roots; r; r = next) {
        next = r->next;
        r->let_go = true;
        if (r->users == 0) {
            r->next = unused;
            unused = r;
        }
    }
    open_roots = NULL;
    pthread_mutex_unlock(&roots_lock);
    for (r = unused; r; r = next) {
        next = r->next;
        root_free(r);
    }
}

static struct open_root *root_find_locked(const char *path)
{
    struct open_root *r;

    for (r = open_roots; r && strcmp(r->path, path) != 0; r = r->next)
        ;
    return r;
}

/* Keep fd open for path, as *r with one use, unless another thread did. */
static void root_keep(const char *path, int fd, struct open_root **r)
{
    struct open_root *n = malloc(sizeof(*n));

    *r = NULL;
    if (!n || !(n->path = strdup(path))) {
        free(n);
        return;
    }
    n->fd = fd;
    n->users = 1;
    n->let_go = false;
    pthread_mutex_lock(&roots_lock);
    if (!root_find_locked(path)) {
        n->next = open_roots;
        open_roots = n;
        *r = n;
    }
    pthread_mutex_unlock(&roots_lock);
    if (!*r) {
        free(n->path);
        free(n);
    }
}

/*
 * The root directory path, open: a kept one (*r, with a use taken) or the
 * caller's own (*r NULL).  -1 with errno on failure.
 */
static int root_get(const char *path, struct open_root **r)
{
    int fd;

    pthread_mutex_lock(&roots_lock);
    *r = root_find_locked(path);
    if (*r)
        (*r)->users++;
    pthread_mutex_unlock(&roots_lock);
    if (*r)
        return (*r)->fd;
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        root_keep(path, fd, r);
    return fd;
}

static void root_put(int fd, struct open_root *r)
{
    bool last;

    if (!r) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&roots_lock);
    last = --r->users == 0 && r->let_go;
    pthread_mutex_unlock(&roots_lock);
    if (last)
        root_free(r);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
    sigset_t bus;

    (void)si;
    (void)uc;
    if (guard_jmp) {
        /* The jump skips the handler's return, which would unblock SIGBUS;
         * do it here, so plat_guard need not save the mask (a syscall on
         * every request) and a second fault is caught too. */
        sigemptyset(&bus);
        sigaddset(&bus, SIGBUS);
        pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
        siglongjmp(*guard_jmp, 1);
    }
    /* A fault outside a guarded operation is a bug: die as we would have. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int plat_init(char *err, size_t errlen)
{
    struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
    sigset_t stop;

    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0) {
        snprintf(err, errlen, "sigaction: %s", strerror(errno));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    atexit(mapcache_clear);
    atexit(roots_forget);
    /* Blocked in every thread created from now on; plat_wait_for_stop takes them. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    return 0;
}

int plat_detach(void)
{
    return daemon(0, 0);
}

/*
 * Waits in one-second steps, releasing on each the mappings of freed
 * buffers and the open roots.
 */
void plat_wait_for_stop(void)
{
    struct timespec second = { .tv_sec = 1 };
    sigset_t stop;

    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    while (sigtimedwait(&stop, NULL, &second) < 0) {
        mapcache_sweep();
        roots_forget();
    }
}

int plat_service(int argc, char **argv, const struct plat_daemon *d)
{
    /* Detaching and restarting are the service manager's job here too. */
    (void)argc;
    (void)argv;
    (void)d;
    fprintf(stderr, "winapi-hostd: --service manages a Windows service; on this host\n"
            "systemd runs the daemon: 'systemctl enable --now winapi-hostd.service'\n"
            "(the unit of the winapi-hostd package, which runs 'winapi-hostd --foreground'\n"
            "with the options in /etc/default/winapi-hostd)\n");
    return EXIT_FAILURE;
}

int plat_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void format_peer(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen)
{
    char h[NI_MAXHOST], p[NI_MAXSERV];

    if (getnameinfo(sa, len, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV))
        snprintf(out, outlen, "?");
    else if (sa->sa_family == AF_INET6)
        snprintf(out, outlen, "[%s]:%s", h, p);
    else
        snprintf(out, outlen, "%s:%s", h, p);
}

plat_sock plat_listen(const char *addr, const char *port, int *bound,
                      char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd, one = 1, rc;

    rc = getaddrinfo(addr, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "%s:%s: %s", addr, port, gai_strerror(rc));
        return PLAT_NO_SOCK;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                res->ai_protocol);
    /* A backlog as deep as the system allows: connections come in bursts. */
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(err, errlen, "cannot listen on %s:%s: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(res);
        return PLAT_NO_SOCK;
    }
    freeaddrinfo(res);
    *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                            : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

int plat_accept(plat_sock l, plat_sock *s, char *peer, size_t peerlen)
{
    struct sockaddr_storage ss;
    int one = 1;

    for (;;) {
        socklen_t sl = sizeof(ss);
        int fd = accept4((int)l, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            format_peer((struct sockaddr *)&ss, sl, peer, peerlen);
            *s = fd;
            return 1;
        }
        /* Gone before we took it, or interrupted: the next one. */
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

long plat_recv(plat_sock s, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv((int)s, buf, len, 0);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? PLAT_AGAIN : -1;
    }
}

long plat_sendv(plat_sock s, const struct plat_iov *iov, int n)
{
    struct iovec v[PLAT_IOV_MAX];
    struct msghdr msg = { .msg_iov = v };

    if (n > PLAT_IOV_MAX)
        n = PLAT_IOV_MAX;
    for (int i = 0; i < n; i++) {
        v[i].iov_base = (void *)iov[i].base;
        v[i].iov_len = iov[i].len;
    }
    msg.msg_iovlen = (size_t)n;
    for (;;) {
        /* MSG_NOSIGNAL: a client gone is an error here, not a SIGPIPE.  One
         * piece, the usual case, goes by send(): no vector to import. */
        ssize_t r = n == 1 ? send((int)s, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL)
                           : sendmsg((int)s, &msg, MSG_NOSIGNAL);
        if (r >= 0)
            return r > 0 ? (long)r : PLAT_AGAIN;
        if (errno != EINTR)
            return errno == EAGAIN || errno == EWOULDBLOCK ? PLAT_AGAIN : -1;
    }
}

void plat_shutdown(plat_sock s)
{
    shutdown((int)s, SHUT_RDWR);
}

void plat_close(plat_sock s)
{
    close((int)s);
}

/* Descriptors kept for files, mappings and the loop besides the sockets. */
#define FD_RESERVE 128

int plat_socket_room(int want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + FD_RESERVE;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return want;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        /* The soft limit is often 1024; the hard one, set by the admin, is the real one. */
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return want;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    /* Less than asked: what is left beside the reserve, and a few in any case. */
    return rl.rlim_cur > FD_RESERVE + 16 ? (int)(rl.rlim_cur - FD_RESERVE) : 16;
}

static wp_code open_error(int e, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what,
             e == ELOOP ? "is a symbolic link" : strerror(e));
    if (e == ENOENT)
        return WP_NOT_FOUND;
    if (e == ELOOP || e == ENOTDIR || e == EISDIR || e == ENXIO)
        return WP_PATH_NOT_ALLOWED;
    return WP_IO_ERROR;
}

/*
 * Open the regular file name in dfd, and only a regular file.  Opening is
 * an act: a FIFO's open can block, or let go a writer blocked in its own
 * open; a device's can rewind a tape.  So the name is looked at first and
 * only a regular file is opened, with O_NONBLOCK all the same; the open
 * file is then checked to be the one looked at, in case the name was
 * replaced in between.  Returns the descriptor with its stat in *st, or -1
 * with *rc and the reason in err.  A file the mapping cache holds unchanged
 * is not opened: *cached is then its entry, and the descriptor the cache's.
 */
/* fstatat of name (not following a link), and its key for the mapping cache. */
static int look(int dfd, const char *name, struct stat *st, struct mapcache_key *key)
{
    struct statx sx;

    if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_MNT_ID, &sx) < 0)
        return -1;
    memset(st, 0, sizeof(*st));
    st->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
    st->st_ino = sx.stx_ino;
    st->st_mode = sx.stx_mode;
    st->st_nlink = sx.stx_nlink;
    st->st_uid = sx.stx_uid;
    st->st_gid = sx.stx_gid;
    st->st_size = (off_t)sx.stx_size;
    st->st_ctim.tv_sec = sx.stx_ctime.tv_sec;
    st->st_ctim.tv_nsec = sx.stx_ctime.tv_nsec;
    key->mnt_id = sx.stx_mask & STATX_MNT_ID ? sx.stx_mnt_id : 0;
    key->ctime = st->st_ctim;
    return 0;
}

/* Nothing that decides access changed between the look and the open. */
static bool same_since(const struct stat *seen, const struct stat *st)
{
    return st->st_mode == seen->st_mode && st->st_uid == seen->st_uid &&
           st->st_gid == seen->st_gid && st->st_ctim.tv_sec == seen->st_ctim.tv_sec &&
           st->st_ctim.tv_nsec == seen->st_ctim.tv_nsec;
}

static int open_leaf(int dfd, const char *name, bool write, struct stat *st,
                     struct mapcache_key *key, struct mapcache_entry **cached,
                     char *err, size_t errlen, wp_code *rc)
{
    struct stat seen;
    const char *why = NULL;
    int fd;

    if (look(dfd, name, &seen, key) < 0) {
        *rc = open_error(errno, name, err, errlen);
        return -1;
    }
    if (S_ISLNK(seen.st_mode)) {
        *rc = open_error(ELOOP, name, err, errlen);
        return -1;
    }
    if (!S_ISREG(seen.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", name);
        *rc = WP_PATH_NOT_ALLOWED;
        return -1;
    }
    *cached = mapcache_find(&seen, key, write, &fd);
    if (*cached) {
        *st = seen;
        return fd;
    }
    fd = openat(dfd, name, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK |
                O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        *rc = open_error(errno, name, err, errlen);
        return -1;
    }
    if (fstat(fd, st) < 0) {
        *rc = open_error(errno, name, err, errlen);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode) || st->st_dev != seen.st_dev || st->st_ino != seen.st_ino)
        why = "replaced while being opened";
    /* A hard link is a link too: it could name a file outside the root. */
    else if (st->st_nlink > 1)
        why = "has other hard links";
    if (why) {
        snprintf(err, errlen, "%s: %s", name, why);
        *rc = WP_PATH_NOT_ALLOWED;
        close(fd);
        return -1;
    }
    /* Changed while being opened: the cache must not vouch for this open. */
    if (!same_since(&seen, st))
        key->mnt_id = 0;
    return fd;
}

wp_code plat_file_open(const char *root_dir, const char *rel, bool write,
                       plat_file **f, uint64_t *size, char *err, size_t errlen)
{
    char buf[4096], *comp, *next;
    struct mapcache_entry *cached;
    struct mapcache_key key;
    struct open_root *kept;
    int root, dfd, fd, e;
    struct stat st;
    wp_code rc = WP_OK;

    if (strlen(rel) >= sizeof(buf)) {
        snprintf(err, errlen, "path too long");
        return WP_PATH_NOT_ALLOWED;
    }
    strcpy(buf, rel);
    root = root_get(root_dir, &kept);
    if (root < 0)
        return open_error(errno, root_dir, err, errlen);
    dfd = root;
    for (comp = buf; (next = strchr(comp, '\\')); comp = next + 1) {
        *next = '\0';
        fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        if (dfd != root)
            close(dfd);
        if (fd < 0) {
            root_put(root, kept);
            return open_error(e, comp, err, errlen);
        }
        dfd = fd;
    }
    fd = open_leaf(dfd, comp, write, &st, &key, &cached, err, errlen, &rc);
    if (dfd != root)
        close(dfd);
    root_put(root, kept);
    if (fd < 0)
        return rc;
    *f = malloc(sizeof(**f));
    if (!*f) {
        if (cached)
            mapcache_put(cached, false);
        else
            close(fd);
        snprintf(err, errlen, "out of memory");
        return WP_INTERNAL;
    }
    (*f)->fd = fd;
    (*f)->st = st;
    (*f)->key = key;
    (*f)->cached = cached;
    *size = (uint64_t)st.st_size;
    return WP_OK;
}

void plat_file_close(plat_file *f)
{
    if (!f)
        return;
    if (f->cached)
        mapcache_put(f->cached, false);
    else
        close(f->fd);
    free(f);
}

wp_code plat_map_file(plat_file *f, uint64_t off, uint64_t len, bool write,
                      plat_map *m, char *err, size_t errlen)
{
    void *base;
    bool fresh;

    m->priv = mapcache_get(f->fd, &f->st, &f->key, write, &base, &fresh);
    if (!m->priv) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return WP_IO_ERROR;
    }
    m->base = base;
    m->len = (size_t)len;
    m->addr = (char *)base + off;
    m->faulted = false;
    /* A reused whole-file mapping was populated already; plat_map_ready
     * populates the rest a part at a time. */
    m->flags = (write ? MAP_FLAG_WRITE : 0) |
               (!fresh && len == (uint64_t)f->st.st_size ? MAP_FLAG_POPULATED : 0);
    return WP_OK;
}

void plat_map_ready(plat_map *m, uint64_t off, uint64_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)m->addr + off) & ~(page - 1);
    uintptr_t end = (uintptr_t)m->addr + off + len;

    /* One call that maps every page beats a fault per page, several times
     * over on a VM. */
    if (len == 0 || (m->flags & MAP_FLAG_POPULATED))
        return;
    madvise((void *)start, end - start,
            m->flags & MAP_FLAG_WRITE ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
}

void plat_unmap(plat_map *m)
{
    if (m->priv)
        mapcache_put(m->priv, m->faulted);
    m->priv = NULL;
    m->base = NULL;
}

int plat_guard(void (*fn)(void *), void *arg)
{
    sigjmp_buf jb;
    /* Guards nest (a plugin's guard() inside run()): the outer one is back
     * in force on the way out. */
    sigjmp_buf *volatile outer = guard_jmp;

    if (sigsetjmp(jb, 0)) {
        guard_jmp = outer;
        return -1;
    }
    guard_jmp = &jb;
    fn(arg);
    guard_jmp = outer;
    return 0;
}

/* ---- files without a mapping ------------------------------------------ */

wp_code plat_file_write(plat_file *f, uint64_t off, const void *buf, size_t len,
                        char *err, size_t errlen)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(f->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "write: %s", n < 0 ? strerror(errno) : "no progress");
            return WP_IO_ERROR;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return WP_OK;
}

wp_code plat_file_read(plat_file *f, uint64_t off, void *buf, size_t len, size_t *got,
                       char *err, size_t errlen)
{
    char *p = buf;

    *got = 0;
    while (*got < len) {
        ssize_t n = pread(f->fd, p + *got, len - *got, (off_t)(off + *got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "read: %s", strerror(errno));
            return WP_IO_ERROR;
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    return WP_OK;
}

wp_code plat_file_resize(plat_file *f, uint64_t size, char *err, size_t errlen)
{
    /* A kept mapping of it sees the new size and is dropped at its next use. */
    while (ftruncate(f->fd, (off_t)size) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "cannot set the size: %s", strerror(errno));
            return WP_IO_ERROR;
        }
    }
    return WP_OK;
}

bool plat_file_same(const plat_file *a, const plat_file *b)
{
    return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino;
}

wp_code plat_temp_open(plat_file **f, char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    /* Unnamed from the start: nothing to clean up if the daemon dies. */
    char name[4096];

    if (!dir || !*dir)
        dir = "/tmp";
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        /* A file system without O_TMPFILE: a name, gone at once. */
        snprintf(name, sizeof(name), "%s/winapi-hostd.XXXXXX", dir);
        fd = mkostemp(name, O_CLOEXEC);
        if (fd >= 0)
            unlink(name);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a temporary file: %s", strerror(errno));
        return WP_IO_ERROR;
    }
    *f = calloc(1, sizeof(**f));
    if (!*f) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return WP_INTERNAL;
    }
    (*f)->fd = fd;
    fstat(fd, &(*f)->st);
    return WP_OK;
}

void plat_keep_maps(int seconds)
{
    mapcache_set_idle(seconds);
}

/* ---- shared libraries -------------------------------------------------- */

void *plat_lib_open(const char *path, char *err, size_t errlen)
{
    char here[4096];
    void *lib;

    /* dlopen looks a bare name up in the library path: not what was named. */
    if (!strchr(path, '/')) {
        snprintf(here, sizeof(here), "./%s", path);
        path = here;
    }
    lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(err, errlen, "%s", why ? why : "cannot load it");
    }
    return lib;
}

void *plat_lib_symbol(void *lib, const char *name)
{
    return dlsym(lib, name);
}

void plat_lib_close(void *lib)
{
    dlclose(lib);
}

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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapcache_posix.h"
#include "plat.h"

struct plat_file {
    int fd;
    struct stat st;
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
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0 ||
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

plat_sock plat_accept(plat_sock l, char *peer, size_t peerlen)
{
    struct timeval send_timeout = { .tv_sec = PLAT_SEND_TIMEOUT };
    struct sockaddr_storage ss;
    int one = 1;

    for (;;) {
        socklen_t sl = sizeof(ss);
        int fd = accept4((int)l, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd >= 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            /* A client that stops reading must not hold a worker forever. */
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
            format_peer((struct sockaddr *)&ss, sl, peer, peerlen);
            return fd;
        }
        /* Transient failures must not stop the daemon accepting. */
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            usleep(10000);
            continue;
        }
        return PLAT_NO_SOCK;
    }
}

long plat_recv(plat_sock s, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv((int)s, buf, len, 0);
        if (n >= 0 || errno != EINTR)
            return (long)n;
    }
}

int plat_send_all(plat_sock s, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send((int)s, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

void plat_shutdown(plat_sock s)
{
    shutdown((int)s, SHUT_RDWR);
}

void plat_close(plat_sock s)
{
    close((int)s);
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

wp_code plat_file_open(const char *root_dir, const char *rel, bool write,
                       plat_file **f, uint64_t *size, char *err, size_t errlen)
{
    char buf[4096], *comp, *next;
    struct open_root *kept;
    int root, dfd, fd, e;
    struct stat st;

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
    fd = openat(dfd, comp, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK |
                O_NOCTTY | O_CLOEXEC);
    e = errno;
    if (dfd != root)
        close(dfd);
    root_put(root, kept);
    if (fd < 0)
        return open_error(e, comp, err, errlen);
    if (fstat(fd, &st) < 0) {
        close(fd);
        return open_error(errno, comp, err, errlen);
    }
    /* A hard link is a link too: it could name a file outside the root. */
    if (!S_ISREG(st.st_mode) || st.st_nlink > 1) {
        snprintf(err, errlen, "%s: %s", comp, !S_ISREG(st.st_mode)
                 ? "not a regular file" : "has other hard links");
        close(fd);
        return WP_PATH_NOT_ALLOWED;
    }
    *f = malloc(sizeof(**f));
    if (!*f) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return WP_INTERNAL;
    }
    (*f)->fd = fd;
    (*f)->st = st;
    *size = (uint64_t)st.st_size;
    return WP_OK;
}

void plat_file_close(plat_file *f)
{
    if (f) {
        close(f->fd);
        free(f);
    }
}

wp_code plat_map_file(plat_file *f, uint64_t off, uint64_t len, bool write,
                      plat_map *m, char *err, size_t errlen)
{
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t aoff = off & ~(page - 1);
    void *base;
    bool fresh;

    m->priv = mapcache_get(f->fd, &f->st, write, &base, &fresh);
    if (!m->priv) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return WP_IO_ERROR;
    }
    m->base = base;
    m->len = (size_t)len;
    m->addr = (char *)base + off;
    m->faulted = false;
    /* One call that maps every page beats a fault per page, several times
     * over on a VM.  A reused whole-file mapping was populated already. */
    if (fresh || len < (uint64_t)f->st.st_size)
        madvise((char *)base + aoff, (size_t)(len + off - aoff),
                write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
    return WP_OK;
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

    if (sigsetjmp(jb, 0)) {
        guard_jmp = NULL;
        return -1;
    }
    guard_jmp = &jb;
    fn(arg);
    guard_jmp = NULL;
    return 0;
}

/*
 * plat.h - what winapi-hostd needs from the operating system: sockets,
 * files opened safely beneath an allowed root, mappings, a guard against
 * faults on mapped memory, and a wait for the stop signal.
 *
 * One implementation per platform (plat_posix.c, plat_win32.c), chosen by
 * the build.  Everything above this interface is shared.
 */
#ifndef HOSTD_PLAT_H
#define HOSTD_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wp_msg.h"

typedef intptr_t plat_sock;
#define PLAT_NO_SOCK ((plat_sock)-1)

/* Process-wide setup (signal handlers, Winsock).  0 or -1. */
int plat_init(char *err, size_t errlen);

/* Leave the terminal and run in the background (POSIX); 0 or -1. */
int plat_detach(void);

/* Block until SIGTERM/SIGINT (POSIX) or Ctrl-C/close (Windows). */
void plat_wait_for_stop(void);

/*
 * The daemon as main.c runs it, for plat_service: check() parses the
 * daemon's options without acting on them (0, or nonzero after printing
 * why on stderr); serve() is the daemon's whole life, from its options to
 * its exit status: it calls ready() once it listens (ready may be NULL),
 * and returns once the stop signal came and the server stopped.
 * argv[0] is the program; neither keeps argv.
 */
struct plat_daemon {
    int (*check)(int argc, char **argv);
    int (*serve)(int argc, char **argv, void (*ready)(void));
};

/*
 * `winapi-hostd --service ACTION [OPTION]...` (argv[1] is "--service"):
 * install, uninstall or run the daemon as a service of the system's service
 * manager.  Returns the process's exit status.  Windows (service_win32.c)
 * has it; POSIX hosts refuse it, pointing to systemd.
 */
int plat_service(int argc, char **argv, const struct plat_daemon *d);

/*
 * Sockets are non-blocking: the event loop (loop.h) says when one is
 * ready, and nothing ever waits on a client.  PLAT_AGAIN is what a call
 * returns when the socket is not ready.
 */
#define PLAT_AGAIN (-2)

/*
 * Listen on addr:port (port "0" for an ephemeral one); the port bound is
 * written to *bound.  Returns PLAT_NO_SOCK with the reason in err.
 */
plat_sock plat_listen(const char *addr, const char *port, int *bound,
                      char *err, size_t errlen);
/*
 * Take a waiting connection: 1 with it in *s (non-blocking, no Nagle delay)
 * and the peer as "addr:port" in peer; 0 when none is waiting; -1 when
 * the system cannot give one now (out of descriptors or memory): try again
 * a little later, since the listener stays ready meanwhile.
 */
int plat_accept(plat_sock l, plat_sock *s, char *peer, size_t peerlen);
/* Bytes read (>0), 0 at end of stream, PLAT_AGAIN, or -1 on error. */
long plat_recv(plat_sock s, void *buf, size_t len);
/* Up to PLAT_IOV_MAX pieces sent in order, as far as the socket takes them. */
#define PLAT_IOV_MAX 64
struct plat_iov {
    const void *base;
    size_t len;
};
/* Bytes sent (>0), PLAT_AGAIN, or -1 on error. */
long plat_sendv(plat_sock s, const struct plat_iov *iov, int n);
/* End both directions now: the peer sees end of stream, reads fail. */
void plat_shutdown(plat_sock s);
void plat_close(plat_sock s);
/*
 * Make room for about want sockets (raising the descriptor limit where
 * there is one); returns how many the process may hold, at most want.
 */
int plat_socket_room(int want);

/* Number of processors, for the default worker count. */
int plat_ncpu(void);

typedef struct plat_file plat_file;

/*
 * Open root_dir\rel for reading (or writing) without following any link
 * below root_dir (root_dir itself may be one) and only if it is a regular
 * file.  rel uses '\' between components and has been checked with
 * wp_path_host_canon().  Returns WP_OK with *f and its size, or
 * WP_NOT_FOUND, WP_PATH_NOT_ALLOWED or WP_IO_ERROR with the reason in err.
 */
wp_code plat_file_open(const char *root_dir, const char *rel, bool write,
                       plat_file **f, uint64_t *size, char *err, size_t errlen);
void plat_file_close(plat_file *f);

/*
 * A file's bytes without a mapping, for an operation that writes a file of
 * its own (compress's dest): len bytes at off, all of them or an error
 * (WP_IO_ERROR with the reason); a read stops short only at the end
 * (*got).  resize sets the size, dropping first a mapping the platform
 * kept of the file (Windows will not shrink a mapped file).
 */
wp_code plat_file_write(plat_file *f, uint64_t off, const void *buf, size_t len,
                        char *err, size_t errlen);
wp_code plat_file_read(plat_file *f, uint64_t off, void *buf, size_t len, size_t *got,
                       char *err, size_t errlen);
wp_code plat_file_resize(plat_file *f, uint64_t size, char *err, size_t errlen);
/* Whether two open files are one. */
bool plat_file_same(const plat_file *a, const plat_file *b);
/* A new, empty file of the host's own, gone when closed (a backup). */
wp_code plat_temp_open(plat_file **f, char *err, size_t errlen);

typedef struct {
    void *base;     /* what was mapped */
    size_t len;
    void *addr;     /* the requested offset within it */
    void *priv;     /* platform's */
    bool faulted;   /* set by the caller when plat_guard caught a fault */
    unsigned flags; /* platform's */
} plat_map;

/*
 * Map [off, off+len) of f, len > 0.  WP_OK or WP_IO_ERROR with reason.
 * A platform may keep the mapping after plat_unmap and hand it out again
 * for the same file (POSIX does; see mapcache_posix.h).
 */
wp_code plat_map_file(plat_file *f, uint64_t off, uint64_t len, bool write,
                      plat_map *m, char *err, size_t errlen);
void plat_unmap(plat_map *m);
/*
 * Fault in [off, off+len) of the mapped range (off from m->addr) before it
 * is used: one call instead of a fault per page, several times cheaper on
 * a VM.  Done a part at a time, as the range is worked on, so that no call
 * takes long whatever the size.  A no-op where the pages are in already,
 * or where it does not pay; failures are left to the access itself.
 */
void plat_map_ready(plat_map *m, uint64_t off, uint64_t len);

/*
 * Run fn(arg); return 0, or -1 if it faulted on mapped memory (the file was
 * truncated under the mapping).  The fault is contained; the process lives.
 */
int plat_guard(void (*fn)(void *), void *arg);

/*
 * Seconds a file's mapping is kept after its last request (0: not kept);
 * by default PLAT_KEEP_MAPS.
 */
void plat_keep_maps(int seconds);
#define PLAT_KEEP_MAPS 10

/*
 * A shared library (a plugin): opened with everything resolved now, or
 * NULL with the reason in err.  A path without a directory is taken in the
 * current one, never searched for.
 */
void *plat_lib_open(const char *path, char *err, size_t errlen);
/* The address of an exported symbol, or NULL. */
void *plat_lib_symbol(void *lib, const char *name);
void plat_lib_close(void *lib);

#endif /* HOSTD_PLAT_H */

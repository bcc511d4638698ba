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
 * Listen on addr:port (port "0" for an ephemeral one); the port bound is
 * written to *bound.  Returns PLAT_NO_SOCK with the reason in err.
 */
plat_sock plat_listen(const char *addr, const char *port, int *bound,
                      char *err, size_t errlen);
/*
 * Next connection, with the peer as "addr:port" in peer; PLAT_NO_SOCK once
 * closed.  Sends on it give up after PLAT_SEND_TIMEOUT seconds, so a client
 * that stops reading cannot hold a worker (plat_send_all then fails).
 */
#define PLAT_SEND_TIMEOUT 10
plat_sock plat_accept(plat_sock l, char *peer, size_t peerlen);
/* Bytes read (>0), 0 at end of stream, -1 on error. */
long plat_recv(plat_sock s, void *buf, size_t len);
/* 0 when all was sent, -1 otherwise. */
int plat_send_all(plat_sock s, const char *buf, size_t len);
/* Wake every thread blocked on s (recv/accept) without freeing it. */
void plat_shutdown(plat_sock s);
void plat_close(plat_sock s);

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

typedef struct {
    void *base;     /* what was mapped */
    size_t len;
    void *addr;     /* the requested offset within it */
    void *priv;     /* platform's */
    bool faulted;   /* set by the caller when plat_guard caught a fault */
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
 * Run fn(arg); return 0, or -1 if it faulted on mapped memory (the file was
 * truncated under the mapping).  The fault is contained; the process lives.
 */
int plat_guard(void (*fn)(void *), void *arg);

#endif /* HOSTD_PLAT_H */

/*
 * conf.h - winapi-hostd's settings: command line, allowed roots, drives,
 * and where a host path lives on this machine.
 */
#ifndef HOSTD_CONFIG_H
#define HOSTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "grants.h"
#include "wp_path.h"

#define HOSTD_DEFAULT_LISTEN_ADDR "127.0.0.1"
#define HOSTD_DEFAULT_PORT "5757"
#define HOSTD_DEFAULT_ALLOW "C:\\temp"
#define HOSTD_MAX_ROOTS 32
#define HOSTD_DEFAULT_QUEUE 4096
#define HOSTD_DEFAULT_MAX_CONNECTIONS 16384
#define HOSTD_DEFAULT_MAX_PENDING ((size_t)4 << 20)
#define HOSTD_DEFAULT_HANDSHAKE_TIMEOUT 10
#define HOSTD_DEFAULT_IDLE_TIMEOUT 300
#define HOSTD_DEFAULT_MAX_JOBS 1024
#define HOSTD_DEFAULT_JOB_TTL 600
#define HOSTD_MAX_PLUGINS 32

struct hostd_config {
    char listen_addr[256];
    char listen_port[16];
    char allow[HOSTD_MAX_ROOTS][WP_HOST_PATH_MAX];  /* canonical host paths */
    char *allow_local[HOSTD_MAX_ROOTS];             /* where each is on this machine */
    int n_allow;
    char *drive[26];            /* POSIX: local directory for A: .. Z: */
    char automount_root[WP_GUEST_PATH_MAX];
    struct grants grants;       /* of --token-file; n 0: no hello needed */
    const char *token_file;
    const char *key_file;       /* encrypt and decrypt's key; NULL: they do not exist */
    const char *plugins[HOSTD_MAX_PLUGINS];      /* --plugin, in order */
    int n_plugins;
    const char *port_file;
    const char *log_file;       /* NULL: stderr, or syslog once detached */
    int threads;
    int queue;                  /* requests waiting for a worker before busy */
    int max_connections;        /* open at once; more are answered busy */
    size_t max_pending;         /* bytes of unread answers before a client is dropped */
    int handshake_timeout;      /* seconds to the first whole request; 0: none */
    int idle_timeout;           /* seconds without a request in flight after an answer; 0: none */
    int max_jobs;               /* async jobs at once, ended ones included */
    int job_ttl;                /* seconds an ended async job is kept */
    int keep_maps;              /* seconds a mapping is kept after use */
    bool foreground;
    bool verbose;
};

/*
 * Fill cfg from argv.  Returns 0 to run, 1 when --help or --version was
 * answered, -1 after printing an error naming the bad option.
 */
int config_parse(struct hostd_config *cfg, int argc, char **argv);
void config_free(struct hostd_config *cfg);

/*
 * Find the allowed root that contains the canonical host path, and say
 * where that root is on this machine: *local_root (cfg's) and the rest of
 * the path below it in *rel (pointing into host).  Returns 0, or -1 with the
 * reason in err when the path is outside every allowed root or names a root
 * itself.
 */
int config_locate(const struct hostd_config *cfg, const char *host,
                  const char **local_root, const char **rel, char *err, size_t errlen);

#endif /* HOSTD_CONFIG_H */

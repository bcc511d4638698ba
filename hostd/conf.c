/*
 * conf.c - command line and path placement for winapi-hostd.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "plat.h"
#include "ops_crypt.h"
#include "plugin.h"
#include "wp_token.h"

#ifdef _WIN32
#define DRIVE_HELP "  --drive X=DIR          (POSIX hosts only; Windows has real drives)\n"
#else
#define DRIVE_HELP "  --drive X=DIR          local directory that stands for drive X:\\\n" \
                   "                         (default: AUTOMOUNT_ROOT/x, as on the guest)\n"
#endif

#ifdef _WIN32
#define SERVICE_HELP "\n" \
"  --service install [OPTION]...  register the Windows service winapi-hostd,\n" \
"                                 which runs with these options\n" \
"  --service uninstall            stop and remove the service\n" \
"  --service run [OPTION]...      what the Service Control Manager starts\n"
#else
#define SERVICE_HELP ""
#endif

#ifdef _WIN32
#define KEEP_MAPS_HELP "; while it is mapped,\n" \
"                         Windows will not shrink it"
#else
#define KEEP_MAPS_HELP ""
#endif

static void usage(FILE *out)
{
    fprintf(out,
"Usage: winapi-hostd [OPTION]...\n"
"Serve shared-buffer requests from winapifs and libwinapi clients.\n"
"\n"
"  --listen ADDR:PORT     address to listen on (default %s:%s; [::1]:PORT for IPv6)\n"
"  --allow HOSTDIR        allow buffers below this host directory; repeatable\n"
"                         (default %s)\n"
DRIVE_HELP
"  --token-file FILE      require clients to say hello with a token of this\n"
"                         file, which may grant each only some operations,\n"
"                         roots and access (see winapi-hostd(8))\n"
"  --key-file FILE        the AES-256 key of encrypt and decrypt: 32 bytes,\n"
"                         raw or as 64 hex digits (without it they do not exist)\n"
"  --plugin FILE          load an operation from a shared library exporting\n"
"                         winapi_plugin_v1 (see winapi-plugin(3)); repeatable\n"
"  --automount-root DIR   guest automount root used to translate file_path\n"
"                         when a request has no host_path (default %s)\n"
"  --threads N            worker threads (default: number of CPUs, at least 2)\n"
"  --queue N              requests waiting for a worker before new ones are\n"
"                         answered busy (default %d)\n"
"  --max-connections N    connections open at once; more are answered busy\n"
"                         and closed (default %d)\n"
"  --max-pending BYTES    a client that leaves more answers than this unread\n"
"                         is disconnected (default 4M; K, M, G suffixes)\n"
"  --handshake-timeout S  close a connection that sends no whole request\n"
"                         within S seconds (default %d; 0: never)\n"
"  --idle-timeout S       close a connection idle S seconds after its last\n"
"                         answer (default %d; 0: never)\n"
"  --max-jobs N           async jobs kept at once; beyond, the first ended is\n"
"                         forgotten, or busy if all work (default %d)\n"
"  --job-ttl S            keep an ended async job's answer S seconds (default %d)\n"
"  --keep-maps S          keep a file mapped S seconds after its last request,\n"
"                         to serve the next without mapping it again\n"
"                         (default %d; 0: never)" KEEP_MAPS_HELP "\n"
"  --port-file FILE       write the port bound to FILE (useful with port 0)\n"
"  --log-file FILE        append the log to FILE, each line with its time,\n"
"                         instead of stderr or syslog\n"
"  --foreground           stay in the foreground; log to stderr (or --log-file)\n"
"  --verbose              log one line per request\n"
"  --help                 show this help and exit\n"
"  --version              show the version and exit\n"
SERVICE_HELP
"\n"
"See winapi-hostd(8).\n",
            HOSTD_DEFAULT_LISTEN_ADDR, HOSTD_DEFAULT_PORT, HOSTD_DEFAULT_ALLOW,
            WP_DEFAULT_AUTOMOUNT_ROOT, HOSTD_DEFAULT_QUEUE, HOSTD_DEFAULT_MAX_CONNECTIONS,
            HOSTD_DEFAULT_HANDSHAKE_TIMEOUT, HOSTD_DEFAULT_IDLE_TIMEOUT,
            HOSTD_DEFAULT_MAX_JOBS, HOSTD_DEFAULT_JOB_TTL, PLAT_KEEP_MAPS);
}

static int bad(const char *opt, const char *arg, const char *why)
{
    fprintf(log_early(), "winapi-hostd: %s %s: %s\n", opt, arg, why);
    return -1;
}

static int parse_listen(struct hostd_config *cfg, const char *arg)
{
    const char *colon = strrchr(arg, ':');
    const char *host = arg;
    size_t hlen;
    char *end;
    long port;

    if (!colon)
        return bad("--listen", arg, "expected ADDR:PORT");
    hlen = (size_t)(colon - arg);
    if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= sizeof(cfg->listen_addr) || errno || end == colon + 1 ||
        *end || port < 0 || port > 65535)
        return bad("--listen", arg, "expected ADDR:PORT with PORT from 0 to 65535");
    memcpy(cfg->listen_addr, host, hlen);
    cfg->listen_addr[hlen] = '\0';
    snprintf(cfg->listen_port, sizeof(cfg->listen_port), "%ld", port);
    return 0;
}

static int add_allow(struct hostd_config *cfg, const char *arg)
{
    char err[256];

    if (cfg->n_allow == HOSTD_MAX_ROOTS)
        return bad("--allow", arg, "too many allowed roots");
    if (wp_path_host_canon(arg, cfg->allow[cfg->n_allow], WP_HOST_PATH_MAX,
                           err, sizeof(err)) < 0)
        return bad("--allow", arg, err);
    cfg->n_allow++;
    return 0;
}

static int add_drive(struct hostd_config *cfg, const char *arg)
{
    int letter = toupper((unsigned char)arg[0]);

#ifdef _WIN32
    (void)cfg;
    (void)letter;
    return bad("--drive", arg, "only POSIX hosts map drives to directories");
#else
    if (letter < 'A' || letter > 'Z' || arg[1] != '=' || arg[2] != '/')
        return bad("--drive", arg, "expected X=/absolute/directory");
    free(cfg->drive[letter - 'A']);
    cfg->drive[letter - 'A'] = strdup(arg + 2);
    return cfg->drive[letter - 'A'] ? 0 : bad("--drive", arg, "out of memory");
#endif
}

static int parse_number(const char *opt, const char *arg, long min, long max, int *out)
{
    char buf[64];
    char *end;
    long n;

    errno = 0;
    n = strtol(arg, &end, 10);
    if (errno || end == arg || *end || n < min || n > max) {
        snprintf(buf, sizeof(buf), "expected a number from %ld to %ld", min, max);
        return bad(opt, arg, buf);
    }
    *out = (int)n;
    return 0;
}

static int parse_count(const char *opt, const char *arg, long max, int *out)
{
    return parse_number(opt, arg, 1, max, out);
}

/* Bytes, with an optional K, M or G (powers of 1024), from 1 KiB to 1 TiB. */
static int parse_bytes(const char *opt, const char *arg, size_t *out)
{
    char *end;
    unsigned long long n;
    int shift = 0;

    errno = 0;
    n = strtoull(arg, &end, 10);
    if (*end && !end[1])
        switch (*end) {
        case 'k': case 'K': shift = 10; end++; break;
        case 'm': case 'M': shift = 20; end++; break;
        case 'g': case 'G': shift = 30; end++; break;
        }
    if (errno || end == arg || *end || arg[0] == '-' || n > (1ull << 40) >> shift ||
        n << shift < 1024 || (uint64_t)(n << shift) > SIZE_MAX)
        return bad(opt, arg, "expected bytes from 1K to 1T (K, M, G suffixes)");
    *out = (size_t)(n << shift);
    return 0;
}

enum { OPT_LISTEN = 256, OPT_ALLOW, OPT_DRIVE, OPT_TOKEN, OPT_ROOT, OPT_THREADS,
       OPT_QUEUE, OPT_PORTFILE, OPT_FG, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
       OPT_MAXCONN, OPT_MAXPENDING, OPT_HANDSHAKE, OPT_IDLE, OPT_LOGFILE,
       OPT_MAXJOBS, OPT_JOBTTL, OPT_KEY, OPT_PLUGIN, OPT_KEEPMAPS };

static const struct option options[] = {
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "allow", required_argument, NULL, OPT_ALLOW },
    { "drive", required_argument, NULL, OPT_DRIVE },
    { "token-file", required_argument, NULL, OPT_TOKEN },
    { "key-file", required_argument, NULL, OPT_KEY },
    { "plugin", required_argument, NULL, OPT_PLUGIN },
    { "keep-maps", required_argument, NULL, OPT_KEEPMAPS },
    { "automount-root", required_argument, NULL, OPT_ROOT },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "queue", required_argument, NULL, OPT_QUEUE },
    { "port-file", required_argument, NULL, OPT_PORTFILE },
    { "log-file", required_argument, NULL, OPT_LOGFILE },
    { "max-connections", required_argument, NULL, OPT_MAXCONN },
    { "max-pending", required_argument, NULL, OPT_MAXPENDING },
    { "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
    { "idle-timeout", required_argument, NULL, OPT_IDLE },
    { "max-jobs", required_argument, NULL, OPT_MAXJOBS },
    { "job-ttl", required_argument, NULL, OPT_JOBTTL },
    { "foreground", no_argument, NULL, OPT_FG },
    { "verbose", no_argument, NULL, OPT_VERBOSE },
    { "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static int parse_one(struct hostd_config *cfg, int opt, const char *arg)
{
    switch (opt) {
    case OPT_LISTEN:   return parse_listen(cfg, arg);
    case OPT_ALLOW:    return add_allow(cfg, arg);
    case OPT_DRIVE:    return add_drive(cfg, arg);
    case OPT_TOKEN:    cfg->token_file = arg; return 0;
    case OPT_KEY:      cfg->key_file = arg; return 0;
    case OPT_PLUGIN:
        if (cfg->n_plugins == HOSTD_MAX_PLUGINS)
            return bad("--plugin", arg, "too many plugins");
        cfg->plugins[cfg->n_plugins++] = arg;
        return 0;
    case OPT_THREADS:  return parse_count("--threads", arg, 256, &cfg->threads);
    case OPT_QUEUE:    return parse_count("--queue", arg, 1000000, &cfg->queue);
    case OPT_PORTFILE: cfg->port_file = arg; return 0;
    case OPT_LOGFILE:  cfg->log_file = arg; return 0;
    case OPT_MAXCONN:
        return parse_count("--max-connections", arg, 1000000, &cfg->max_connections);
    case OPT_MAXPENDING:
        return parse_bytes("--max-pending", arg, &cfg->max_pending);
    case OPT_HANDSHAKE:
        return parse_number("--handshake-timeout", arg, 0, 86400, &cfg->handshake_timeout);
    case OPT_IDLE:
        return parse_number("--idle-timeout", arg, 0, 31536000, &cfg->idle_timeout);
    case OPT_MAXJOBS:
        return parse_count("--max-jobs", arg, 1000000, &cfg->max_jobs);
    case OPT_JOBTTL:
        return parse_number("--job-ttl", arg, 0, 31536000, &cfg->job_ttl);
    case OPT_KEEPMAPS:
        return parse_number("--keep-maps", arg, 0, 3600, &cfg->keep_maps);
    case OPT_FG:       cfg->foreground = true; return 0;
    case OPT_VERBOSE:  cfg->verbose = true; return 0;
    case OPT_ROOT:
        if (wp_path_root_normalize(arg, cfg->automount_root,
                                   sizeof(cfg->automount_root)) < 0)
            return bad("--automount-root", arg, "expected an absolute directory");
        return 0;
    default:
        fprintf(log_early(), "Try 'winapi-hostd --help' for more information.\n");
        return -1;
    }
}

/* The local directory for an allowed root. */
static char *local_dir(const struct hostd_config *cfg, const char *root)
{
#ifdef _WIN32
    (void)cfg;
    return strdup(root);
#else
    const char *drive = cfg->drive[root[0] - 'A'];
    const char *sub = root + 3;
    char fallback[WP_GUEST_PATH_MAX + 2];
    size_t dl, n;
    char *out;

    if (!drive) {
        snprintf(fallback, sizeof(fallback), "%s%c", cfg->automount_root,
                 tolower((unsigned char)root[0]));
        drive = fallback;
    }
    dl = strlen(drive);
    n = dl + 1 + strlen(sub) + 1;
    out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "%s/%s", drive, sub);
    for (char *p = out + dl; *p; p++)
        if (*p == '\\')
            *p = '/';
    return out;
#endif
}

int config_parse(struct hostd_config *cfg, int argc, char **argv)
{
    char err[1024];
    int opt;

    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen_addr, HOSTD_DEFAULT_LISTEN_ADDR);
    strcpy(cfg->listen_port, HOSTD_DEFAULT_PORT);
    strcpy(cfg->automount_root, WP_DEFAULT_AUTOMOUNT_ROOT);
    cfg->queue = HOSTD_DEFAULT_QUEUE;
    cfg->max_connections = HOSTD_DEFAULT_MAX_CONNECTIONS;
    cfg->max_pending = HOSTD_DEFAULT_MAX_PENDING;
    cfg->handshake_timeout = HOSTD_DEFAULT_HANDSHAKE_TIMEOUT;
    cfg->idle_timeout = HOSTD_DEFAULT_IDLE_TIMEOUT;
    cfg->max_jobs = HOSTD_DEFAULT_MAX_JOBS;
    cfg->job_ttl = HOSTD_DEFAULT_JOB_TTL;
    cfg->keep_maps = PLAT_KEEP_MAPS;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (opt == OPT_VERSION) {
            printf("winapi-hostd %s (protocol %d)\n", PACKAGE_VERSION, WP_PROTOCOL_VERSION);
            return 1;
        }
        if (parse_one(cfg, opt, optarg) < 0)
            return -1;
    }
    if (optind < argc)
        return bad("argument", argv[optind], "unexpected (see --help)");
    if (cfg->n_allow == 0)
        add_allow(cfg, HOSTD_DEFAULT_ALLOW);
    plat_keep_maps(cfg->keep_maps);
    if (cfg->threads == 0)
        cfg->threads = plat_ncpu() < 2 ? 2 : plat_ncpu();
    /* Before detaching, which leaves the working directory. */
    for (int i = 0; i < cfg->n_plugins; i++)
        if (plugin_load(cfg->plugins[i], err, sizeof(err)) < 0) {
            fprintf(log_early(), "winapi-hostd: %s\n", err);
            return -1;
        }
    if (cfg->token_file) {
        if (grants_load(cfg->token_file, &cfg->grants, err, sizeof(err)) < 0) {
            fprintf(log_early(), "winapi-hostd: %s\n", err);
            return -1;
        }
    }
    if (cfg->key_file) {
        unsigned char key[CRYPT_KEY_BYTES];
        if (crypt_key_load(cfg->key_file, key, err, sizeof(err)) < 0) {
            fprintf(log_early(), "winapi-hostd: %s\n", err);
            return -1;
        }
        crypt_set_key(key);
        memset(key, 0, sizeof(key));
    }
    for (int i = 0; i < cfg->n_allow; i++)
        if (!(cfg->allow_local[i] = local_dir(cfg, cfg->allow[i]))) {
            fprintf(log_early(), "winapi-hostd: out of memory\n");
            return -1;
        }
    return 0;
}

void config_free(struct hostd_config *cfg)
{
    for (int i = 0; i < 26; i++)
        free(cfg->drive[i]);
    for (int i = 0; i < cfg->n_allow; i++)
        free(cfg->allow_local[i]);
    grants_free(&cfg->grants);
    plugins_unload();
}

int config_locate(const struct hostd_config *cfg, const char *host,
                  const char **local_root, const char **rel, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->n_allow; i++) {
        size_t skip = wp_path_host_below(cfg->allow[i], host);

        if (skip == 0)
            continue;
        *rel = host + skip;
        *local_root = cfg->allow_local[i];
        return 0;
    }
    snprintf(err, errlen, "%s is outside the allowed roots", host);
    return -1;
}

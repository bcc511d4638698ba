/*
 * main.c - winapifs: mount a directory in which every regular file is a
 * memory buffer shared with the Windows host.  See winapifs(1).
 *
 *   winapifs [-f] [-d] [-o OPTION[,OPTION...]] MOUNTPOINT
 *   mount -t fuse.winapifs winapifs MOUNTPOINT -o OPTIONS   (through mount.fuse3)
 *
 * Setup runs in this order, and main() unwinds it in reverse: options and
 * the mount point, the host handle (libwinapi), the backing directory, the
 * namespace, the FUSE session, signal handlers, the mount, the notifier
 * thread, the multithreaded session loop.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#include "passthrough.h"
#include "persist.h"
#include "winapifs.h"
#include "wp_mountinfo.h"
#include "wp_path.h"

/*
 * Workers: a user.winapi.process holds one for as long as the host takes,
 * so there must be plenty left for reads and writes meanwhile.  libfuse
 * starts them only when all are busy.
 */
#define WFS_MAX_THREADS 64
/*
 * Idle workers beyond these exit, and free their request buffers (1 MiB
 * each once a write has used one): after a burst of parallel I/O the
 * daemon shrinks back.
 */
#define WFS_MAX_IDLE_THREADS 8

struct config {
    char *backing_dir;
    char *host;
    int port;
    char *token_file;
    char *automount_root;
    int timeout;
    char *passthrough;          /* auto, on, off */
    enum pt_mode pt_mode;
    int keep;                   /* -o keep */
    char *source;               /* mount.fuse3's first argument */
    char *mountpoint;
    bool max_threads_given;
    bool fsname_given;
    bool subtype_given;
    bool help_or_version;
    unsigned readahead;         /* -o max_readahead=, bytes */
    unsigned max_read;          /* -o max_read=, bytes */
};

enum { KEY_MAX_THREADS, KEY_FSNAME, KEY_SUBTYPE, KEY_HELP, KEY_READAHEAD, KEY_MAX_READ };

#define CONFIG_OPT(t, p) { t, offsetof(struct config, p), 1 }
static const struct fuse_opt config_spec[] = {
    CONFIG_OPT("backing_dir=%s", backing_dir),
    CONFIG_OPT("host=%s", host),
    CONFIG_OPT("port=%d", port),
    CONFIG_OPT("token_file=%s", token_file),
    CONFIG_OPT("automount_root=%s", automount_root),
    CONFIG_OPT("timeout=%d", timeout),
    CONFIG_OPT("passthrough=%s", passthrough),
    CONFIG_OPT("keep", keep),
    FUSE_OPT_KEY("max_threads=", KEY_MAX_THREADS),
    FUSE_OPT_KEY("fsname=", KEY_FSNAME),
    FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
    FUSE_OPT_KEY("max_readahead=", KEY_READAHEAD),
    FUSE_OPT_KEY("max_read=", KEY_MAX_READ),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_HELP),
    FUSE_OPT_KEY("--version", KEY_HELP),
    FUSE_OPT_END
};

static void usage(const char *progname)
{
    printf(
"usage: %s [options] MOUNTPOINT\n"
"Mount a directory in which every regular file is a buffer shared with the\n"
"Windows host; see winapifs(1).\n"
"\n"
"winapifs options:\n"
"    -o backing_dir=DIR     where the backing files live (default %s)\n"
"    -o host=ADDR           host daemon address (default %s)\n"
"    -o port=N              host daemon port (default %d)\n"
"    -o token_file=FILE     file holding the host's token\n"
"    -o automount_root=DIR  guest root of the drive mounts (default: as\n"
"                           wslpath finds it, else %s)\n"
"    -o timeout=SECONDS     how long to wait for the host (default %d)\n"
"    -o passthrough=MODE    auto: hand open files to the kernel where it\n"
"                           allows (Linux 6.9+, as root), else serve reads\n"
"                           and writes here; on: refuse to mount without\n"
"                           it; off: never (default auto)\n"
"    -o keep                keep the files and their names after a clean\n"
"                           unmount, for the next mount over backing_dir\n"
"                           (without it they are removed; after a crash\n"
"                           the next mount recovers them either way)\n"
"    (winapifs's own defaults for the FUSE options below: max_threads=%d,\n"
"    max_idle_threads=%d)\n"
"\n",
           progname, WINAPI_DEFAULT_BACKING_DIR, WINAPI_DEFAULT_HOST,
           WINAPI_DEFAULT_PORT, WP_DEFAULT_AUTOMOUNT_ROOT, WINAPI_DEFAULT_TIMEOUT,
           WFS_MAX_THREADS, WFS_MAX_IDLE_THREADS);
}

/*
 * Non-options: the mount point, or, from mount.fuse3 and /etc/fstab,
 * "SOURCE MOUNTPOINT".  Kept here and handed to fuse_parse_cmdline() once
 * the mount point has been checked.
 */
static int config_nonopt(struct config *c, const char *arg)
{
    if (c->source) {
        fprintf(stderr, "winapifs: unexpected argument `%s'\n", arg);
        return -1;
    }
    if (c->mountpoint)
        c->source = c->mountpoint;
    c->mountpoint = strdup(arg);
    return c->mountpoint ? 0 : -1;
}

static int config_proc(void *data, const char *arg, int key, struct fuse_args *out)
{
    struct config *c = data;

    (void)out;
    switch (key) {
    case FUSE_OPT_KEY_NONOPT:
        return config_nonopt(c, arg);
    case KEY_MAX_THREADS:
        c->max_threads_given = true;
        return 1;
    case KEY_FSNAME:
        c->fsname_given = true;
        return 1;
    case KEY_SUBTYPE:
        c->subtype_given = true;
        return 1;
    case KEY_HELP:
        c->help_or_version = true;
        return 1;
    case KEY_READAHEAD:
    case KEY_MAX_READ:
        /* Noted here, and kept for libfuse, which tells the kernel. */
        if (sscanf(arg, "max_readahead=%u", &c->readahead) != 1 &&
            sscanf(arg, "max_read=%u", &c->max_read) != 1) {
            fprintf(stderr, "winapifs: bad option `%s'\n", arg);
            return -1;
        }
        return 1;
    default:
        return 1;
    }
}

static void config_free(struct config *c)
{
    free(c->backing_dir);
    free(c->host);
    free(c->token_file);
    free(c->automount_root);
    free(c->passthrough);
    free(c->source);
    free(c->mountpoint);
}

/*
 * Our defaults go first, so that the user's own -o fsname=... and the
 * like, coming later, win.  default_permissions has the kernel check the
 * modes kept in memory; without it chmod would mean nothing.  max_read is
 * a mount option, the kernel's cap on read requests (see winapifs.h).
 */
static int config_defaults(const struct config *c, struct fuse_args *args)
{
    char *opts = NULL, *fsname = NULL, *arg = NULL, max_read[32];
    int res = -1;

    snprintf(max_read, sizeof(max_read), "max_read=%u", WFS_MAX_READ);
    if (fuse_opt_add_opt(&opts, "default_permissions") < 0 ||
        (!c->subtype_given && fuse_opt_add_opt(&opts, "subtype=winapifs") < 0) ||
        (!c->max_read && fuse_opt_add_opt(&opts, max_read) < 0))
        goto out;
    if (!c->fsname_given) {
        if (asprintf(&fsname, "fsname=%s", c->source ? c->source : "winapifs") < 0) {
            fsname = NULL;
            goto out;
        }
        if (fuse_opt_add_opt_escaped(&opts, fsname) < 0)
            goto out;
    }
    if (asprintf(&arg, "-o%s", opts) < 0) {
        arg = NULL;
        goto out;
    }
    res = fuse_opt_insert_arg(args, 1, arg);
out:
    free(opts);
    free(fsname);
    free(arg);
    return res;
}

/* port= and timeout= are -1 when not given: libwinapi then decides. */
static int config_check(struct config *c)
{
    if (c->port != -1 && (c->port < 1 || c->port > 65535)) {
        fprintf(stderr, "winapifs: port=%d: expected a number from 1 to 65535\n", c->port);
        return -1;
    }
    if (c->timeout != -1 && c->timeout < 1) {
        fprintf(stderr, "winapifs: timeout=%d: expected a number of seconds, at least 1\n",
                c->timeout);
        return -1;
    }
    if (!c->mountpoint) {
        fprintf(stderr, "winapifs: no mount point given\n"
                        "Try 'winapifs --help' for more information.\n");
        return -1;
    }
    return 0;
}

/* ---- checks before mounting: a refused mount says why ---- */

/* The daemon leaves its working directory; relative paths must not matter. */
static int make_absolute(char **path)
{
    char cwd[PATH_MAX], *abs;

    if (!*path || (*path)[0] == '/')
        return 0;
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, *path) < 0) {
        perror("winapifs: cannot make a path absolute");
        return -1;
    }
    free(*path);
    *path = abs;
    return 0;
}

static int check_backing_dir(const char *dir, const char *root)
{
    char probe[WP_GUEST_PATH_MAX], host[WP_HOST_PATH_MAX], err[256];
    struct statvfs sv;
    struct stat st;

    if (stat(dir, &st) < 0) {
        fprintf(stderr, "winapifs: backing directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "winapifs: backing directory %s is not a directory\n", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        fprintf(stderr, "winapifs: backing directory %s is not writable: %s\n",
                dir, strerror(errno));
        return -1;
    }
    /* access() answers for root without looking at the file system. */
    if (statvfs(dir, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
        fprintf(stderr, "winapifs: backing directory %s is not writable: %s\n",
                dir, strerror(EROFS));
        return -1;
    }
    /* The host must be able to name the buffers, or no request can work. */
    snprintf(probe, sizeof(probe), "%s/winapi_shared_buffer_1_1", dir);
    if (wp_path_guest_to_host(probe, root, host, sizeof(host), err, sizeof(err)) < 0) {
        fprintf(stderr, "winapifs: backing directory %s has no host path (automount "
                        "root %s): %s\n", dir, root, err);
        return -1;
    }
    return 0;
}

struct mount_search {
    const char *path;
    char dev[32];
    bool found;
};

/* The last mount at the path wins: it is the one on top. */
static int match_mount(void *arg, const struct wp_mount *m)
{
    struct mount_search *ms = arg;

    if (strcmp(m->mount_point, ms->path) == 0) {
        ms->found = true;
        snprintf(ms->dev, sizeof(ms->dev), "%s", m->dev);
    }
    return 0;
}

/*
 * Find the mount at path: true, with its device ("0:42") in dev, when
 * something is mounted there.
 */
static bool mountinfo_find(const char *path, char *dev, size_t devlen)
{
    struct mount_search ms = { .path = path };

    if (wp_mountinfo_each(NULL, match_mount, &ms) < 0 || !ms.found)
        return false;
    snprintf(dev, devlen, "%s", ms.dev);
    return true;
}

static bool is_mount_point(const char *path)
{
    char dev[32];

    return mountinfo_find(path, dev, sizeof(dev));
}

/*
 * The kernel caps a FUSE mount's read-ahead at its bdi's read_ahead_kb,
 * 128 KiB, whatever max_readahead says; large sequential reads of buffers
 * want more (see bench/).  Root may raise the cap, and does so here, before
 * the kernel's INIT reply sets read-ahead to the lesser of the two.
 * Anyone else keeps the kernel's default.
 */
static void raise_readahead(const char *mountpoint, unsigned bytes)
{
    char dev[32], path[96];
    FILE *fp;

    if (!mountinfo_find(mountpoint, dev, sizeof(dev)))
        return;
    snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
    fp = fopen(path, "w");
    if (!fp) {
        fuse_log(FUSE_LOG_DEBUG, "winapifs: read-ahead stays the kernel's: %s: %s\n",
                 path, strerror(errno));
        return;
    }
    fprintf(fp, "%u\n", (bytes + 1023) / 1024);
    if (fclose(fp) != 0)
        fuse_log(FUSE_LOG_DEBUG, "winapifs: cannot set %s: %s\n", path, strerror(errno));
}

static int check_mountpoint(const char *mp)
{
    char real[PATH_MAX];
    struct stat st;

    /* mount.fuse3 -o drop_privileges passes an open /dev/fuse instead. */
    if (strncmp(mp, "/dev/fd/", 8) == 0)
        return 0;
    if (stat(mp, &st) < 0) {
        if (errno == ENOTCONN)
            fprintf(stderr, "winapifs: mount point %s: a dead FUSE mount is still "
                            "there; remove it with fusermount3 -u %s\n", mp, mp);
        else
            fprintf(stderr, "winapifs: mount point %s: %s\n", mp, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "winapifs: mount point %s is not a directory\n", mp);
        return -1;
    }
    if (realpath(mp, real) && is_mount_point(real)) {
        fprintf(stderr, "winapifs: mount point %s is busy: something is already "
                        "mounted there\n", mp);
        return -1;
    }
    return 0;
}

/*
 * Whether to ask the kernel for passthrough: with =on, a mount that could
 * not have it is refused here, before anything is mounted; with =auto one
 * line says why it is off.
 */
static int passthrough_setup(struct pt_state *pt, enum pt_mode mode,
                             const char *backing_dir)
{
    char why[160];

    pt_state_init(pt, mode);
    if (mode == PT_OFF || pt_probe(pt, backing_dir, why, sizeof(why)) == 0)
        return 0;
    if (mode == PT_ON) {
        fprintf(stderr, "winapifs: passthrough=on: %s\n", why);
        return -1;
    }
    fuse_log(FUSE_LOG_WARNING, "winapifs: kernel passthrough off: %s; the daemon "
                               "serves reads and writes\n", why);
    return 0;
}

/*
 * Start the journal that lets the namespace survive a crash, taking in
 * what killed mounts (or -o keep) left in the backing directory.
 */
static int namespace_start(struct node_ns *ns)
{
    unsigned long files;
    int err = persist_start(ns, &files);

    if (err) {
        fprintf(stderr, "winapifs: backing directory %s: cannot keep a journal there: %s\n",
                ns->backing_dir, strerror(err));
        return -1;
    }
    /* Until the mount is up, a failure must leave what was taken over. */
    ns->keep = true;
    if (files)
        fuse_log(FUSE_LOG_NOTICE, "winapifs: %s: took over %lu file%s left by an earlier "
                                  "mount\n", ns->backing_dir, files, files == 1 ? "" : "s");
    return 0;
}

/* ---- the host and the session ---- */

static int host_open(const struct config *c, winapi_handle_t *h)
{
    winapi_options_t o = {
        .host = c->host,
        .port = c->port > 0 ? c->port : 0,
        .token_file = c->token_file,
        .backing_dir = c->backing_dir,
        .automount_root = c->automount_root,
        .timeout = c->timeout > 0 ? c->timeout : 0,
    };

    if (winapi_open(&o, h) < 0) {
        fprintf(stderr, "winapifs: %s\n", winapi_last_error());
        return -1;
    }
    return 0;
}

/* One descriptor per buffer: lift the soft limit as far as we may. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void log_to_syslog(enum fuse_log_level level, const char *fmt, va_list ap)
{
    /* fuse_log_level's values are syslog's priorities. */
    vsyslog((int)level, fmt, ap);
}

static int session_loop(struct fuse_session *se, const struct fuse_cmdline_opts *opts,
                        bool max_threads_given)
{
    struct fuse_loop_config *lc;
    int ret;

    if (opts->singlethread)
        return fuse_session_loop(se);
    lc = fuse_loop_cfg_create();
    if (!lc)
        return -ENOMEM;
    fuse_loop_cfg_set_clone_fd(lc, (unsigned)opts->clone_fd);
    /* UINT_MAX is libfuse's "not given". */
    fuse_loop_cfg_set_idle_threads(lc, opts->max_idle_threads != UINT_MAX ?
                                       opts->max_idle_threads : WFS_MAX_IDLE_THREADS);
    fuse_loop_cfg_set_max_threads(lc, max_threads_given ? opts->max_threads
                                                        : WFS_MAX_THREADS);
    ret = fuse_session_loop_mt(se, lc);
    fuse_loop_cfg_destroy(lc);
    return ret;
}

static void print_version(void)
{
    struct pt_state pt;
    char why[160];

    pt_state_init(&pt, PT_AUTO);
    printf("winapifs version %s\n", PACKAGE_VERSION);
    printf("FUSE library version %s\n", fuse_pkgversion());
    if (pt_probe(&pt, "/", why, sizeof(why)) == 0)
        printf("kernel passthrough: available (a mount's user.winapi.passthrough "
               "says whether the kernel granted it)\n");
    else
        printf("kernel passthrough: unavailable: %s\n", why);
    pt_state_destroy(&pt);
    fflush(stdout);             /* fuse_lowlevel_version() runs fusermount3 */
    fuse_lowlevel_version();
}

/*
 * The command line, checked: 0 to go on, 1 when --help or --version has
 * been answered, -1 after saying what is wrong.
 */
static int parse_args(struct fuse_args *args, struct config *cfg,
                      struct fuse_cmdline_opts *opts, const char *progname)
{
    if (fuse_opt_parse(args, cfg, config_spec, config_proc) < 0)
        return -1;
    /*
     * Checked before libfuse resolves it, which would fail with a terser
     * message; then handed back for fuse_parse_cmdline().
     */
    if (cfg->mountpoint && !cfg->help_or_version && check_mountpoint(cfg->mountpoint) < 0)
        return -1;
    if (cfg->mountpoint && fuse_opt_add_arg(args, cfg->mountpoint) < 0)
        return -1;
    if (config_defaults(cfg, args) < 0 || fuse_parse_cmdline(args, opts) != 0)
        return -1;
    if (opts->show_help) {
        usage(progname);
        fuse_cmdline_help();
        fuse_lowlevel_help();
        return 1;
    }
    if (opts->show_version) {
        print_version();
        return 1;
    }
    if (cfg->passthrough && pt_parse_mode(cfg->passthrough, &cfg->pt_mode) < 0) {
        fprintf(stderr, "winapifs: passthrough=%s: expected auto, on or off\n",
                cfg->passthrough);
        return -1;
    }
    if (config_check(cfg) < 0 || make_absolute(&cfg->backing_dir) < 0 ||
        make_absolute(&cfg->automount_root) < 0 || make_absolute(&cfg->token_file) < 0)
        return -1;
    return 0;
}

int main(int argc, char *argv[])
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct config cfg = { .port = -1, .timeout = -1 };
    struct fuse_cmdline_opts opts = { 0 };
    struct wfs fs = { 0 };
    int ret = 1, rc;

    rc = parse_args(&args, &cfg, &opts, argv[0]);
    if (rc != 0) {
        ret = rc > 0 ? 0 : 1;
        goto err_out1;
    }
    fs.readahead = cfg.readahead ? cfg.readahead : WFS_READAHEAD;
    fs.max_read = cfg.max_read ? cfg.max_read : WFS_MAX_READ;
    fs.conn_opts = fuse_parse_conn_info_opts(&args);
    if (!fs.conn_opts)
        goto err_out1;
    if (host_open(&cfg, &fs.host) < 0)
        goto err_out2;
    if (check_backing_dir(winapi_backing_dir(fs.host), winapi_automount_root(fs.host)) < 0)
        goto err_out3;
    if (node_ns_init(&fs.ns, winapi_backing_dir(fs.host), winapi_automount_root(fs.host),
                     getuid(), getgid()) < 0) {
        perror("winapifs");
        goto err_out3;
    }
    raise_fd_limit();
    if (passthrough_setup(&fs.pt, cfg.pt_mode, winapi_backing_dir(fs.host)) < 0 ||
        namespace_start(&fs.ns) < 0)
        goto err_out4;

    fs.se = fuse_session_new(&args, &wfs_ops, sizeof(wfs_ops), &fs);
    if (!fs.se)
        goto err_out4;
    if (fuse_set_signal_handlers(fs.se) != 0)
        goto err_out5;
    if (fuse_session_mount(fs.se, opts.mountpoint) != 0)
        goto err_out6;
    fs.ns.keep = cfg.keep;
    fs.mountpoint = opts.mountpoint;    /* absolute: fuse_parse_cmdline took its realpath */
    raise_readahead(opts.mountpoint, fs.readahead);
    fuse_daemonize(opts.foreground);
    if (!opts.foreground) {
        openlog("winapifs", LOG_PID, LOG_DAEMON);
        fuse_set_log_func(log_to_syslog);
    }
    if (persist_run(&fs.ns) != 0)
        fuse_log(FUSE_LOG_WARNING, "winapifs: the journal is synced only when the mount "
                                   "ends: cannot start its thread\n");
    if (notify_start(&fs.notifier, fs.se) < 0) {
        fuse_log(FUSE_LOG_ERR, "winapifs: cannot start the notifier: %s\n", strerror(errno));
        goto err_out7;
    }

    /* A signal (SIGTERM, SIGINT) ends the loop as cleanly as an unmount. */
    watchers_init(&fs.watch);
    ret = session_loop(fs.se, &opts, cfg.max_threads_given) < 0 || fs.pt.refused;

    watchers_stop(&fs.watch);
    notify_stop(&fs.notifier);
err_out7:
    fuse_session_unmount(fs.se);
err_out6:
    fuse_remove_signal_handlers(fs.se);
err_out5:
    fuse_session_destroy(fs.se);
err_out4:
    /* Every backing file this mount created goes with it. */
    node_ns_destroy(&fs.ns);
    pt_state_destroy(&fs.pt);
err_out3:
    winapi_close(fs.host);
err_out2:
    free(fs.conn_opts);
err_out1:
    fuse_opt_free_args(&args);
    free(opts.mountpoint);
    config_free(&cfg);
    return ret;
}

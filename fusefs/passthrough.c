/*
 * passthrough.c - handing open files to the kernel (see passthrough.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "passthrough.h"

/* Backing files on these are stacked already: one more layer is all Linux allows. */
#define OVERLAYFS_MAGIC 0x794c7630
#define FUSE_MAGIC 0x65735546
#define ECRYPTFS_MAGIC 0xf15f

int pt_parse_mode(const char *s, enum pt_mode *mode)
{
    if (strcmp(s, "auto") == 0)
        *mode = PT_AUTO;
    else if (strcmp(s, "on") == 0)
        *mode = PT_ON;
    else if (strcmp(s, "off") == 0)
        *mode = PT_OFF;
    else
        return -1;
    return 0;
}

/* Linux 6.9 brought FUSE passthrough. */
static bool kernel_has_passthrough(char *release, size_t len)
{
    struct utsname u;
    int major = 0, minor = 0;

    if (uname(&u) < 0)
        return true;    /* let the kernel's INIT answer decide */
    snprintf(release, len, "%s", u.release);
    if (sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return true;
    return major > 6 || (major == 6 && minor >= 9);
}

/* CAP_SYS_ADMIN in the effective set, as FUSE_DEV_IOC_BACKING_OPEN wants. */
static bool have_sys_admin(void)
{
    char line[256];
    unsigned long long caps = 0;
    bool found = false;
    FILE *fp = fopen("/proc/self/status", "r");

    if (!fp)
        return true;    /* cannot tell: let the kernel decide */
    while (!found && fgets(line, sizeof(line), fp))
        found = sscanf(line, "CapEff: %llx", &caps) == 1;
    fclose(fp);
    return !found || (caps & (1ULL << 21)) != 0;   /* CAP_SYS_ADMIN */
}

int pt_probe(struct pt_state *pt, const char *backing_dir, char *why, size_t len)
{
    char release[65] = "";
    struct statfs sf;

    why[0] = '\0';
    if (statfs(backing_dir, &sf) == 0 &&
        (sf.f_type == OVERLAYFS_MAGIC || sf.f_type == FUSE_MAGIC ||
         sf.f_type == ECRYPTFS_MAGIC))
        pt->stack_depth = FUSE_BACKING_STACKED_OVER;
    if (!kernel_has_passthrough(release, sizeof(release)))
        snprintf(why, len, "Linux %s has no FUSE passthrough (it came with 6.9)", release);
    else if (!have_sys_admin())
        snprintf(why, len, "passthrough needs CAP_SYS_ADMIN (mount as root)");
    pt->usable = why[0] == '\0';
    if (!pt->usable)
        snprintf(pt->why, sizeof(pt->why), "%s", why);
    return pt->usable ? 0 : -1;
}

/* Passthrough is off from now on, for reason; said once. */
static void pt_off(struct wfs *fs, const char *reason)
{
    pthread_mutex_lock(&fs->pt.lock);
    if (atomic_exchange(&fs->pt.active, false) || fs->pt.why[0] == '\0') {
        snprintf(fs->pt.why, sizeof(fs->pt.why), "%s", reason);
        fuse_log(FUSE_LOG_WARNING, "winapifs: kernel passthrough off: %s; "
                                   "the daemon serves reads and writes\n", reason);
    }
    pthread_mutex_unlock(&fs->pt.lock);
}

void pt_init(struct wfs *fs, struct fuse_conn_info *conn)
{
    if (fs->pt.mode == PT_OFF) {
        snprintf(fs->pt.why, sizeof(fs->pt.why), "passthrough=off");
        return;
    }
    if (!fs->pt.usable)
        return;         /* main() has said why */
    if (!fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH)) {
        if (fs->pt.mode == PT_ON) {
            fuse_log(FUSE_LOG_ERR, "winapifs: passthrough=on, but the kernel does not "
                                   "offer FUSE passthrough (CONFIG_FUSE_PASSTHROUGH)\n");
            fs->pt.refused = true;
            fuse_session_exit(fs->se);
            return;
        }
        pt_off(fs, "the kernel does not offer FUSE passthrough (CONFIG_FUSE_PASSTHROUGH)");
        return;
    }
    conn->max_backing_stack_depth = fs->pt.stack_depth;
    atomic_store(&fs->pt.active, true);
}

/* Release the ids of opens whose reply never reached the kernel. */
static void drain_parked(struct wfs *fs, fuse_req_t req)
{
    int ids[PT_PARKED_MAX];
    unsigned n;

    pthread_mutex_lock(&fs->pt.lock);
    n = fs->pt.nparked;
    memcpy(ids, fs->pt.parked, n * sizeof(ids[0]));
    fs->pt.nparked = 0;
    pthread_mutex_unlock(&fs->pt.lock);
    for (unsigned i = 0; i < n; i++)
        fuse_passthrough_close(req, ids[i]);
}

static void park(struct wfs *fs, int id)
{
    pthread_mutex_lock(&fs->pt.lock);
    if (fs->pt.nparked < PT_PARKED_MAX)
        fs->pt.parked[fs->pt.nparked++] = id;
    /* Else the kernel frees it at unmount: a leak bounded by the mount's life. */
    pthread_mutex_unlock(&fs->pt.lock);
}

static bool privileged(struct node *n)
{
    return (n->mode & S_ISUID) || (n->mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP);
}

static void set_daemon_io(struct fuse_file_info *fi)
{
    /*
     * Every change comes through this mount, or from a host operation
     * after which notify.c drops the cache, so pages stay valid from one
     * open to the next.
     */
    fi->keep_cache = 1;
    /*
     * A write-only descriptor can be neither read nor mmap'ed, so the page
     * cache gains it nothing.  As direct I/O its writes come straight from
     * the caller's pages, instead of being copied into the page cache first
     * (measured: writes 0.53 of direct tmpfs speed instead of 0.31).
     */
    fi->direct_io = (fi->flags & O_ACCMODE) == O_WRONLY;
}

/*
 * The kernel wants every open of an inode that has passthrough handles to
 * be passthrough too, so an existing backing id is always reused; a file
 * made set-user-ID while so open stays passthrough until its last close.
 */
int pt_open(struct wfs *fs, fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
    bool active = atomic_load(&fs->pt.active), priv;
    int id, err = 0;

    fi->fh = (uint64_t)n->fd;       /* open for as long as the handle is */
    if (active)
        drain_parked(fs, req);
    pthread_mutex_lock(&n->lock);
    priv = privileged(n);
    if (active && !priv && !n->backing_id) {
        errno = 0;
        n->backing_id = fuse_passthrough_open(req, n->fd);
        err = errno ? errno : EIO;
    }
    id = n->backing_id;
    pthread_mutex_unlock(&n->lock);
    if (id > 0) {
        fi->backing_id = id;
        fi->keep_cache = 0;
        /*
         * A passthrough file has no dirty pages of its own to write back on
         * close, and the daemon nothing to flush: spare every close(2) its
         * FLUSH round trip.  (Not for the daemon's I/O: there, close writes
         * a shared mapping's dirty pages back, as winapifs(1) promises.)
         */
        fi->noflush = 1;
        return 0;
    }
    if (active && priv) {
        /* Uncached, which the kernel lets passthrough handles join later. */
        fi->direct_io = 1;
        return 0;
    }
    if (active && fs->pt.mode == PT_ON)
        return err;
    if (active)
        pt_off(fs, strerror(err));
    set_daemon_io(fi);
    return 0;
}

void pt_release(struct wfs *fs, fuse_req_t req, struct node *n)
{
    int id = node_close(n);

    if (!id)
        return;
    if (req)
        fuse_passthrough_close(req, id);
    else
        park(fs, id);
}

void pt_status(struct wfs *fs, char *buf, size_t len)
{
    pthread_mutex_lock(&fs->pt.lock);
    if (atomic_load(&fs->pt.active))
        snprintf(buf, len, "on");
    else
        snprintf(buf, len, "off: %s", fs->pt.why[0] ? fs->pt.why : "not granted");
    pthread_mutex_unlock(&fs->pt.lock);
}

void pt_state_init(struct pt_state *pt, enum pt_mode mode)
{
    memset(pt, 0, sizeof(*pt));
    pt->mode = mode;
    pthread_mutex_init(&pt->lock, NULL);
}

void pt_state_destroy(struct pt_state *pt)
{
    pthread_mutex_destroy(&pt->lock);
}

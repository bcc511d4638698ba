/*
 * journal.h - what makes winapifs's namespace survive a crash.
 *
 * Every change to the namespace (node.c) is appended, before it is
 * answered, as one record to the mount's journal in the backing directory,
 * .winapifs.PID-N.journal.  A record is one line, "CRC32 FIELDS...\n": a torn
 * or damaged tail (power loss) is recognised and ignored, so recovery gives
 * the namespace as of the last whole record.  The kernel keeps what was
 * written when the process dies (SIGKILL, a crash); against power loss the
 * journal is synced within JOURNAL_SYNC_SECONDS, and at every compaction.
 *
 * When the journal has grown to several times what a fresh one would hold,
 * node.c writes a fresh one (a snapshot of the namespace, in the same
 * records) beside it and renames it into place.
 *
 * The file is locked (flock) while its mount runs.  A new mount adopts
 * every journal in the backing directory that nobody holds: that of a
 * killed mount, or of one unmounted with -o keep.
 *
 * All functions return 0 or a positive errno.  journal_append() may be
 * called from any thread.
 */
#ifndef WINAPIFS_JOURNAL_H
#define WINAPIFS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define JOURNAL_SYNC_SECONDS 1

/* One record; which fields count depends on op. */
enum jrec_op {
    JR_NODE = 'N',      /* ino type mode uid gid times buffer_id str (backing name, or symlink target) */
    JR_LINK = 'L',      /* dir name -> ino */
    JR_UNLINK = 'U',    /* dir name */
    JR_MOVE = 'M',      /* dir name -> dir2 name2 (nothing at dir2/name2) */
    JR_SWAP = 'X',      /* dir name <-> dir2 name2 */
    JR_ATTR = 'A',      /* ino mode uid gid times */
    JR_XSET = 'S',      /* ino str (attribute name) = value */
    JR_XDEL = 'D',      /* ino str */
};

struct jrec {
    enum jrec_op op;
    uint64_t ino, dir, dir2;
    mode_t mode;                /* type included */
    uid_t uid;
    gid_t gid;
    struct timespec atime, mtime, ctime;
    uint32_t buffer_id;
    const char *name, *name2, *str;
    const void *value;
    size_t value_len;
};

struct journal;

/*
 * Create and lock this process's journal in the directory dirfd (which the
 * journal keeps using; the caller keeps it open).
 */
int journal_open(int dirfd, struct journal **out);

/*
 * Start the thread that syncs the journal every JOURNAL_SYNC_SECONDS:
 * after fuse_daemonize(), whose fork keeps no thread.  0 or an errno.
 */
int journal_start_syncer(struct journal *j);

/*
 * Append r, or do nothing for a NULL journal (a mount that keeps none).
 * A failure is logged once and the mount goes on: losing crash safety must
 * not lose the user's operation.
 */
void journal_append(struct journal *j, const struct jrec *r);

/* Whether the journal has grown enough to be worth rewriting. */
bool journal_wants_compaction(const struct journal *j);

/*
 * Rewrite the journal: journal_compact_begin() starts a new file, whose
 * records go through journal_append() until journal_compact_end() syncs it
 * and puts it in place of the old one (or, with ok false, throws it away).
 * The caller holds whatever stops other appends meanwhile.
 */
int journal_compact_begin(struct journal *j);
int journal_compact_end(struct journal *j, bool ok);

/*
 * Close the journal: with keep, synced and left for the next mount;
 * without, removed.
 */
void journal_close(struct journal *j, bool keep);

/* A journal of another mount that nobody holds, locked by us now. */
struct journal_orphan {
    int fd;
    char name[64];
};

/*
 * Find and lock the journals in dirfd that no running mount holds, up to
 * max.  Returns how many were found (0 when none).
 */
size_t journal_find_orphans(int dirfd, struct journal_orphan *out, size_t max);

/*
 * Read an orphan's records in order, calling fn for each whole one until
 * it returns nonzero; a torn tail ends the replay quietly.
 */
typedef int journal_replay_fn(void *arg, const struct jrec *r);
int journal_replay(struct journal_orphan *o, journal_replay_fn *fn, void *arg);

/* Remove an adopted orphan (its records now live in this mount's journal). */
void journal_orphan_done(int dirfd, struct journal_orphan *o, bool remove);

#endif /* WINAPIFS_JOURNAL_H */

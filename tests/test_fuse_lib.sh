# test_fuse_lib.sh - sourced by the test_fuse_*.sh tests; not a test itself.
#
# Each test runs through run-test.sh, which has started a winapi-hostd and
# exported WINAPI_PORT, WINAPI_BACKING_DIR and the rest.  mount_fs mounts
# winapifs in a directory under $WINAPI_TEST_WORK against that daemon; the
# EXIT trap unmounts whatever is still mounted, pass or fail.
#
# A test skips (exit 77) only when FUSE cannot be used here: no /dev/fuse,
# or one that cannot be opened.  With CI set in the environment a skip is
# a failure, so that CI never passes without having mounted anything.

set -u
: "${WINAPI_TEST_WORK:?run me through run-test.sh}"
: "${top_builddir:?run me through run-test.sh}"

export LC_ALL=C
# WINAPIFS may name another build (a sanitizer build, an installed one).
WINAPIFS=${WINAPIFS:-$top_builddir/fusefs/winapifs}
TOOL="python3 $top_srcdir/tests/test_fuse_tool.py"
BACKING=$WINAPI_BACKING_DIR
MOUNTS=""
FAILED=0

skip() {
    echo "SKIP: $*"
    if [ -n "${CI:-}" ]; then
        echo "FAIL: CI is set, and a skipped FUSE test proves nothing" >&2
        exit 1
    fi
    exit 77
}

fuse_usable() {
    [ -c /dev/fuse ] || skip "no /dev/fuse"
    (exec 3<>/dev/fuse) 2>/dev/null || skip "/dev/fuse cannot be opened"
    if [ "$(id -u)" -ne 0 ] && ! command -v fusermount3 >/dev/null; then
        skip "not root, and no fusermount3"
    fi
}

# Failures are counted, and the test goes on, so one run shows them all.
fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}

ok() {
    echo "ok - $*"
}

# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        fail "$1: expected '$2', got '$3'"
    fi
}

# Fatal: stop here (the trap still unmounts).
die() {
    echo "FAIL: $*" >&2
    exit 1
}

finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "$FAILED check(s) failed" >&2
        exit 1
    fi
    exit 0
}

# Every mount of the test: "MOUNTPOINT:PID" of its daemon.
DAEMONS=""

# unmount_fs MOUNTPOINT: unmount, wait for the daemon to finish (it removes
# its backing files on the way out), and fail if it exited with an error
# (under valgrind: if valgrind saw an error or a definite leak).
unmount_fs() {
    pid=""
    rest=""
    for e in $DAEMONS; do
        if [ "${e%:*}" = "$1" ]; then pid=${e##*:}; else rest="$rest $e"; fi
    done
    DAEMONS=$rest
    fusermount3 -u "$1" 2>/dev/null || umount "$1" ||
        { fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1"; }
    [ -n "$pid" ] || return 0
    if wait "$pid"; then
        return 0
    fi
    fail "winapifs on $1 exited with status $?"
    [ -s "$1.valgrind" ] && cat "$1.valgrind" >&2
    return 1
}

# The daemon exited on its own (a signal): forget it without unmounting.
daemon_gone() {
    rest=""
    for e in $DAEMONS; do
        [ "${e%:*}" = "$1" ] || rest="$rest $e"
    done
    DAEMONS=$rest
}

# kill_fs MOUNTPOINT: SIGKILL its daemon, as a crash would, and take the
# dead mount away.
kill_fs() {
    for e in $DAEMONS; do
        [ "${e%:*}" = "$1" ] && kill -KILL "${e##*:}" && wait "${e##*:}" 2>/dev/null
    done
    daemon_gone "$1"
    fusermount3 -u "$1" 2>/dev/null || umount "$1" 2>/dev/null || umount -l "$1"
}

unmount_all() {
    for e in $DAEMONS; do
        unmount_fs "${e%:*}"
    done
}

# A test sets cleanup_hook to a function of its own to run at exit too.
cleanup_hook=:
on_exit() {
    rc=$1
    unmount_all
    $cleanup_hook
    [ "$FAILED" -eq 0 ] || rc=1
    exit "$rc"
}
trap 'on_exit $?' EXIT

# Wait (up to 20 s) until a command succeeds; for daemons that finish
# their work after the command that asked for it has returned.
wait_for() {
    i=0
    while ! "$@" 2>/dev/null; do
        [ $i -lt 200 ] || return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# mount_fs MOUNTPOINT [winapifs arguments...]: mount against the test's
# daemon, in the passthrough mode WINAPI_TEST_PASSTHROUGH names (CI runs
# every FUSE test with on and with off).  winapifs runs in the foreground, in the background of this
# shell, so that its exit status can be checked; with WINAPI_TEST_VALGRIND=1
# (as for winapi-hostd) it runs under valgrind.
mount_fs() {
    mp=$1
    shift
    mkdir -p "$mp"
    vg=""
    if [ "${WINAPI_TEST_VALGRIND:-}" = 1 ]; then
        vg="$top_builddir/libtool --mode=execute valgrind --quiet --leak-check=full
            --errors-for-leak-kinds=definite --error-exitcode=99 --log-file=$mp.valgrind"
    fi
    # WINAPI_TEST_PASSTHROUGH=on|off|auto: the mode every mount of the run uses.
    pt=""
    [ -n "${WINAPI_TEST_PASSTHROUGH:-}" ] && pt="-o passthrough=$WINAPI_TEST_PASSTHROUGH"
    # shellcheck disable=SC2086
    $vg "$WINAPIFS" -f -o "backing_dir=$BACKING,automount_root=$WINAPI_AUTOMOUNT_ROOT" \
        -o "port=$WINAPI_PORT" $pt "$@" "$mp" &
    DAEMON_PID=$!
    DAEMONS="$DAEMONS $mp:$DAEMON_PID"
    wait_for mounted_or_gone "$mp" "$DAEMON_PID"
    mountpoint -q "$mp" || die "winapifs did not mount $mp"
}

mounted_or_gone() {
    mountpoint -q "$1" || ! kill -0 "$2"
}

# passthrough_is MOUNTPOINT: "on", or "off: why", as the mount says.
passthrough_is() {
    getfattr --only-values -n user.winapi.passthrough "$1" 2>/dev/null
}

# The backing files in the backing directory, one per line, sorted.
backing_files() {
    ls "$BACKING" | sort
}

no_backing_files() {
    [ -z "$(ls "$BACKING")" ]
}

# xattr helpers: what setfattr / getfattr print, reduced to errno or value.
setx() {
    $TOOL setx "$@"
}

getx() {
    $TOOL getx "$@"
}

fuse_usable

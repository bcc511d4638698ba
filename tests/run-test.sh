#!/bin/sh
# run-test.sh - the test driver's LOG_COMPILER: runs one test (a Check
# program or a shell script) against a fresh winapi-hostd.
#
# It makes a work directory with a stand-in for C:\ and a guest view of it:
#   $WINAPI_TEST_WORK/c            the host's C:\ (WINAPI_TEST_CDIR)
#   $WINAPI_TEST_WORK/mnt/c -> ../c the guest's /mnt/c (automount root mnt/)
# starts the daemon, exports the WINAPI_* settings every client reads, runs
# the test, and removes everything again, whatever the test did.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export top_builddir="${top_builddir:-$here/..}"
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir="${top_srcdir:-$here/..}"
top_srcdir=$(cd "$top_srcdir" && pwd)

test_prog=$1
shift

WINAPI_TEST_WORK=$(mktemp -d "${TMPDIR:-/tmp}/winapi-test.XXXXXX")
export WINAPI_TEST_WORK
export WINAPI_TEST_CDIR="$WINAPI_TEST_WORK/c"
mkdir -p "$WINAPI_TEST_CDIR/temp" "$WINAPI_TEST_WORK/mnt"
ln -s ../c "$WINAPI_TEST_WORK/mnt/c"

cleanup() {
    # Every daemon the test started, even one a failed test left running.
    for pidfile in "$WINAPI_TEST_WORK"/*/pid; do
        [ -f "$pidfile" ] || continue
        "$here/hostd.sh" stop "$(dirname "$pidfile")" || rc=1
    done
    # A test that failed half-way may leave a mount behind.
    grep -F " $WINAPI_TEST_WORK/" /proc/mounts 2>/dev/null | while read -r _ mp _; do
        fusermount3 -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
    done
    rm -rf "$WINAPI_TEST_WORK"
    exit $rc
}
rc=99
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$("$here/hostd.sh" start "$WINAPI_TEST_WORK/hostd") || exit 99
export WINAPI_HOST=127.0.0.1 WINAPI_PORT="$port"
export WINAPI_BACKING_DIR="$WINAPI_TEST_WORK/mnt/c/temp"
export WINAPI_AUTOMOUNT_ROOT="$WINAPI_TEST_WORK/mnt/"
export WINAPI_TEST_HOSTD_SH="$here/hostd.sh"
WINAPI_HOSTD_PID=$(cat "$WINAPI_TEST_WORK/hostd/pid")
export WINAPI_HOSTD_PID
unset WINAPI_TOKEN_FILE

"$test_prog" "$@"
rc=$?
# The daemon must have survived whatever the test threw at it.
if [ $rc -eq 0 ] && ! kill -0 "$(cat "$WINAPI_TEST_WORK/hostd/pid")" 2>/dev/null; then
    echo "run-test.sh: winapi-hostd died during $test_prog" >&2
    cat "$WINAPI_TEST_WORK/hostd/log" >&2
    rc=1
fi

#!/bin/sh
# run-bench-wine.sh - winapi-hostd.exe under Wine beside the POSIX
# winapi-hostd, in the same run, on the same files: both daemons serve one
# tmpfs stand-in for C:\, and bench_hostd hosts takes turns between them
# (process and checksums of 1 GiB, round trips of ping, stat and a 4 KiB
# process), printing the Windows host's figures over the POSIX host's.
# Needs wine and the .exe (scripts/build-windows.sh); says so and does
# nothing without them.  Cleans up whatever happens (tests/run-test.sh).
set -eu
top_builddir=$(cd "${top_builddir:-..}" && pwd)
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
exe=${WINAPI_HOSTD_EXE:-$top_srcdir/_build/win64/hostd/winapi-hostd.exe}
if ! command -v wine >/dev/null || [ ! -f "$exe" ]; then
    echo "run-bench-wine: needs wine and $exe (scripts/build-windows.sh): not run"
    exit 0
fi
export top_builddir top_srcdir WINAPI_HOSTD_EXE="$exe" WINAPI_TEST_HOSTD=wine
# run-test.sh starts the Wine daemon; the POSIX one is started (and
# stopped) here, over the same C:.
TMPDIR=/dev/shm exec "$top_srcdir/tests/run-test.sh" sh -c '
    posix=$WINAPI_TEST_WORK/posix
    trap "WINAPI_TEST_HOSTD=posix \"$WINAPI_TEST_HOSTD_SH\" stop \"$posix\"" EXIT
    port=$(WINAPI_TEST_HOSTD=posix "$WINAPI_TEST_HOSTD_SH" start "$posix")
    echo "first: the POSIX winapi-hostd; second: winapi-hostd.exe under $(wine --version)"
    WINAPI_PORT=$port "$top_builddir/bench/bench_hostd" hosts "$WINAPI_PORT"
'

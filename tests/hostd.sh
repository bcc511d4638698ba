#!/bin/sh
# hostd.sh - start or stop a winapi-hostd for a test.
#
#   hostd.sh start STATEDIR [winapi-hostd options...]   prints the port
#   hostd.sh stop STATEDIR
#
# The daemon listens on an ephemeral loopback port, with drive C: being
# $WINAPI_TEST_CDIR and the guest's automount root $WINAPI_TEST_WORK/mnt
# (both set by run-test.sh), so raw requests without host_path work too.  WINAPI_TEST_HOSTD picks the
# daemon: "posix" (default) runs ../hostd/winapi-hostd; "wine" runs
# winapi-hostd.exe under Wine (see wine-env.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$here/..}"
: "${WINAPI_TEST_CDIR:?run me from run-test.sh}"

cmd=$1 state=$2
shift 2

case $cmd in
start)
    mkdir -p "$state"
    rm -f "$state/port"
    case ${WINAPI_TEST_HOSTD:-posix} in
    posix)
        # With WINAPI_TEST_VALGRIND=1 the daemon runs under valgrind, and
        # `stop` fails if valgrind reported anything: an error or any leak.
        # Valgrind runs one thread at a time; --fair-sched=yes takes turns,
        # so that workers hashing gigabytes cannot keep the event loop out
        # for seconds (its default lets a thread take the lock back at once).
        vg=""
        if [ "${WINAPI_TEST_VALGRIND:-}" = 1 ]; then
            vg="valgrind --quiet --fair-sched=yes --leak-check=full
                --errors-for-leak-kinds=definite --error-exitcode=99
                --log-file=$state/valgrind"
        fi
        # shellcheck disable=SC2086
        $vg "$top_builddir/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 \
            --port-file "$state/port" --drive "C=$WINAPI_TEST_CDIR" \
            --automount-root "$WINAPI_TEST_WORK/mnt" "$@" \
            >"$state/log" 2>&1 &
        echo $! >"$state/pid"
        ;;
    wine)
        . "$here/wine-env.sh"
        wine_start_hostd "$state" "$@"
        ;;
    *)
        echo "hostd.sh: unknown WINAPI_TEST_HOSTD=$WINAPI_TEST_HOSTD" >&2
        exit 2
        ;;
    esac
    i=0
    while [ ! -s "$state/port" ]; do
        if ! kill -0 "$(cat "$state/pid")" 2>/dev/null || [ $i -ge 300 ]; then
            echo "hostd.sh: winapi-hostd did not start:" >&2
            cat "$state/log" >&2
            exit 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    cat "$state/port"
    ;;
stop)
    [ -f "$state/pid" ] || exit 0
    if [ "${WINAPI_TEST_HOSTD:-posix}" = wine ]; then
        . "$here/wine-env.sh"
        wine_stop_hostd "$state"
        exit 0
    fi
    pid=$(cat "$state/pid")
    rm -f "$state/pid"
    kill -TERM "$pid" 2>/dev/null || exit 0
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ $i -ge 300 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
        i=$((i + 1))
    done
    # Sanitizer builds report to the daemon's log, and only at exit for leaks.
    if grep -q "Sanitizer\|runtime error" "$state/log" 2>/dev/null; then
        echo "hostd.sh: the sanitizers found problems in winapi-hostd:" >&2
        cat "$state/log" >&2
        exit 1
    fi
    if [ -s "$state/valgrind" ]; then
        echo "hostd.sh: valgrind found problems in winapi-hostd:" >&2
        cat "$state/valgrind" >&2
        exit 1
    fi
    ;;
*)
    echo "usage: hostd.sh start|stop STATEDIR [options]" >&2
    exit 2
    ;;
esac

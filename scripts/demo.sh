#!/bin/sh
# demo.sh - set everything up and run the main job: winapi-hostd with a
# local directory standing in for C:\, the winapifs mount over it, and the
# seed's test client.  The README's first command.
#
#   scripts/demo.sh          install, build, start, mount, show what to do
#   scripts/demo.sh stop     unmount and stop the daemon
#
# Layout, all under _run/ in the project:
#   _run/c             the host's C:\  (winapi-hostd --drive C=_run/c)
#   _run/mnt/c         the guest's view of it (automount root _run/mnt)
#   _run/winapi        the winapifs mount; its buffers live in _run/c/temp
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
run=$top/_run
build=$top/_build/default
port=${WINAPI_PORT:-5757}

stop() {
    if grep -qs " $run/winapi " /proc/mounts; then
        fusermount3 -u "$run/winapi" 2>/dev/null || umount "$run/winapi"
    fi
    if [ -f "$run/hostd.pid" ]; then
        kill "$(cat "$run/hostd.pid")" 2>/dev/null || true
        rm -f "$run/hostd.pid"
    fi
}

if [ "${1:-}" = stop ]; then
    stop
    echo "demo.sh: stopped"
    exit 0
fi

scripts/install-deps.sh
scripts/build.sh "$build"
stop
mkdir -p "$run/c/temp" "$run/mnt" "$run/winapi"
ln -sfn ../c "$run/mnt/c"

"$build/hostd/winapi-hostd" --foreground --verbose --listen "127.0.0.1:$port" \
    --drive "C=$run/c" --automount-root "$run/mnt" >"$run/hostd.log" 2>&1 &
echo $! >"$run/hostd.pid"
i=0
until grep -q "listening on" "$run/hostd.log"; do
    if ! kill -0 "$(cat "$run/hostd.pid")" 2>/dev/null || [ $i -ge 50 ]; then
        cat "$run/hostd.log" >&2
        echo "demo.sh: winapi-hostd did not start (is port $port taken? set WINAPI_PORT)" >&2
        exit 1
    fi
    sleep 0.1
    i=$((i + 1))
done
echo "winapi-hostd: listening on 127.0.0.1:$port, C:\\ is $run/c (log: $run/hostd.log)"
echo

export WINAPI_PORT="$port" WINAPI_BACKING_DIR="$run/mnt/c/temp" WINAPI_AUTOMOUNT_ROOT="$run/mnt/"
"$build/tests/test_client" --shared-only
echo

if [ -x "$build/fusefs/winapifs" ]; then
    "$build/fusefs/winapifs" -o "backing_dir=$run/mnt/c/temp,automount_root=$run/mnt,port=$port" \
        "$run/winapi"
    cat <<TXT
winapifs: mounted at $run/winapi (buffers in $run/c/temp, C:\\temp to the host)

Try:
  cd $run/winapi
  truncate -s 64M buf
  dd if=/dev/urandom of=buf bs=1M count=64 conv=notrunc
  setfattr -n user.winapi.process -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' buf
  getfattr --only-values -n user.winapi.result buf; echo
  sha256sum buf

Stop with: scripts/demo.sh stop
TXT
else
    echo "Stop with: scripts/demo.sh stop"
fi

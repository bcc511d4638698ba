#!/bin/sh
# run-bench-hostd.sh - start a winapi-hostd over a tmpfs stand-in for C:\
# and run bench_hostd against it.  Cleans up whatever happens.
set -eu
top_builddir=${top_builddir:-..}
work=$(mktemp -d /dev/shm/winapi-bench.XXXXXX)
trap '[ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/c/temp" "$work/mnt"
ln -s ../c "$work/mnt/c"
"$top_builddir/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 \
    --port-file "$work/port" --drive "C=$work/c" 2>"$work/log" &
echo $! >"$work/pid"
while [ ! -s "$work/port" ]; do sleep 0.05; done
WINAPI_PORT=$(cat "$work/port") WINAPI_BACKING_DIR="$work/mnt/c/temp" \
WINAPI_AUTOMOUNT_ROOT="$work/mnt/" "$top_builddir/bench/bench_hostd"

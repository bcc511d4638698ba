#!/bin/sh
# run-bench-hostd.sh - start a winapi-hostd over a tmpfs stand-in for C:\
# and run bench_hostd against it.  Cleans up whatever happens.
set -eu
top_builddir=${top_builddir:-..}
work=$(mktemp -d /dev/shm/winapi-bench.XXXXXX)
trap '[ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/c/temp" "$work/mnt"
ln -s ../c "$work/mnt/c"
# A key, for encrypt and decrypt.
WINAPI_BENCH_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export WINAPI_BENCH_KEY
(umask 077; echo "$WINAPI_BENCH_KEY" >"$work/key")
"$top_builddir/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 --key-file "$work/key" \
    --port-file "$work/port" --drive "C=$work/c" 2>"$work/log" &
echo $! >"$work/pid"
while [ ! -s "$work/port" ]; do sleep 0.05; done
export WINAPI_PORT WINAPI_BACKING_DIR="$work/mnt/c/temp" WINAPI_AUTOMOUNT_ROOT="$work/mnt/"
WINAPI_PORT=$(cat "$work/port")
bench=$top_builddir/bench/bench_hostd

# Where the scheduler puts each peer moves round trips on a VM more than
# the code does: waking a thread on an idle CPU costs several microseconds
# more than on a busy one, and the reference echo process and the daemon
# are not placed alike.  So the round trips are measured twice: as the
# scheduler places them, and with everything on one CPU, where every peer
# is placed the same and the ratios compare the code alone.
echo "-- round trips as the scheduler places them"
"$bench" latency
pid=$(cat "$work/pid")
if command -v taskset >/dev/null && mask=$(taskset -p "$pid" | sed 's/.*: //'); then
    echo "-- round trips with the daemon, the benchmark and its echo peer on CPU 0"
    taskset -a -p -c 0 "$pid" >/dev/null
    taskset -c 0 "$bench" latency
    taskset -a -p "$mask" "$pid" >/dev/null
fi
echo "--"
"$bench" throughput
"$bench" crypt
echo "-- compress and decompress"
"$top_builddir/bench/bench_zstd"
echo "-- jobs"
"$top_builddir/bench/bench_jobs"
echo "-- buffer pools"
"$top_builddir/bench/bench_pool"

#!/bin/sh
# run-bench-load.sh - bench_load against this build's winapi-hostd; with
# --compare DIR also against the winapi-hostd of another build (say, of the
# commit before), side by side, and bench_hostd's single-request round trips
# of both daemons in the same run, in turns, and their checksum throughput.
#
#   run-bench-load.sh [--compare OTHER_BUILDDIR]
#
# Buffers live in a directory on disk ($WINAPI_BENCH_DIR, default the build's
# bench directory): a 16 GiB sparse file read through a mapping fills memory
# on a tmpfs.  Cleans up whatever happens.
set -eu
top_builddir=$(cd "${top_builddir:-..}" && pwd)
other=
if [ "${1:-}" = --compare ]; then
    other=$(cd "$2" && pwd)
fi
# 10,000 connections need more descriptors than the usual soft limit of 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work=$(mktemp -d "${WINAPI_BENCH_DIR:-$top_builddir/bench}/load.XXXXXX")
trap '[ -f "$work/pid" ] && kill -KILL "$(cat "$work/pid")" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/c/temp" "$work/mnt"
ln -s ../c "$work/mnt/c"
export WINAPI_BACKING_DIR="$work/mnt/c/temp" WINAPI_AUTOMOUNT_ROOT="$work/mnt/"
# PHASES: which of bench_load's phases (all; empty: only the round trips).
phases=${PHASES-idle pipeline big attack}
if [ "$(stat -f -c %T "$work")" = tmpfs ]; then
    echo "run-bench-load: $work is a tmpfs: leaving out the 16 GiB checksums" >&2
    phases="idle pipeline attack"
fi

start_hostd() {
    rm -f "$work/port"
    "$1/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 --port-file "$work/port" \
        --drive "C=$work/c" --automount-root "$work/mnt" 2>"$work/log" &
    echo $! >"$work/pid"
    while [ ! -s "$work/port" ]; do sleep 0.05; done
    WINAPI_PORT=$(cat "$work/port") WINAPI_HOSTD_PID=$(cat "$work/pid")
    export WINAPI_PORT WINAPI_HOSTD_PID
}

# An older daemon may still be hashing what its gone clients asked for.
stop_hostd() {
    pid=$(cat "$work/pid")
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$work/pid"
}

load() {
    start_hostd "$1"
    # shellcheck disable=SC2086
    "$top_builddir/bench/bench_load" $phases >"$work/$2.out"
    stop_hostd
}

if [ -z "$other" ]; then
    load "$top_builddir" this
    awk -F '\t' '{ printf "%-52s %s\n", $1, $2 }' "$work/this.out"
    exit 0
fi
echo "this build: $top_builddir"
echo "other build: $other"
if [ -n "$phases" ]; then
    load "$top_builddir" this
    load "$other" other
    awk -F '\t' 'NR == FNR { o[$1] = $2; next }
        FNR == 1 { printf "%-52s %-24s %s\n", "", "this build", "other build" }
        { printf "%-52s %-24s %s\n", $1, $2, ($1 in o) ? o[$1] : "-" }' \
        "$work/other.out" "$work/this.out"
fi
# The event loop must not cost a single request time.  bench_hostd's round
# trips against both daemons, in turns, ROUNDS times, as the scheduler places
# the peers and with all of them on CPU 0 (see run-bench-hostd.sh); the
# medians of each.
rounds=${ROUNDS:-3}
cpu0=no
command -v taskset >/dev/null && cpu0=yes
for round in $(seq "$rounds"); do
    for tag in this other; do
        if [ $tag = this ]; then build=$top_builddir; else build=$other; fi
        start_hostd "$build"
        "$top_builddir/bench/bench_hostd" latency >>"$work/rt-$tag"
        if [ $cpu0 = yes ]; then
            mask=$(taskset -p "$WINAPI_HOSTD_PID" | sed 's/.*: //')
            taskset -a -p -c 0 "$WINAPI_HOSTD_PID" >/dev/null
            taskset -c 0 "$top_builddir/bench/bench_hostd" latency >>"$work/rt0-$tag"
            taskset -a -p "$mask" "$WINAPI_HOSTD_PID" >/dev/null
        fi
        stop_hostd
    done
done
median_table() {
    # Lines "label  p50  p99  ratio" of bench_hostd; label is 28 columns wide.
    awk 'function med(a, n,   i, j, t) {
             for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                 t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
             return a[int((n + 1) / 2)] }
         FNR == 1 { file++ }
         /client API|ping-pong/ { k = substr($0, 1, 28); sub(/ +$/, "", k)
             if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
             n[file, k]++; split(substr($0, 29), f, " ")
             p50[file, k, n[file, k]] = f[1]; p99[file, k, n[file, k]] = f[2] }
         END {
             printf "%-28s %22s %22s\n", "median of " ROUNDS " runs, us", "this p50 / p99", "other p50 / p99"
             for (i = 1; i <= nk; i++) {
                 k = order[i]; line = sprintf("%-28s", k)
                 for (fi = 1; fi <= 2; fi++) {
                     m = n[fi, k]; delete a; delete b
                     for (j = 1; j <= m; j++) { a[j] = p50[fi, k, j]; b[j] = p99[fi, k, j] }
                     line = line sprintf(" %10.1f / %9.1f", med(a, m), med(b, m))
                 }
                 print line
             } }' ROUNDS="$rounds" "$1" "$2"
}
echo
echo "-- bench_hostd round trips, daemons in turns, as the scheduler places them"
median_table "$work/rt-this" "$work/rt-other"
if [ $cpu0 = yes ]; then
    echo "-- the same with the daemon, the benchmark and its echo peer on CPU 0"
    median_table "$work/rt0-this" "$work/rt0-other"
fi
# Jobs report progress from inside every operation: checksum throughput must
# not pay for it.  bench_hostd's 1 GiB throughput against both daemons, in
# turns, ROUNDS times; the median GiB/s of each and this build's ratio.
for round in $(seq "$rounds"); do
    for tag in this other; do
        if [ $tag = this ]; then build=$top_builddir; else build=$other; fi
        start_hostd "$build"
        "$top_builddir/bench/bench_hostd" throughput >>"$work/tp-$tag"
        stop_hostd
    done
done
echo
echo "-- bench_hostd throughput on 1 GiB, daemons in turns, median of $rounds runs"
awk 'function med(a, n,   i, j, t) {
         for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
             t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
         return a[int((n + 1) / 2)] }
     FNR == 1 { file++ }
     /^(process|checksum crc32|checksum sha256) / { k = substr($0, 1, 32); sub(/ +$/, "", k)
         if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
         split(substr($0, 33), f, " "); v[file, k, ++n[file, k]] = f[1] }
     END {
         printf "%-20s %12s %12s %8s\n", "GiB/s", "this", "other", "ratio"
         for (i = 1; i <= nk; i++) {
             k = order[i]
             for (fi = 1; fi <= 2; fi++) {
                 delete a; for (j = 1; j <= n[fi, k]; j++) a[j] = v[fi, k, j]
                 m[fi] = med(a, n[fi, k])
             }
             printf "%-20s %12.2f %12.2f %8.3f\n", k, m[1], m[2], m[1] / m[2]
         } }' "$work/tp-this" "$work/tp-other"

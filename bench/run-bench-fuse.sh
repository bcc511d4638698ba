#!/bin/sh
# run-bench-fuse.sh - winapifs beside the two things it is measured against,
# on one tmpfs: the backing directory itself ("direct"), and libfuse's
# reference passthrough_ll over that same directory.
#
# Figures: dd write of SIZE bs=1M, cold sequential read of it (its cache
# dropped with fadvise, as `dd iflag=nocache count=0` does), re-read of the
# unchanged file, cp of a SIZE file in and (cold) out, and the latency of
# setxattr(user.winapi.process) on a 4 KiB buffer beside libwinapi's own
# round trip.  The targets alternate within every round, the starting one
# rotating; memory is touched once before the first round (on some VMs
# untouched memory costs seconds per GiB on first use); each figure is the
# median of ROUNDS rounds, and its ratio is direct's time over the target's.
#
# passthrough_ll is built here from libfuse's examples (Debian ships them
# in libfuse3-dev), unmodified, with ptll_shim.c adding libfuse's standard
# connection options; it runs at its best settings: splice in and out,
# 512 KiB requests, cache=always, and winapifs's read-ahead (which only
# root can raise past the kernel's 128 KiB).
#
# Environment: BENCH_ROUNDS (5), BENCH_SIZE_MB (1024), BENCH_DIR (a tmpfs,
# /dev/shm), BENCH_WINAPIFS_OPTS (more -o options for winapifs, to try
# other settings), PASSTHROUGH_LL_DIR (/usr/share/doc/libfuse3-dev/examples),
# CC, FUSE_CFLAGS, FUSE_LIBS (from make).
set -eu
: "${top_builddir:=..}" "${top_srcdir:=..}"
ROUNDS=${BENCH_ROUNDS:-5}
SIZE=${BENCH_SIZE_MB:-1024}
EXAMPLES=${PASSTHROUGH_LL_DIR:-/usr/share/doc/libfuse3-dev/examples}
CC=${CC:-cc}
FUSE_CFLAGS=${FUSE_CFLAGS:-$(pkg-config --cflags fuse3)}
FUSE_LIBS=${FUSE_LIBS:-$(pkg-config --libs fuse3)}
IO=524288

die() {
    echo "run-bench-fuse.sh: $*" >&2
    exit 1
}

[ -c /dev/fuse ] || die "no /dev/fuse: FUSE benchmarks need it"
for p in fusefs/winapifs hostd/winapi-hostd bench/bench_fuse_latency; do
    [ -x "$top_builddir/$p" ] || die "no $top_builddir/$p: run make first"
done
[ -f "$EXAMPLES/passthrough_ll.c" ] ||
    die "no $EXAMPLES/passthrough_ll.c (install libfuse3-dev, or set PASSTHROUGH_LL_DIR)"

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/winapifs-bench.XXXXXX")
cleanup() {
    for m in "$work/pt" "$work/wfs"; do
        mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || umount "$m"; }
    done
    [ -f "$work/hostd.pid" ] && kill "$(cat "$work/hostd.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build passthrough_ll
"$CC" -O2 -w -c -Dfuse_session_new=ptll_session_new -I"$EXAMPLES" $FUSE_CFLAGS \
    "$EXAMPLES/passthrough_ll.c" -o "$work/ptll.o"
"$CC" -O2 -c $FUSE_CFLAGS "$top_srcdir/bench/ptll_shim.c" -o "$work/shim.o"
"$CC" "$work/ptll.o" "$work/shim.o" $FUSE_LIBS -o "$work/passthrough_ll"

# --- the host daemon, C:\ on this tmpfs, and the two mounts
mkdir -p "$work/c/temp" "$work/mnt" "$work/pt" "$work/wfs" "$work/out"
ln -s ../c "$work/mnt/c"
"$top_builddir/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 \
    --port-file "$work/port" --drive "C=$work/c" --automount-root "$work/mnt" \
    2>"$work/hostd.log" &
echo $! > "$work/hostd.pid"
while [ ! -s "$work/port" ]; do sleep 0.05; done
export WINAPI_PORT
WINAPI_PORT=$(cat "$work/port")
export WINAPI_BACKING_DIR="$work/mnt/c/temp" WINAPI_AUTOMOUNT_ROOT="$work/mnt/"

# winapifs with its defaults; it raises its mount's read-ahead itself when
# run as root.  passthrough_ll gets the same request sizes and read-ahead.
"$top_builddir/fusefs/winapifs" -o "backing_dir=$work/mnt/c/temp,automount_root=$work/mnt/" \
    -o "port=$WINAPI_PORT${BENCH_WINAPIFS_OPTS:+,$BENCH_WINAPIFS_OPTS}" "$work/wfs"
ra_wfs=$(cat "/sys/class/bdi/$(mountpoint -d "$work/wfs")/read_ahead_kb")
"$work/passthrough_ll" -o "source=$work/c/temp,cache=always" \
    -o "splice_read,splice_write,splice_move,max_write=$IO,max_readahead=$((ra_wfs * 1024))" \
    "$work/pt"
ra=/sys/class/bdi/$(mountpoint -d "$work/pt")/read_ahead_kb
echo "$ra_wfs" > "$ra" 2>/dev/null || true
ra_pt=$(cat "$ra")

# target directories: direct writes next to passthrough_ll's files, in the
# same directory, under other names
dir_direct=$work/c/temp
dir_pt=$work/pt
dir_wfs=$work/wfs

now() {
    date +%s%N
}

# run FIGURE TARGET COMMAND...: time the command, record seconds
run() {
    fig=$1 tgt=$2
    shift 2
    t0=$(now)
    "$@"
    t1=$(now)
    echo "$fig $tgt $(( (t1 - t0) / 1000 ))" >> "$work/results"
}

drop_cache() {
    dd if="$1" iflag=nocache count=0 status=none
}

figures() {
    t=$1
    d=$(eval echo "\$dir_$t")
    run write "$t" dd if=/dev/zero of="$d/$t.f" bs=1M count="$SIZE" status=none
    drop_cache "$d/$t.f"
    run cold "$t" dd if="$d/$t.f" of=/dev/null bs=1M status=none
    run reread "$t" dd if="$d/$t.f" of=/dev/null bs=1M status=none
    run cpin "$t" cp "$work/src" "$d/$t.cp"
    drop_cache "$d/$t.f"
    run cpout "$t" cp "$d/$t.f" "$work/out/$t"
    rm -f "$d/$t.f" "$d/$t.cp" "$work/out/$t"
}

echo "== winapifs: direct tmpfs vs passthrough_ll vs winapifs =="
echo "kernel $(uname -r), $(nproc) CPUs, libfuse $(pkg-config --modversion fuse3)," \
    "pipe-max-size $(cat /proc/sys/fs/pipe-max-size), read-ahead KiB: passthrough_ll $ra_pt," \
    "winapifs $ra_wfs"
echo "$SIZE MiB per figure, median of $ROUNDS rounds; ratio = direct time / target time"

# Touch the memory the rounds will use, once.
dd if=/dev/zero of="$work/warm" bs=1M count=$((SIZE * 4)) status=none
rm -f "$work/warm"
dd if=/dev/zero of="$work/src" bs=1M count="$SIZE" status=none

: > "$work/results"
targets="direct pt wfs"
for r in $(seq 1 "$ROUNDS"); do
    for t in $targets; do
        figures "$t"
    done
    "$top_builddir/bench/bench_fuse_latency" "$dir_wfs/lat" 4 250 >> "$work/latency"
    rm -f "$dir_wfs/lat"
    # Rotate: the next round starts with the next target.
    targets="${targets#* } ${targets%% *}"
    printf '.'
done
echo

median() {
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# us FIGURE TARGET: the median time in microseconds
us() {
    awk -v f="$1" -v t="$2" '$1 == f && $2 == t { print $3 }' "$work/results" | median
}

printf '%-22s %14s %21s %21s\n' figure direct passthrough_ll winapifs
for f in write cold reread cpin cpout; do
    case $f in
    write) label="dd write bs=1M" ;;
    cold) label="cold read" ;;
    reread) label="re-read" ;;
    cpin) label="cp in" ;;
    cpout) label="cp out (cold)" ;;
    esac
    d=$(us "$f" direct) p=$(us "$f" pt) w=$(us "$f" wfs)
    awk -v l="$label" -v s="$SIZE" -v d="$d" -v p="$p" -v w="$w" 'BEGIN {
        printf "%-22s %9.0f MB/s %9.0f MB/s (%.2f) %9.0f MB/s (%.2f)\n", l,
            s * 1.048576 / d * 1e6, s * 1.048576 / p * 1e6, d / p, s * 1.048576 / w * 1e6, d / w }'
done
for i in 1 2 3 4 5 6; do
    awk -v i="$i" '{ print $i }' "$work/latency" | median > "$work/lat.$i"
done
awk -v lp50="$(cat "$work/lat.1")" -v lp99="$(cat "$work/lat.2")" \
    -v fp50="$(cat "$work/lat.3")" -v fp99="$(cat "$work/lat.4")" \
    -v np50="$(cat "$work/lat.5")" -v np99="$(cat "$work/lat.6")" 'BEGIN {
    printf "%-22s %9.1f us (lib) %21s %9.1f us (%.2fx)\n", "process 4 KiB p50", lp50, "-", fp50, fp50 / lp50
    printf "%-22s %9.1f us (lib) %21s %9.1f us (%.2fx)\n", "process 4 KiB p99", lp99, "-", fp99, fp99 / lp99
    printf "%-22s %14s %21s %9.1f us\n", "FUSE round trip p50", "-", "-", np50
    printf "%-22s %14s %21s %9.1f us (%.2fx)\n", "lib + FUSE round trip", "-", "-", lp50 + np50, (lp50 + np50) / lp50
    printf "(the FUSE round trip is getxattr(user.winapi.status), which never leaves winapifs;\n"
    printf " a request through any FUSE daemon costs at least the library call plus it)\n" }'

#!/bin/sh
# run-bench-fuse.sh - winapifs beside what it is measured against, all over
# one backing directory on a tmpfs: the directory itself ("direct"), and
# libfuse's reference examples passthrough_ll and passthrough_hp over it;
# winapifs is measured twice, with -o passthrough=on ("winapifs+pt") and
# -o passthrough=off, or once, as it is, if it has no passthrough= option.
#
# Figures, one row each: dd write of SIZE bs=1M, cold sequential read of it
# (its cache dropped with fadvise, as `dd iflag=nocache count=0` does),
# re-read of the unchanged file, cp of a SIZE file in and (cold) out; fio
# 4 KiB random writes and then random reads over a whole 128 MiB file
# (psync, one job, fio's own I/O time, not its start-up; fio drops the
# file's cache before reading); 5,000 empty files: created by one process
# (mkfiles.c), `ls -l` of their directory, one `cat` of all, `rm -r`.
# The targets alternate within every round, the starting one rotating;
# memory is touched once before the first round (on some VMs untouched
# memory costs seconds per GiB on first use); each figure is the median of
# ROUNDS rounds, and its ratio is direct's time over the target's.
#
# Then, once per winapifs target: whether the host sees what a shared mmap
# wrote without msync (mmap_seen.py asks the host for the SHA-256 of a
# 1 MiB buffer written through a mapping still open, nothing synced); and,
# in every round, the latency of setxattr(user.winapi.process) on a 4 KiB
# buffer beside libwinapi's own round trip and the floor under it
# (bench_fuse_latency).
#
# passthrough_ll is built here from libfuse's examples (Debian ships them
# in libfuse3-dev), unmodified, against the libfuse winapifs is built with,
# with ptll_shim.c (and ptll_shim317.c for libfuse 3.17 and later) adding
# libfuse's standard connection options; it runs at its best settings:
# splice in and out, 512 KiB requests, cache=always, and winapifs's
# read-ahead (which only root can raise past the kernel's 128 KiB).
# passthrough_hp (C++, libfuse 3.17 or later) comes from libfuse's own
# build (scripts/build-libfuse.sh) and runs with its defaults: kernel
# passthrough (reads, writes and mmap go straight to the backing file;
# needs root), attribute and entry caching, splice, libfuse's default
# number of threads.  Its init() does not ask for
# FUSE_CAP_HANDLE_KILLPRIV_V2 (3.18); when its build directory holds its
# object file, it is relinked here, unmodified, with pthp_shim.c, which
# asks for it; else it runs as built, and the header says so.
#
# The header gives the kernel, the backing file system, each target's
# libfuse, the read-ahead of each mount, and whether the kernel granted
# passthrough_hp passthrough and HANDLE_KILLPRIV_V2.
#
# Environment: BENCH_ROUNDS (5), BENCH_SIZE_MB (1024), BENCH_DIR (a tmpfs,
# /dev/shm), BENCH_WINAPIFS_OPTS (more -o options for both winapifs mounts,
# to try other settings), PASSTHROUGH_LL_DIR
# (/usr/share/doc/libfuse3-dev/examples), PASSTHROUGH_HP (libfuse's
# example binary, $top_srcdir/_build/libfuse-obj/example/passthrough_hp),
# CC, CXX, FUSE_CFLAGS, FUSE_LIBS (from make).  Needs fio (apt-get install
# fio) and python3.
set -eu
: "${top_builddir:=..}" "${top_srcdir:=..}"
ROUNDS=${BENCH_ROUNDS:-5}
SIZE=${BENCH_SIZE_MB:-1024}
EXAMPLES=${PASSTHROUGH_LL_DIR:-/usr/share/doc/libfuse3-dev/examples}
PTHP=${PASSTHROUGH_HP:-$top_srcdir/_build/libfuse-obj/example/passthrough_hp}
CC=${CC:-cc}
CXX=${CXX:-c++}
FUSE_CFLAGS=${FUSE_CFLAGS:-$(pkg-config --cflags fuse3)}
FUSE_LIBS=${FUSE_LIBS:-$(pkg-config --libs fuse3)}
IO=524288
FIO_MB=128
NFILES=5000
# C: sort order for ls, and a decimal point in every figure
export LC_ALL=C

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
[ -x "$PTHP" ] ||
    die "no $PTHP (libfuse's passthrough_hp: run scripts/build-libfuse.sh, or set PASSTHROUGH_HP)"
command -v fio >/dev/null || die "fio is missing: apt-get install fio"
command -v python3 >/dev/null || die "python3 is missing: apt-get install python3"

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/winapifs-bench.XXXXXX")
cleanup() {
    set +e
    for m in ptll pthp wfspt wfs; do
        m=$work/$m
        mountpoint -q "$m" 2>/dev/null &&
            { fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m"; }
    done
    for p in pthp hostd; do
        [ -f "$work/$p.pid" ] && kill "$(cat "$work/$p.pid")" 2>/dev/null
    done
    sleep 0.2
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build passthrough_ll.  Since libfuse 3.17 fuse_session_new() is a
# macro over fuse_session_new_versioned(), which is then the name to divert.
# FUSE_CFLAGS, FUSE_LIBS and hp_link below are lists of words.
# shellcheck disable=SC2086
fuse_version=$(printf '#define FUSE_USE_VERSION 31\n#include <fuse_lowlevel.h>\nfuse_version_is FUSE_MAJOR_VERSION FUSE_MINOR_VERSION\n' |
    "$CC" -E $FUSE_CFLAGS -x c - | awk '$1 == "fuse_version_is" { print $2 * 100 + $3 }')
[ -n "$fuse_version" ] || die "cannot find libfuse's version in its headers (FUSE_CFLAGS: $FUSE_CFLAGS)"
# shellcheck disable=SC2086
if [ "$fuse_version" -ge 317 ]; then
    divert=-Dfuse_session_new_versioned=ptll_session_new_versioned
    "$CC" -O2 -c $FUSE_CFLAGS "$top_srcdir/bench/ptll_shim317.c" -o "$work/shim317.o"
    shim317=$work/shim317.o
else
    divert=-Dfuse_session_new=ptll_session_new
    shim317=
fi
# shellcheck disable=SC2086
{
    "$CC" -O2 -w -c "$divert" -I"$EXAMPLES" $FUSE_CFLAGS "$EXAMPLES/passthrough_ll.c" -o "$work/ptll.o"
    "$CC" -O2 -c $FUSE_CFLAGS "$top_srcdir/bench/ptll_shim.c" -o "$work/shim.o"
    "$CC" "$work/ptll.o" "$work/shim.o" $shim317 $FUSE_LIBS -o "$work/passthrough_ll"
}
ver_ptll=$("$work/passthrough_ll" --version 2>&1 | sed -n 's/^FUSE library version //p')

# --- passthrough_hp: relinked with pthp_shim.c from the object file in its
# meson build directory (example/passthrough_hp.p/), with meson's own link
# arguments, when that is there; else the binary as it is.
pthp=$PTHP
pthp_how="as built, without pthp_shim.c:"
hp_build=$(cd "$(dirname "$PTHP")/.." && pwd)
hp_obj=example/passthrough_hp.p/passthrough_hp.cc.o
hp_src=
if [ -f "$hp_build/meson-info/meson-info.json" ]; then
    hp_src=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
        "$hp_build/meson-info/meson-info.json") || hp_src=
fi
hp_link=
[ -f "$hp_build/build.ninja" ] &&
    hp_link=$(awk '/^build example\/passthrough_hp:/ { f = 1; next }
        f && /^ LINK_ARGS = / { sub(/^ LINK_ARGS = /, ""); print; exit }' "$hp_build/build.ninja") ||
    hp_link=
# shellcheck disable=SC2086
if [ ! -f "$hp_build/$hp_obj" ] || [ -z "$hp_src" ] || [ -z "$hp_link" ]; then
    pthp_how="$pthp_how no $hp_obj, meson-info or build.ninja in $hp_build"
elif ! command -v "$CXX" >/dev/null; then
    pthp_how="$pthp_how no C++ compiler ($CXX)"
elif "$CC" -O2 -c -I"$hp_src/include" -I"$hp_build" "$top_srcdir/bench/pthp_shim.c" \
        -o "$work/pthp_shim.o" 2>"$work/pthp_build.log" &&
    (cd "$hp_build" && "$CXX" -o "$work/passthrough_hp" "$hp_obj" "$work/pthp_shim.o" \
        $hp_link -Wl,--wrap=fuse_session_new_versioned) 2>>"$work/pthp_build.log"; then
    pthp=$work/passthrough_hp
    pthp_how="relinked with pthp_shim.c"
else
    pthp_how="$pthp_how relinking failed: $(head -n 3 "$work/pthp_build.log")"
fi
ver_pthp=
[ -f "$hp_build/meson-info/intro-projectinfo.json" ] &&
    ver_pthp=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$hp_build/meson-info/intro-projectinfo.json" 2>/dev/null) || ver_pthp=

"$CC" -O2 "$top_srcdir/bench/mkfiles.c" -o "$work/mkfiles"

# --- the host daemon, C:\ on this tmpfs, and the mounts
mkdir -p "$work/c/temp" "$work/mnt" "$work/out" "$work/ptll" "$work/pthp" "$work/wfspt" "$work/wfs"
ln -s ../c "$work/mnt/c"
"$top_builddir/hostd/winapi-hostd" --foreground --listen 127.0.0.1:0 \
    --port-file "$work/port" --drive "C=$work/c" --automount-root "$work/mnt" \
    2>"$work/hostd.log" &
echo $! > "$work/hostd.pid"
while [ ! -s "$work/port" ]; do sleep 0.05; done
export WINAPI_PORT
WINAPI_PORT=$(cat "$work/port")
export WINAPI_BACKING_DIR="$work/mnt/c/temp" WINAPI_AUTOMOUNT_ROOT="$work/mnt/"

# winapifs with its defaults, and -o passthrough=on/off where it has the
# option; it raises its mount's read-ahead itself when run as root.
# passthrough_ll and passthrough_hp get the same read-ahead, passthrough_ll
# the same request sizes.
mount_wfs() {
    "$top_builddir/fusefs/winapifs" -o "backing_dir=$work/mnt/c/temp,automount_root=$work/mnt/" \
        -o "port=$WINAPI_PORT${2:+,$2}${BENCH_WINAPIFS_OPTS:+,$BENCH_WINAPIFS_OPTS}" "$1"
}
if "$top_builddir/fusefs/winapifs" --help 2>&1 | grep -q 'passthrough='; then
    mount_wfs "$work/wfspt" passthrough=on
    mount_wfs "$work/wfs" passthrough=off
    wfs_targets="wfspt wfs"
else
    mount_wfs "$work/wfs"
    wfs_targets=wfs
fi
ver_wfs=$("$top_builddir/fusefs/winapifs" --version 2>&1 | sed -n 's/^FUSE library version //p')
ra_of() {
    cat "/sys/class/bdi/$(mountpoint -d "$1")/read_ahead_kb"
}
ra_wfs=$(ra_of "$work/wfs")
"$work/passthrough_ll" -o "source=$work/c/temp,cache=always" \
    -o "splice_read,splice_write,splice_move,max_write=$IO,max_readahead=$((ra_wfs * 1024))" \
    "$work/ptll"
"$pthp" --foreground "$work/c/temp" "$work/pthp" 2>"$work/pthp.log" &
echo $! > "$work/pthp.pid"
i=0
until mountpoint -q "$work/pthp"; do
    kill -0 "$(cat "$work/pthp.pid")" 2>/dev/null ||
        die "passthrough_hp did not mount: $(cat "$work/pthp.log")"
    i=$((i + 1))
    [ "$i" -lt 200 ] || die "passthrough_hp did not mount in 10 s: $(cat "$work/pthp.log")"
    sleep 0.05
done
for m in "$work/ptll" "$work/pthp"; do
    echo "$ra_wfs" > "/sys/class/bdi/$(mountpoint -d "$m")/read_ahead_kb" 2>/dev/null || true
done
ra_ptll=$(ra_of "$work/ptll")
ra_pthp=$(ra_of "$work/pthp")   # INIT answered: pthp_shim.c has said its line
pthp_granted=$(sed -n 's/^pthp_shim: libfuse \([^,]*\), //p' "$work/pthp.log")
[ -n "$ver_pthp" ] || ver_pthp=$(sed -n 's/^pthp_shim: libfuse \([^,]*\),.*/\1/p' "$work/pthp.log")

all_targets="direct ptll pthp $wfs_targets"

# dir_of TARGET: where it writes; direct writes next to the passthrough
# examples' files, in the same directory, under other names
dir_of() {
    case $1 in
    direct) echo "$work/c/temp" ;;
    *) echo "$work/$1" ;;
    esac
}

# label_of TARGET: its column's heading
label_of() {
    case $1 in
    ptll) echo passthrough_ll ;;
    pthp) echo passthrough_hp ;;
    wfspt) echo winapifs+pt ;;
    wfs) echo winapifs ;;
    *) echo "$1" ;;
    esac
}

now() {
    date +%s%N
}

# run FIGURE TARGET COMMAND...: time the command, record microseconds
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

# fio_run RW TARGET FILE: 4 KiB random I/O over all of FILE, one job;
# records fio's own time for the I/O, in microseconds (it counts in ms)
fio_run() {
    fio --name="$1" --filename="$3" --ioengine=psync --rw="$1" --bs=4k \
        --size="${FIO_MB}M" --output-format=terse --terse-version=3 > "$work/fio.out" ||
        die "fio --rw=$1 on $3 failed"
    # terse v3: field 9 is the read run time, 50 the write run time (ms)
    awk -F';' -v f="$1" -v t="$2" '$1 == 3 { print f, t, (f == "randread" ? $9 : $50) * 1000 }' \
        "$work/fio.out" >> "$work/results"
}

figures() {
    t=$1
    d=$(dir_of "$t")
    run write "$t" dd if=/dev/zero of="$d/$t.f" bs=1M count="$SIZE" status=none
    drop_cache "$d/$t.f"
    run cold "$t" dd if="$d/$t.f" of=/dev/null bs=1M status=none
    run reread "$t" dd if="$d/$t.f" of=/dev/null bs=1M status=none
    run cpin "$t" cp "$work/src" "$d/$t.cp"
    drop_cache "$d/$t.f"
    run cpout "$t" cp "$d/$t.f" "$work/out/$t"
    rm -f "$d/$t.f" "$d/$t.cp" "$work/out/$t"
    fio_run randwrite "$t" "$d/$t.fio"
    fio_run randread "$t" "$d/$t.fio"
    rm -f "$d/$t.fio"
    mkdir "$d/$t.files"
    run create "$t" "$work/mkfiles" "$d/$t.files" "$NFILES"
    run ls "$t" ls -l "$d/$t.files" > /dev/null
    run cat "$t" cat "$d/$t.files"/* > /dev/null
    run rm "$t" rm -r "$d/$t.files"
}

echo "== winapifs: direct tmpfs vs passthrough_ll vs passthrough_hp vs winapifs =="
echo "kernel $(uname -r), $(nproc) CPUs, backing directory on $(stat -f -c %T "$work/c/temp")," \
    "pipe-max-size $(cat /proc/sys/fs/pipe-max-size)"
echo "libfuse: passthrough_ll ${ver_ptll:-?}, passthrough_hp ${ver_pthp:-?}, winapifs ${ver_wfs:-?}"
echo "read-ahead KiB: passthrough_ll $ra_ptll, passthrough_hp $ra_pthp, winapifs $ra_wfs"
echo "passthrough_hp: $pthp_how${pthp_granted:+; granted: $pthp_granted}"
if [ "$wfs_targets" = wfs ]; then
    echo "winapifs: no -o passthrough= option in this build: one column, winapifs as it is"
else
    echo "winapifs+pt: winapifs -o passthrough=on; winapifs: -o passthrough=off"
fi
echo "$SIZE MiB per figure, fio over $FIO_MB MiB, $NFILES files; median of $ROUNDS rounds;" \
    "ratio = direct time / target time"

# Touch the memory the rounds will use, once.
dd if=/dev/zero of="$work/warm" bs=1M count=$((SIZE * 4)) status=none
rm -f "$work/warm"
dd if=/dev/zero of="$work/src" bs=1M count="$SIZE" status=none

: > "$work/results"
targets=$all_targets
for _ in $(seq 1 "$ROUNDS"); do
    for t in $targets; do
        figures "$t"
    done
    for t in $wfs_targets; do
        d=$(dir_of "$t")
        "$top_builddir/bench/bench_fuse_latency" "$d/lat" 4 250 >> "$work/latency.$t"
        rm -f "$d/lat"
    done
    # Rotate: the next round starts with the next target.
    targets="${targets#* } ${targets%% *}"
    printf '.'
done
echo

# Does the host see a shared mmap's writes without msync?
for t in $wfs_targets; do
    d=$(dir_of "$t")
    seen=$(python3 "$top_srcdir/bench/mmap_seen.py" "$d/mmap") || seen=error
    echo "$t $seen" >> "$work/mmap"
    rm -f "$d/mmap"
done

median() {
    sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# us FIGURE TARGET: the median time in microseconds
us() {
    awk -v f="$1" -v t="$2" '$1 == f && $2 == t { print $3 }' "$work/results" | median
}

# cell KIND TIME [DIRECT_TIME]: one target's figure, and its ratio if
# DIRECT_TIME is given; KIND: bw (SIZE MiB), iops (4 KiB over FIO_MB MiB)
# or time
cell() {
    awk -v k="$1" -v v="$2" -v d="${3-}" -v s="$SIZE" -v n="$((FIO_MB * 256))" 'BEGIN {
        if (v <= 0) { printf "-"; exit }
        if (k == "bw") {
            r = s * 1048576 / v * 1e6
            x = r >= 1e9 ? sprintf("%.2f GB/s", r / 1e9) : sprintf("%.0f MB/s", r / 1e6)
        } else if (k == "iops") {
            r = n / v * 1e6
            x = r >= 1e6 ? sprintf("%.2fM IOPS", r / 1e6) : sprintf("%.1fk IOPS", r / 1e3)
        } else
            x = v >= 1e6 ? sprintf("%.2f s", v / 1e6) : sprintf("%.1f ms", v / 1e3)
        if (d != "")
            x = x sprintf(" (%.2f)", d / v)
        printf "%s", x }'
}

# line LABEL CELL...: one row of the table
line() {
    printf '%-31s' "$1"
    shift
    for c in "$@"; do
        printf ' %-19s' "$c"
    done | sed 's/ *$//'
    echo
}

# row LABEL KIND FIGURE
row() {
    label=$1 kind=$2 fig=$3
    dt=$(us "$fig" direct)
    set --
    for t in $all_targets; do
        if [ "$t" = direct ]; then
            set -- "$@" "$(cell "$kind" "$dt")"
        else
            set -- "$@" "$(cell "$kind" "$(us "$fig" "$t")" "$dt")"
        fi
    done
    line "$label" "$@"
}

set --
for t in $all_targets; do
    set -- "$@" "$(label_of "$t")"
done
line figure "$@"
row "dd write $SIZE MiB bs=1M" bw write
row "cold read" bw cold
row "re-read" bw reread
row "cp in" bw cpin
row "cp out (cold)" bw cpout
row "fio 4 KiB random write" iops randwrite
row "fio 4 KiB random read" iops randread
row "$NFILES files: create" time create
row "$NFILES files: ls -l" time ls
row "$NFILES files: cat" time cat
row "$NFILES files: rm -r" time rm
set --
for t in $all_targets; do
    case $t in
    wfs*) set -- "$@" "$(awk -v t="$t" '$1 == t { print $2 }' "$work/mmap")" ;;
    *) set -- "$@" - ;;
    esac
done
line "mmap write seen by the host" "$@"
echo "(written through a shared mapping, no msync, mapping open; the host's sha256 of the buffer)"

# setxattr(user.winapi.process) latency, one line per winapifs target
for t in $wfs_targets; do
    for i in 1 2 3 4 5 6; do
        awk -v i="$i" '{ print $i }' "$work/latency.$t" | median > "$work/lat.$i"
    done
    awk -v l="process 4 KiB, $(label_of "$t")" \
        -v lp50="$(cat "$work/lat.1")" -v lp99="$(cat "$work/lat.2")" \
        -v fp50="$(cat "$work/lat.3")" -v fp99="$(cat "$work/lat.4")" \
        -v np50="$(cat "$work/lat.5")" 'BEGIN {
        printf "%-31s p50 %.1f us (%.2fx lib %.1f), p99 %.1f us (%.2fx lib %.1f);" \
            " floor %.1f us (%.2fx) = lib + FUSE round trip %.1f\n", l,
            fp50, fp50 / lp50, lp50, fp99, fp99 / lp99, lp99,
            lp50 + np50, (lp50 + np50) / lp50, np50 }'
done
echo "(lib: libwinapi's own round trip for the same request, measured alongside; the FUSE"
echo " round trip is getxattr(user.winapi.status), which never leaves winapifs; a request"
echo " through any FUSE daemon costs at least the library call plus it)"

#!/bin/sh
# fuzz.sh - build the libFuzzer harnesses of tests/fuzz and run each for a
# while; fail on any finding.
#
#   scripts/fuzz.sh [-t SECONDS] [-j] [HARNESS...]
#
# HARNESS: msg, path, request, xattr (default: all).  -t: how long each
# runs (default 60; 0 only replays the seed corpus).  FUZZ_SECONDS in the
# environment does the same as -t.
#
# Built out of tree in _build/fuzz with clang -fsanitize=fuzzer,address,
# undefined (Debian's clang and its libFuzzer, libclang-rt-*-dev), from the
# project's sources directly: a harness links only what it exercises, and
# the autotools build is left alone.  Each run starts from the seeds in
# tests/fuzz/corpus/HARNESS (read only), with the words of
# tests/fuzz/HARNESS.dict, and keeps what it finds new in
# _build/fuzz/corpus/HARNESS for the next run.  A crash, a leak, undefined
# behaviour, a broken promise (FUZZ_CHECK), a timeout (10 s for one input)
# or memory beyond 2 GiB is a finding: the input is kept in
# _build/fuzz/findings/HARNESS/ and printed with the command that replays it.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/_build/fuzz
seconds=${FUZZ_SECONDS:-60}
all="msg path request xattr"

while [ $# -gt 0 ]; do
    case $1 in
    -t) seconds=$2; shift ;;
    -t*) seconds=${1#-t} ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
harnesses=${*:-$all}
case $seconds in
'' | *[!0-9]*) echo "fuzz.sh: -t wants whole seconds, not $seconds" >&2; exit 2 ;;
esac

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null ||
    { echo "fuzz.sh: no $CC; scripts/install-deps.sh installs Debian's clang" >&2; exit 1; }
mkdir -p "$out/include"
# A config.h for the project's sources: what configure would say that they use.
version=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' configure.ac)
cat >"$out/include/config.h.new" <<EOT
/* config.h for scripts/fuzz.sh's builds (not configure's). */
#define PACKAGE_VERSION "${version:-0}"
#define _GNU_SOURCE 1
EOT
if cmp -s "$out/include/config.h.new" "$out/include/config.h"; then
    rm "$out/include/config.h.new"
else
    mv "$out/include/config.h.new" "$out/include/config.h"
fi

cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -I$out/include -Iinclude -Iprotocol -Itests/fuzz"
json_c=$(pkg-config --cflags --libs json-c)

# The sources each harness needs, besides its own file.
sources() {
    p=protocol
    case $1 in
    msg) echo "$p/wp_msg.c $p/wp_frame.c $p/wp_utf8.c" ;;
    path) echo "$p/wp_path.c $p/wp_mountinfo.c $p/wp_utf8.c $p/wp_msg.c" ;;
    request)
        echo "$p/wp_msg.c $p/wp_ops.c $p/wp_path.c $p/wp_mountinfo.c $p/wp_utf8.c $p/wp_token.c"
        echo "$p/wp_secret_posix.c hostd/request.c hostd/ops.c hostd/ops_builtin.c hostd/ops_crypt.c hostd/ops_zstd.c hostd/plugin.c hostd/conf.c hostd/grants.c hostd/log.c"
        echo "hostd/plat_posix.c hostd/mapcache_posix.c"
        ;;
    xattr) echo "fusefs/ctl_parse.c $p/wp_utf8.c $p/wp_msg.c $p/wp_ops.c" ;;
    *) echo "fuzz.sh: no harness $1 (there are: $all)" >&2; return 1 ;;
    esac
}

extra_flags() {
    case $1 in
    request) echo "-Ihostd $(pkg-config --cflags --libs libgcrypt 2>/dev/null || libgcrypt-config --cflags --libs) $(pkg-config --cflags --libs libzstd) -pthread" ;;
    xattr) echo "-Ifusefs" ;;
    esac
}

build() {
    h=$1
    srcs=$(sources "$h") || return 1
    # shellcheck disable=SC2086
    nice "$CC" $cflags $(extra_flags "$h") -o "$out/fuzz_$h" "tests/fuzz/fuzz_$h.c" \
        $srcs $json_c >"$out/build_$h.log" 2>&1 || {
        cat "$out/build_$h.log" >&2
        echo "fuzz.sh: fuzz_$h does not build" >&2
        return 1
    }
}

# Run one harness; 0 when it found nothing.
run() {
    h=$1
    seeds=$top/tests/fuzz/corpus/$h
    mkdir -p "$out/corpus/$h" "$out/findings/$h"
    if [ "$seconds" -eq 0 ]; then
        set -- -runs=0
    else
        set -- -max_total_time="$seconds"
    fi
    # Its words (JSON keys, the tree's file names) reach deeper than bytes do.
    [ -f "tests/fuzz/$h.dict" ] && set -- "$@" -dict="tests/fuzz/$h.dict"
    echo "== fuzz_$h: ${seconds} s" >&2
    rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        nice "$out/fuzz_$h" "$@" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/findings/$h/" "$out/corpus/$h" "$seeds" \
        >"$out/run_$h.log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/run_$h.log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/run_$h.log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$out/run_$h.log" | tail -n 1)
    summary="$summary$(printf 'fuzz_%-8s %10s runs  %7s/s  %-10s corpus %s' "$h" \
        "${runs:-?}" "${speed:-?}" "${cov:-cov: ?}" "$(ls "$out/corpus/$h" | wc -l)")"
    if [ "$rc" -ne 0 ]; then
        summary="$summary  FINDING
"
        grep -E 'ERROR|runtime error|promise broken|SUMMARY|Test unit written' "$out/run_$h.log" |
            head -n 20 >&2
        for f in "$out/findings/$h"/*; do
            [ -f "$f" ] || continue
            echo "fuzz.sh: replay with: $out/fuzz_$h $f" >&2
        done
        echo "fuzz.sh: fuzz_$h: the whole log is $out/run_$h.log" >&2
        return 1
    fi
    summary="$summary  ok
"
}

summary=""
failed=0
for h in $harnesses; do
    build "$h" || { failed=1; continue; }
done
[ $failed -eq 0 ] || exit 1
for h in $harnesses; do
    run "$h" || failed=1
done
printf '\n%s' "$summary"
if [ $failed -ne 0 ]; then
    echo "fuzz.sh: FINDINGS (inputs in $out/findings/)" >&2
    exit 1
fi
echo "fuzz.sh: no findings"

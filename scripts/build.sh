#!/bin/sh
# build.sh - configure (once) and build winapifs in a build directory.
#
#   scripts/build.sh [BUILDDIR [CONFIGURE-ARGS...]]    default _build/default
#
# Builds out of tree with warnings as errors; prints the tail of the log
# on failure.  Expects the dependencies (scripts/install-deps.sh).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
dir=${1:-_build/default}
[ $# -gt 0 ] && shift

[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p "$dir"
if [ ! -f "$dir/config.status" ]; then
    (cd "$dir" && "$top/configure" --enable-werror "$@") >"$dir/configure.out" 2>&1 || {
        tail -30 "$dir/configure.out" >&2
        echo "build.sh: configure failed in $dir (log: $dir/configure.out)" >&2
        exit 1
    }
fi
make -C "$dir" -j"$(nproc 2>/dev/null || echo 2)" >"$dir/make.out" 2>&1 || {
    tail -50 "$dir/make.out" >&2
    echo "build.sh: make failed in $dir (log: $dir/make.out)" >&2
    exit 1
}

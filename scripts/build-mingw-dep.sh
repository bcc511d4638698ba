#!/bin/sh
# build-mingw-dep.sh - a library the Windows host needs and Debian has no
# mingw package of (json-c, libzstd), built from Debian's own source
# package with mingw-w64, static, into a local prefix.
#
#   scripts/build-mingw-dep.sh json-c|libzstd [PREFIX]
#                                        (default PREFIX: _build/mingw-prefix)
#
# This fetches the source package Debian ships in the system's release
# (VERSION_CODENAME of /etc/os-release on Debian, else bookworm) with
# scripts/apt-source.sh (apt-get source, verified by apt, with a private
# sources list and apt state under _build/apt/; nothing under /etc/apt
# changes) into _build/PACKAGE-src, and builds it with mingw: json-c with
# its CMake build and a toolchain file, libzstd with the Makefile of its
# lib/ (its CMake build wants a C++ compiler, which only the tests use).
# configure then finds it with
#   PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig
# Quick when already built: it does nothing if PREFIX has the library's .pc
# and .a.  Needs dpkg-dev (dpkg-source), which apt-source.sh installs when
# run as root.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build
pkg=${1:-}
prefix=${2:-$build/mingw-prefix}
host=x86_64-w64-mingw32

say() { echo "build-mingw-dep: $*" >&2; }

# What each package is: its .pc and .a, the file that shows its source
# tree is whole, and how it is built (a static library alone).
case $pkg in
json-c)
    pc=json-c.pc lib=libjson-c.a marker=CMakeLists.txt
    ;;
libzstd)
    pc=libzstd.pc lib=libzstd.a marker=lib/Makefile
    ;;
*)
    sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
srcdir=$build/$pkg-src

if [ -f "$prefix/lib/pkgconfig/$pc" ] && [ -f "$prefix/lib/$lib" ]; then
    say "$pkg already built in $prefix"
    exit 0
fi

# The suite the package comes from: the system's own Debian release.
suite() {
    id='' codename=''
    if [ -f /etc/os-release ]; then
        id=$(sed -n 's/^ID=//p' /etc/os-release | tr -d '"')
        codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
    fi
    if [ "$id" = debian ] && [ -n "$codename" ]; then
        echo "$codename"
    else
        echo bookworm
    fi
}

for tool in cmake make "$host-gcc"; do
    command -v "$tool" >/dev/null || { say "$tool is missing (run scripts/build-windows.sh)"; exit 1; }
done
src=$(find "$srcdir" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" 2>/dev/null | head -n 1)
if [ -z "$src" ] || [ ! -f "$src/$marker" ]; then
    src=$("$top/scripts/apt-source.sh" "$(suite)" "$pkg" "$srcdir")
    [ -f "$src/$marker" ] || { say "apt-get source $pkg gave no $marker"; exit 1; }
fi
say "building $(basename "$src") for $host into $prefix"

obj=$build/$pkg-$host
rm -rf "$obj"
mkdir -p "$obj"
build_json_c() {
    cat >"$obj/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $host-gcc)
set(CMAKE_RC_COMPILER $host-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$host)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
EOF
    cd "$obj"
    cmake -G "Unix Makefiles" "$src" \
        -DCMAKE_TOOLCHAIN_FILE="$obj/toolchain.cmake" \
        -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DCMAKE_INSTALL_LIBDIR=lib \
        -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
        -DBUILD_TESTING=OFF -DBUILD_APPS=OFF \
        -DDISABLE_WERROR=ON -DDISABLE_EXTRA_LIBS=ON >cmake.log 2>&1 ||
        { cat cmake.log >&2; exit 1; }
    make -j1 >make.log 2>&1 && make install >>make.log 2>&1 ||
        { tail -n 40 make.log >&2; exit 1; }
}

# One thread (the host compresses a part at a time, as the zstd command
# does without -T), no legacy formats; built in a copy of lib/, so that
# the unpacked source stays as apt gave it.
build_libzstd() {
    cp -R "$src/lib/." "$obj/"
    set -- -C "$obj" CC="$host-gcc" AR="$host-ar" PREFIX="$prefix" \
        ZSTD_LEGACY_SUPPORT=0 ZSTD_MULTITHREAD_SUPPORT=0 MOREFLAGS=-O3
    make -j1 "$@" libzstd.a >"$obj/make.log" 2>&1 &&
        make "$@" install-static install-includes install-pc >>"$obj/make.log" 2>&1 ||
        { tail -n 40 "$obj/make.log" >&2; exit 1; }
}

case $pkg in
json-c) (build_json_c) ;;
libzstd) (build_libzstd) ;;
esac
[ -f "$prefix/lib/pkgconfig/$pc" ] || { say "no $pc was installed"; exit 1; }
say "done: $prefix/lib/$lib"

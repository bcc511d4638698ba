#!/bin/sh
# build-json-c-mingw.sh - json-c for the Windows host, built from Debian's
# own source package with mingw-w64, static, into a local prefix.
#
#   scripts/build-json-c-mingw.sh [PREFIX]     (default: _build/mingw-prefix)
#
# Debian has no mingw package of json-c.  This fetches the source of the
# json-c that Debian ships in the system's release (VERSION_CODENAME of
# /etc/os-release on Debian, else bookworm) with scripts/apt-source.sh
# (apt-get source, verified by apt, with a private sources list and apt state
# under _build/apt/; nothing under /etc/apt changes) into _build/json-c-src,
# and runs its CMake build with a mingw toolchain file.  configure then finds
# it with
#   PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig
# Quick when already built: it does nothing if PREFIX has json-c.pc and
# libjson-c.a.  Needs dpkg-dev (dpkg-source), which apt-source.sh installs
# when run as root.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build
prefix=${1:-$build/mingw-prefix}
host=x86_64-w64-mingw32
srcdir=$build/json-c-src

say() { echo "build-json-c-mingw: $*" >&2; }

if [ -f "$prefix/lib/pkgconfig/json-c.pc" ] && [ -f "$prefix/lib/libjson-c.a" ]; then
    say "json-c already built in $prefix"
    exit 0
fi

# The suite json-c comes from: the system's own Debian release.
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

fetch_source() {
    tree=$("$top/scripts/apt-source.sh" "$(suite)" json-c "$srcdir")
    [ -f "$tree/CMakeLists.txt" ] || { say "apt-get source json-c gave no source tree"; exit 1; }
}

for tool in cmake make "$host-gcc"; do
    command -v "$tool" >/dev/null || { say "$tool is missing (run scripts/build-windows.sh)"; exit 1; }
done
[ -d "$srcdir" ] && find "$srcdir" -maxdepth 2 -name CMakeLists.txt | grep -q . || fetch_source
src=$(find "$srcdir" -mindepth 1 -maxdepth 1 -type d -name 'json-c-*' | head -n 1)
say "building $(basename "$src") for $host into $prefix"

obj=$build/json-c-$host
rm -rf "$obj"
mkdir -p "$obj"
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
(
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
)
[ -f "$prefix/lib/pkgconfig/json-c.pc" ] || { say "no json-c.pc was installed"; exit 1; }
say "done: $prefix/lib/libjson-c.a"

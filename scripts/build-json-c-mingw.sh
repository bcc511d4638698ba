#!/bin/sh
# build-json-c-mingw.sh - json-c for the Windows host, built from Debian's
# own source package with mingw-w64, static, into a local prefix.
#
#   scripts/build-json-c-mingw.sh [PREFIX]     (default: _build/mingw-prefix)
#
# Debian has no mingw package of json-c.  This adds a deb-src entry for the
# archive apt already uses (if none is there), fetches the source of the
# json-c that Debian ships (apt-get source), and runs its CMake build with a
# mingw toolchain file.  configure then finds it with
#   PKG_CONFIG_LIBDIR=PREFIX/lib/pkgconfig
# Quick when already built: it does nothing if PREFIX has json-c.pc and
# libjson-c.a.  Needs root for apt (or the source already unpacked in
# _build/json-c-src).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build
prefix=${1:-$build/mingw-prefix}
host=x86_64-w64-mingw32
srcdir=$build/json-c-src
apt="apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=3"

say() { echo "build-json-c-mingw: $*" >&2; }

if [ -f "$prefix/lib/pkgconfig/json-c.pc" ] && [ -f "$prefix/lib/libjson-c.a" ]; then
    say "json-c already built in $prefix"
    exit 0
fi

# A deb-src line for every deb line of Debian's own archive, in the file
# format apt is using here (deb822 .sources or one-line .list).
add_deb_src() {
    list=/etc/apt/sources.list.d/winapifs-deb-src
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -n -e 's/^Types:.*\bdeb\b.*/Types: deb-src/' -e 'p' \
            /etc/apt/sources.list.d/debian.sources >"$list.sources"
    elif [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb \(.*debian.*\)/deb-src \1/p' /etc/apt/sources.list >"$list.list"
    else
        say "cannot find Debian's apt sources to add a deb-src entry"
        exit 1
    fi
    say "added a deb-src entry ($list.*); apt-get update"
    $apt update -qq
}

fetch_source() {
    command -v dpkg-source >/dev/null || $apt install -y --no-install-recommends dpkg-dev
    if ! apt-cache showsrc json-c 2>/dev/null | grep -q '^Package: json-c'; then
        add_deb_src
    fi
    rm -rf "$srcdir.tmp"
    mkdir -p "$srcdir.tmp"
    (cd "$srcdir.tmp" && $apt -o APT::Sandbox::User=root source -qq json-c)
    dir=$(find "$srcdir.tmp" -mindepth 1 -maxdepth 1 -type d -name 'json-c-*' | head -n 1)
    [ -n "$dir" ] && [ -f "$dir/CMakeLists.txt" ] || { say "apt-get source json-c gave no source tree"; exit 1; }
    rm -rf "$srcdir"
    mv "$srcdir.tmp" "$srcdir"
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

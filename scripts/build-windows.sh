#!/bin/sh
# build-windows.sh - cross-build winapi-hostd.exe with mingw-w64.
#
#   scripts/build-windows.sh [--no-apt]
#
# 1. installs the cross toolchain and libraries from Debian (unless --no-apt
#    or WINAPI_NO_APT=1; only what is missing);
# 2. builds json-c and libzstd for mingw into _build/mingw-prefix
#    (build-mingw-dep.sh, from Debian's source packages);
# 3. copies the project's sources (git's tracked and new, unignored files)
#    into _build/src-win: automake refuses an out-of-tree build of a source
#    tree that is itself configured in-tree, as a developer's usually is;
# 4. configures _build/win64 with ../src-win/configure --host=x86_64-w64-mingw32
#    and makes it;
# 5. builds the installer, _build/win64/winapi-hostd-setup.exe, with makensis
#    from packaging/windows/winapi-hostd.nsi: the .exe stripped, the manual
#    pages rendered as text by groff, README.md and docs/windows.md, staged
#    in _build/win64/installer.
# The result is _build/win64/hostd/winapi-hostd.exe, linked statically: it
# needs only DLLs that come with Windows; its path is the last line printed.
# Run it again after a change: only what changed is copied and rebuilt.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build
src=$build/src-win
obj=$build/win64
prefix=$build/mingw-prefix
host=x86_64-w64-mingw32
sysroot=/usr/$host

say() { echo "build-windows: $*" >&2; }

install_packages() {
    missing=
    for p in "$@"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=60 update -qq
    # shellcheck disable=SC2086
    apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=3 install -y -qq \
        --no-install-recommends $missing >/dev/null
}

if [ "${1:-}" != --no-apt ] && [ "${WINAPI_NO_APT:-0}" != 1 ]; then
    install_packages gcc-mingw-w64-x86-64 libgcrypt-mingw-w64-dev \
        libgpg-error-mingw-w64-dev cmake make pkg-config autoconf automake \
        libtool dpkg-dev nsis groff-base
fi

for dep in json-c libzstd; do
    "$top/scripts/build-mingw-dep.sh" "$dep" "$prefix"
done

# Sources: what git knows, tracked or new, without what it ignores.
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$top" && tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
        tar -xf - -C "$src"
else
    (cd "$top" && tar --exclude=./_build --exclude=./.git -cf - .) | tar -xf - -C "$src"
fi
if [ ! -x "$src/configure" ]; then
    say "autoreconf in $src"
    (cd "$src" && autoreconf -fi >/dev/null 2>&1) || (cd "$src" && autoreconf -fi)
fi

# configure finds json-c and libgcrypt through these .pc files only; an
# older mingw libgcrypt without a .pc is found through libgcrypt-config.
PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig:$sysroot/lib/pkgconfig
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH || true
if [ ! -f "$sysroot/lib/pkgconfig/libgcrypt.pc" ]; then
    LIBGCRYPT_CONFIG=$sysroot/bin/libgcrypt-config
    export LIBGCRYPT_CONFIG
fi

mkdir -p "$obj"
args="--host=$host --enable-werror"
if [ ! -f "$obj/config.status" ] || [ "$(cat "$obj/.configure-args" 2>/dev/null)" != "$args" ]; then
    say "configuring $obj"
    (cd "$obj" && ../src-win/configure $args >configure.out 2>&1) ||
        { tail -n 30 "$obj/configure.out" >&2; exit 1; }
    echo "$args" >"$obj/.configure-args"
fi
say "building"
make -C "$obj" -j2 >"$obj/make.out" 2>&1 || { tail -n 60 "$obj/make.out" >&2; exit 1; }
exe=$obj/hostd/winapi-hostd.exe
[ -f "$exe" ] || { say "no $exe after make"; exit 1; }
dlls=$($host-objdump -p "$exe" | sed -n 's/^.*DLL Name: //p' | tr '\n' ' ')
say "built $exe ($(wc -c <"$exe") bytes); imports: $dlls"

# 5: the installer.  Text files get CRLF line ends, for Notepad.
crlf() { sed 's/\r*$/\r/'; }
build_installer() {
    stage=$obj/installer
    setup=$obj/winapi-hostd-setup.exe
    rm -rf "$stage" "$obj/groff.out"
    mkdir -p "$stage"
    $host-strip -o "$stage/winapi-hostd.exe" "$exe"
    for m in winapi-hostd.8 winapifs.1 libwinapi.3 winapi-plugin.3; do
        # -t: tables; -P-cbou: plain text, no escape sequences or overstrikes.
        # (tbl's "table wider than line width" goes to groff.out.)
        groff -t -mandoc -Tutf8 -P-cbou "$src/man/$m" >"$stage/$m" 2>>"$obj/groff.out" ||
            { cat "$obj/groff.out" >&2; return 1; }
        crlf <"$stage/$m" >"$stage/$m.txt"
        rm -f "$stage/$m"
    done
    mkdir -p "$stage/plugins" "$stage/include/winapi" "$stage/examples"
    $host-strip -o "$stage/plugins/search.dll" "$obj/examples/plugin-search/.libs/search.dll"
    crlf <"$src/include/winapi/plugin.h" >"$stage/include/winapi/plugin.h"
    crlf <"$src/examples/plugin-search/search.c" >"$stage/examples/search.c"
    crlf <"$src/README.md" >"$stage/README.txt"
    crlf <"$src/docs/windows.md" >"$stage/WINDOWS.txt"
    version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$obj/config.h")
    makensis -V2 -DVERSION="$version" -DSTAGE="$stage" -DOUTFILE="$setup" \
        "$src/packaging/windows/winapi-hostd.nsi" >"$obj/makensis.out" 2>&1 ||
        { tail -n 30 "$obj/makensis.out" >&2; return 1; }
    say "built $setup ($(wc -c <"$setup") bytes)"
}
if command -v makensis >/dev/null; then
    build_installer || { say "the installer did not build"; exit 1; }
else
    say "no makensis (apt-get install nsis): the installer is not built"
fi
echo "$exe"

#!/bin/sh
# build-libfuse.sh - libfuse 3.17 or later (winapifs needs kernel
# passthrough: fuse_passthrough_open, FUSE_CAP_PASSTHROUGH) for a system
# whose own is older (Debian 12 has 3.14), built from Debian's fuse3 source
# package, static, into a prefix in the build tree.
#
#   scripts/build-libfuse.sh [PREFIX]          (default: _build/libfuse)
#
# 1. fetches fuse3 from forky, else sid, verified by apt
#    (scripts/apt-source.sh), into _build/libfuse-src/; refuses a version
#    older than 3.17;
# 2. builds it with meson in _build/libfuse-obj/: libfuse3.a and libfuse's
#    examples (the FUSE benchmark runs example/passthrough_hp and
#    passthrough_ll from there);
# 3. installs headers, lib/libfuse3.a and lib/pkgconfig/fuse3.pc into PREFIX.
# libfuse is configured for /usr and /etc, installed into a staging
# directory and copied to PREFIX: a program linked with it runs the
# system's /usr/bin/fusermount3 (which reads /etc/fuse.conf), as one linked
# with the system's libfuse does.  configure uses _build/libfuse by itself
# when the system's libfuse is too old; else pass --with-libfuse=PREFIX.
# Quick when already built: does nothing if PREFIX has libfuse3.a and a
# fuse3.pc of 3.17 or later and the examples are built.
# Needs meson, ninja-build, gcc, g++ (passthrough_hp is C++), pkg-config
# and dpkg-dev: scripts/install-deps.sh installs them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/_build
prefix=${1:-$build/libfuse}
srcdir=$build/libfuse-src
obj=$build/libfuse-obj
stage=$build/libfuse-stage
min=3.17
suites="forky sid"

say() { echo "build-libfuse: $*" >&2; }
die() {
    say "$*"
    exit 1
}

case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac

# libfuse >= $min in PREFIX, as configure will see it.
installed_version() {
    [ -f "$prefix/lib/libfuse3.a" ] && [ -f "$prefix/lib/pkgconfig/fuse3.pc" ] || return 1
    PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig pkg-config --atleast-version=$min fuse3 || return 1
    PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig pkg-config --modversion fuse3
}

if v=$(installed_version 2>/dev/null); then
    if [ -x "$obj/example/passthrough_ll" ]; then
        say "libfuse $v already in $prefix"
        exit 0
    fi
    say "libfuse $v is in $prefix but its examples are not built in $obj: building again"
fi

for tool in meson ninja cc pkg-config; do
    command -v $tool >/dev/null || die "$tool is missing (run scripts/install-deps.sh)"
done
command -v c++ >/dev/null ||
    say "no C++ compiler (g++): libfuse's passthrough_hp example will not be built"

# 1. The source: the one already unpacked if it is new enough, else Debian's.
src_version() {
    [ -f "$1/meson.build" ] || return 1
    sed -n "s/^[[:space:]]*version:[[:space:]]*'\([^']*\)'.*/\1/p" "$1/meson.build" | head -n 1
}
at_least() { dpkg --compare-versions "$1" ge "$min~"; }

src=$(find "$srcdir" -mindepth 1 -maxdepth 1 -type d -name 'fuse3-*' 2>/dev/null | head -n 1)
if [ -n "$src" ] && v=$(src_version "$src") && [ -n "$v" ] && at_least "$v"; then
    say "using the source already in $src ($v)"
else
    src=
    for suite in $suites; do
        v=$("$top/scripts/apt-source.sh" --version "$suite" fuse3) || continue
        if ! at_least "$v"; then
            say "$suite has fuse3 $v, older than $min"
            continue
        fi
        src=$("$top/scripts/apt-source.sh" "$suite" fuse3 "$srcdir") || continue
        break
    done
    [ -n "$src" ] || die "found no fuse3 source package of $min or later in: $suites"
    v=$(src_version "$src") || v=
    [ -n "$v" ] || die "no libfuse version in $src/meson.build"
    at_least "$v" || die "$src is libfuse $v, older than $min"
fi

# 2. Build.  For /usr and /etc, so that FUSERMOUNT_DIR is /usr/bin; no
# io_uring (the result does not depend on whether liburing-dev happens to
# be installed); no utilities: the system's fusermount3 and mount.fuse3 are
# the ones used.
say "building libfuse $v in $obj"
rm -rf "$obj" "$stage"
meson setup "$obj" "$src" \
    --prefix=/usr --sysconfdir=/etc --libdir=lib \
    -Ddefault_library=static -Dexamples=true -Dutils=false -Dtests=false \
    -Duseroot=false -Denable-io-uring=false >"$build/libfuse-meson.log" 2>&1 ||
    { tail -n 40 "$build/libfuse-meson.log" >&2; die "meson setup failed (log: $build/libfuse-meson.log)"; }
ninja -C "$obj" >"$build/libfuse-ninja.log" 2>&1 ||
    { tail -n 40 "$build/libfuse-ninja.log" >&2; die "build failed (log: $build/libfuse-ninja.log)"; }
[ -x "$obj/example/passthrough_ll" ] || die "$obj/example/passthrough_ll was not built"
[ -x "$obj/example/passthrough_hp" ] ||
    say "$obj/example/passthrough_hp was not built (no C++ compiler?)"

# The library must run the system's fusermount3, not one under PREFIX.
strings -a "$obj/lib/libfuse3.a" | grep -qx /usr/bin/fusermount3 ||
    die "libfuse3.a does not refer to /usr/bin/fusermount3"

# 3. Install into the staging directory, then copy to PREFIX with its own
# prefix in fuse3.pc.
meson install -C "$obj" --no-rebuild --destdir "$stage" >"$build/libfuse-install.log" 2>&1 ||
    { tail -n 20 "$build/libfuse-install.log" >&2; die "meson install failed"; }
for f in usr/lib/libfuse3.a usr/lib/pkgconfig/fuse3.pc usr/include/fuse3/fuse_lowlevel.h; do
    [ -f "$stage/$f" ] || die "meson install gave no $f"
done
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
rm -rf "$prefix/include/fuse3"
cp -R "$stage/usr/include/fuse3" "$prefix/include/"
cp "$stage/usr/lib/libfuse3.a" "$prefix/lib/"
sed "s|^prefix=.*|prefix=$prefix|" "$stage/usr/lib/pkgconfig/fuse3.pc" >"$prefix/lib/pkgconfig/fuse3.pc"
rm -rf "$stage"

v=$(installed_version) || die "$prefix/lib/pkgconfig/fuse3.pc is not libfuse $min or later"
say "installed libfuse $v into $prefix ($(PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig pkg-config --static --libs fuse3)); it runs /usr/bin/fusermount3"

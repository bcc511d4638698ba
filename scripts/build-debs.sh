#!/bin/sh
# build-debs.sh - build the Debian packages from debian/ and check them
# with lintian.
#
#   scripts/build-debs.sh [--no-apt]
#
# 1. installs debhelper, lintian and the build dependencies from Debian
#    (unless --no-apt or WINAPI_NO_APT=1; only what is missing);
# 2. copies the project's sources (git's tracked and new, unignored files)
#    into _build/deb/winapifs-VERSION: dpkg-buildpackage builds in the
#    source tree, which must stay free of an in-tree configure;
# 3. runs dpkg-buildpackage -us -uc -b there (Debian 12's libfuse is older
#    than winapifs needs: configure takes _build/libfuse, Debian's newer
#    fuse3 built by build-libfuse.sh, through a link in the copy);
# 4. runs lintian on the result and fails on any error.
# The packages end up in _build/deb: winapifs, winapi-hostd, libwinapi1,
# libwinapi-dev.  scripts/check-debs.sh installs, runs and removes them.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/_build/deb
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version 2>/dev/null ||
          sed -n '1s/.*(\(.*\)).*/\1/p' "$top/debian/changelog")
src=$out/winapifs-$version

say() { echo "build-debs: $*" >&2; }

if [ "${1:-}" != --no-apt ] && [ "${WINAPI_NO_APT:-0}" != 1 ]; then
    need=
    for p in debhelper lintian dpkg-dev fakeroot pkgconf libjson-c-dev libgcrypt20-dev \
             libfuse3-dev zlib1g-dev check; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
            need="$need $p"
    done
    if [ -n "$need" ]; then
        say "installing$need"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=60 update -qq
        # shellcheck disable=SC2086
        apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=3 install -y -qq \
            --no-install-recommends $need >/dev/null
    fi
fi
if [ ! -f "$top/_build/libfuse/lib/pkgconfig/fuse3.pc" ] &&
   ! pkg-config --atleast-version=3.17 fuse3 2>/dev/null; then
    say "no libfuse 3.17 or later: building Debian's (scripts/build-libfuse.sh)"
    "$top/scripts/build-libfuse.sh"
fi

rm -rf "$out"
mkdir -p "$src/_build"
(cd "$top" && git ls-files -co --exclude-standard -z |
    xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$src"
[ -d "$top/_build/libfuse" ] && ln -s "$top/_build/libfuse" "$src/_build/libfuse"

say "dpkg-buildpackage in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2
    say "dpkg-buildpackage failed (whole log: $out/build.log)"
    exit 1
}
changes=$(ls "$out"/winapifs_*.changes)
say "lintian $(basename "$changes")"
# Errors fail the build; warnings and notes are shown.
status=0
lintian --fail-on error --info --tag-display-limit 0 "$changes" >"$out/lintian.log" 2>&1 ||
    status=$?
grep -v 'running with root privileges' "$out/lintian.log" >&2 || true
if [ "$status" != 0 ]; then
    say "lintian found errors"
    exit 1
fi
ls "$out"/*.deb

#!/bin/sh
# apt-source.sh - fetch a Debian source package, verified by apt, through a
# private sources list and private apt state in the build tree.  The
# system's apt sources, lists and caches are neither used nor changed.
#
#   scripts/apt-source.sh SUITE PACKAGE DIR    unpack PACKAGE from SUITE into
#                                              DIR; prints DIR/PACKAGE-VERSION
#   scripts/apt-source.sh --version SUITE PACKAGE
#                                              print the version that would
#                                              be fetched (nothing downloaded
#                                              but the index)
#
# State: _build/apt/SUITE/ (sources.list, lists/, cache/, an empty
# sources.list.d/).  The index is fetched (apt-get update) when it is
# missing, a day old, or for another mirror.  Verification is apt's own:
# the suite's InRelease must be signed by a key of
# /usr/share/keyrings/debian-archive-keyring.gpg (signed-by= allows no other
# keyring), the Sources index must have the hash InRelease gives it, and the
# .dsc and every tarball the hashes Sources gives them; dpkg-source then
# unpacks the package.
# Mirror: $WINAPI_DEBIAN_MIRROR, else the Debian archive the system's apt
# uses (URIs: in /etc/apt/sources.list.d/debian.sources, deb lines in
# /etc/apt/sources.list; the .../debian one, not -security), else, or when
# that one fails, http://deb.debian.org/debian.
# Needs dpkg-dev (dpkg-source) to unpack; installs it when run as root.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
fallback_mirror=http://deb.debian.org/debian

say() { echo "apt-source: $*" >&2; }
die() {
    say "$*"
    exit 1
}
usage() {
    sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

mode=fetch
if [ "${1:-}" = --version ]; then
    mode=version
    shift
fi
case $mode/$# in
fetch/3 | version/2) ;;
*) usage ;;
esac
suite=$1 pkg=$2 dir=${3:-}
case $suite in
*/* | .* | "") die "bad suite name: $suite" ;;
esac

state=$top/_build/apt/$suite

# The apt-get of this suite: its own sources, lists and caches; no
# unauthenticated, insecure or weak repository, whatever /etc/apt says.
apt_get() {
    apt-get \
        -o "Dir::Etc::SourceList=$state/sources.list" \
        -o "Dir::Etc::SourceParts=$state/sources.list.d" \
        -o "Dir::State::Lists=$state/lists" \
        -o "Dir::Cache=$state/cache" \
        -o APT::Sandbox::User=root \
        -o Acquire::Retries=3 \
        -o Acquire::AllowInsecureRepositories=false \
        -o Acquire::AllowDowngradeToInsecureRepositories=false \
        -o Acquire::AllowWeakRepositories=false \
        -o APT::Get::AllowUnauthenticated=false \
        "$@"
}

# The Debian archive of the system's apt sources, if any: the first
# HOST/debian URI, else the first .../debian one (not -security).
system_mirror() {
    uris=$({
        f=/etc/apt/sources.list.d/debian.sources
        [ -f "$f" ] && sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr -s '[:blank:]' '\n'
        f=/etc/apt/sources.list
        [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]\{1,\}\).*/\2/p' "$f"
    } 2>/dev/null || true)
    for re in '^[a-z+]+://[^/]+/debian/?$' '^[a-z+]+:/+[^[:space:]]*/debian/?$'; do
        m=$(printf '%s\n' "$uris" | grep -E "$re" | head -n 1) || true
        [ -z "$m" ] || break
    done
    echo "$m"
}

# Fetch the suite's Sources index from MIRROR unless a fresh one is there.
update() {
    line="deb-src [signed-by=$keyring] ${1%/} $suite main"
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/sources.list.d"
    if [ "$(cat "$state/sources.list" 2>/dev/null)" != "$line" ]; then
        echo "$line" >"$state/sources.list"
        rm -f "$state/updated"
    fi
    [ -n "$(find "$state/updated" -mmin -1440 2>/dev/null)" ] && return 0
    say "apt-get update: $suite from ${1%/} (private state in $state)"
    apt_get update -qq --error-on=any >&2 || return 1
    touch "$state/updated"
}

[ -f "$keyring" ] || die "$keyring is missing (package debian-archive-keyring)"
mirror=${WINAPI_DEBIAN_MIRROR:-$(system_mirror)}
mirror=${mirror:-$fallback_mirror}
if ! update "$mirror"; then
    [ "${mirror%/}" != "$fallback_mirror" ] || die "cannot fetch the $suite index from $mirror"
    say "$mirror failed; trying $fallback_mirror"
    update "$fallback_mirror" || die "cannot fetch the $suite index from $fallback_mirror"
fi

# What apt-get source would fetch: 'URI' PKG_VERSION.dsc SIZE HASH (no epoch).
dsc=$(apt_get source --print-uris -qq "$pkg" 2>/dev/null | awk '$2 ~ /\.dsc$/ { print $2; exit }')
[ -n "$dsc" ] || die "$suite has no source package $pkg"
version=${dsc%.dsc}
version=${version#*_}
if [ $mode = version ]; then
    echo "$version"
    exit 0
fi

case $dir in
"" | / | "$top" | "$top/") die "refusing to unpack into '$dir'" ;;
esac
if ! command -v dpkg-source >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "dpkg-source is missing: install dpkg-dev (scripts/install-deps.sh)"
    say "installing dpkg-dev (for dpkg-source)"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 install -y -qq \
        --no-install-recommends dpkg-dev >/dev/null
fi
say "apt-get source $pkg ($version, $suite) into $dir"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
(cd "$dir.tmp" && apt_get source -qq "$pkg") >&2 || die "apt-get source $pkg failed"
tree=$(find "$dir.tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$tree" ] || die "apt-get source $pkg unpacked nothing"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir/$(basename "$tree")"

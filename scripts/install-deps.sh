#!/bin/sh
# install-deps.sh - install the Debian packages winapifs needs to build,
# test and run, and libfuse 3.17 or later if the system's is older.
# Idempotent: does nothing when everything is there.
#
#   scripts/install-deps.sh          build + test dependencies
#
# winapifs needs libfuse 3.17 or later (kernel passthrough).  Where the
# system's libfuse3-dev is older (Debian 12 has 3.14), scripts/build-libfuse.sh
# builds Debian's own newer fuse3 source package into _build/libfuse, which
# configure then uses; meson, ninja-build, g++ (libfuse's passthrough_hp
# example) and dpkg-dev (apt-get source) are here for that.  fuse3 stays:
# its fusermount3 and mount.fuse3 are the ones used either way.  git, rsync
# and tar are what the FUSE tests copy trees with links through; fio is for
# make bench; clang (with its libFuzzer) builds scripts/fuzz.sh's harnesses.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs="autoconf automake libtool pkg-config make gcc libc6-dev
      libjson-c-dev libgcrypt20-dev libzstd-dev zstd check zlib1g-dev
      libfuse3-dev fuse3 attr python3 valgrind
      meson ninja-build g++ dpkg-dev
      git rsync tar fio clang python3-cryptography"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: need root to install:$missing" >&2
        exit 1
    fi
    echo "install-deps.sh: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=60 update -qq
    # shellcheck disable=SC2086
    apt-get -o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends $missing
fi

if ! pkg-config --atleast-version=3.17 fuse3; then
    "$top/scripts/build-libfuse.sh"
fi

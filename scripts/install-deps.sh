#!/bin/sh
# install-deps.sh - install the Debian packages winapifs needs to build,
# test and run.  Idempotent: does nothing when everything is there.
#
#   scripts/install-deps.sh          build + test dependencies
set -eu

pkgs="autoconf automake libtool pkg-config make gcc libc6-dev
      libjson-c-dev libgcrypt20-dev check zlib1g-dev
      libfuse3-dev fuse3 attr python3 valgrind"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: need root to install:$missing" >&2
    exit 1
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=60 update -qq
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends $missing

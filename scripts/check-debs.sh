#!/bin/sh
# check-debs.sh - install the packages scripts/build-debs.sh built, use
# them as a user would, and remove them again (root; changes the system).
#
#   scripts/check-debs.sh
#
# Installs winapifs, winapi-hostd, libwinapi1 and libwinapi-dev from
# _build/deb with apt; checks the unit (systemd-analyze verify), the
# service user and buffer directory, and that libwinapi.so.1 exports
# winapi_* alone; runs winapi-hostd as its unit does (its user, its
# capability, /etc/default's options), a program built against
# libwinapi-dev with pkg-config, the README's systemd mount unit (verify)
# and its /etc/fstab line (mount(8) and fuse3's mount.fuse3) with a
# checksum through setfattr; then purges the packages and checks that
# nothing of them is left.  Cleans up whatever happens.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
debs=$top/_build/deb
pkgs="winapifs winapi-hostd libwinapi1 libwinapi-dev"
work=$(mktemp -d /tmp/winapi-debs.XXXXXX)
chmod 755 "$work"
mnt=$work/mnt
hostd_pid=

say() { echo "check-debs: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

cleanup() {
    mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
    [ -n "$hostd_pid" ] && kill "$hostd_pid" 2>/dev/null && wait "$hostd_pid" 2>/dev/null
    # shellcheck disable=SC2086
    dpkg -s $pkgs >/dev/null 2>&1 && apt-get purge -y -qq $pkgs >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" = 0 ] || fail "run as root: it installs packages"
ls "$debs"/winapifs_*.deb >/dev/null 2>&1 || fail "no packages in $debs (scripts/build-debs.sh)"
# It purges what it installed: never a machine's own installation of them.
for p in $pkgs; do
    if dpkg -s "$p" >/dev/null 2>&1; then
        pkgs=""   # the cleanup must not purge them either
        fail "$p is installed on this machine; check-debs would replace and purge it (remove it first, or run in a fresh machine or container)"
    fi
done

say "installing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=60 install -y -qq "$debs"/winapifs_*.deb \
    "$debs"/winapi-hostd_*.deb "$debs"/libwinapi1_*.deb "$debs"/libwinapi-dev_*.deb \
    >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "apt-get install"; }

say "what they installed"
/usr/sbin/winapi-hostd --version | head -1
winapifs --version 2>&1 | head -1
systemd-analyze verify /lib/systemd/system/winapi-hostd.service ||
    fail "systemd-analyze verify winapi-hostd.service"
id winapi-hostd >/dev/null || fail "no user winapi-hostd"
[ "$(stat -c '%a %U %G' /var/lib/winapi-hostd/c/temp)" = "2770 winapi-hostd winapi-hostd" ] ||
    fail "/var/lib/winapi-hostd/c/temp is $(stat -c '%a %U %G' /var/lib/winapi-hostd/c/temp)"
lib=$(ls /usr/lib/*/libwinapi.so.1)
others=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | grep -v -e '^winapi_' -e '^LIBWINAPI_1$' || true)
[ -z "$others" ] || fail "$lib exports more than winapi_*: $others"
echo "$lib exports $(nm -D --defined-only "$lib" | grep -c ' winapi_') symbols, all winapi_*"

say "winapi-hostd as its unit runs it"
# shellcheck disable=SC1091
. /etc/default/winapi-hostd
# shellcheck disable=SC2086
setpriv --reuid=winapi-hostd --regid=winapi-hostd --init-groups \
    --inh-caps=+dac_override --ambient-caps=+dac_override \
    /usr/sbin/winapi-hostd --foreground $WINAPI_HOSTD_OPTS --listen 127.0.0.1:0 \
    --port-file "$work/port" 2>"$work/hostd.log" &
hostd_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { cat "$work/hostd.log" >&2; fail "winapi-hostd did not start"; }
port=$(cat "$work/port")

say "a program built against libwinapi-dev"
cat >"$work/client.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <winapi.h>

int main(void)
{
    winapi_handle_t h;
    winapi_shared_buffer_t b;

    if (winapi_open(NULL, &h) != 0 || winapi_alloc_shared_buffer(h, 1 << 20, &b) != 0) {
        fprintf(stderr, "client: %s\n", winapi_last_error());
        return 1;
    }
    memset(b.data, 'x', b.size);
    if (winapi_process_shared_buffer(h, &b, "checksum") != 0) {
        fprintf(stderr, "client: checksum: %s\n", winapi_last_error());
        return 1;
    }
    printf("client: checksum of %zu bytes in %s: ok\n", b.size, b.file_path);
    winapi_free_shared_buffer(&b);
    winapi_close(h);
    return 0;
}
EOF
# shellcheck disable=SC2046
cc -o "$work/client" "$work/client.c" $(pkg-config --cflags --libs winapi) ||
    fail "cannot build against libwinapi-dev"
WINAPI_PORT=$port WINAPI_AUTOMOUNT_ROOT=/var/lib/winapi-hostd/ \
    WINAPI_BACKING_DIR=/var/lib/winapi-hostd/c/temp "$work/client" ||
    { cat "$work/hostd.log" >&2; fail "the client's request"; }

say "the README's mount unit, and its fstab line through mount(8)"
cat >"$work/srv-winapi.mount" <<'UNIT'
[Unit]
Description=winapifs shared buffers at /srv/winapi
Requires=winapi-hostd.service
After=winapi-hostd.service network-online.target
Wants=network-online.target

[Mount]
What=winapifs
Where=/srv/winapi
Type=fuse.winapifs
Options=backing_dir=/var/lib/winapi-hostd/c/temp,automount_root=/var/lib/winapi-hostd/,allow_other,_netdev

[Install]
WantedBy=multi-user.target
UNIT
systemd-analyze verify "$work/srv-winapi.mount" || fail "systemd-analyze verify srv-winapi.mount"
mkdir "$mnt"
echo "winapifs $mnt fuse.winapifs port=$port,backing_dir=/var/lib/winapi-hostd/c/temp,automount_root=/var/lib/winapi-hostd/,allow_other,_netdev,nofail,x-systemd.requires=winapi-hostd.service 0 0" \
    >"$work/fstab"
mount --fstab "$work/fstab" "$mnt" || fail "mount of the fstab line"
truncate -s 4M "$mnt/buf"
setfattr -n user.winapi.process -v checksum "$mnt/buf" || fail "setfattr user.winapi.process"
getfattr --absolute-names --only-values -n user.winapi.result "$mnt/buf" | grep -q '"status":"success"' ||
    fail "the result: $(getfattr --only-values -n user.winapi.result "$mnt/buf")"
echo "mount: checksum of a 4 MiB buffer through setfattr: ok"
umount "$mnt"
kill "$hostd_pid"
wait "$hostd_pid" 2>/dev/null || true
hostd_pid=

say "removing"
# shellcheck disable=SC2086
apt-get purge -y -qq $pkgs >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "apt-get purge"; }
for f in /usr/bin/winapifs /usr/sbin/winapi-hostd /etc/default/winapi-hostd \
         /lib/systemd/system/winapi-hostd.service /usr/include/winapi.h "$lib"; do
    [ ! -e "$f" ] || fail "$f is still there after purge"
done
echo "installed, ran and purged: $pkgs"

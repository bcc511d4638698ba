#!/bin/sh
# test_win_service.sh - the Windows installer and service, under Wine, as a
# user would have them:
#
#   1. winapi-hostd-setup.exe /S into a fresh Wine prefix (with the service
#      on a free loopback port, through the installer's /OPTIONS=);
#   2. `sc query winapi-hostd` says RUNNING;
#   3. a ping over TCP is answered by the service;
#   4. `sc stop winapi-hostd` stops it, and its log says it stopped cleanly;
#   5. uninstall.exe /S removes the files, and `sc query` no longer knows
#      the service.
#
# Run by scripts/check-wine.sh in the windows pass of scripts/test.sh, not
# through run-test.sh: it needs no test daemon, and a prefix of its own.
# WINAPI_HOSTD_SETUP names the setup exe (default
# _build/win64/winapi-hostd-setup.exe, from scripts/build-windows.sh).
# Exits 77 (skip) only when wine is not installed; the prefix, its Wine
# processes and the work directory are removed whatever happens.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/..}
setup=${WINAPI_HOSTD_SETUP:-$top_srcdir/_build/win64/winapi-hostd-setup.exe}
svc_dir='C:\Program Files\winapi-hostd'
log=

say() { echo "test_win_service: $*"; }
fail() {
    echo "test_win_service: FAIL: $*" >&2
    if [ -n "$log" ] && [ -f "$log" ]; then
        echo "test_win_service: the service's log:" >&2
        sed 's/^/    /' "$log" >&2
    fi
    exit 1
}

command -v wine >/dev/null || { say "SKIP: wine is not installed"; exit 77; }
[ -f "$setup" ] || fail "no $setup (scripts/build-windows.sh builds it, with Debian's nsis)"
. "$here/wine-env.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/winapi-service.XXXXXX")
prefix=$work/prefix
cleanup() {
    wine_prefix_destroy "$prefix"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

wine_in() { wine_env "$prefix" "$@"; }

# Polls `sc query` (up to 30 s) until the service is in STATE; prints the last answer.
sc_wait() {
    i=0
    while :; do
        out=$(wine_in wine sc query winapi-hostd 2>&1)
        if printf '%s\n' "$out" | grep -q "STATE *: *[0-9]* *$1"; then
            printf '%s\n' "$out"
            return 0
        fi
        [ $i -lt 60 ] || { printf '%s\n' "$out"; return 1; }
        sleep 0.5
        i=$((i + 1))
    done
}

say "a fresh Wine prefix in $prefix"
wine_prefix_create "$prefix" || fail "no Wine prefix"
# Wine ends a service (ExitProcess, no stop control) once the last ordinary
# process of the prefix has exited, and starts auto-start services again
# with the next command.  A persistent wineserver keeps the service up
# between our commands, as a Windows machine would.
wine_in wineserver -p || fail "wineserver -p"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
say "installing $(basename "$setup") silently, the service on 127.0.0.1:$port"
wine_in wine "$setup" /S "/OPTIONS=--listen=127.0.0.1:$port" </dev/null ||
    fail "the installer exited with status $?"
inst=$prefix/drive_c/Program\ Files/winapi-hostd
for f in winapi-hostd.exe uninstall.exe README.txt WINDOWS.txt winapi-hostd.8.txt \
    winapi-plugin.3.txt plugins/search.dll include/winapi/plugin.h examples/search.c; do
    [ -f "$inst/$f" ] || fail "the installer did not install $f"
done
log=$prefix/drive_c/ProgramData/winapi-hostd/winapi-hostd.log

say "sc query winapi-hostd:"
# The installer starts it with sc.exe; if that did not take, start it here.
if ! sc_wait RUNNING >"$work/query" 2>&1; then
    say "not running after the installer; sc start winapi-hostd"
    wine_in wine sc start winapi-hostd >/dev/null 2>&1
    sc_wait RUNNING >"$work/query" 2>&1 || { cat "$work/query"; fail "the service is not RUNNING"; }
fi
cat "$work/query"

say "ping on 127.0.0.1:$port"
python3 - "$port" <<'EOF' || fail "the service did not answer the ping"
import json, socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    s.sendall(b'{"api":"ping","request_id":1}\n')
    line = s.makefile("rb").readline()
print("    " + line.decode().strip())
answer = json.loads(line)
sys.exit(0 if answer.get("status") == "success" and answer["result"].get("pong") is True else 1)
EOF
grep -q "listening on 127.0.0.1:$port" "$log" || fail "the log does not say where it listens"

say "sc stop winapi-hostd"
wine_in wine sc stop winapi-hostd >/dev/null 2>&1 || fail "sc stop failed"
sc_wait STOPPED >"$work/query" 2>&1 || { cat "$work/query"; fail "the service did not stop"; }
cat "$work/query"
grep -q 'WIN32_EXIT_CODE *: *0 ' "$work/query" || fail "the service stopped with an error"
grep -q "stopped cleanly" "$log" || fail "the log does not say the service stopped cleanly"
say "its log:"
sed 's/^/    /' "$log"

say "uninstalling silently"
# The uninstaller runs a copy of itself from %TEMP% and returns at once;
# it is done when the installation directory is gone.
wine_in wine "$svc_dir\\uninstall.exe" /S </dev/null || fail "the uninstaller exited with status $?"
i=0
while [ -d "$inst" ]; do
    [ $i -lt 120 ] || fail "the uninstaller left $(ls "$inst" | tr '\n' ' ')"
    sleep 0.5
    i=$((i + 1))
done
[ ! -e "$log" ] || fail "the uninstaller left the log"

say "sc query winapi-hostd after the uninstall:"
out=$(wine_in wine sc query winapi-hostd 2>&1)
rc=$?
[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
# Windows' sc says "FAILED 1060" (no such service); Wine's says nothing.
[ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q 'STATE' ||
    fail "sc query still finds the service (status $rc)"
say "    (status $rc: the service does not exist)"
wine_in wine reg query 'HKLM\System\CurrentControlSet\Services\winapi-hostd' >/dev/null 2>&1 &&
    fail "the service's registry key is still there"
say "PASS"
exit 0

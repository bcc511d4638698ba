#!/bin/sh
# test_hostd_token.sh - the daemon's token file, as ssh treats a private key:
# refused at start when its group or others may read or write it (the
# message names the file, its mode and the fix); accepted at mode 0600;
# only trailing white space is stripped, so "tok\0\0\0" is refused, not
# read as "tok".  Run by run-test.sh.
#
# On a Windows host (WINAPI_TEST_HOSTD=wine) access is the ACL's business,
# not the mode bits': there the modes are not checked, the rest is.
set -u
HOSTD_SH=$WINAPI_TEST_HOSTD_SH
W=$WINAPI_TEST_WORK
failed=0
n=0

fail() { echo "FAIL: $*"; failed=1; }
ok() { echo "ok: $*"; }

# Start a daemon with token file $1 (state dir W/tok$n): 0 if it runs, else
# 1 with its output in W/out.
start() {
    n=$((n + 1))
    state=$W/tok$n
    if "$HOSTD_SH" start "$state" --token-file "$1" >"$W/port" 2>"$W/out"; then
        port=$(cat "$W/port")
        return 0
    fi
    return 1
}

stop() { "$HOSTD_SH" stop "$state" || fail "winapi-hostd did not stop cleanly"; }

# The daemon's answer to hello with token $1 on port $port: success or the code.
hello() {
    python3 - "$port" "$1" <<'EOF'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(json.dumps({"api": "hello", "request_id": 1, "token": sys.argv[2]}).encode() + b"\n")
line = s.makefile("rb").readline()
a = json.loads(line)
print(a["status"] if a["status"] == "success" else a["error"]["code"])
EOF
}

# A token file of mode $1 must be refused, saying $2.
refused_mode() {
    MODE=$1 TEXT=$2
    f=$W/token-$MODE
    printf 'open sesame\n' >"$f"
    chmod "$MODE" "$f"
    if [ "${WINAPI_TEST_HOSTD:-posix}" = wine ]; then
        if start "$f"; then ok "mode $MODE is no concern on Windows"; stop; else
            fail "mode $MODE refused on Windows: $(cat "$W/out")"; fi
        return
    fi
    if start "$f"; then
        fail "token file of mode $MODE accepted"
        stop
        return
    fi
    want="winapi-hostd: token file $f is mode $MODE: $TEXT; chmod 600 $f"
    if grep -qxF "$want" "$W/out"; then ok "mode $MODE refused: $TEXT"; else
        fail "mode $MODE: wanted the line '$want' in:"; cat "$W/out"; fi
}

refused_mode 0644 "readable by others"
refused_mode 0640 "readable by its group"
refused_mode 0620 "writable by its group"
refused_mode 0666 "readable and writable by others"
refused_mode 0624 "readable by others, writable by its group"
refused_mode 0610 "executable by its group"
refused_mode 0604 "readable by others"
refused_mode 0660 "readable and writable by its group"

# Mode 0600: accepted, and its content less the trailing newline is the token.
f=$W/token-good
printf 'open sesame \t\r\n\n' >"$f"
chmod 600 "$f"
if start "$f"; then
    a=$(hello "open sesame")
    [ "$a" = success ] && ok "mode 0600 accepted, trailing white space stripped" ||
        fail "hello with the right token answered $a"
    a=$(hello "open sesame ")
    [ "$a" = unauthorized ] && ok "the stripped blanks are not part of the token" ||
        fail "hello with a trailing blank answered $a"
    stop
else
    fail "token file of mode 0600 refused:"; cat "$W/out"
fi

# NUL bytes are not white space: "tok\0\0\0" is no "tok".
refused_content() {
    f=$W/token-$1
    printf "$2" >"$f"
    chmod 600 "$f"
    if start "$f"; then
        fail "token file holding $1 accepted (hello \"tok\": $(hello tok))"
        stop
    elif grep -q "token file .*$3" "$W/out"; then
        ok "token with $1 refused: $3"
    else
        fail "token with $1: wanted '$3' in:"; cat "$W/out"
    fi
}

refused_content trailing-nuls 'tok\000\000\000' "a NUL byte at offset 3; a token is text"
refused_content inner-nul 'to\000k\n' "a NUL byte at offset 2; a token is text"
refused_content latin1 'caf\351\n' "the token is not UTF-8 text"
refused_content blanks-only ' \n\t\n' "empty token"

exit $failed

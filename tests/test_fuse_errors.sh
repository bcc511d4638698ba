#!/bin/sh
# test_fuse_errors.sh - what a user sees when things go wrong: the errno of
# setfattr when the host is down, comes back, or stops answering; the
# token; and mounts refused with a reason.
. "$top_srcdir/tests/test_fuse_lib.sh"

HOSTD_SH=$WINAPI_TEST_HOSTD_SH
EXTRA=""
stop_extra() {
    for d in $EXTRA; do
        [ -f "$d/pid" ] && kill -CONT "$(cat "$d/pid")" 2>/dev/null
        "$HOSTD_SH" stop "$d"
    done
}
cleanup_hook=stop_extra

# start_host DIR [options]: an extra daemon of this test's own; prints its port.
start_host() {
    d=$1
    shift
    EXTRA="$EXTRA $d"
    "$HOSTD_SH" start "$d" "$@"
}

status() {
    getfattr --absolute-names --only-values -n user.winapi.status "$1"
}

# --- host down, host back: one connection, reconnected transparently
H=$WINAPI_TEST_WORK/hostd-down
port=$(start_host "$H") || die "cannot start a second daemon"
M=$WINAPI_TEST_WORK/fs-down
mount_fs "$M" -o "port=$port"
echo data > "$M/f"
check "process with the host up" OK "$(setx "$M/f" user.winapi.process process)"
"$HOSTD_SH" stop "$H"
check "host down" ECONNREFUSED "$(setx "$M/f" user.winapi.process process)"
check "status after host down" failed "$(status "$M/f")"
check "no result without an answer" ENODATA "$(getx "$M/f" user.winapi.result)"
check "still down" ECONNREFUSED "$(setx "$M/f" user.winapi.process process)"
"$HOSTD_SH" start "$H" --listen "127.0.0.1:$port" >/dev/null || die "cannot restart the daemon"
check "host back: the first request goes through" OK "$(setx "$M/f" user.winapi.process process)"
check "status after host back" processed "$(status "$M/f")"
"$HOSTD_SH" stop "$H"
"$HOSTD_SH" start "$H" --listen "127.0.0.1:$port" >/dev/null || die "cannot restart the daemon"
check "host restarted between requests" OK "$(setx "$M/f" user.winapi.process process)"
unmount_fs "$M"

# --- no answer: ETIMEDOUT after timeout= seconds, status processing meanwhile
H=$WINAPI_TEST_WORK/hostd-slow
port=$(start_host "$H") || die "cannot start a third daemon"
M=$WINAPI_TEST_WORK/fs-slow
mount_fs "$M" -o "port=$port,timeout=2"
echo data > "$M/f"
check "process before the host stalls" OK "$(setx "$M/f" user.winapi.process process)"
kill -STOP "$(cat "$H/pid")"
setx "$M/f" user.winapi.process process > "$WINAPI_TEST_WORK/slow.out" &
waiter=$!
wait_for sh -c "[ \"\$(getfattr --absolute-names --only-values -n user.winapi.status '$M/f')\" = processing ]" &&
    ok "status is processing while the host works" || fail "status never showed processing"
# Meanwhile the rest of the file system goes on.
echo other > "$M/g" && check "other files work during a request" other "$(cat "$M/g")"
wait $waiter
check "host silent" ETIMEDOUT "$(cat "$WINAPI_TEST_WORK/slow.out")"
check "status after a timeout" failed "$(status "$M/f")"
kill -CONT "$(cat "$H/pid")"
check "the host answers again" OK "$(setx "$M/f" user.winapi.process process)"
unmount_fs "$M"

# --- a host that wants a token
H=$WINAPI_TEST_WORK/hostd-token
printf 'sesame\n' > "$WINAPI_TEST_WORK/token"
chmod 600 "$WINAPI_TEST_WORK/token"     # winapi-hostd refuses a token others can read
port=$(start_host "$H" --token-file "$WINAPI_TEST_WORK/token") || die "cannot start a token daemon"
M=$WINAPI_TEST_WORK/fs-token
mount_fs "$M" -o "port=$port,token_file=$WINAPI_TEST_WORK/token"
echo data > "$M/f"
check "token_file: accepted" OK "$(setx "$M/f" user.winapi.process process)"
unmount_fs "$M"
M=$WINAPI_TEST_WORK/fs-notoken
mount_fs "$M" -o "port=$port"
echo data > "$M/f"
check "no token" EACCES "$(setx "$M/f" user.winapi.process process)"
unmount_fs "$M"

# --- refused mounts say why, and leave nothing mounted or created
# refused REASON-PATTERN winapifs-arguments...
refused() {
    pattern=$1
    shift
    mkdir -p "$WINAPI_TEST_WORK/refused"
    if out=$("$WINAPIFS" -o "automount_root=$WINAPI_AUTOMOUNT_ROOT,port=$WINAPI_PORT" "$@" 2>&1); then
        fail "mount with $* succeeded"
        unmount_fs "$WINAPI_TEST_WORK/refused"
        return
    fi
    case $out in
    *$pattern*) ok "refused: $out" ;;
    *) fail "refused with '$out', expected '$pattern'" ;;
    esac
}
R=$WINAPI_TEST_WORK/refused
before=$(backing_files)
refused "backing directory $WINAPI_TEST_WORK/none: No such file or directory" \
    -o "backing_dir=$WINAPI_TEST_WORK/none" "$R"
touch "$WINAPI_TEST_WORK/plain"
refused "is not a directory" -o "backing_dir=$WINAPI_TEST_WORK/plain" "$R"
mkdir -p "$WINAPI_TEST_WORK/elsewhere"
refused "has no host path" -o "backing_dir=$WINAPI_TEST_WORK/elsewhere" "$R"
if [ "$(id -u)" -eq 0 ]; then
    RO=$WINAPI_AUTOMOUNT_ROOT/c/ro
    mkdir -p "$RO" && mount -t tmpfs -o ro tmpfs "$RO" || die "cannot mount a read-only tmpfs"
    refused "is not writable: Read-only file system" -o "backing_dir=$RO" "$R"
    umount "$RO"
else
    mkdir -p "$BACKING/../ro" && chmod 555 "$BACKING/../ro"
    refused "is not writable: Permission denied" -o "backing_dir=$BACKING/../ro" "$R"
fi
refused "mount point $WINAPI_TEST_WORK/nowhere: No such file or directory" \
    -o "backing_dir=$BACKING" "$WINAPI_TEST_WORK/nowhere"
refused "is not a directory" -o "backing_dir=$BACKING" "$WINAPI_TEST_WORK/plain"
refused "port=0: expected a number from 1 to 65535" -o "backing_dir=$BACKING,port=0" "$R"
refused "timeout=0" -o "backing_dir=$BACKING,timeout=0" "$R"
refused "no mount point" -o "backing_dir=$BACKING"
M=$WINAPI_TEST_WORK/fs-busy
mount_fs "$M"
refused "mount point $M is busy" -o "backing_dir=$BACKING" "$M"
unmount_fs "$M"
check "refused mounts create no backing file" "$before" "$(backing_files)"
mountpoint -q "$R" && fail "something is mounted on $R" || ok "nothing mounted after refusals"

finish

#!/bin/sh
# test_fuse_grants.sh - a token's grant through the mount: what it may do
# works, the rest fails with EPERM (forbidden) and says so in
# user.winapi.result, for process and submit alike.
. "$top_srcdir/tests/test_fuse_lib.sh"

HOSTD_SH=$WINAPI_TEST_HOSTD_SH
H=$WINAPI_TEST_WORK/hostd-grants
stop_extra() { "$HOSTD_SH" stop "$H"; }
cleanup_hook=stop_extra

# The mount's buffers go to C:\ro, which the reader may read and no more.
mkdir -p "$WINAPI_TEST_CDIR/ro"
tok=$WINAPI_TEST_WORK/grants
printf 'admin\nreader ops=checksum,stat roots=C:\\ro access=read\n' > "$tok"
chmod 600 "$tok"
ctok=$WINAPI_TEST_WORK/reader-token
echo reader > "$ctok"
port=$("$HOSTD_SH" start "$H" --token-file "$tok" --allow 'C:\temp' --allow 'C:\ro') ||
    die "cannot start a daemon with grants"
BACKING=$WINAPI_TEST_WORK/mnt/c/ro
M=$WINAPI_TEST_WORK/fs
mount_fs "$M" -o "port=$port,token_file=$ctok"
cd "$M" || die "cd $M"

result_code() {
    getfattr --only-values -n user.winapi.result "$1" |
        python3 -c 'import json,sys; r = json.load(sys.stdin); print(r.get("error", {}).get("code", r["status"]))'
}

printf 'granted bytes' > f
check "a granted checksum" OK "$(setx f user.winapi.process checksum)"
check "its result" success "$(result_code f)"
check "a write under access=read" EPERM "$(setx f user.winapi.process fill)"
check "status" failed "$(getfattr --only-values -n user.winapi.status f)"
check "result: forbidden" forbidden "$(result_code f)"
check "an operation not granted" EPERM "$(setx f user.winapi.process process)"
check "submit is refused alike" EPERM "$(setx f user.winapi.submit process)"
check "the file is untouched" "granted bytes" "$(cat f)"

cd / && unmount_fs "$M"
finish

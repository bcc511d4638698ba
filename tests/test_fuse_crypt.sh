#!/bin/sh
# test_fuse_crypt.sh - encrypt and decrypt through the mount: setfattr
# encrypts in place and the next read() sees the ciphertext; decrypt with
# the nonce and tag of user.winapi.result gives the bytes back; a wrong tag
# is EBADMSG and changes nothing; encrypt as a submitted job, too.
. "$top_srcdir/tests/test_fuse_lib.sh"

HOSTD_SH=$WINAPI_TEST_HOSTD_SH
H=$WINAPI_TEST_WORK/hostd-key
stop_extra() { "$HOSTD_SH" stop "$H"; }
cleanup_hook=stop_extra

key=$WINAPI_TEST_WORK/key
python3 -c 'print(bytes(range(32)).hex())' > "$key"
chmod 600 "$key"
port=$("$HOSTD_SH" start "$H" --key-file "$key") || die "cannot start a daemon with a key"
M=$WINAPI_TEST_WORK/fs
mount_fs "$M" -o "port=$port"
cd "$M" || die "cd $M"

field() {   # FILE KEY: a field of the last response's result
    getfattr --only-values -n user.winapi.result "$1" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['result']['$2'])"
}

head -c 100000 /dev/urandom > f
sum=$(sha256sum < f)
cat f > /dev/null       # in the kernel's cache
check "encrypt" OK "$(setx f user.winapi.process encrypt)"
[ "$(sha256sum < f)" != "$sum" ] && ok "read() sees the ciphertext" || fail "read() sees the old bytes"
nonce=$(field f nonce) tag=$(field f tag)
cipher=$(sha256sum < f)
case $tag in 0*) bad=1${tag#?} ;; *) bad=0${tag#?} ;; esac
check "a wrong tag" EBADMSG \
    "$(setx f user.winapi.process "{\"operation\":\"decrypt\",\"params\":{\"nonce\":\"$nonce\",\"tag\":\"$bad\"}}")"
check "leaves the ciphertext" "$cipher" "$(sha256sum < f)"
check "decrypt" OK \
    "$(setx f user.winapi.process "{\"operation\":\"decrypt\",\"params\":{\"nonce\":\"$nonce\",\"tag\":\"$tag\"}}")"
check "the bytes are back" "$sum" "$(sha256sum < f)"
setfattr -n user.winapi.submit -v encrypt f
wait_for sh -c "[ \"\$(getfattr --only-values -n user.winapi.status f)\" != processing ]"
check "a submitted encrypt" processed "$(getfattr --only-values -n user.winapi.status f)"
[ "$(sha256sum < f)" != "$sum" ] && ok "its ciphertext is seen" || fail "old bytes after the job"

# The host stops while the mount follows a submitted job: the job is failed
# (a host that restarts forgets its jobs), not followed for ever.
truncate -s 16G big
setfattr -n user.winapi.submit -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' big
check "a long job runs" processing "$(getfattr --only-values -n user.winapi.status big)"
(cd / && "$HOSTD_SH" stop "$H")
wait_for sh -c "[ \"\$(getfattr --only-values -n user.winapi.status big)\" != processing ]"
check "the host gone: the job failed" failed "$(getfattr --only-values -n user.winapi.status big)"
# From /: a daemon started in the mount would keep it busy.
port=$(cd / && "$HOSTD_SH" start "$H" --key-file "$key") || die "cannot restart the daemon"

cd / && unmount_fs "$M"
finish

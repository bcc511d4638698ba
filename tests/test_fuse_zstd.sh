#!/bin/sh
# test_fuse_zstd.sh - compress and decompress through the mount: a dest
# named by its path in the mount (or by its backing path) is written by the
# host, and a read() and stat() through the mount then see the new bytes
# and size, not what the kernel had cached; a frame that is not zstd is
# EBADMSG and leaves dest as it was; a submitted compress, and the winapi
# command on a file of the mount.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

head -c 1000000 /dev/urandom > src
yes 'half of it compresses' | head -c 1000000 >> src
printf 'stale bytes' > out.zst
cat out.zst > /dev/null          # in the kernel's cache, size and pages
stat -c %s out.zst > /dev/null
check "compress into a dest in the mount" OK \
    "$(setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/out.zst\"}}")"
size=$(getfattr --only-values -n user.winapi.result src |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["dest_size"])')
check "stat sees dest's new size" "$size" "$(stat -c %s out.zst)"
check "a read sees the frame" "$(sha256sum < src)" "$(zstd -q -dc < out.zst | sha256sum)"

back=$(getfattr --only-values -n user.winapi.backing_path src)
: > plain
check "decompress into a dest named by its backing path" OK \
    "$(setx out.zst user.winapi.process "{\"operation\":\"decompress\",\"params\":{\"dest\":\"$(getfattr --only-values -n user.winapi.backing_path plain)\"}}")"
check "the bytes are back" "$(sha256sum < src)" "$(sha256sum < plain)"

printf 'not a zstd frame' > junk
before=$(sha256sum < plain)
check "a frame that is not zstd" EBADMSG \
    "$(setx junk user.winapi.process "{\"operation\":\"decompress\",\"params\":{\"dest\":\"$M/plain\"}}")"
check "dest is as it was" "$before" "$(sha256sum < plain)"
check "the source as dest" EINVAL \
    "$(setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/src\"}}")"
check "a dest that is not there" ENOENT \
    "$(setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/absent\"}}")"

# Submitted: the watcher drops dest's cache when the job ends.
printf 'old' > sub.zst
cat sub.zst > /dev/null
setfattr -n user.winapi.submit -v "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/sub.zst\",\"level\":9}}" src
wait_for sh -c "[ \"\$(getfattr --only-values -n user.winapi.status src)\" != processing ]"
check "a submitted compress" processed "$(getfattr --only-values -n user.winapi.status src)"
check "its dest read through the mount" "$(sha256sum < src)" "$(zstd -q -dc < sub.zst | sha256sum)"

# The winapi command on files of the mount.
: > cmd.zst
"$top_builddir/tools/winapi" process "$M/src" compress "{\"dest\":\"$M/cmd.zst\"}" > /dev/null ||
    fail "winapi process compress in the mount"
check "winapi's dest" "$(sha256sum < src)" "$(zstd -q -dc < cmd.zst | sha256sum)"

cd / && unmount_fs "$M"
finish

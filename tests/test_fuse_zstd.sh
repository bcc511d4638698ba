#!/bin/sh
# test_fuse_zstd.sh - compress and decompress through the mount: a dest
# named by its path in the mount (or by its backing path) is written by the
# host, and a read() and stat() through the mount then see the new bytes
# and size, not what the kernel had cached; a frame that is not zstd is
# EBADMSG and leaves dest as it was; a frame exactly a buffer long; a
# submitted compress, and the winapi command on a file of the mount.  On a
# mount others may use (allow_other), another user may not have the host
# write a file they cannot write, nor one outside the mount.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M" -o allow_other
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

# A frame that decodes to exactly 1 MiB, the host's buffer: not "cut short".
head -c 1048576 /dev/zero > mib
: > mib.zst
: > mib.out
setx mib user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/mib.zst\"}}" >/dev/null
check "1 MiB exactly, decoded" OK \
    "$(setx mib.zst user.winapi.process "{\"operation\":\"decompress\",\"params\":{\"dest\":\"$M/mib.out\"}}")"
check "its bytes" "$(sha256sum < mib)" "$(sha256sum < mib.out)"

# Another user: only what they may write, and only in the mount.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    chmod 711 "$WINAPI_TEST_WORK"
    as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    # Not $TOOL: its python3 may be a shim in root's home.
    tool_nobody="/usr/bin/python3 $top_srcdir/tests/test_fuse_tool.py"
    chmod 666 src
    printf 'theirs' > theirs.zst && chmod 644 theirs.zst
    printf 'shared' > shared.zst && chmod 666 shared.zst
    check "another user's dest they may not write" EACCES \
        "$(as_nobody $tool_nobody setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/theirs.zst\"}}")"
    check "which stays theirs" theirs "$(cat theirs.zst)"
    check "a dest they may write" OK \
        "$(as_nobody $tool_nobody setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$M/shared.zst\"}}")"
    check "a dest outside the mount" EXDEV \
        "$(as_nobody $tool_nobody setx src user.winapi.process "{\"operation\":\"compress\",\"params\":{\"dest\":\"$WINAPI_BACKING_DIR/x\"}}")"
else
    fail "no user nobody or no setpriv: cannot check another user's dest"
fi

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

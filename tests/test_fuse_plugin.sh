#!/bin/sh
# test_fuse_plugin.sh - a plugin's operation through the mount: the example
# plugin (search) run by setfattr user.winapi.process on a file written
# through the mount, its result in user.winapi.result, a plugin's error as
# the errno of its code (EINVAL for bad_request), and as a submitted job.
. "$top_srcdir/tests/test_fuse_lib.sh"

HOSTD_SH=$WINAPI_TEST_HOSTD_SH
H=$WINAPI_TEST_WORK/hostd-plugin
stop_extra() { "$HOSTD_SH" stop "$H"; }
cleanup_hook=stop_extra

if [ "${WINAPI_TEST_HOSTD:-posix}" = wine ]; then
    exe=${WINAPI_HOSTD_EXE:-$top_srcdir/_build/win64/hostd/winapi-hostd.exe}
    plugin=$(dirname "$(dirname "$exe")")/examples/plugin-search/.libs/search.dll
else
    plugin=$top_builddir/examples/plugin-search/.libs/search.so
fi
[ -f "$plugin" ] || die "no $plugin: build it first"
port=$("$HOSTD_SH" start "$H" --plugin "$plugin") || die "cannot start a daemon with the plugin"
M=$WINAPI_TEST_WORK/fs
mount_fs "$M" -o "port=$port"
cd "$M" || die "cd $M"

result() {  # FILE: the last response's result, as Python sees it
    getfattr --only-values -n user.winapi.result "$1" |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["matches"], r["offsets"])'
}

printf 'one needle, two needles, needle' > f
check "search" OK "$(setx f user.winapi.process '{"operation":"search","params":{"text":"needle"}}')"
check "its matches and offsets" "3 [4, 16, 25]" "$(result f)"
check "a plugin's bad_request" EINVAL \
    "$(setx f user.winapi.process '{"operation":"search","params":{"hex":"x"}}')"
check "the file is as it was" "one needle, two needles, needle" "$(cat f)"
setfattr -n user.winapi.submit -v '{"operation":"search","params":{"text":"ne"}}' f
wait_for sh -c "[ \"\$(getfattr --only-values -n user.winapi.status f)\" != processing ]"
check "a submitted search" processed "$(getfattr --only-values -n user.winapi.status f)"
check "its result" "4 [1, 4, 16, 25]" "$(result f)"

cd / && unmount_fs "$M"
finish

#!/bin/sh
# test_winapi_cmd.sh - the winapi command against the real daemon: ping,
# hello, process (result JSON, the checksum sha256sum computes), a chain,
# --async then jobs, wait and cancel, its errors and exit statuses, reap,
# and the progress bar on a terminal (script -qc) but never on a pipe.
set -u
w="$top_builddir/tools/winapi"
dir=$WINAPI_BACKING_DIR
out=$WINAPI_TEST_WORK/out
err=$WINAPI_TEST_WORK/err
fail() { echo "FAIL: $*" >&2; sed 's/^/  stdout: /' "$out" >&2; sed 's/^/  stderr: /' "$err" >&2; exit 1; }
run() { "$w" "$@" >"$out" 2>"$err"; }
has() { grep -q -- "$1" "$out" || fail "no '$1' in the output of: $2"; }

run ping || fail "ping"
has '"pong":true' ping
run hello || fail "hello"
has '"server":"winapi-hostd"' hello

head -c 3000000 /dev/urandom >"$dir/f"
sum=$(sha256sum <"$dir/f" | cut -d' ' -f1)
run process "$dir/f" checksum '{"algorithm":"sha256"}' || fail "process"
has "\"checksum\":\"$sum\"" "process checksum sha256"
[ "$(wc -l <"$out")" = 1 ] || fail "process printed more than the result line"
[ -s "$err" ] && fail "process wrote to stderr without a terminal"
(cd "$dir" && "$w" process f checksum >"$out" 2>"$err") || fail "process, relative path"
has '"algorithm":"crc32"' "process relative"
run process "$dir/f" --chain '[{"operation":"fill","params":{"pattern":1684234849}},{"operation":"checksum","params":{"algorithm":"sha256"}}]' ||
    fail "chain"
has '"operation":"chain"' chain
filled=$(python3 -c 'import hashlib; print(hashlib.sha256(b"abcd" * 750000).hexdigest())')
has "\"checksum\":\"$filled\"" "chain's checksum of what fill wrote"

# --async: the job, then jobs, wait and cancel.
truncate -s 8G "$dir/big"
run process "$dir/big" checksum '{"algorithm":"sha256"}' --async || fail "--async"
job=$(sed -n 's/^{"job_id":\([0-9]*\)}$/\1/p' "$out")
[ -n "$job" ] || fail "--async printed no job"
run jobs || fail "jobs"
has "\"job_id\":$job," jobs
run wait "$job" --timeout 100 || fail "wait --timeout"
has '"state":"running"' "wait --timeout"
run cancel "$job" || fail "cancel"
run wait "$job" || fail "wait after cancel"
has '"state":"cancelled"' "wait after cancel"
has '"code":"cancelled"' "the cancelled job's response"

# Failures: exit 1 with the file and the reason; bad usage exits 2.
run process "$dir/absent" checksum && fail "a missing file succeeded"
grep -q "^winapi: $dir/absent: No such file or directory" "$err" || fail "missing file message"
run process "$dir/f" nosuchop && fail "an unknown operation succeeded"
grep -q "^winapi: $dir/f: Operation not supported: .*nosuchop" "$err" || fail "unknown operation message"
run wait 99999 && fail "an unknown job succeeded"
grep -q "^winapi: job 99999: No such file or directory" "$err" || fail "unknown job message"
run bogus
[ $? = 2 ] || fail "an unknown command did not exit 2"
run process "$dir/f" checksum --offset 5
[ $? = 2 ] || fail "--offset without --length did not exit 2"

# reap: a buffer file of a process that is gone goes, one of a live one stays.
: >"$dir/winapi_shared_buffer_7_999999"
: >"$dir/winapi_shared_buffer_8_$$"
run reap || fail "reap"
has "removed $dir/winapi_shared_buffer_7_999999" reap
[ -e "$dir/winapi_shared_buffer_8_$$" ] || fail "reap removed a live process's buffer"
rm -f "$dir/winapi_shared_buffer_8_$$"

# The progress bar: on a terminal it moves to 100 %; the result still on stdout.
truncate -s 2G "$dir/mid"
if command -v script >/dev/null; then
    script -qec "'$w' process '$dir/mid' checksum '{\"algorithm\":\"sha256\"}'" /dev/null \
        >"$out" 2>"$err" </dev/null || fail "process under script"
    tr '\r' '\n' <"$out" >"$out.lines"
    grep -q ' 100%  .*/s' "$out.lines" || fail "no progress bar at 100 % on a terminal"
    grep -q 'GiB / 2.0 GiB' "$out.lines" || fail "the progress bar shows no sizes"
    grep -q '"bytes_processed":2147483648' "$out.lines" || fail "no result after the bar"
else
    echo "note: no script(1); the progress bar is not tried"
fi
rm -f "$dir/f" "$dir/big" "$dir/mid"

# A file in a winapifs mount goes through its attributes.
mp=$WINAPI_TEST_WORK/mount
if [ -c /dev/fuse ] && [ "$(id -u)" = 0 ] && [ -x "$top_builddir/fusefs/winapifs" ]; then
    mkdir -p "$mp"
    "$top_builddir/fusefs/winapifs" -o "port=$WINAPI_PORT,backing_dir=$dir,automount_root=$WINAPI_AUTOMOUNT_ROOT" \
        "$mp" || fail "mount"
    head -c 1000000 /dev/urandom >"$mp/buf"
    sum=$(sha256sum <"$mp/buf" | cut -d' ' -f1)
    run process "$mp/buf" checksum '{"algorithm":"sha256"}'; rc=$?
    status=$(getfattr --only-values -n user.winapi.status "$mp/buf" 2>/dev/null)
    fusermount3 -u "$mp"
    [ $rc = 0 ] || fail "process of a file in a mount"
    has "\"checksum\":\"$sum\"" "process in a mount"
    [ "$status" = processed ] || fail "the mount's status is '$status', not processed"
else
    echo "note: no FUSE here; a file in a mount is not tried"
fi
echo "winapi: every command as winapi(1) says"

#!/bin/sh
# test_client.sh - the seed's transcript from test_client --shared-only,
# the same from a buffer pool (--pool), then its failures: host down, and
# nothing left in the backing directory.
set -u
tc="$top_builddir/tests/test_client"
out="$WINAPI_TEST_WORK/transcript"
fail() { echo "FAIL: $*" >&2; cat "$out" >&2; exit 1; }

"$tc" --shared-only >"$out" 2>&1 || fail "test_client failed against a running host"
dir=$WINAPI_BACKING_DIR pid='[0-9]*'
expected_block() {
    cat <<TXT
Testing $1 MB dynamic buffer...
✅ Allocated shared buffer: $dir/winapi_shared_buffer_$2_$pid ($3 bytes)
  Filling buffer with test pattern...
  Sending to host for processing...
✅ Host processed shared buffer: $dir/winapi_shared_buffer_$2_$pid
  Verifying buffer integrity...
  ✅ Buffer integrity verified
✅ Cleaned up shared buffer: $dir/winapi_shared_buffer_$2_$pid
  ✅ Buffer cleaned up

TXT
}
{
    echo "=== Dynamic Shared Buffer Test ==="
    expected_block 1.00 1 1048576
    expected_block 8.00 2 8388608
    expected_block 32.00 3 33554432
    echo "Dynamic shared buffer tests completed successfully!"
} >"$WINAPI_TEST_WORK/expected"
# Compare line by line, the expected lines being glob patterns (the PID).
n=0
while IFS= read -r want <&3 && IFS= read -r got <&4; do
    n=$((n + 1))
    # shellcheck disable=SC2254
    case $got in
    $want) ;;
    *) fail "line $n: got '$got', wanted '$want'" ;;
    esac
done 3<"$WINAPI_TEST_WORK/expected" 4<"$out"
[ "$n" -eq "$(wc -l <"$WINAPI_TEST_WORK/expected")" ] || fail "transcript has $n matching lines"
[ "$(wc -l <"$out")" -eq "$n" ] || fail "transcript has extra lines"
ls "$WINAPI_BACKING_DIR" | grep -q . && fail "files left behind: $(ls "$WINAPI_BACKING_DIR")"

# --pool: the scenario twice from one buffer pool.  The second round gets
# the first round's buffers (the same IDs; fresh ones would be 4, 5 and 6),
# zeroed, and closing the pool leaves nothing behind.
"$tc" --shared-only --pool >"$out" 2>&1 || fail "test_client --pool failed"
for id in 1 2 3; do
    [ "$(grep -c "Allocated shared buffer: .*winapi_shared_buffer_${id}_" "$out")" = 2 ] ||
        fail "--pool: buffer $id was not handed out twice"
done
grep -q "winapi_shared_buffer_4_" "$out" && fail "--pool: a fresh buffer in the second round"
[ "$(grep -c "Buffer integrity verified" "$out")" = 6 ] || fail "--pool: six verified buffers"
grep -q "completed successfully" "$out" || fail "--pool: no success line"
ls "$WINAPI_BACKING_DIR" | grep -q . && fail "--pool: files left behind: $(ls "$WINAPI_BACKING_DIR")"

# Host down: a clear message, exit status 1, and still nothing left behind.
"$WINAPI_TEST_HOSTD_SH" stop "$WINAPI_TEST_WORK/hostd" || fail "winapi-hostd did not stop cleanly"
if "$tc" --shared-only >"$out" 2>&1; then
    fail "test_client succeeded with the host down"
fi
grep -q "refused the connection" "$out" || fail "no clear message when the host is down"
ls "$WINAPI_BACKING_DIR" | grep -q . && fail "files left behind after a failure"
# Leave a daemon running, as run-test.sh expects to find one.
"$WINAPI_TEST_HOSTD_SH" start "$WINAPI_TEST_WORK/hostd" >/dev/null
echo "test_client transcript and failure handling: ok"

#!/bin/sh
# test_fuse_jobs.sh - host jobs through the mount: user.winapi.submit,
# progress and cancel, status processing and cancelled, a chain written to
# process, and a user.winapi.process cancelled by another process or by a
# signal (the FUSE interrupt), with setfattr/getfattr and Python.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
# timeout= bounds each answer of the host, not a job: see the 1 GiB process below.
mount_fs "$M" -o timeout=1
cd "$M" || die "cd $M"

# json_field JSON KEY [SUBKEY]: a field of a JSON text.
json_field() {
    python3 -c 'import json,sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[int(k)] if k.isdigit() else v[k]
print(v)' "$@"
}

status() { getfattr --only-values -n user.winapi.status "$1"; }
progress() { getfattr --only-values -n user.winapi.progress "$1"; }
result() { getfattr --only-values -n user.winapi.result "$1"; }
not_processing() { [ "$(status "$1")" != processing ]; }
running() { [ "$(json_field "$(progress "$1")" state)" = running ]; }

SLOW='{"operation":"checksum","params":{"algorithm":"sha256"}}'

# --- before any job
printf 'hello\n' > f
check "progress before any job" ENODATA "$(getx f user.winapi.progress)"
check "cancel without a job" ENODATA "$(setx f user.winapi.cancel 1)"
check "submit is write-only" ENODATA "$(getx f user.winapi.submit)"
check "cancel is write-only" ENODATA "$(getx f user.winapi.cancel)"
check "progress is read-only" EPERM "$(setx f user.winapi.progress x)"
check "submit on a directory" EISDIR "$(mkdir -p d && setx d user.winapi.submit checksum)"
check "the new attributes stay hidden" "" "$($TOOL listx f)"

# --- submit: returns at once, the job ends on its own
setfattr -n user.winapi.submit -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' f &&
    ok "submit" || fail "submit"
wait_for not_processing f
check "status once the submitted job ended" processed "$(status f)"
check "result is the job's response" "$(sha256sum < f | cut -d' ' -f1)" \
    "$(json_field "$(result f)" result checksum)"
p=$(progress f)
check "progress: done" done "$(json_field "$p" state)"
check "progress: bytes_done" 6 "$(json_field "$p" bytes_done)"
check "progress: bytes_total" 6 "$(json_field "$p" bytes_total)"
check "cancel of an ended job" OK "$(setx f user.winapi.cancel 1)"
check "and it stays done" processed "$(status f)"

# --- errors the host answers at once come back from submit
check "submit of an unknown operation" ENOTSUP "$(setx f user.winapi.submit no_such_op)"
check "status after a refused submit" failed "$(status f)"
check "progress: still the last job's" done "$(json_field "$(progress f)" state)"
check "submit of an invalid value" EINVAL "$(setx f user.winapi.submit '{"operation":1}')"
check "a parameter of the wrong type (the protocol's table)" EINVAL \
    "$(setx f user.winapi.submit '{"operation":"fill","params":{"pattern":"x"}}')"
check "a chain step's too" EINVAL \
    "$(setx f user.winapi.submit '{"operations":[{"operation":"checksum","params":{"algorithm":7}}]}')"
check "neither reaches the host" failed "$(status f)"

# --- a job that writes: the cache is dropped before the job shows ended
truncate -s 8 w
cat w > /dev/null       # cached
setfattr -n user.winapi.submit -v '{"operation":"fill","params":{"pattern":1094861636}}' w
wait_for not_processing w
check "a submitted fill is seen by read()" "DCBADCBA" "$(cat w)"

# --- a chain through process
setfattr -n user.winapi.process -v '{"operations":[{"operation":"fill","params":{"pattern":1111638594}},{"operation":"checksum","params":{"algorithm":"sha256"}}]}' w &&
    ok "a chain through process" || fail "a chain through process"
check "the chain's result" chain "$(json_field "$(result w)" result operation)"
check "its checksum is of the filled bytes" "$(printf BBBBBBBB | sha256sum | cut -d' ' -f1)" \
    "$(json_field "$(result w)" result steps 1 checksum)"
check "a chain's failing step" 1 "$(setx w user.winapi.process '{"operations":[{"operation":"stat"},{"operation":"nope"}]}' >/dev/null;
    json_field "$(result w)" error step)"
check "operation and operations at once" EINVAL \
    "$(setx w user.winapi.process '{"operation":"stat","operations":[{"operation":"stat"}]}')"
check "a chain of 17 steps" EINVAL "$(setx w user.winapi.process "{\"operations\":[$(
    for i in $(seq 17); do printf '{"operation":"stat"},'; done | sed 's/,$//')]}")"

# --- process waits for its job however long it runs
truncate -s 1G g
t0=$(date +%s)
setfattr -n user.winapi.process -v "$SLOW" g && ok "process longer than timeout=1" ||
    fail "process longer than timeout=1"
echo "# sha256 of 1 GiB took $(( $(date +%s) - t0 )) s"
check "its checksum" "$(head -c 1G /dev/zero | sha256sum | cut -d' ' -f1)" \
    "$(json_field "$(result g)" result checksum)"

# --- a long job: processing, progress that moves, cancel
truncate -s 16G big       # sparse: the host reads zeros for a while
setfattr -n user.winapi.submit -v "$SLOW" big
check "status while the job runs" processing "$(status big)"
wait_for running big
check "progress moves" moves "$($TOOL progress_moves big)"
check "bytes_total is the size" 17179869184 "$(json_field "$(progress big)" bytes_total)"
t0=$(date +%s%N)
check "cancel a running job" OK "$(setx big user.winapi.cancel 1)"
wait_for not_processing big
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "status after cancel" cancelled "$(status big)"
[ "$ms" -lt 2000 ] && ok "cancelled in $ms ms" || fail "cancel took $ms ms"
check "result: the error cancelled" cancelled "$(json_field "$(result big)" error code)"
check "progress: cancelled" cancelled "$(json_field "$(progress big)" state)"

# --- process, cancelled by another process: ECANCELED.  The kernel holds the
# file's inode lock for the setxattr of process, so another setfattr of the
# file waits for it; the job is cancelled by its id, through the library.
$TOOL setx big user.winapi.process "$SLOW" > "$WINAPI_TEST_WORK/out" &
pid=$!
wait_for running big
"$top_builddir/tools/winapi" cancel "$(json_field "$(progress big)" job_id)" > /dev/null ||
    fail "winapi cancel JOB"
wait "$pid"
check "process cancelled from elsewhere" ECANCELED "$(cat "$WINAPI_TEST_WORK/out")"
check "its status" cancelled "$(status big)"

# --- process interrupted by a signal: EINTR at once, the host's job cancelled
set -- $($TOOL setx_signalled big user.winapi.process "$SLOW" 1)
check "process interrupted by a signal" EINTR "$1"
[ "${2:-99999}" -lt 1000 ] && ok "EINTR $2 ms after the signal" ||
    fail "EINTR came ${2:-never} ms after the signal"
wait_for not_processing big
check "the interrupted job is cancelled" cancelled "$(json_field "$(progress big)" state)"

# Ctrl-C on setfattr: a fatal signal, the kernel waits for the answer.
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)     # a background job of sh ignores it
os.execvp("setfattr", ["setfattr", "-n", "user.winapi.process", "-v", sys.argv[1], sys.argv[2]])' \
    "$SLOW" big &
pid=$!
wait_for running big
t0=$(date +%s%N)
kill -INT "$pid"
wait "$pid"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "setfattr killed by SIGINT" 130 "$rc"
[ "$ms" -lt 1000 ] && ok "Ctrl-C ended setfattr in $ms ms" || fail "Ctrl-C took $ms ms"
wait_for not_processing big
check "Ctrl-C cancelled the host's job" cancelled "$(status big)"

# --- the winapi command on files of the mount: through these attributes
W=$top_builddir/tools/winapi
out=$WINAPI_TEST_WORK/out
err=$WINAPI_TEST_WORK/err
"$W" process f checksum '{"algorithm":"sha256"}' > "$out" 2> "$err" || fail "winapi process FILE"
check "winapi process FILE prints the result" "$(sha256sum < f | cut -d' ' -f1)" \
    "$(json_field "$(cat "$out")" checksum)"
check "and leaves the mount's status" processed "$(status f)"
"$W" process w --chain '[{"operation":"fill","params":{"pattern":1128481603}},{"operation":"checksum","params":{"algorithm":"sha256"}}]' \
    > "$out" 2> "$err" || fail "winapi process FILE --chain"
check "a chain through the mount" "$(printf CCCCCCCC | sha256sum | cut -d' ' -f1)" \
    "$(json_field "$(cat "$out")" steps 1 checksum)"
"$W" process f nosuchop > "$out" 2> "$err"
check "an unknown operation: exit 1" 1 "$?"
grep -q "^winapi: f: Operation not supported: .*nosuchop" "$err" && ok "its message names the file" ||
    fail "message: $(cat "$err")"
"$W" process big checksum '{"algorithm":"sha256"}' --async > "$out" 2> "$err" ||
    fail "winapi process FILE --async"
job=$(json_field "$(cat "$out")" job_id)
check "--async prints the file's job" "$(json_field "$(progress big)" job_id)" "$job"
check "the host lists it" "$job" "$("$W" jobs | grep -o "\"job_id\":$job," | tr -dc 0-9)"
wait_for running big
"$W" cancel big > "$out" 2> "$err" || fail "winapi cancel FILE"
check "winapi cancel FILE names the job" "$job" "$(json_field "$(cat "$out")" job_id)"
check "and shows it cancelled" cancelled "$(json_field "$(cat "$out")" state)"
"$W" wait big > "$out" 2> "$err"
check "winapi wait FILE of a cancelled job: exit 1" 1 "$?"
grep -q "^winapi: big: Operation canceled" "$err" && ok "its message" || fail "message: $(cat "$err")"
check "wait of a file outside a mount" 1 "$("$W" wait /etc/passwd > /dev/null 2>&1; echo $?)"
"$W" process g checksum --async > /dev/null && "$W" wait g > "$out" 2> "$err" ||
    fail "winapi wait FILE"
check "wait FILE prints the result" 1073741824 "$(json_field "$(cat "$out")" bytes_processed)"
script -qec "'$W' process g checksum '{\"algorithm\":\"sha256\"}'" /dev/null > "$out" 2> "$err" \
    < /dev/null || fail "winapi process FILE under script"
tr '\r' '\n' < "$out" > "$out.lines"
grep -q ' 100%  .*/s' "$out.lines" && ok "a progress bar for a file of the mount" ||
    fail "no progress bar: $(cat "$out.lines")"
grep -q '"bytes_processed":1073741824' "$out.lines" && ok "then the result" || fail "no result"

# --- a submitted job is not the mount's: unmount leaves it running: unmount with one running
setfattr -n user.winapi.submit -v "$SLOW" big
t0=$(date +%s%N)
cd / && unmount_fs "$M"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] && ok "unmount with a job running: $ms ms" || fail "unmount took $ms ms"

finish

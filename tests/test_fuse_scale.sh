#!/bin/sh
# test_fuse_scale.sh - a file nobody has open holds no descriptor: 100,000
# files in one mount whose daemon may have 20,000 descriptors (the limit
# where an unpacked source tree or SQLite's -wal file used to fail with
# "Too many open files").
. "$top_srcdir/tests/test_fuse_lib.sh"

N=100000
ulimit -n 20000 || skip "cannot set the descriptor limit to 20000"
M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

out=$(python3 - "$N" <<'PY'
import os, sys
n = int(sys.argv[1])
os.mkdir("many")
for i in range(n):
    fd = os.open("many/f%d" % i, os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"%d" % i)
    os.close(fd)
bad = [i for i in range(0, n, 997) if open("many/f%d" % i, "rb").read() != b"%d" % i]
print("OK" if not bad else "bad: %s" % bad[:5])
PY
)
check "$N files created, written and read back" OK "$out"
check "ls counts them" "$N" "$(ls many | wc -l)"
check "one backing file each" "$N" "$(backing_files | wc -l)"
fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
[ "$fds" -lt 100 ] && ok "the daemon holds $fds descriptors, not one per file" ||
    fail "the daemon holds $fds descriptors for $N closed files"
held=$(python3 - <<'PY'
import os
fds = [os.open("many/f%d" % i, os.O_RDONLY) for i in range(200)]
print(len(fds))
for fd in fds:
    os.close(fd)
PY
)
check "200 files open at once" 200 "$held"
rm -r many
check "rm -r removes every backing file" 0 "$(backing_files | wc -l)"

cd / || die "cd /"
finish

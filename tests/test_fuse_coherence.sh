#!/bin/sh
# test_fuse_coherence.sh - what users rely on without thinking: the host
# sees every byte written before the request; the guest sees every byte the
# host wrote, through a new read, an old descriptor and an existing mmap;
# and none of it stalls under concurrent readers and writers.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

sha256_by_host() {
    setfattr -n user.winapi.process -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' "$1" &&
        getfattr --only-values -n user.winapi.result "$1" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["checksum"])'
}

# --- the issue's "done when", as a user types it
truncate -s 64M buf
dd if=/dev/urandom of=buf bs=1M count=64 conv=notrunc status=none
setfattr -n user.winapi.process -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' buf
check "the host's SHA-256 is sha256sum's" "$(sha256sum buf | cut -d' ' -f1)" \
    "$(getfattr --only-values -n user.winapi.result buf |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["checksum"])')"

# --- guest writes are in the backing file when the host maps it, closed or not
for mode in O_WRONLY O_RDWR; do
    out=$(python3 - "$mode" <<'EOF'
import hashlib, json, os, sys
flags = getattr(os, sys.argv[1]) | os.O_CREAT
data = os.urandom(3 << 20)
fd = os.open("open-" + sys.argv[1], flags, 0o644)
os.write(fd, data)           # no close, no fsync
req = b'{"operation":"checksum","params":{"algorithm":"sha256"}}'
os.setxattr("open-" + sys.argv[1], "user.winapi.process", req)
res = json.loads(os.getxattr("open-" + sys.argv[1], "user.winapi.result"))
print(res["result"]["checksum"] == hashlib.sha256(data).hexdigest())
os.close(fd)
EOF
)
    check "the host sees writes through an open $mode descriptor" True "$out"
done
# host_sees_mapping FILE msync|nosync: write 1 MiB through a shared mapping,
# then ask the host for its SHA-256 while the mapping is still open.
host_sees_mapping() {
    python3 - "$1" "$2" <<'EOF'
import hashlib, json, mmap, os, sys
path, sync = sys.argv[1], sys.argv[2] == "msync"
with open(path, "w+b") as f:
    f.truncate(1 << 20)
    m = mmap.mmap(f.fileno(), 1 << 20)
    m[:] = os.urandom(1 << 20)
    if sync:
        m.flush()
    os.setxattr(path, "user.winapi.process",
                b'{"operation":"checksum","params":{"algorithm":"sha256"}}')
    res = json.loads(os.getxattr(path, "user.winapi.result"))
    print(res["result"]["checksum"] == hashlib.sha256(m[:]).hexdigest())
    m.close()
EOF
}
# Without passthrough mapped pages are the kernel's until msync.
check "the host sees mmap writes after msync" True "$(host_sees_mapping mapped msync)"
# With it a mapping in the mount is the backing file's own page cache, the
# one the host maps: no msync, no close needed.
if [ "$(passthrough_is .)" = on ]; then
    check "with passthrough the host sees mmap writes without msync" True \
        "$(host_sees_mapping mapped2 nosync)"
fi

# --- host writes reach the guest: fresh reads, old descriptors, mappings
cat buf > /dev/null                     # now in the page cache
exec 3< buf                             # a descriptor opened before the request
setfattr -n user.winapi.process -v '{"operation":"fill","params":{"pattern":1684234849}}' buf
check "a fresh read sees the fill" "abcd" "$(head -c 4 buf)"
check "all of it" True "$(python3 -c "d = open('buf', 'rb').read(); print(d == b'abcd' * (64 << 18))")"
check "an old descriptor sees the fill" "abcd" "$(dd bs=4 count=1 status=none <&3)"
exec 3<&-
check "the size is unchanged" 67108864 "$(stat -c %s buf)"
truncate -s 1M m
check "an existing mmap and old descriptor see the fill" OK "$($TOOL mmap_sees_fill m 0x5a5a1234)"
check "a read-only operation leaves the data alone" "$(sha256sum buf | cut -d' ' -f1)" "$(sha256_by_host buf)"

# --- invalidation under concurrent readers of the same file: no deadlock,
# and after every setfattr a fresh read shows the whole fill.
truncate -s 8M busy
check "fills while 4 threads read the file" OK "$(timeout 300 $TOOL read_during_fill busy 40)"
# The same with a single worker thread: only an invalidation that never
# holds up a worker survives this (see fusefs/notify.h).
S=$WINAPI_TEST_WORK/fs-single
mount_fs "$S" -s
truncate -s 8M "$S/busy"
check "the same with one worker (-s)" OK "$(timeout 300 $TOOL read_during_fill "$S/busy" 40)"
unmount_fs "$S"

# --- 4 threads writing different files while process requests run
truncate -s 4M p
check "4 writers and a processor" OK "$(timeout 300 $TOOL writers w1 w2 w3 w4 -- p 50)"
for f in w1 w2 w3 w4; do
    check "$f has its 16 MiB" 16777216 "$(stat -c %s $f)"
done

cd / || die "cd /"
finish

#!/bin/sh
# test_fuse_crash.sh - a winapifs killed with SIGKILL loses nothing: the
# next mount over the same backing directory shows every file with its
# name, directory, data, mode, times and attributes; files it did not make
# are never shown, changed or removed; -o keep keeps the namespace across a
# clean unmount, and a clean unmount without it removes everything.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
everything() {
    ls -A "$BACKING" | sort | tr '\n' ' ' | sed 's/ $//'
}
# What a user sees of a tree: names, types, modes, links, sizes, times,
# symlink targets, contents and stored attributes.
describe() {
    (cd "$1" && find . -printf '%p %y %m %n %s %T@ %l\n' | sort &&
        find . -type f -exec md5sum {} + | sort &&
        getfattr -R -d -m '^user\.' . 2>/dev/null)
}

echo "not ours" > "$BACKING/foreign.txt"
mount_fs "$M"
cd "$M" || die "cd $M"
mkdir -p src/deep docs "odd name"
printf 'hello\n' > src/deep/a.c
dd if=/dev/urandom of=data.bin bs=64k count=16 status=none
truncate -s 8M sparse
ln -s deep/a.c src/link
ln data.bin "odd name/second name"
chmod 751 src && chmod 600 data.bin
setfattr -n user.tag -v 'blue sky%' data.bin
touch -d '2001-02-03 04:05:06' docs
printf 'x' > gone && rm gone
mv src/deep/a.c src/deep/b.c
cd / || die "cd /"
want=$(describe "$M")
kill_fs "$M"
check "a killed mount leaves its backing files" 3 "$(ls "$BACKING" | grep -c winapi_shared_buffer_)"
# A power loss can leave a torn or damaged tail: it is ignored, not trusted.
for j in "$BACKING"/.winapifs.*.journal; do
    printf '00000000 U 1.0 1 data.bin\nnot a record\n12345678 L 1.0 1 x' >> "$j"
done

mount_fs "$M"
check "the next mount shows the tree as it was" "$want" "$(describe "$M")"
check "hard links are still one buffer" 2 "$(stat -c %h "$M/data.bin")"
check "files it did not make are not shown" "" "$(ls "$M" | grep foreign)"
check "and not touched" "not ours" "$(cat "$BACKING/foreign.txt")"
printf 'after\n' > "$M/new"
check "and it goes on" after "$(cat "$M/new")"

# --- kill -9 during a rename storm: every file under its old or new name,
# with its own bytes; none lost, none twice
python3 - "$M" <<'PY'
import os, sys
m = sys.argv[1]
os.mkdir(os.path.join(m, "storm"))
os.mkdir(os.path.join(m, "storm2"))
for i in range(200):
    with open(os.path.join(m, "storm", "f%d.a" % i), "w") as f:
        f.write("%d\n" % i)
PY
python3 - "$M" > "$WINAPI_TEST_WORK/storm.log" 2>&1 <<'PY' &
import os, sys
m = sys.argv[1]
where = {i: ("storm", "a") for i in range(200)}
try:
    while True:
        for i in range(200):
            d, s = where[i]
            nd, ns = ("storm2", "b") if d == "storm" else ("storm", "a")
            os.rename(os.path.join(m, d, "f%d.%s" % (i, s)), os.path.join(m, nd, "f%d.%s" % (i, ns)))
            where[i] = (nd, ns)
except OSError:
    pass        # the mount went away under us
PY
storm=$!
sleep 1
kill_fs "$M"
wait "$storm"
mount_fs "$M"
out=$(python3 - "$M" <<'PY'
import os, sys
m = sys.argv[1]
seen = {}
for d in ("storm", "storm2"):
    for n in os.listdir(os.path.join(m, d)):
        i = int(n[1:].split(".")[0])
        seen.setdefault(i, []).append(n)
        assert open(os.path.join(m, d, n)).read() == "%d\n" % i, n
lost = [i for i in range(200) if i not in seen]
twice = [i for i in seen if len(seen[i]) > 1]
print("lost %s twice %s" % (lost, twice))
PY
)
check "after kill -9 in a rename storm, every file once, with its bytes" "lost [] twice []" "$out"
check "and one backing file each, no more" 204 "$(ls "$BACKING" | grep -c winapi_shared_buffer_)"

# --- -o keep: the namespace outlives a clean unmount
unmount_fs "$M"
check "a clean unmount removes all it showed, journal too" "foreign.txt" "$(everything)"
mount_fs "$M" -o keep
printf 'kept\n' > "$M/k"
mkdir "$M/kd" && ln -s ../k "$M/kd/l"
unmount_fs "$M"
mount_fs "$M"
check "-o keep: the next mount shows the files" kept "$(cat "$M/kd/l")"
unmount_fs "$M"
check "and a clean unmount without it removes them" "foreign.txt" "$(everything)"

# --- two mounts over one backing directory, both killed: the next takes
# over both, and a name they share is kept twice
M2=$WINAPI_TEST_WORK/fs2
mount_fs "$M"
mount_fs "$M2"
printf 'one\n' > "$M/same"
printf 'two\n' > "$M2/same"
printf 'solo\n' > "$M2/solo"
kill_fs "$M"
kill_fs "$M2"
mount_fs "$M"
check "both killed mounts' files come back" "one solo two" \
    "$(cat "$M/same" "$M/solo" "$M"/same.recovered-* 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//')"
unmount_fs "$M"
check "and go with a clean unmount" "foreign.txt" "$(everything)"
rm -f "$BACKING/foreign.txt"
finish

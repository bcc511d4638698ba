#!/bin/sh
# test_fuse_files.sh - every file row of SPEC's winapifs table, with the
# tools a user would use: touch, cp, shell redirection, truncate, dd, mv,
# mkdir, rmdir, ls, stat, chmod, touch -d, df, rm; and Python for what the
# shell cannot do (mmap, writing through an unlinked file).
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

# --- create: open(O_CREAT), touch, cp, shell > ; each is one backing file
touch t
printf 'hello\n' > s
cp "$top_srcdir/configure.ac" c
python3 -c 'import os; os.close(os.open("p", os.O_CREAT | os.O_WRONLY, 0o640))'
check "four files, four backing files" 4 "$(backing_files | wc -l)"
check "new files are empty" 0 "$(stat -c %s t)"
check "a new file's mode is what open asked" 640 "$(stat -c %a p)"
for f in t s c p; do
    bp=$(getfattr --only-values -n user.winapi.backing_path "$f")
    case $bp in
    "$BACKING"/winapi_shared_buffer_*_*) ok "$f is backed by $bp" ;;
    *) fail "$f: backing path '$bp' does not follow winapi_shared_buffer_{ID}_{PID}" ;;
    esac
    cmp -s "$f" "$bp" || fail "$f differs from its backing file"
    check "$f's backing file is mode 0600" 600 "$(stat -c %a "$bp")"
done
cmp -s "$top_srcdir/configure.ac" c && ok "cp copies the bytes" || fail "cp: contents differ"

# --- truncate: truncate -s, ftruncate, O_TRUNC
truncate -s 64M big
check "truncate -s 64M" 67108864 "$(stat -c %s big)"
check "the backing file has the size" 67108864 "$(stat -c %s "$(getfattr --only-values -n user.winapi.backing_path big)")"
python3 -c 'import os; fd = os.open("big", os.O_RDWR); os.ftruncate(fd, 4096); os.close(fd)'
check "ftruncate" 4096 "$(stat -c %s big)"
printf 'x' > big
check "O_TRUNC (shell >)" 1 "$(stat -c %s big)"

# --- read / write / dd / cp / mmap
dd if=/dev/urandom of=data bs=64k count=64 status=none
dd if=data of="$WINAPI_TEST_WORK/data.out" bs=1M status=none
cmp -s data "$WINAPI_TEST_WORK/data.out" && ok "dd in and out" || fail "dd: contents differ"
cp data data2 && cmp -s data data2 && ok "cp within the mount" || fail "cp within the mount"
dd if=/dev/zero of=data bs=4096 seek=3 count=1 conv=notrunc status=none
check "dd conv=notrunc keeps the size" 4194304 "$(stat -c %s data)"
check "dd conv=notrunc wrote zeros there" 0 \
    "$(dd if=data bs=4096 skip=3 count=1 status=none | tr -d '\0' | wc -c)"
out=$(python3 - <<'EOF'
import mmap, os
with open("mm", "w+b") as f:
    f.truncate(8192)
    m = mmap.mmap(f.fileno(), 8192)
    m[100:105] = b"mmap!"
    m.flush()
    m.close()
with open("mm", "rb") as f:
    f.seek(100)
    print(f.read(5).decode())
EOF
)
check "write through mmap, read back" "mmap!" "$out"

# --- rm: the backing file goes; an open descriptor keeps working
bp=$(getfattr --only-values -n user.winapi.backing_path data2)
rm data2
[ ! -e "$bp" ] && ok "rm unlinks the backing file" || fail "rm left $bp"
check "unlink with an open descriptor" OK "$($TOOL unlinked_fd held)"

# --- mv, mkdir, rmdir, ls
mkdir d d/e
mv s d/e/moved
[ -f d/e/moved ] && [ ! -e s ] && ok "mv into a subdirectory" || fail "mv"
check "mv keeps the bytes" hello "$(cat d/e/moved)"
mv d/e/moved c 2>/dev/null && ok "mv over an existing file" || fail "mv over a file"
check "the replaced file's backing file is gone" 6 "$(backing_files | wc -l)"
check "ls lists the entries" "big c d data mm p t" "$(ls | tr '\n' ' ' | sed 's/ $//')"
check "ls -a has . and .." ". .. e" "$(ls -a d | tr '\n' ' ' | sed 's/ $//')"
rmdir d 2>/dev/null && fail "rmdir of a non-empty directory succeeded" || ok "rmdir refuses a non-empty directory"
rmdir d/e d && ok "rmdir" || fail "rmdir"
mkdir -p many
for i in $(seq 1 300); do : > "many/f$i"; done
check "readdir over several calls" 300 "$(ls many | wc -l)"
check "and ls -l (readdirplus) too" 301 "$(ls -l many | wc -l)"
rm -r many && [ ! -e many ] && ok "rm -r" || fail "rm -r"

# --- stat, chmod, touch -d, df
chmod 600 t
check "chmod" 600 "$(stat -c %a t)"
check "stat: a regular file" "regular empty file" "$(stat -c %F t)"
check "stat: a directory" directory "$(stat -c %F .)"
touch -d '2001-02-03 04:05:06' t
check "touch -d" "2001-02-03 04:05:06" "$(date -d "@$(stat -c %Y t)" '+%Y-%m-%d %H:%M:%S')"
mkdir dd && touch -d '2002-03-04 05:06:07' dd
check "touch -d on a directory" "2002-03-04 05:06:07" "$(date -d "@$(stat -c %Y dd)" '+%Y-%m-%d %H:%M:%S')"
check "df shows the backing file system" "$(stat -f -c '%b %S' "$BACKING")" "$(stat -f -c '%b %S' .)"
df . >/dev/null && ok "df runs" || fail "df"

# --- what a buffer cannot be: devices, FIFOs (links: test_fuse_links.sh)
check "device node" EPERM "$($TOOL mknod dev chr)"
check "FIFO" EPERM "$($TOOL mknod fifo fifo)"
check "mknod of a regular file works" OK "$($TOOL mknod reg reg)"

# --- fsync and fallocate reach the backing file
python3 -c 'import os; fd = os.open("t", os.O_RDWR); os.fsync(fd); os.fdatasync(fd); os.close(fd)' &&
    ok "fsync and fdatasync" || fail "fsync"
fallocate -l 1M t && check "fallocate" 1048576 "$(stat -c %s t)" || fail "fallocate"

# --- set-user-ID bits: cleared by a write, a truncate or a chown, as the
# VFS clears them (the daemon's job with HANDLE_KILLPRIV_V2).  The writer
# is root without CAP_FSETID: the mount lets only its owner in.
nofsetid() {
    setpriv --bounding-set=-fsetid --inh-caps=-fsetid "$@"
}
: > su1 && chmod 6775 su1 && nofsetid sh -c 'printf x >> su1'
check "a write by a caller without CAP_FSETID clears set-user/group-ID" 775 "$(stat -c %a su1)"
: > su2 && chmod 6775 su2 && nofsetid truncate -s 100 su2
check "so does a truncate" 775 "$(stat -c %a su2)"
: > su3 && chmod 4755 su3 && chown 1:1 su3
check "chown clears set-user-ID" 755 "$(stat -c %a su3)"
: > su4 && chmod 2745 su4 && nofsetid sh -c 'printf y >> su4'
check "set-group-ID without group execute stays" 2745 "$(stat -c %a su4)"
: > su5 && chmod 4755 su5 && printf 'root' >> su5
check "root's write (CAP_FSETID) keeps set-user-ID" 4755 "$(stat -c %a su5)"
check "and the bytes arrive" root "$(cat su5)"
printf 'data' > su6 && exec 5<> su6 && chmod 4755 su6
check "a file made set-user-ID while open still opens" data "$(cat su6)"
exec 5>&-
check "and reopens once closed" data "$(cat su6)"
rm -f su1 su2 su3 su4 su5 su6

# --- cp -a out and back in: stored user.* attributes travel, control ones do not
setfattr -n user.note -v kept p
cp -a p "$WINAPI_TEST_WORK/p.copy"
check "cp -a copies a stored attribute out" kept \
    "$(getfattr --only-values -n user.note "$WINAPI_TEST_WORK/p.copy" 2>/dev/null)"
getfattr --absolute-names -d -m - "$WINAPI_TEST_WORK/p.copy" 2>/dev/null | grep -q "^user.winapi" &&
    fail "cp -a copied a control attribute" || ok "cp -a copies no control attribute"
cp -a "$WINAPI_TEST_WORK/p.copy" p.back && check "cp -a back in" kept "$(getfattr --only-values -n user.note p.back)"

cd / || die "cd /"
finish

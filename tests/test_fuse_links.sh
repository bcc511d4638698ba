#!/bin/sh
# test_fuse_links.sh - symlinks and hard links, as a file system users copy
# trees into has them: a symlink lives in the mount's namespace only, a
# hard link is a second name for the same buffer (one backing file).  Then
# the tools that need them: cp -a, rsync -aH, tar and git.
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

# --- symlinks: namespace only
printf 'data\n' > f
ln -s f s
check "readlink" f "$(readlink s)"
check "read through a symlink" data "$(cat s)"
check "lstat sees a symlink" "symbolic link" "$(stat -c %F s)"
check "stat follows it" "regular file" "$(stat -L -c %F s)"
check "a symlink's size is its target's length" 1 "$(stat -c %s s)"
check "a symlink has no backing file" 1 "$(backing_files | wc -l)"
ln -s /no/such/target dangling
check "a dangling symlink keeps its target" /no/such/target "$(readlink dangling)"
mkdir d && ln -s ../f d/up
check "a relative symlink resolves from its directory" data "$(cat d/up)"
check "setfattr on a symlink's target" OK "$(setx s user.winapi.process process)"
check "symlink over an existing name" EEXIST "$($TOOL symlink f s)"
rm s dangling d/up
check "rm of a symlink leaves its target" data "$(cat f)"

# --- hard links: one buffer, several names
ln f h
check "st_nlink counts the names" "2 2" "$(stat -c %h f) $(stat -c %h h)"
check "two names, one inode" "$(stat -c %i f)" "$(stat -c %i h)"
check "two names, one backing file" 1 "$(backing_files | wc -l)"
check "two names, one buffer" "$(getfattr --only-values -n user.winapi.backing_path f)" \
    "$(getfattr --only-values -n user.winapi.backing_path h)"
printf 'more\n' >> h
check "a write through one name shows through the other" "data more" "$(cat f | tr '\n' ' ' | sed 's/ $//')"
ln h d/h2
check "a third name, in another directory" 3 "$(stat -c %h f)"
rm f
check "rm of one name keeps the buffer" "data more" "$(cat h | tr '\n' ' ' | sed 's/ $//')"
check "and the link count drops" 2 "$(stat -c %h h)"
check "and the backing file stays" 1 "$(backing_files | wc -l)"
mv d/h2 h
check "rename of one name over another of the same file does nothing" "2" \
    "$(stat -c %h h)"
rm d/h2
check "open descriptors outlive the last name" OK "$($TOOL unlinked_fd h)"
check "the backing file goes with the last name" 0 "$(backing_files | wc -l)"
mkdir dir
check "no hard link of a directory" EPERM "$($TOOL link dir dir2)"
check "no hard link over an existing name" EEXIST "$(: > a; : > b; $TOOL link a b)"
rm -f a b
rmdir dir d

# --- rename over links
ln -s one x && ln -s two y && mv x y
check "mv of a symlink over another" one "$(readlink y)"
: > p && ln p q && : > r && mv r q
check "mv over a hard link drops that name only" "1 1" "$(stat -c %h p) $(stat -c %h q)"
rm -f y p q

# --- trees with links, through the tools people copy them with
T=$WINAPI_TEST_WORK/tree
mkdir -p "$T/sub"
printf 'one\n' > "$T/a"
ln "$T/a" "$T/sub/a-link"
ln -s ../a "$T/sub/sym"
ln -s sub "$T/dirsym"
chmod 640 "$T/a"
tree_of() {
    (cd "$1" && find . -printf '%y %p %l\n' | sort && stat -c '%h %a %n' a sub/a-link)
}
want=$(tree_of "$T")

cp -a "$T" cpa
check "cp -a copies links" "$want" "$(tree_of cpa)"
if rsync -aH "$T/" rs/; then
    check "rsync -aH keeps hard links and symlinks" "$want" "$(tree_of rs)"
else
    fail "rsync -aH exited $?"
fi
mkdir tx
if tar -C "$T" -cf - . | tar -C tx -xf -; then
    check "tar x keeps them" "$want" "$(tree_of tx)"
else
    fail "tar x failed"
fi
check "trees hold one backing file per buffer" 3 "$(backing_files | wc -l)"

# --- git: a repository in the mount, and clone --local of it, which
# hard-links the objects; a committed symlink checks out as a symlink
git init -q repo
cp -a "$T/." repo/
git -C repo add -A
git -C repo -c user.name=t -c user.email=t@t commit -qm tree
if git clone -q --local repo clone; then
    check "git clone --local within the mount" "$(git -C repo rev-parse HEAD)" \
        "$(git -C clone rev-parse HEAD)"
    obj=$(find clone/.git/objects -type f -path '*/??/*' | head -n 1)
    check "the clone's objects are hard links" 2 "$(stat -c %h "$obj")"
    check "a committed symlink checks out as one" ../a "$(readlink clone/sub/sym)"
    check "git status is clean" "" "$(git -C clone status --porcelain)"
    if out=$(git -C clone fsck 2>&1); then ok "git fsck"; else fail "git fsck: $out"; fi
else
    fail "git clone --local within the mount"
fi
git clone -q "$M/repo" "$WINAPI_TEST_WORK/out" && ok "git clone out of the mount" ||
    fail "git clone out of the mount"
rm -rf "$WINAPI_TEST_WORK/out"

cd / || die "cd /"
rm -rf "$T"
unmount_fs "$M"
check "unmount removes every backing file" "" "$(backing_files)"
finish

#!/bin/sh
# test_fuse_xattr.sh - the control attributes, and the kernel's rules for
# extended attributes, with setfattr/getfattr and Python (os.*xattr, and
# ctypes for the size probe and ERANGE that os.getxattr hides).
. "$top_srcdir/tests/test_fuse_lib.sh"

M=$WINAPI_TEST_WORK/fs
mount_fs "$M"
cd "$M" || die "cd $M"

result_field() {    # FILE FIELD: one field of the "result" object of the last response
    getfattr --only-values -n user.winapi.result "$1" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['result'].get('$2'))"
}

# --- the read-only attributes of a fresh buffer
printf 'some bytes\n' > f
bp=$(getfattr --only-values -n user.winapi.backing_path f)
id=$(getfattr --only-values -n user.winapi.buffer_id f)
name=${bp##*/}
check "buffer_id is the ID in the backing file's name" "winapi_shared_buffer_${id}_" \
    "$(echo "$name" | sed 's/[0-9]*$//')"
check "backing_path is in backing_dir" "$BACKING/$name" "$bp"
check "host_path is the host's name for it" "C:\\temp\\$name" \
    "$(getfattr --only-values -n user.winapi.host_path f)"
check "status before any request" idle "$(getfattr --only-values -n user.winapi.status f)"
check "result before any request" ENODATA "$(getx f user.winapi.result)"
check "process is write-only" ENODATA "$(getx f user.winapi.process)"

# --- hidden from listxattr; other user.* attributes are stored
check "a fresh buffer lists no attribute" "" "$($TOOL listx f)"
setfattr -n user.colour -v blue f
setfattr -n user.empty f
check "a stored attribute" blue "$(getfattr --only-values -n user.colour f)"
check "an empty one" "" "$(getx f user.empty)"
check "only stored attributes are listed" "user.colour user.empty" "$($TOOL listx f | tr '\n' ' ' | sed 's/ $//')"
getfattr -d f | grep -q winapi && fail "getfattr -d shows a control attribute" || ok "getfattr -d shows no control attribute"
setfattr -x user.empty f && check "setfattr -x" ENODATA "$(getx f user.empty)"
mkdir dir && setfattr -n user.tag -v on dir && check "directories store attributes" on "$(getx dir user.tag)"

# --- user.winapi.process: an operation name
setfattr -n user.winapi.process -v process f && ok "process by name" || fail "process by name"
check "status after success" processed "$(getfattr --only-values -n user.winapi.status f)"
check "result: status" success "$(getfattr --only-values -n user.winapi.result f |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
check "result: operation" process "$(result_field f operation)"
check "result: buffer_id" "$id" "$(result_field f buffer_id)"
check "result: bytes_processed" 11 "$(result_field f bytes_processed)"
check "a value with a trailing newline" OK "$(setx f user.winapi.process "$(printf 'stat\n')")"
check "stat reports the size" 11 "$(result_field f file_size)"

# --- a JSON object, with params and a range
dd if=/dev/urandom of=r bs=1k count=100 status=none
setfattr -n user.winapi.process -v '{"operation":"checksum","params":{"algorithm":"sha256"}}' r
check "sha256 through JSON" "$(sha256sum < r | cut -d' ' -f1)" "$(result_field r checksum)"
setfattr -n user.winapi.process -v checksum r
check "crc32 by default" "$(python3 -c 'import zlib; print("%08x" % zlib.crc32(open("r","rb").read()))')" \
    "$(result_field r checksum)"
truncate -s 12 z
setfattr -n user.winapi.process -v '{"operation":"fill","params":{"pattern":1094861636},"offset":4,"length":4}' z
check "fill over a range" "00 00 00 00 44 43 42 41 00 00 00 00" "$(od -An -tx1 z | sed 's/^ //')"

# --- values that are not requests: EINVAL, and nothing is sent
for v in '' '   ' '{' '{"operation":1}' '{"params":{}}' '{"operation":"fill","param":{}}' \
    '{"operation":"fill","params":[]}' '{"operation":"fill","access":"all"}' \
    '{"operation":"fill","offset":1}' 'two words' '["process"]'; do
    check "invalid value '$v'" EINVAL "$(setx f user.winapi.process "$v")"
done
check "status unchanged by invalid values" processed "$(getfattr --only-values -n user.winapi.status f)"

# --- an error answered by the host: errno, status failed, result the error
check "unknown operation" ENOTSUP "$(setx f user.winapi.process no_such_operation)"
check "status after failure" failed "$(getfattr --only-values -n user.winapi.status f)"
check "result holds the error" unknown_operation "$(getfattr --only-values -n user.winapi.result f |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["code"])')"
check "bad params are the host's EINVAL" EINVAL \
    "$(setx r user.winapi.process '{"operation":"checksum","params":{"algorithm":"md4"}}')"

# --- the control namespace is reserved
for a in buffer_id backing_path host_path status result; do
    check "$a is read-only" EPERM "$(setx f "user.winapi.$a" x)"
    check "$a cannot be removed" EPERM "$($TOOL removex f "user.winapi.$a")"
done
check "the rest of user.winapi. is reserved" EPERM "$(setx f user.winapi.other x)"
check "and reads as absent" ENODATA "$(getx f user.winapi.other)"
check "process on a directory" EISDIR "$(setx dir user.winapi.process process)"
check "a directory has no buffer_id" ENODATA "$(getx dir user.winapi.buffer_id)"

# --- the kernel's rules: size probe, ERANGE, E2BIG, ENOSPC, CREATE/REPLACE
len=$($TOOL getx_size f user.winapi.result 0)
check "size probe then fetch of result" "$len" "$($TOOL getx_size f user.winapi.result "$len")"
check "result into a short buffer" ERANGE "$($TOOL getx_size f user.winapi.result $((len - 1)))"
check "size probe of a stored attribute" 4 "$($TOOL getx_size f user.colour 0)"
check "a stored attribute into a short buffer" ERANGE "$($TOOL getx_size f user.colour 3)"
check "listxattr size probe" 12 "$($TOOL listx_size f 0)"
check "listxattr into a short buffer" ERANGE "$($TOOL listx_size f 11)"
check "XATTR_CREATE on an existing attribute" EEXIST "$(setx f user.colour red create)"
check "XATTR_REPLACE on a missing one" ENODATA "$(setx f user.nothing red replace)"
check "XATTR_REPLACE on an existing one" OK "$(setx f user.colour red replace)"
check "XATTR_CREATE on a missing one" OK "$(setx f user.new x create)"
check "removing a missing attribute" ENODATA "$($TOOL removex f user.nothing)"
check "a value over 64 KiB" E2BIG "$(setx f user.huge "$(head -c 65537 /dev/zero | tr '\0' x)")"
big=$(head -c 30000 /dev/zero | tr '\0' y)
setx f user.big1 "$big" >/dev/null
setx f user.big2 "$big" >/dev/null
check "more than 64 KiB of attributes on one file" ENOSPC "$(setx f user.big3 "$big")"
check "security.capability is absent" ENODATA "$(getx f security.capability)"
check "security.* cannot be stored" ENOTSUP "$(setx f security.test x)"
if [ "$(id -u)" -eq 0 ]; then
    check "trusted.* cannot be stored" ENOTSUP "$(setx f trusted.test x)"
fi
# rsync -X / tar --xattrs style copy: the listed attributes replay cleanly.
cp --preserve=xattr f g && check "cp --preserve=xattr" red "$(getx g user.colour)"

cd / || die "cd /"
finish

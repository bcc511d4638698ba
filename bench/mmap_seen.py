#!/usr/bin/env python3
"""mmap_seen.py FILE - does the host see what a shared mmap wrote, without
msync?  Creates FILE (1 MiB) in a winapifs mount, writes a pattern through
a MAP_SHARED mapping of it, and, with the mapping and the file still open
and nothing synced, asks the host for the buffer's SHA-256: setxattr
user.winapi.process, then getxattr user.winapi.result, the system calls
setfattr and getfattr make.  Made here, not by running those two: a child
would close its copy of the descriptor when it runs them (close-on-exec),
and FUSE writes a file's dirty pages back on every close (flush), which is
the close this asks about.  Prints "yes" if the host's checksum is the
pattern's, else "no"; exits non-zero only when the request itself fails."""
import hashlib
import json
import mmap
import os
import sys

SIZE = 1 << 20
REQUEST = '{"operation":"checksum","params":{"algorithm":"sha256"}}'


def find_checksum(v):
    if isinstance(v, dict):
        if isinstance(v.get("checksum"), str):
            return v["checksum"]
        v = list(v.values())
    if isinstance(v, list):
        for x in v:
            c = find_checksum(x)
            if c:
                return c
    return None


def main():
    path = sys.argv[1]
    pattern = bytes((i * 7 + 1) & 0xFF for i in range(4093))  # odd length
    data = (pattern * (SIZE // len(pattern) + 1))[:SIZE]
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, SIZE)
    m = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[:] = data
    # No m.flush() (msync), no munmap, no close, no child: ask the host now.
    os.setxattr(path, "user.winapi.process", REQUEST.encode())
    got = find_checksum(json.loads(os.getxattr(path, "user.winapi.result")))
    print("yes" if got == hashlib.sha256(data).hexdigest() else "no")
    m.close()
    os.close(fd)


if __name__ == "__main__":
    main()

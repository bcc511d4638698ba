#!/usr/bin/env python3
"""test_fuse_tool.py - the system calls the winapifs tests make from Python.

Each command prints what happened: a value, "OK", or the errno's name
(ENODATA, ERANGE...), so that a shell test can compare it as text.

  setx FILE NAME VALUE [create|replace]  os.setxattr
  getx FILE NAME                         os.getxattr, the value as text
  getx_size FILE NAME SIZE               getxattr(2) with a SIZE-byte buffer:
                                         "LEN" (size 0 asks for it) or errno
  listx FILE                             os.listxattr, one name per line
  listx_size FILE SIZE                   listxattr(2) with a SIZE-byte buffer
  removex FILE NAME                      os.removexattr
  mknod FILE KIND                        os.mknod of a fifo, chr or reg file
  link SRC DST / symlink SRC DST         os.link / os.symlink
  unlinked_fd FILE                       write, unlink, then read and write
                                         through the still-open descriptor
  mmap_sees_fill FILE PATTERN            map FILE, ask the host to fill it,
                                         check the mapping and an fd opened
                                         before the request
  writers FILE... -- PROCFILE N          4 writer threads, one per FILE, while
                                         PROCFILE gets N process requests
  read_during_fill FILE N                readers hammer FILE while N fills
                                         change it; every read sees one
                                         whole pattern or another
  setx_signalled FILE NAME VALUE SECS    setxattr(2), with a SIGALRM (which
                                         does not restart it) after SECS:
                                         "ERRNO MS", the outcome and how long
                                         it took after the signal
  progress_moves FILE                    user.winapi.progress twice, 0.5 s
                                         apart: "moves" if bytes_done grew
"""
import ctypes
import errno
import json
import mmap
import os
import signal
import struct
import sys
import threading
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = ctypes.c_ssize_t
libc.listxattr.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.listxattr.restype = ctypes.c_ssize_t
libc.setxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t,
                          ctypes.c_int]
libc.setxattr.restype = ctypes.c_int


def ename(e):
    return errno.errorcode.get(e, str(e))


def fill(path, pattern):
    req = '{"operation":"fill","params":{"pattern":%d}}' % pattern
    os.setxattr(path, "user.winapi.process", req.encode())


def cmd_setx(path, name, value, how=None):
    flags = {None: 0, "create": os.XATTR_CREATE, "replace": os.XATTR_REPLACE}[how]
    os.setxattr(path, name, value.encode(), flags)
    print("OK")


def cmd_getx(path, name):
    print(os.getxattr(path, name).decode())


def cmd_getx_size(path, name, size):
    size = int(size)
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.getxattr(path.encode(), name.encode(), buf if size else None, size)
    print(n if n >= 0 else ename(ctypes.get_errno()))


def cmd_listx(path):
    for n in os.listxattr(path):
        print(n)


def cmd_listx_size(path, size):
    size = int(size)
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.listxattr(path.encode(), buf if size else None, size)
    print(n if n >= 0 else ename(ctypes.get_errno()))


def cmd_removex(path, name):
    os.removexattr(path, name)
    print("OK")


def cmd_mknod(path, kind):
    import stat
    mode = {"fifo": stat.S_IFIFO, "chr": stat.S_IFCHR, "reg": stat.S_IFREG}[kind]
    os.mknod(path, mode | 0o644, os.makedev(1, 3) if kind == "chr" else 0)
    print("OK")


def cmd_link(src, dst):
    os.link(src, dst)
    print("OK")


def cmd_symlink(src, dst):
    os.symlink(src, dst)
    print("OK")


def cmd_unlinked_fd(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.write(fd, b"before")
    os.unlink(path)
    assert not os.path.exists(path), "still there after unlink"
    os.pwrite(fd, b"AFTER!", 6)
    data = os.pread(fd, 12, 0)
    assert data == b"beforeAFTER!", data
    assert os.fstat(fd).st_nlink == 0, os.fstat(fd).st_nlink
    os.close(fd)
    print("OK")


def cmd_mmap_sees_fill(path, pattern):
    pattern = int(pattern, 0)
    with open(path, "r+b") as f:
        size = os.fstat(f.fileno()).st_size
        m = mmap.mmap(f.fileno(), size)
        old = open(path, "rb", buffering=0)     # no stale bytes of Python's own
        # Populate the page cache and the mapping before the host writes.
        m[:4] = b"\0\0\0\0"
        m.flush()
        assert old.read(4) == b"\0\0\0\0"
        fill(path, pattern)
        want = struct.pack("<I", pattern) * (size // 4)
        assert m[:] == want, "the mapping shows stale bytes"
        old.seek(0)
        assert old.read() == want, "a descriptor opened before shows stale bytes"
        old.close()
        m.close()
    print("OK")


def cmd_writers(*args):
    sep = args.index("--")
    files, (procfile, n) = args[:sep], args[sep + 1:]
    errors = []
    block = os.urandom(1 << 20)

    def writer(path):
        try:
            with open(path, "wb") as f:
                for _ in range(16):
                    f.write(block)
            with open(path, "rb") as f:
                for _ in range(16):
                    if f.read(1 << 20) != block:
                        errors.append(path + ": read back differs")
                        return
        except OSError as e:
            errors.append("%s: %s" % (path, e))

    def processor():
        try:
            for _ in range(int(n)):
                os.setxattr(procfile, "user.winapi.process", b"process")
        except OSError as e:
            errors.append("%s: %s" % (procfile, e))

    threads = [threading.Thread(target=writer, args=(p,)) for p in files]
    threads.append(threading.Thread(target=processor))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print("OK")


def cmd_read_during_fill(path, n):
    size = os.stat(path).st_size
    patterns = [0x11111111 * k for k in range(1, 10)]
    whole = {struct.pack("<I", p) * (size // 4) for p in patterns}
    stop = threading.Event()
    errors = []

    def reader():
        fd = os.open(path, os.O_RDONLY)
        while not stop.is_set():
            data = os.pread(fd, size, 0)
            # A read may race one fill: then it is a mix, but never junk.
            pats = {data[i:i + 4] for i in range(0, len(data), 4096)}
            if not pats <= {struct.pack("<I", p) for p in [0] + patterns}:
                errors.append("a read returned bytes no fill wrote")
                break
        os.close(fd)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for i in range(int(n)):
            fill(path, patterns[i % len(patterns)])
            with open(path, "rb") as f:
                got = f.read()
            if got not in whole:
                errors.append("after fill %d a fresh read is not the pattern" % i)
                break
    finally:
        stop.set()
        for t in readers:
            t.join()
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print("OK")


def cmd_setx_signalled(path, name, value, secs):
    # Python's handlers do not ask for SA_RESTART, so the call returns EINTR;
    # the handler itself runs only once it has returned.
    signal.signal(signal.SIGALRM, lambda *_: None)
    v = value.encode()
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, float(secs))
    rc = libc.setxattr(path.encode(), name.encode(), v, len(v), 0)
    e = ctypes.get_errno()
    end = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0)
    after = max(0.0, end - (start + float(secs)))
    print("%s %d" % ("OK" if rc == 0 else ename(e), round(after * 1000)))


def progress(path):
    return json.loads(os.getxattr(path, "user.winapi.progress"))


def cmd_progress_moves(path):
    a = progress(path)
    time.sleep(0.5)
    b = progress(path)
    print("moves" if b["bytes_done"] > a["bytes_done"] else "stuck: %s then %s" % (a, b))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        globals()["cmd_" + cmd](*args)
    except OSError as e:
        print(ename(e.errno))


if __name__ == "__main__":
    main()

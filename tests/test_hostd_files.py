#!/usr/bin/env python3
"""test_hostd_files.py - a file winapi-hostd has worked on before is checked
afresh on every request: replaced, linked, turned into a link, a FIFO or
a directory, resized -- the answer is about what the name holds now.

Both hosts keep a file's mapping between requests (the POSIX host its
descriptor too, skipping the open when the name still holds that file
unchanged; the Windows host its view); these are the changes that must end
that.  And the mapping goes: with --keep-maps 1 a removed buffer is no
longer mapped by the daemon's process two seconds later, with --keep-maps 0
not after the answer.  Run by run-test.sh (WINAPI_PORT, WINAPI_BACKING_DIR:
the guest's view of C:\\temp, a local directory here).
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

PORT = int(os.environ["WINAPI_PORT"])
BACKING = os.environ["WINAPI_BACKING_DIR"]
WINE = os.environ.get("WINAPI_TEST_HOSTD", "posix") == "wine"
failures = []


class Conn:
    def __init__(self, port=PORT):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        self.id = 0

    def ask(self, **fields):
        self.id += 1
        req = {"api": "shared_buffer", "request_id": self.id, "buffer_id": 1}
        req.update(fields)
        self.s.sendall(json.dumps(req).encode() + b"\n")
        line = self.f.readline()
        if not line:
            raise ConnectionError("winapi-hostd closed the connection")
        return json.loads(line)


def sha256(c, path, size):
    return c.ask(operation="checksum", file_path=path, buffer_size=size,
                 params={"algorithm": "sha256"})


def expect(what, answer, code=None, checksum=None, shows=None):
    got = answer.get("error", {}).get("code", answer.get("status"))
    if code and got != code:
        failures.append("%s: answered %s, wanted %s: %r" % (what, got, code, answer))
    if checksum and answer.get("result", {}).get("checksum") != checksum:
        failures.append("%s: checksum %r, wanted %s" % (what, answer, checksum))
    message = answer.get("error", {}).get("message", "")
    if shows and shows not in message:
        failures.append("%s: message %r does not show %r" % (what, message, shows))


def write(path, data):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def mapped(pid, name):
    """Whether process pid maps a file called name (removed or not)."""
    with open("/proc/%s/maps" % pid) as f:
        return any(line.split("/")[-1].split(" ")[0].strip() == name for line in f)


def keep_maps():
    """--keep-maps: how long a freed buffer stays mapped by the daemon."""
    hostd_sh = os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh")
    for bad in ("x", "-1", "3601", "", "1s"):
        state = os.path.join(os.environ["WINAPI_TEST_WORK"], "hostd-keep-bad")
        r = subprocess.run(["sh", hostd_sh, "start", state, "--keep-maps", bad],
                           capture_output=True, text=True, cwd="/")
        if r.returncode == 0:
            failures.append("--keep-maps %r was accepted" % bad)
        elif "--keep-maps" not in r.stderr:
            failures.append("--keep-maps %r: the refusal does not name it: %s" % (bad, r.stderr))
        subprocess.run(["sh", hostd_sh, "stop", state], cwd="/")
    for keep in (1, 0):
        state = os.path.join(os.environ["WINAPI_TEST_WORK"], "hostd-keep%d" % keep)
        r = subprocess.run(["sh", hostd_sh, "start", state, "--keep-maps", str(keep)],
                           capture_output=True, text=True, cwd="/")
        if r.returncode != 0:
            failures.append("a daemon with --keep-maps %d: %s" % (keep, r.stderr))
            continue
        try:
            with open(os.path.join(state, "pid")) as f:
                pid = f.read().strip()
            c = Conn(int(r.stdout))
            name = "kept-%d" % keep
            path = os.path.join(BACKING, name)
            write(path, os.urandom(1 << 20))
            expect("--keep-maps %d: a request" % keep, sha256(c, path, 1 << 20), "success")
            if keep:
                if not mapped(pid, name):
                    failures.append("--keep-maps 1: not kept after the answer")
                os.unlink(path)
                deadline = time.monotonic() + 5
                while mapped(pid, name) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if mapped(pid, name):
                    failures.append("--keep-maps 1: a removed buffer still mapped after 5 s")
            else:
                if mapped(pid, name):
                    failures.append("--keep-maps 0: still mapped after the answer")
                os.unlink(path)
            c.s.close()
        finally:
            subprocess.run(["sh", hostd_sh, "stop", state], cwd="/")


def main():
    keep_maps()
    c = Conn()
    size = 65536
    path = os.path.join(BACKING, "seen-before")
    one, two = os.urandom(size), os.urandom(size)
    h1, h2 = hashlib.sha256(one).hexdigest(), hashlib.sha256(two).hexdigest()
    try:
        write(path, one)
        for i in range(3):
            expect("first file, request %d" % i, sha256(c, path, size), "success", h1)
        # Written in place: the same file, its new bytes.
        with open(path, "r+b") as f:
            f.write(two)
        expect("written in place", sha256(c, path, size), "success", h2)
        # Another file of the same size under the name.
        write(path, one)
        expect("replaced", sha256(c, path, size), "success", h1)
        expect("processed", c.ask(operation="process", file_path=path, buffer_size=size),
               "success")
        # A second name for it: refused, for the mapping as for a fresh open.
        os.link(path, path + ".other")
        expect("hard-linked", sha256(c, path, size), "path_not_allowed", shows="hard link")
        os.unlink(path + ".other")
        expect("link removed", sha256(c, path, size), "success")
        # Resized: mapped afresh, its size checked.
        with open(path, "ab") as f:
            f.write(b"x" * 4096)
        expect("grown, old size", sha256(c, path, size), "size_mismatch")
        expect("grown", sha256(c, path, size + 4096), "success",
               hashlib.sha256(one + b"x" * 4096).hexdigest())
        if not WINE:
            # Unix kinds of file the Windows host cannot be given.
            os.unlink(path)
            os.symlink(os.path.join(BACKING, "elsewhere"), path)
            expect("now a symlink", sha256(c, path, size), "path_not_allowed")
            os.unlink(path)
            os.mkfifo(path)
            expect("now a FIFO", sha256(c, path, size), "path_not_allowed", shows="regular")
            os.unlink(path)
            write(path, two)
            os.chmod(path, 0o600)
            expect("mode changed", sha256(c, path, size), "success", h2)
        os.unlink(path)
        expect("removed", sha256(c, path, size), "not_found")
        os.mkdir(path)
        expect("now a directory", sha256(c, path, size), "path_not_allowed")
        os.rmdir(path)
    finally:
        for p in (path, path + ".new", path + ".other"):
            if os.path.lexists(p):
                os.rmdir(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("every answer was about the file the name held at the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())

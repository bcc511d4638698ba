#!/usr/bin/env python3
"""test_hostd_grants.py - a token file of several grants (SPEC, "Permissions"),
raw over TCP against the real daemon and through the winapi command: what
hello says is granted, forbidden operations, roots (whole components, any
case) and writes, chains, jobs seen only under their own token, a second
token on one connection, and token files refused at start naming the line.

Run by run-test.sh; the daemon with the grants comes from hostd.sh, so the
test runs against whichever host run-test.sh uses.
"""
import os
import subprocess
import sys

from hostd_conn import Conn, code, expect, finish

BACKING = os.environ["WINAPI_BACKING_DIR"]          # C:\temp as the guest sees it
CDIR = os.environ["WINAPI_TEST_CDIR"]               # C:\ on this side
MNT = os.path.dirname(os.path.dirname(BACKING))     # the automount root: .../mnt
HOSTD_SH = os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh")
WINAPI = os.path.join(os.environ["top_builddir"], "tools", "winapi")
WORK = os.environ["WINAPI_TEST_WORK"]

GRANTS = """# the administrator: everything
all-powerful
reader ops=checksum,stat roots=c:/ro access=read
writer ops=fill,checksum,stat roots=C:\\temp;C:\\rox
"""


def make_file(host_dir, name, size=4096):
    d = os.path.join(CDIR, host_dir)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.truncate(size)
    return os.path.join(MNT, "c", host_dir, name)


def request(path, operation=None, size=4096, **more):
    r = dict(api="shared_buffer", file_path=path, buffer_size=size, buffer_id=1)
    if operation:
        r["operation"] = operation
    r.update(more)
    return r


def start(state, token_file, *more):
    return subprocess.run(["sh", HOSTD_SH, "start", state, "--token-file", token_file,
                           "--allow", "C:\\temp", "--allow", "C:\\ro", "--allow", "C:\\rox"]
                          + list(more), capture_output=True, text=True)


def main():
    tok = os.path.join(WORK, "grants")
    with open(tok, "w") as f:
        f.write(GRANTS)
    os.chmod(tok, 0o600)
    ro, rox, temp = make_file("ro", "f"), make_file("rox", "f"), make_file("temp", "g")
    state = os.path.join(WORK, "grants-hostd")
    r = start(state, tok)
    if r.returncode != 0:
        print("FAIL: the daemon refused the grants:", r.stderr)
        return 1
    port = int(r.stdout.split()[-1])
    try:
        admin, reader, writer = (Conn(port, t) for t in ("all-powerful", "reader", "writer"))
        g = admin.hello["result"]["granted"]
        expect("hello: a token alone is granted every operation",
               g["operations"] == admin.hello["result"]["operations"], g)
        expect("... every allowed root", g["roots"] == ["C:\\temp", "C:\\ro", "C:\\rox"], g)
        expect("... and write", g["access"] == "write", g)
        g = reader.hello["result"]["granted"]
        expect("hello: reader's grant, roots canonical",
               g == {"operations": ["checksum", "stat"], "roots": ["C:\\ro"], "access": "read"}, g)

        expect("reader: checksum in its root", code(reader.ask(**request(ro, "checksum"))) ==
               "success")
        a = reader.ask(**request(ro, "process"))
        expect("reader: an operation not granted is forbidden", code(a) == "forbidden", a)
        a = reader.ask(**request(rox, "checksum"))
        expect("reader: C:\\ro does not grant C:\\rox", code(a) == "forbidden", a)
        expect("reader: nor C:\\temp", code(reader.ask(**request(temp, "checksum"))) ==
               "forbidden")
        a = reader.ask(**request(ro, "checksum", access="write"))
        expect("reader: an explicit write is forbidden", code(a) == "forbidden", a)
        a = reader.ask(**request(ro, operations=[{"operation": "stat"},
                                                 {"operation": "fill"}]))
        expect("reader: a chain with a step not granted", code(a) == "forbidden" and
               a["error"].get("step") == 1, a)
        a = reader.ask(**request(ro, "checksum", **{"async": True}))
        expect("reader: what is granted is accepted as a job", code(a) == "accepted", a)
        a = reader.ask(**request(ro, "process", **{"async": True}))
        expect("reader: forbidden is said at once, also for async", code(a) == "forbidden", a)

        expect("writer: fill in C:\\temp", code(writer.ask(**request(temp, "fill"))) ==
               "success")
        a = writer.ask(**request(ro, "fill"))
        expect("writer: outside its roots", code(a) == "forbidden", a)
        a = writer.ask(**request(rox, operations=[{"operation": "fill"},
                                                  {"operation": "checksum"}]))
        expect("writer: a writing chain in its root", code(a) == "success", a)

        # Jobs are seen under their own token only.
        big = make_file("temp", "big", 1 << 30)
        j = writer.ask(**request(big, "checksum", size=1 << 30, params={"algorithm": "sha256"},
                                 **{"async": True}))["job"]["job_id"]
        a = reader.ask(api="job", action="status", job_id=j)
        expect("another token's job is not_found", code(a) == "not_found", a)
        a = admin.ask(api="job", action="cancel", job_id=j)
        expect("... nor cancellable", code(a) == "not_found", a)
        a = admin.ask(api="job", action="list")
        expect("... nor listed", all(x["job_id"] != j for x in a["result"]["jobs"]), a)
        w2 = Conn(port, "writer")
        a = w2.ask(api="job", action="cancel", job_id=j)
        expect("the same token on another connection cancels it", code(a) == "success", a)
        w2.close()

        # One connection, one token.
        a = writer.ask(api="hello", token="reader")
        expect("a second token on one connection is refused", code(a) == "unauthorized", a)
        for c in (admin, reader, writer):
            c.close()

        # The library and the command: EPERM, and the host's message.
        ctok = os.path.join(WORK, "reader-token")
        with open(ctok, "w") as f:
            f.write("reader\n")
        env = dict(os.environ, WINAPI_PORT=str(port), WINAPI_TOKEN_FILE=ctok,
                   WINAPI_AUTOMOUNT_ROOT=MNT + "/")
        r = subprocess.run([WINAPI, "process", rox, "checksum"], env=env,
                           capture_output=True, text=True)
        expect("winapi: exit 1 when forbidden", r.returncode == 1, r)
        expect("winapi: Operation not permitted, and why",
               "Operation not permitted" in r.stderr and "outside this token's roots" in r.stderr,
               r.stderr)
        r = subprocess.run([WINAPI, "process", ro, "checksum"], env=env,
                           capture_output=True, text=True)
        expect("winapi: what is granted works", r.returncode == 0, r)
        # The guest may read the host's own file: its first grant's token.
        r = subprocess.run([WINAPI, "--token-file", tok, "hello"], env=env,
                           capture_output=True, text=True)
        expect("a client sends the first grant's token",
               r.returncode == 0 and '"access":"write"' in r.stdout, r)
    finally:
        subprocess.call(["sh", HOSTD_SH, "stop", state])

    # Token files refused at start, naming the file and the line.
    for text, why in (("tok access=maybe\n", "line 1: access=maybe"),
                      ("# only a comment\n", "no token"),
                      ("a\nb ops=\n", "line 2: ops=: an empty operation name"),
                      ("a\na ops=stat\n", "line 2: the token of line 1 again"),
                      ("a roots=nowhere\n", "root nowhere")):
        bad = os.path.join(WORK, "bad-grants")
        with open(bad, "w") as f:
            f.write(text)
        os.chmod(bad, 0o600)
        r = start(os.path.join(WORK, "bad-hostd"), bad)
        if r.returncode == 0:
            subprocess.call(["sh", HOSTD_SH, "stop", os.path.join(WORK, "bad-hostd")])
        # The file is named as the host names it (Z:\\... under Wine).
        expect("refused at start: %r" % text, r.returncode != 0 and why in r.stderr
               and os.path.basename(bad) in r.stderr, r.stderr)

    return finish("every grant behaved as SPEC says")


if __name__ == "__main__":
    sys.exit(main())

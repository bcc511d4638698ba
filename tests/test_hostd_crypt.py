#!/usr/bin/env python3
"""test_hostd_crypt.py - encrypt and decrypt (SPEC, "Compression and
encryption"), raw over TCP against the real daemon: AES-256-GCM in place
that Debian's python3-cryptography decrypts with the key, nonce and tag;
decrypt restoring the bytes; a wrong tag (data_error) or a cancel half way
leaving the buffer exactly as it was; fresh nonces, across a restart too;
key files refused at start; no key, no operations.

Run by run-test.sh; the daemons with keys come from hostd.sh, so the test
runs against whichever host run-test.sh uses.
"""
import hashlib
import os
import subprocess
import sys
import time

from hostd_conn import Conn, code, expect, finish, start_hostd
from hostd_conn import put_buffer as buffer

HOSTD_SH = os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh")
WORK = os.environ["WINAPI_TEST_WORK"]
PORT = int(os.environ["WINAPI_PORT"])
WINE = os.environ.get("WINAPI_TEST_HOSTD") == "wine"
KEY = bytes(range(32))
start = start_hostd


def key_file(name, data, mode=0o600):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


def req(path, size, op, **more):
    r = dict(api="shared_buffer", file_path=path, buffer_size=size, buffer_id=1, **more)
    if op:
        r["operation"] = op
    return r


def aesgcm_decrypt(ciphertext, nonce, tag):
    """Debian's python3-cryptography, an AES-GCM of its own (OpenSSL's)."""
    code_ = ("import sys; from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
             "k, n, t = (bytes.fromhex(a) for a in sys.argv[1:4])\n"
             "c = sys.stdin.buffer.read()\n"
             "sys.stdout.buffer.write(AESGCM(k).decrypt(n, c + t, None))\n")
    r = subprocess.run(["/usr/bin/python3", "-c", code_, KEY.hex(), nonce, tag],
                       input=ciphertext, capture_output=True)
    return r.stdout if r.returncode == 0 else None


def main():
    # No key: the operations do not exist.
    c = Conn(PORT)
    ops = c.ask(api="hello")["result"]["operations"]
    expect("without a key, hello lists no encrypt", "encrypt" not in ops, ops)
    p = buffer("nokey", b"x" * 4096)
    expect("without a key, encrypt is unknown",
           code(c.ask(**req(p, 4096, "encrypt"))) == "unknown_operation")

    # Key files refused at start, naming the file.
    bad = [("short", b"\x01" * 31, "expected 32 raw bytes or 64 hex digits"),
           ("nothex", b"zz" * 32 + b"\n", "expected 32 raw bytes or 64 hex digits")]
    if not WINE:
        bad.append(("open", KEY.hex().encode(), "readable by others"))
    for name, data, why in bad:
        f = key_file("key-" + name, data, 0o644 if name == "open" else 0o600)
        state, r = start("bad-" + name, "--key-file", f)
        if r.returncode == 0:
            subprocess.call(["sh", HOSTD_SH, "stop", state])
        expect("key file refused: " + name, r.returncode != 0 and why in r.stderr and
               os.path.basename(f) in r.stderr, r.stderr)

    hexkey = key_file("key", KEY.hex().encode() + b"\n")
    state, r = start("crypt", "--key-file", hexkey)
    if r.returncode != 0:
        print("FAIL: the daemon with a key did not start:", r.stderr)
        return 1
    port = int(r.stdout.split()[-1])
    try:
        c = Conn(port)
        ops = c.ask(api="hello")["result"]["operations"]
        expect("with a key, hello lists encrypt and decrypt",
               "encrypt" in ops and "decrypt" in ops, ops)
        size = (1 << 20) + 13          # not a multiple of the block, nor of a page
        plain = os.urandom(size)
        p = buffer("secret", plain)
        a = c.ask(**req(p, size, "encrypt"))
        res = a.get("result", {})
        nonce, tag = res.get("nonce", ""), res.get("tag", "")
        expect("encrypt: nonce and tag", code(a) == "success" and len(nonce) == 24 and
               len(tag) == 32, a)
        with open(p, "rb") as f:
            cipher = f.read()
        expect("encrypt works in place", len(cipher) == size and cipher != plain)
        expect("another AES-GCM decrypts it", aesgcm_decrypt(cipher, nonce, tag) == plain)

        bad_tag = ("0" if tag[0] != "0" else "1") + tag[1:]
        a = c.ask(**req(p, size, "decrypt", params={"nonce": nonce, "tag": bad_tag}))
        with open(p, "rb") as f:
            expect("a wrong tag: data_error, the buffer as it was",
                   code(a) == "data_error" and f.read() == cipher, a)
        a = c.ask(**req(p, size, "decrypt", params={"nonce": nonce}))
        expect("decrypt without a tag", code(a) == "bad_request", a)
        a = c.ask(**req(p, size, "decrypt", params={"nonce": nonce, "tag": tag}))
        with open(p, "rb") as f:
            expect("decrypt restores the bytes", code(a) == "success" and f.read() == plain, a)

        a2 = c.ask(**req(p, size, "encrypt"))["result"]
        expect("a fresh nonce each time", a2["nonce"] != nonce)
        c.ask(**req(p, size, "decrypt", params={"nonce": a2["nonce"], "tag": a2["tag"]}))

        a = c.ask(**req(p, size, None, operations=[{"operation": "encrypt"},
                                                   {"operation": "checksum"}]))
        expect("encrypt only as a chain's last step", code(a) == "bad_request" and
               a["error"].get("step") == 0, a)
        a = c.ask(**req(p, size, None, operations=[{"operation": "checksum",
                                                    "params": {"algorithm": "sha256"}},
                                                   {"operation": "encrypt"}]))
        st = a.get("result", {}).get("steps", [{}, {}])
        expect("checksum, then encrypt", code(a) == "success" and
               st[0].get("checksum") == hashlib.sha256(plain).hexdigest() and
               len(st[1].get("tag", "")) == 32, a)
        c.ask(**req(p, size, "decrypt", params={"nonce": st[1]["nonce"], "tag": st[1]["tag"]}))

        # Cancelled half way: what was encrypted is put back.
        big = 1 << 30
        zeros = buffer("big", b"")
        os.truncate(zeros, big)
        a = c.ask(**req(zeros, big, "encrypt", **{"async": True}))
        job = a.get("job", {}).get("job_id")
        deadline = time.time() + 30
        done = 0
        while time.time() < deadline:
            s = c.ask(api="job", action="status", job_id=job)["result"]
            done = s["bytes_done"]
            if done > 0 or s["state"] not in ("queued", "running"):
                break
            time.sleep(0.01)
        s = c.ask(api="job", action="cancel", job_id=job)["result"]
        s = c.ask(api="job", action="wait", job_id=job, timeout_ms=10000)["result"]
        a = c.ask(**req(zeros, big, "checksum", params={"algorithm": "sha256"}))
        expect("a cancelled encrypt (%d of %d bytes done) leaves the zeros" % (done, big),
               s["state"] == "cancelled" and a["result"]["checksum"] ==
               hashlib.sha256(bytes(big)).hexdigest(), (s, a))

        # The file truncated under a job that then is cancelled: the undo
        # faults, and the daemon carries on.
        os.truncate(zeros, big)
        a = c.ask(**req(zeros, big, "encrypt", **{"async": True}))
        job = a.get("job", {}).get("job_id")
        while c.ask(api="job", action="status", job_id=job)["result"]["bytes_done"] == 0:
            time.sleep(0.01)
        os.truncate(zeros, 4096)
        c.ask(api="job", action="cancel", job_id=job)
        s = c.ask(api="job", action="wait", job_id=job, timeout_ms=10000)["result"]
        expect("a file truncated under encrypt, then cancelled: the daemon goes on",
               s["state"] in ("cancelled", "failed") and
               c.ask(api="ping").get("result") == {"pong": True}, s)
        os.unlink(zeros)

        # GCM takes at most 64 GiB less 32 bytes under one nonce.
        huge = buffer("huge", b"")
        os.truncate(huge, 65 << 30)
        a = c.ask(**req(huge, 65 << 30, "encrypt"))
        expect("encrypt of 65 GiB at once is refused", code(a) == "bad_request", a)
        a = c.ask(**req(huge, 65 << 30, "encrypt", offset=0, length=4096))
        expect("a range of it is not", code(a) == "success", a)
        os.unlink(huge)
    finally:
        subprocess.call(["sh", HOSTD_SH, "stop", state])

    # A restart with the same key: nonces still fresh.
    raw = key_file("key-raw", KEY)
    state, r = start("crypt2", "--key-file", raw)
    if r.returncode == 0:
        try:
            c = Conn(int(r.stdout.split()[-1]))
            a = c.ask(**req(p, size, "encrypt"))["result"]
            expect("a raw key file; after a restart, another nonce",
                   a["nonce"] not in (nonce, a2["nonce"]), a)
            with open(p, "rb") as f:
                expect("... and the same key", aesgcm_decrypt(f.read(), a["nonce"], a["tag"])
                       == plain)
        finally:
            subprocess.call(["sh", HOSTD_SH, "stop", state])
    else:
        expect("a raw key file", False, r.stderr)
    os.unlink(p)

    return finish("encrypt and decrypt behaved as SPEC says")


if __name__ == "__main__":
    sys.exit(main())

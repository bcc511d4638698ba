#!/usr/bin/env python3
"""test_hostd_zstd.py - compress and decompress (SPEC, "Compression and
encryption"), raw over TCP against the real daemon, checked with Debian's
zstd command: a frame the command decodes to the same bytes, with a
checksum and the content size; frames of the command's (with a checksum or
without, several in a row, of unknown size) decoded; dest sized to the
output, and left exactly as it was (bytes and size) after a frame that is
not zstd, a cut one, a wrong checksum, or a cancel half way; dest checked
as the request's own file is (missing, outside the roots, the source
itself, a link); level and dest parameters; progress; the winapi command.

Run by run-test.sh against whichever host it starts (WINAPI_PORT,
WINAPI_BACKING_DIR: C:\\temp as the guest sees it).
"""
import hashlib
import os
import subprocess
import sys
import time

from hostd_conn import Conn, code, expect, finish, put_buffer

BACKING = os.environ["WINAPI_BACKING_DIR"]
TOP_BUILD = os.environ["top_builddir"]
WINE = os.environ.get("WINAPI_TEST_HOSTD") == "wine"
MIB = 1 << 20


def path(name):
    return os.path.join(BACKING, name)


put = put_buffer


def get(name):
    with open(path(name), "rb") as f:
        return f.read()


def zstd(*args, data=None):
    r = subprocess.run(["zstd", "-q"] + list(args), input=data, capture_output=True)
    return r


def req(src, op, **params):
    more = {k: params.pop(k) for k in ("offset", "length", "async") if k in params}
    return dict(api="shared_buffer", file_path=src, buffer_size=os.path.getsize(src),
                buffer_id=7, operation=op, params=params, **more)


def half_compressible(n):
    """Random bytes and text, half and half, in 64 KiB runs."""
    out, words = bytearray(), b"the quick brown fox jumps over the lazy dog " * 1500
    while len(out) < n:
        out += os.urandom(32768) + words[:32768]
    return bytes(out[:n])


def compress(c):
    data = half_compressible(3 * MIB + 12345)
    src = put("plain", data)
    put("frame.zst", b"")
    a = c.ask(**req(src, "compress", dest=path("frame.zst")))
    frame = get("frame.zst")
    expect("compress", code(a) == "success" and a["result"].get("dest_size") == len(frame), a)
    r = zstd("-dc", data=frame)
    expect("the zstd command decodes it to the same bytes", r.returncode == 0 and
           r.stdout == data, r.stderr)
    info = subprocess.run(["zstd", "-lv", path("frame.zst")], capture_output=True, text=True)
    expect("with a checksum and the content size", "XXH64" in info.stdout and
           "(%d B)" % len(data) in info.stdout, info.stdout)
    # Levels: 19 smaller than 1; both decode.
    sizes = {}
    for level in (1, 19):
        put("l%d" % level, b"")
        a = c.ask(**req(src, "compress", dest=path("l%d" % level), level=level))
        sizes[level] = a.get("result", {}).get("dest_size")
        expect("level %d decodes" % level, zstd("-dc", data=get("l%d" % level)).stdout == data)
    expect("level 19 smaller than level 1", sizes[19] < sizes[1], sizes)
    for params, what in (({"level": 0}, "level 0"), ({"level": 20}, "level 20"),
                         ({"level": "3"}, "a level that is not a number"), ({}, "no dest"),
                         ({"dest": 5}, "a dest that is not a string")):
        a = c.ask(**dict(req(src, "compress"), params=dict(params, **(
            {"dest": path("frame.zst")} if "dest" not in params and params else {}))))
        expect("%s: bad_request" % what, code(a) == "bad_request", a)
    # A range of the buffer, and the host form of dest.
    put("part.zst", b"old bytes")
    a = c.ask(**req(src, "compress", dest="C:\\temp\\part.zst", offset=4096, length=MIB))
    expect("a range, into a host path", code(a) == "success" and
           zstd("-dc", data=get("part.zst")).stdout == data[4096:4096 + MIB], a)
    # An empty range: an empty frame.
    empty = put("empty", b"")
    put("empty.zst", b"junk")
    a = c.ask(**req(empty, "compress", dest=path("empty.zst")))
    r = zstd("-dc", data=get("empty.zst"))
    expect("an empty buffer: a frame of nothing", code(a) == "success" and r.returncode == 0 and
           r.stdout == b"", (a, r.stderr))
    return data


def decompress(c, data):
    for args, what in ((["-3"], "the zstd command's frame"),
                       (["-19", "--no-check"], "a frame without a checksum"),
                       (["--ultra", "-22"], "a frame of level 22")):
        src = put("cmd.zst", zstd("-c", *args, data=data).stdout)
        put("out", b"something that was here before, longer than nothing")
        a = c.ask(**req(src, "decompress", dest=path("out")))
        expect("decompress: " + what, code(a) == "success" and get("out") == data and
               a["result"].get("dest_size") == len(data), a)
    # Two frames in a row, the second of unknown size (from a pipe).
    two = zstd("-c", data=data[:MIB]).stdout + \
        subprocess.run("zstd -q -c", shell=True, input=data[MIB:], capture_output=True).stdout
    src = put("two.zst", two)
    a = c.ask(**req(src, "decompress", dest=path("out")))
    expect("two frames in a row, one of unknown size", code(a) == "success" and
           get("out") == data, a)

    # Output of exactly the host's buffer, or two: a frame's end on a full buffer.
    for n in (MIB, 2 * MIB):
        src = put("exact.zst", zstd("-c", data=bytes(n)).stdout)
        put("out", b"")
        a = c.ask(**req(src, "decompress", dest=path("out")))
        expect("a frame of exactly %d MiB" % (n // MIB), code(a) == "success" and
               get("out") == bytes(n), a)

    before = b"dest as it was: " + os.urandom(200000)
    good = zstd("-c", data=data).stdout
    bad_cases = [
        (b"this is not zstd at all" * 1000, "bytes that are not zstd"),
        (good[:len(good) // 2], "a frame cut short"),
        (good[:-5] + bytes([good[-5] ^ 0xff]) + good[-4:], "a wrong checksum"),
        (good[:len(good) // 2] + bytes([good[len(good) // 2] ^ 0x55]) + good[len(good) // 2 + 1:],
         "a byte changed inside"),
        (b"", "an empty buffer"),
    ]
    for frame, what in bad_cases:
        src = put("bad.zst", frame)
        put("out", before)
        a = c.ask(**req(src, "decompress", dest=path("out")))
        expect("%s: data_error" % what, code(a) == "data_error", a)
        expect("%s: dest left as it was" % what, get("out") == before, len(get("out")))
    put("out", b"")
    src = put("bad.zst", b"nonsense")
    c.ask(**req(src, "decompress", dest=path("out")))
    expect("an empty dest stays empty", get("out") == b"")


def dests(c):
    src = put("plain2", os.urandom(100000))
    for dest, want, what in ((path("absent"), "not_found", "a dest that does not exist"),
                             (src, "bad_request", "the source itself"),
                             ("C:\\temp\\PLAIN2" if WINE else None, "bad_request",
                              "the source by another case"),
                             ("/etc/passwd", "path_not_allowed", "a dest outside the roots"),
                             ("D:\\x", "path_not_allowed", "a drive not allowed"),
                             ("relative.zst", "path_not_allowed", "a relative dest")):
        if dest is None:
            continue
        a = c.ask(**req(src, "compress", dest=dest))
        expect("%s: %s" % (what, want), code(a) == want, a)
    if not WINE:
        put("real", b"keep me")
        os.symlink(path("real"), path("link"))
        a = c.ask(**req(src, "compress", dest=path("link")))
        expect("a dest that is a link: path_not_allowed", code(a) == "path_not_allowed" and
               get("real") == b"keep me", a)
        os.link(path("real"), path("hard"))
        a = c.ask(**req(src, "compress", dest=path("hard")))
        expect("a dest with another hard link: path_not_allowed",
               code(a) == "path_not_allowed" and get("real") == b"keep me", a)


def jobs(c):
    # 4 GiB of zeros: long enough to watch and cancel.
    big = path("zeros")
    with open(big, "wb") as f:
        f.truncate(4 << 30)
    before = b"kept through a cancel " * 1000
    put("big.zst", before)
    a = c.ask(**req(big, "compress", dest=path("big.zst"), level=1, **{"async": True}))
    job = a.get("job", {}).get("job_id")
    expect("an async compress is accepted", code(a) == "accepted", a)
    seen = 0
    for _ in range(200):
        seen = c.job("status", job).get("result", {}).get("bytes_done", 0)
        if seen > 0:
            break
        time.sleep(0.02)
    expect("its progress moves", seen > 0, seen)
    t0 = time.monotonic()
    c.job("cancel", job)
    st = c.job("wait", job, timeout_ms=10000).get("result", {})
    expect("cancelled", st.get("state") == "cancelled", (st, time.monotonic() - t0))
    expect("a cancelled compress leaves dest as it was", get("big.zst") == before,
           len(get("big.zst")))
    os.remove(big)


def command(c, data):
    env = dict(os.environ)
    winapi = os.path.join(TOP_BUILD, "tools", "winapi")
    put("cmd-out.zst", b"")
    r = subprocess.run([winapi, "process", path("plain"), "compress",
                        '{"dest":"%s","level":5}' % path("cmd-out.zst")],
                       capture_output=True, text=True, env=env)
    expect("winapi process FILE compress", r.returncode == 0 and '"dest_size"' in r.stdout and
           zstd("-dc", data=get("cmd-out.zst")).stdout == data, r)
    put("cmd-bad", b"not zstd")
    r = subprocess.run([winapi, "process", path("cmd-bad"), "decompress",
                        '{"dest":"%s"}' % path("cmd-out.zst")], capture_output=True, text=True,
                       env=env)
    expect("winapi: a bad frame is EBADMSG, exit 1", r.returncode == 1 and
           "Bad message" in r.stderr, r)


def main():
    c = Conn()
    ops = c.ask(api="hello").get("result", {}).get("operations", [])
    expect("hello lists compress and decompress", "compress" in ops and "decompress" in ops, ops)
    data = compress(c)
    decompress(c, data)
    dests(c)
    jobs(c)
    command(c, data)
    c.close()
    return finish("compress and decompress behaved as SPEC says")


if __name__ == "__main__":
    sys.exit(main())

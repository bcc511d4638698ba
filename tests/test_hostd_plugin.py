#!/usr/bin/env python3
"""test_hostd_plugin.py - plugins (SPEC, "Plugins"): the example plugin
(examples/plugin-search, search.so or search.dll) loaded with --plugin,
listed by hello, run raw over TCP (matches inside a part and across the
parts the host cuts a range into, offsets in the file, params refused),
as an async job with progress and cancel, in a chain, through the winapi
command; and plugins refused at start naming the file: a missing file,
one without winapi_plugin_v1, a name taken (twice the same plugin, or a
built-in's name), a bad name, no run(), another ABI version.

Run by run-test.sh; the daemons with plugins come from hostd.sh, so the
test runs against whichever host run-test.sh uses (the refusals built
only for Linux are left out under Wine).
"""
import os
import subprocess
import sys
import time

from hostd_conn import Conn, code, expect, finish, start_hostd, stop_hostd
from hostd_conn import put_buffer as buffer

BACKING = os.environ["WINAPI_BACKING_DIR"]
TOP_BUILD = os.environ["top_builddir"]
TOP_SRC = os.environ["top_srcdir"]
WORK = os.environ["WINAPI_TEST_WORK"]
WINE = os.environ.get("WINAPI_TEST_HOSTD") == "wine"
MIB = 1 << 20


def plugin_file():
    """The example plugin built for the daemon under test."""
    if WINE:
        exe = os.environ.get("WINAPI_HOSTD_EXE") or os.path.join(
            TOP_SRC, "_build", "win64", "hostd", "winapi-hostd.exe")
        return os.path.join(os.path.dirname(os.path.dirname(exe)),
                            "examples", "plugin-search", ".libs", "search.dll")
    return os.path.join(TOP_BUILD, "examples", "plugin-search", ".libs", "search.so")


def search(path, size, params, **more):
    return dict(api="shared_buffer", file_path=path, buffer_size=size, buffer_id=3,
                operation="search", params=params, **more)


def offsets(data, pattern):
    """Every occurrence, overlapping ones too, as the plugin counts them."""
    out, i = [], data.find(pattern)
    while i >= 0:
        out.append(i)
        i = data.find(pattern, i + 1)
    return out


def refused(name, args, why):
    """A daemon that must not start, and must say why naming the file."""
    state, r = start_hostd(name, *args)
    log = r.stderr + r.stdout
    try:
        with open(os.path.join(state, "log")) as f:
            log += f.read()
    except OSError:
        pass
    expect("refused: " + name, r.returncode != 0, log)
    expect("the message of " + name + " names the file and says " + why,
           os.path.basename(args[-1]) in log and why in log, log)
    stop_hostd(state)


def raw(c):
    hello = c.ask(api="hello")
    ops = hello.get("result", {}).get("operations", [])
    expect("hello lists search beside the built-in operations",
           "search" in ops and "checksum" in ops, ops)

    data = b"..needle..needleneedle." + b"x" * 1000
    path = buffer("small", data)
    a = c.ask(**search(path, len(data), {"text": "needle"}))
    res = a.get("result", {})
    expect("search finds every match", res.get("matches") == 3 and
           res.get("offsets") == offsets(data, b"needle") and res.get("pattern_bytes") == 6, a)
    expect("the host's fields stay", res.get("operation") == "search" and
           res.get("bytes_processed") == len(data) and res.get("status") == "processed", a)
    a = c.ask(**search(path, len(data), {"hex": "6e6565", "max_offsets": 1},
                       offset=5, length=len(data) - 5))
    res = a.get("result", {})
    expect("offset and length: offsets in the file, max_offsets kept",
           res.get("matches") == 2 and res.get("offsets") == [10], a)
    for params, what in (({}, "no pattern"), ({"hex": "abc"}, "odd hex digits"),
                         ({"text": ""}, "an empty pattern"),
                         ({"text": "a", "max_offsets": 1001}, "too many offsets")):
        a = c.ask(**search(path, len(data), params))
        expect("bad params (%s): bad_request" % what, code(a) == "bad_request", a)
    a = c.ask(**search(path, len(data), {"text": "x"}, access="read"))
    expect("a reading plugin with access read", code(a) == "success", a)

    # 5 MiB: the host hands it over in parts of 1 MiB; matches straddle them.
    size = 5 * MIB
    big = bytearray(size)
    for at in (0, MIB - 3, 2 * MIB - 1, 3 * MIB, size - 7):
        big[at:at + 7] = b"PATTERN"
    big = bytes(big)
    path = buffer("parts", big)
    a = c.ask(**search(path, size, {"text": "PATTERN"}))
    expect("matches across the parts of a range", a.get("result", {}).get("offsets") ==
           offsets(big, b"PATTERN") and a["result"]["matches"] == 5, a)

    # A chain: the plugin between built-in steps.
    a = c.ask(api="shared_buffer", file_path=path, buffer_size=size, buffer_id=3,
              operations=[{"operation": "fill", "params": {"pattern": 0x41414141}},
                          {"operation": "search", "params": {"text": "AAAA", "max_offsets": 2}},
                          {"operation": "stat"}])
    steps = a.get("result", {}).get("steps", [{}, {}, {}])
    expect("a chain with the plugin", code(a) == "success" and
           steps[1].get("matches") == size - 3 and steps[1].get("offsets") == [0, 1], a)

    # Async: progress that moves, then cancel within 100 ms.
    huge = os.path.join(BACKING, "huge")
    with open(huge, "wb") as f:
        f.truncate(16 << 30)
    a = c.ask(**search(huge, 16 << 30, {"text": "z"}, **{"async": True}))
    job = a.get("job", {}).get("job_id")
    expect("an async search is accepted", code(a) == "accepted" and job, a)
    seen = 0
    for _ in range(100):
        st = c.job("status", job).get("result", {})
        seen = st.get("bytes_done", 0)
        if seen > 0:
            break
        time.sleep(0.05)
    expect("its progress moves", seen > 0, seen)
    t0 = time.monotonic()
    c.job("cancel", job)
    while c.job("status", job).get("result", {}).get("state") == "running":
        time.sleep(0.005)
    took = time.monotonic() - t0
    st = c.job("status", job).get("result", {})
    expect("cancelled within 100 ms", st.get("state") == "cancelled" and took < 0.1,
           (st, took))
    os.remove(huge)


def command(port):
    data = b"abcabcab"
    path = buffer("cmd", data)
    env = dict(os.environ, WINAPI_PORT=str(port))
    r = subprocess.run([os.path.join(TOP_BUILD, "tools", "winapi"), "process", path, "search",
                        '{"text":"abc"}'], capture_output=True, text=True, env=env)
    expect("winapi process FILE search", r.returncode == 0 and
           '"matches":2' in r.stdout and '"offsets":[0,3]' in r.stdout, r)
    r = subprocess.run([os.path.join(TOP_BUILD, "tools", "winapi"), "process", path, "search",
                        '{}'], capture_output=True, text=True, env=env)
    expect("winapi: a plugin's error, exit 1", r.returncode == 1 and
           "params.text or params.hex" in r.stderr, r)


def main():
    plugin = plugin_file()
    if not os.path.exists(plugin):
        print("no %s: build it first" % plugin)
        return 1
    state, r = start_hostd("hostd-plugin", "--plugin", plugin)
    expect("a daemon with the example plugin starts", r.returncode == 0, r.stderr)
    if r.returncode != 0:
        return 1
    port = int(r.stdout.strip())
    c = Conn(port)
    try:
        raw(c)
        command(port)
    finally:
        c.close()
        stop_hostd(state)

    refused("missing", ["--plugin", os.path.join(WORK, "absent.so")], "")
    refused("clash", ["--plugin", plugin, "--plugin", plugin], "already loaded")
    # A library without the symbol: the daemon's own libwinapi, or a Windows DLL.
    if WINE:
        refused("no-symbol", ["--plugin", "C:\\windows\\system32\\version.dll"],
                "no winapi_plugin_v1")
    else:
        refused("no-symbol", ["--plugin", os.path.join(TOP_BUILD, "protocol", ".libs",
                                                       "libwinapi.so")], "no winapi_plugin_v1")
        libs = os.path.join(TOP_BUILD, "tests", ".libs")
        refused("abi", ["--plugin", os.path.join(libs, "plugin_bad_abi.so")],
                "ABI version 2")
        refused("bad-name", ["--plugin", os.path.join(libs, "plugin_bad_name.so")],
                "name must be")
        refused("taken", ["--plugin", os.path.join(libs, "plugin_taken.so")],
                "checksum is already built in")
        refused("no-run", ["--plugin", os.path.join(libs, "plugin_no_run.so")],
                "no run function")
    return finish("the plugin behaved as SPEC says, and bad ones were refused")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test_hostd_chains.py - chains ("operations":[...], SPEC "Chains") raw over
TCP against the real daemon: steps run in order over one mapping, each with
its result; a stat step; the errors of a step carry "step"; a chain as an
async job, its progress counting every step.

Run by run-test.sh (WINAPI_PORT, WINAPI_BACKING_DIR: C:\\temp as the guest
sees it).
"""
import hashlib
import os
import sys

from hostd_conn import Conn

PORT = int(os.environ["WINAPI_PORT"])
BACKING = os.environ["WINAPI_BACKING_DIR"]
failures = []


def expect(what, ok, detail):
    if not ok:
        failures.append("%s: %.400s" % (what, detail))


def main():
    c = Conn()
    size = 1 << 20
    path = os.path.join(BACKING, "chained")
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    base = dict(api="shared_buffer", file_path=path, buffer_size=size, buffer_id=9)
    filled = b"abcd" * (size // 4)

    # fill, then checksum what fill wrote, a stat, and a crc32: in order.
    r = c.ask(operations=[{"operation": "fill", "params": {"pattern": 0x64636261}},
                          {"operation": "checksum", "params": {"algorithm": "sha256"}},
                          {"operation": "stat"},
                          {"operation": "checksum"}], **base)
    res = r.get("result", {})
    steps = res.get("steps", [])
    expect("chain result", r.get("status") == "success" and res.get("operation") == "chain"
           and res.get("bytes_processed") == size and res.get("buffer_id") == 9
           and res.get("status") == "processed" and len(steps) == 4, r)
    if len(steps) == 4:
        expect("step 0 fill", steps[0].get("operation") == "fill"
               and steps[0].get("bytes_processed") == size, steps[0])
        expect("step 1 sees step 0's bytes",
               steps[1].get("checksum") == hashlib.sha256(filled).hexdigest(), steps[1])
        expect("step 2 stat", steps[2].get("file_size") == size
               and steps[2].get("bytes_processed") == 0, steps[2])
        expect("step 3 crc32", steps[3].get("algorithm") == "crc32"
               and len(steps[3].get("checksum", "")) == 8, steps[3])
    with open(path, "rb") as f:
        expect("the file holds the pattern", f.read() == filled, "not filled")

    # A step's own errors name it, and nothing runs.
    with open(path, "wb") as f:
        f.write(b"\0" * size)
    for what, ops, code, step in [
            ("unknown operation", [{"operation": "process"}, {"operation": "nope"}],
             "unknown_operation", 1),
            ("bad params", [{"operation": "fill", "params": {"pattern": 1}},
                            {"operation": "checksum", "params": {"algorithm": "md5"}}],
             "bad_request", 1),
            ("params not an object", [{"operation": "fill", "params": 3}], "bad_request", 0),
            ("step without operation", [{"operation": "stat"}, {"params": {}}],
             "bad_request", 1),
            ("step not an object", ["checksum"], "bad_request", 0)]:
        r = c.ask(operations=ops, **base)
        err = r.get("error", {})
        expect(what, err.get("code") == code and err.get("step") == step, r)
    with open(path, "rb") as f:
        expect("a refused chain writes nothing", f.read() == b"\0" * size, "written")
    r = c.ask(operations=[{"operation": "process"}, {"operation": "fill"}], access="read", **base)
    expect("a writing step under access read", r.get("error", {}).get("step") == 1, r)

    # The chain itself malformed: no step to name.
    for what, fields in [("empty", dict(operations=[])),
                         ("seventeen steps", dict(operations=[{"operation": "process"}] * 17)),
                         ("not an array", dict(operations={"operation": "process"})),
                         ("with operation", dict(operations=[{"operation": "process"}],
                                                 operation="process"))]:
        fields.update(base)
        r = c.ask(**fields)
        err = r.get("error", {})
        expect(what, err.get("code") == "bad_request" and "step" not in err, r)

    # Sixteen steps are allowed; an async chain's progress counts every step.
    r = c.ask(operations=[{"operation": "process"}] * 16, **base)
    expect("sixteen steps", len(r.get("result", {}).get("steps", [])) == 16, r)
    a = c.ask(operations=[{"operation": "checksum"}, {"operation": "process"}],
              **dict(base, **{"async": True}))
    w = c.ask(api="job", action="wait", job_id=a.get("job", {}).get("job_id", 0))
    res = w.get("result", {})
    expect("async chain", res.get("state") == "done" and res.get("operation") == "chain"
           and res.get("bytes_total") == 2 * size and res.get("bytes_done") == 2 * size
           and len(res.get("response", {}).get("result", {}).get("steps", [])) == 2, w)
    os.unlink(path)

    # A chain small enough to run on the event loop: every step still runs.
    small = os.path.join(BACKING, "small")
    with open(small, "wb") as f:
        f.write(b"\0" * 4096)
    r = c.ask(api="shared_buffer", file_path=small, buffer_size=4096, buffer_id=8,
              operations=[{"operation": "fill", "params": {"pattern": 0x64636261}},
                          {"operation": "checksum", "params": {"algorithm": "sha256"}}])
    steps = r.get("result", {}).get("steps", [{}, {}])
    expect("a 4 KiB chain of two steps", r.get("status") == "success" and
           steps[1].get("checksum") == hashlib.sha256(b"abcd" * 1024).hexdigest(), r)
    os.unlink(small)
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("every chain ran in order over one mapping, or named its failing step")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""test_hostd_jobs.py - "async":true requests and {"api":"job"} (SPEC, "Jobs"),
raw over TCP against the real daemon: accepted at once, progress that moves,
wait with and without a timeout, cancel of a 16 GiB job within 100 ms, list,
one job seen from two connections and after its own connection closed,
errors of a request coming back at once, unknown jobs, --max-jobs and
--job-ttl.

Run by run-test.sh (WINAPI_PORT: the test's daemon; WINAPI_BACKING_DIR:
C:\\temp as the guest sees it).  A second daemon with small limits comes
from hostd.sh, so the test runs against whichever host run-test.sh uses.
"""
import os
import subprocess
import sys
import time

from hostd_conn import Conn

PORT = int(os.environ["WINAPI_PORT"])
BACKING = os.environ["WINAPI_BACKING_DIR"]
HOSTD_SH = os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh")
WORK = os.environ["WINAPI_TEST_WORK"]
GIB = 1 << 30
failures = []


def expect(what, ok, detail):
    if not ok:
        failures.append("%s: %s" % (what, detail))


def sparse(name, size):
    path = os.path.join(BACKING, name)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def checksum(path, size, **more):
    req = dict(api="shared_buffer", operation="checksum", file_path=path,
               buffer_size=size, buffer_id=1, params={"algorithm": "sha256"})
    req.update(more)
    return req


def state(answer):
    return answer.get("result", {}).get("state")


def main():
    c = Conn()
    big = sparse("big", 16 * GIB)
    small = sparse("small", 65536)

    # Accepted at once, then running with progress that moves.
    t0 = time.monotonic()
    a = c.ask(**checksum(big, 16 * GIB, **{"async": True}))
    took = time.monotonic() - t0
    expect("accepted", a.get("status") == "accepted" and a.get("job", {}).get("job_id", 0) > 0
           and a.get("request_id") == 1, a)
    expect("accepted at once", took < 1.0, "took %.3f s" % took)
    j = a["job"]["job_id"]
    s1 = c.job("status", j)
    time.sleep(0.3)
    s2 = c.job("status", j)
    expect("status fields", set(s1.get("result", {})) ==
           {"job_id", "state", "operation", "bytes_done", "bytes_total"}, s1)
    expect("running", state(s2) == "running" and s2["result"]["bytes_total"] == 16 * GIB, s2)
    expect("progress moves", s2["result"]["bytes_done"] > s1["result"]["bytes_done"],
           "%s then %s" % (s1, s2))

    # A wait that times out answers with the status, about when asked.
    t0 = time.monotonic()
    w = c.job("wait", j, timeout_ms=300)
    took = time.monotonic() - t0
    expect("wait times out", state(w) == "running" and 0.25 <= took < 2.0,
           "%s after %.3f s" % (w, took))

    # Seen from a second connection; cancelled there within 100 ms.
    other = Conn()
    listed = other.job("list")
    expect("listed elsewhere", any(x["job_id"] == j for x in listed["result"]["jobs"]), listed)
    t0 = time.monotonic()
    other.job("cancel", j)
    while True:
        st = other.job("status", j)
        if state(st) != "running" or time.monotonic() - t0 > 5:
            break
    took = time.monotonic() - t0
    expect("cancelled", state(st) == "cancelled", st)
    expect("cancelled within 100 ms", took < 0.1, "took %.0f ms" % (took * 1000))
    resp = st["result"].get("response", {})
    expect("cancelled response", resp.get("error", {}).get("code") == "cancelled"
           and resp.get("request_id") == 1, resp)
    print("16 GiB checksum cancelled in %.1f ms after %d MiB" %
          (took * 1000, st["result"]["bytes_done"] >> 20))
    other.close()

    # A job outlives the connection that submitted it; wait gets its response.
    d = Conn()
    a = d.ask(**checksum(small, 65536, **{"async": True}))
    d.close()
    j2 = a["job"]["job_id"]
    w = c.job("wait", j2)
    resp = w.get("result", {}).get("response", {})
    expect("ended job", state(w) == "done" and w["result"]["bytes_done"] == 65536, w)
    expect("its response", resp.get("status") == "success" and
           len(resp.get("result", {}).get("checksum", "")) == 64, resp)
    expect("ids new", j2 > j, "%d after %d" % (j2, j))

    # A wait already waiting when the job ends is answered at its end.
    a = c.ask(**checksum(sparse("mid", GIB), GIB, **{"async": True}))
    w = c.job("wait", a["job"]["job_id"], timeout_ms=120000)
    expect("wait until the end", state(w) == "done", w)

    # What is wrong with a request comes back at once, as without async.
    e = c.ask(**checksum(os.path.join(BACKING, "missing"), 4096, **{"async": True}))
    expect("missing file at once", e.get("error", {}).get("code") == "not_found", e)
    e = c.ask(**checksum(small, 4096, **{"async": True}))
    expect("size at once", e.get("error", {}).get("code") == "size_mismatch", e)
    e = c.ask(**checksum(small, 65536, **{"async": "yes"}))
    expect("async not a boolean", e.get("error", {}).get("code") == "bad_request", e)

    # The job api's own errors.
    for what, fields, code in [
            ("unknown job", dict(action="status", job_id=987654), "not_found"),
            ("no job_id", dict(action="status"), "bad_request"),
            ("job_id 0", dict(action="cancel", job_id=0), "bad_request"),
            ("unknown action", dict(action="pause", job_id=1), "bad_request"),
            ("no action", dict(job_id=1), "bad_request")]:
        e = c.ask(api="job", **fields)
        expect(what, e.get("error", {}).get("code") == code, e)
    expect("still serving", c.ask(api="ping").get("status") == "success", "no pong")
    c.close()

    # --max-jobs and --job-ttl, on a daemon of their own.
    state_dir = os.path.join(WORK, "limits")
    port = int(subprocess.check_output(
        ["sh", HOSTD_SH, "start", state_dir, "--max-jobs", "2", "--job-ttl", "1"]).split()[-1])
    try:
        lc = Conn(port)
        # Two jobs at work fill it: a third is busy.
        ids = [lc.ask(**checksum(big, 16 * GIB, **{"async": True})).get("job", {}).get("job_id")
               for _ in range(2)]
        busy = lc.ask(**checksum(small, 65536, **{"async": True}))
        expect("beyond --max-jobs", busy.get("error", {}).get("code") == "busy", busy)
        for i in ids:
            lc.job("cancel", i)
            lc.job("wait", i)
        # Ended ones make room: the one that ended first is forgotten.
        again = lc.ask(**checksum(small, 65536, **{"async": True}))
        expect("room from ended jobs", again.get("status") == "accepted", again)
        gone = lc.job("status", ids[0])
        expect("the first ended forgotten", gone.get("error", {}).get("code") == "not_found", gone)
        kept = lc.job("status", ids[1])
        expect("the next one kept", state(kept) == "cancelled", kept)
        lc.job("wait", again["job"]["job_id"])
        time.sleep(2.5)
        gone = lc.job("status", again["job"]["job_id"])
        expect("expired after --job-ttl", gone.get("error", {}).get("code") == "not_found", gone)
        lc.close()
    finally:
        subprocess.call(["sh", HOSTD_SH, "stop", state_dir])

    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("every job behaved as SPEC says")
    return 0


if __name__ == "__main__":
    sys.exit(main())

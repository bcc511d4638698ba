"""hostd_conn.py - a connection to winapi-hostd for the Python tests: one
JSON request a line, each with the next request_id, and its answer; and
what the tests share beside it.

  c = Conn()                      the test's daemon (WINAPI_PORT)
  c = Conn(port, token="t")       another, saying hello first (c.hello: its answer)
  c.ask(api="ping")               send, and read the answer
  c.send(...); c.read()           the two halves, for pipelining
  c.job("wait", 7, timeout_ms=5)  {"api":"job"}
  code(answer)                    its status, or its error's code
  expect(what, ok, detail)        a check: "ok: ..." or "FAIL: ...", counted
  finish(summary)                 the exit status: 1 after a failed check
  put_buffer(name, data)          a file of that content in C:\\temp, its guest path
  state, r = start_hostd(name, *options)   another daemon (hostd.sh), from /
  stop_hostd(state)
"""
import json
import os
import socket
import subprocess

failures = []


class Conn:
    def __init__(self, port=None, token=None, timeout=60):
        port = port or int(os.environ["WINAPI_PORT"])
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.f = self.s.makefile("rb")
        self.id = 0
        self.hello = self.ask(api="hello", token=token) if token is not None else None

    def send(self, **fields):
        self.id += 1
        fields["request_id"] = self.id
        self.s.sendall(json.dumps(fields).encode() + b"\n")
        return self.id

    def read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("winapi-hostd closed the connection")
        return json.loads(line)

    def ask(self, **fields):
        self.send(**fields)
        return self.read()

    def job(self, action, job_id=None, **more):
        if job_id is not None:
            more["job_id"] = job_id
        return self.ask(api="job", action=action, **more)

    def close(self):
        self.s.close()


def code(answer):
    return answer["error"]["code"] if answer.get("status") == "error" else answer.get("status")


def expect(what, ok, detail=""):
    print(("ok: " if ok else "FAIL: ") + what + ("" if ok else ": %s" % (detail,)))
    if not ok:
        failures.append(what)


def finish(summary):
    """What main() returns: 0, or 1 after a failed check."""
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print(summary)
    return 0


def put_buffer(name, data):
    """A file of data in C:\\temp (WINAPI_BACKING_DIR); its guest path."""
    path = os.path.join(os.environ["WINAPI_BACKING_DIR"], name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def start_hostd(name, *options):
    """A daemon of the test's (hostd.sh, started from / so that no mount is
    kept busy): its state directory, and how hostd.sh ended (stdout: the port)."""
    state = os.path.join(os.environ["WINAPI_TEST_WORK"], name)
    r = subprocess.run(["sh", os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh"),
                        "start", state] + list(options), capture_output=True, text=True, cwd="/")
    return state, r


def stop_hostd(state):
    subprocess.call(["sh", os.path.join(os.environ["top_srcdir"], "tests", "hostd.sh"),
                     "stop", state], cwd="/")

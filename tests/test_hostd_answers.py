#!/usr/bin/env python3
"""test_hostd_answers.py - every answer of winapi-hostd is JSON that
Python's own json module reads, whatever bytes the request held.

Run by run-test.sh, which starts the daemon (WINAPI_PORT) with C:\\ in
WINAPI_TEST_CDIR and the guest's automount root WINAPI_AUTOMOUNT_ROOT.
Requests go raw over one socket; every answer is read as bytes and parsed
with json.loads, which decodes UTF-8 strictly (no overlong forms, no
surrogates, nothing above U+10FFFF) -- as a client in any language would.
"""
import json
import os
import random
import socket
import sys

PORT = int(os.environ["WINAPI_PORT"])
BACKING = os.environ["WINAPI_BACKING_DIR"]
failures = []


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        self.buf = b""

    def ask(self, line):
        self.s.sendall(line + b"\n")
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("winapi-hostd closed the connection")
            self.buf += chunk
        answer, self.buf = self.buf.split(b"\n", 1)
        return answer


def check(conn, what, line, code=None, shows=None):
    """Send line; its answer must parse, with code and a message holding shows."""
    raw = conn.ask(line)
    try:
        # json.loads(bytes) would let surrogates pass: decode strictly first.
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        failures.append("%s: answer is not UTF-8 JSON (%s): %.300r" % (what, e, raw))
        return None
    got = answer.get("error", {}).get("code", answer.get("status"))
    if code and got != code:
        failures.append("%s: answered %s, wanted %s: %.300r" % (what, got, code, raw))
    message = answer.get("error", {}).get("message", "")
    if shows is not None and shows not in message:
        failures.append("%s: message %r does not show %r" % (what, message, shows))
    return answer


def sb(**fields):
    req = {"api": "shared_buffer", "request_id": 1, "operation": "process",
           "file_path": BACKING + "/f", "buffer_size": 0, "buffer_id": 1}
    req.update(fields)
    return req


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False).encode()


# Byte sequences json-c lets through although they are not UTF-8.
NOT_UTF8 = [b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
            b"\xf4\x90\x80\x80", b"\xf0\x80\x80\xaf"]


def main():
    c = Conn()
    # The case: 63 'a' and an e-acute, echoed with "%.64s", was cut
    # in half (the answer ended a\xc3").
    name = "a" * 63 + "\u00e9tail"
    check(c, "unknown api, 64th character multibyte",
          dumps({"api": name, "request_id": 1}), "unknown_api", "a" * 63)
    check(c, "unknown operation, 64th character multibyte",
          dumps(sb(operation=name)), "unknown_operation", "a" * 63)
    check(c, "unknown algorithm, 32nd character multibyte",
          dumps(sb(operation="checksum", params={"algorithm": "b" * 31 + "\u00e9" * 5})),
          "bad_request", "b" * 31)
    check(c, "long path of multibyte characters",
          dumps(sb(file_path="/" + "\u20ac" * 3000)), "path_not_allowed")
    check(c, "long host path of multibyte characters",
          dumps(sb(host_path="C:\\temp\\" + "\U0001f600" * 300)), "path_not_allowed")
    check(c, "escaped lone surrogate", b'{"api":"\\ud800x","request_id":1}', "unknown_api")
    # A line cut after a high surrogate leaves nothing for the next line's
    # escapes: \udc00 alone is U+FFFD, not the second half of U+10000.
    check(c, "line cut after a high surrogate", b'{"api":"x\\ud800', "bad_request")
    check(c, "low surrogate on the next line", b'{"api":"\\udc00x","request_id":1}',
          "unknown_api", "\ufffdx")
    check(c, "stray byte json-c refuses", b'{"api":"\xff","request_id":1}', "bad_request")
    check(c, "control characters", dumps({"api": "\x01\x1b[31m", "request_id": 1}),
          "unknown_api")
    # What json-c lets through must not come back.
    for bad in NOT_UTF8:
        check(c, "api %r" % bad, b'{"api":"x' + bad + b'","request_id":1}', "bad_request")
        check(c, "file_path %r" % bad, b'{"api":"shared_buffer","request_id":1,'
              b'"operation":"process","file_path":"' + BACKING.encode() + b"/a" + bad +
              b'","buffer_size":0,"buffer_id":1}', "bad_request", "file_path")
        check(c, "operation %r" % bad, b'{"api":"shared_buffer","request_id":1,'
              b'"operation":"p' + bad + b'","file_path":"/x","buffer_size":0,'
              b'"buffer_id":1}', "bad_request")
        check(c, "host_path %r" % bad, b'{"api":"shared_buffer","request_id":1,'
              b'"operation":"stat","file_path":"/x","host_path":"C:\\\\temp\\\\' + bad +
              b'","buffer_size":0,"buffer_id":1}', "bad_request")
    # A few thousand requests with random bytes spliced into their strings.
    rng = random.Random(7)
    templates = [dumps({"api": "NAME", "request_id": 1}),
                 dumps(sb(operation="NAME")),
                 dumps(sb(file_path=BACKING + "/NAME")),
                 dumps(sb(host_path="C:\\temp\\NAME", operation="stat")),
                 dumps(sb(operation="checksum", params={"algorithm": "NAME"}))]
    pieces = NOT_UTF8 + [b"\xc3", b"\xe2\x82", b"\xc3\xa9", b"\xe2\x82\xac",
                         b"\xf0\x9f\x98\x80", b"a", b"\\\\", b"/", b"\\u0000", b":"]
    for i in range(3000):
        t = rng.choice(templates)
        filler = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 120)))
        check(c, "random %d" % i, t.replace(b"NAME", filler))
    # Still serving.
    check(c, "ping", b'{"api":"ping","request_id":2}', "success")
    for f in failures[:20]:
        print("FAIL:", f)
    if failures:
        print("%d answers were not UTF-8 JSON or not as expected" % len(failures))
        return 1
    print("every answer was valid UTF-8 JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())

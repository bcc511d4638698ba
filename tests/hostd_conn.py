"""hostd_conn.py - a connection to winapi-hostd for the Python tests: one
JSON request a line, each with the next request_id, and its answer.

  c = Conn()                      the test's daemon (WINAPI_PORT)
  c = Conn(port, token="t")       another, saying hello first (c.hello: its answer)
  c.ask(api="ping")               send, and read the answer
  c.send(...); c.read()           the two halves, for pipelining
  c.job("wait", 7, timeout_ms=5)  {"api":"job"}
"""
import json
import os
import socket


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

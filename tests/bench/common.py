"""Shared by the benchmarks: a free loopback port, a throwaway moto server, and summary statistics."""

import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# tests/run's build directory: CARGO_TARGET_DIR, else cargo's default (target/ of the clone).
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto():
    """Yields the endpoint of a fresh moto server (from .cache/venv, installed by tests/run), on a free port or
    on BENCH_MOTO_PORT when set (a machine shared with others may reserve a port for each person)."""
    port = int(os.environ.get("BENCH_MOTO_PORT") or free_port())
    server = ROOT / ".cache" / "venv" / "bin" / "moto_server"
    if not server.exists():
        raise SystemExit(f"{server} is missing: run tests/run once (it installs moto)")
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            if time.monotonic() > deadline:
                raise SystemExit("moto did not start within 30 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait()


def aws_env(endpoint: str) -> dict:
    env = dict(os.environ)
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    return env


def summary(label: str, millis: list) -> str:
    return (f"{label}: median {statistics.median(millis):.1f} ms, min {min(millis):.1f}, "
            f"max {max(millis):.1f} ({len(millis)} runs)")


class Propagation:
    """What moto does not emulate and a real account makes a cold `up` wait for, with fixed durations so the
    critical path is known: a new IAM role is refused by Lambda's CreateFunction for `iam_s` seconds after
    CreateRole (400 InvalidParameterValueException "The role defined for the function cannot be assumed by
    Lambda.", as AWS answers), and a new function reads as State Pending for `pending_s` seconds after its
    CreateFunction (GetFunction / GetFunctionConfiguration rewritten; UpdateFunctionCode/Configuration then
    answer 409 ResourceConflictException, as AWS does)."""

    FUNCTION = re.compile(r"^/2015-03-31/functions/([^/?]+)(/configuration|/code)?/?(\?.*)?$")

    def __init__(self, iam_s: float = 0.0, pending_s: float = 0.0):
        self.iam_s, self.pending_s = iam_s, pending_s
        self.role_created = None
        self.function_created = {}
        # Every call as (arrived, answered, waiting, operation): `waiting` when its answer was a wait emulated
        # here (a refused CreateFunction, a Pending read), whose time the waits already count.
        self.timeline = []

    def record(self, arrived, waiting, operation):
        self.timeline.append((arrived, time.monotonic(), waiting, operation))

    def before(self, method, path, action):
        """A canned (status, error type, message) instead of forwarding, or None."""
        now = time.monotonic()
        if method == "POST" and path.rstrip("/").endswith("/2015-03-31/functions"):
            if self.role_created is not None and now < self.role_created + self.iam_s:
                return 400, "InvalidParameterValueException", \
                    "The role defined for the function cannot be assumed by Lambda."
        match = self.FUNCTION.match(path)
        if match and method == "PUT" and self.pending(match.group(1), now):
            return 409, "ResourceConflictException", \
                "The operation cannot be performed at this time. The function is currently in the following state: Pending"
        return None

    def pending(self, name, now):
        created = self.function_created.get(name)
        return created is not None and now < created + self.pending_s

    def after(self, method, path, action, status, data):
        """Records creations; returns the body to send (rewritten while a function is Pending) and whether
        it was rewritten."""
        now = time.monotonic()
        if action == "CreateRole" and status == 200:
            self.role_created = now
        if method == "POST" and path.rstrip("/").endswith("/2015-03-31/functions") and status == 201:
            self.function_created[json.loads(data)["FunctionName"]] = now
        match = self.FUNCTION.match(path)
        if match and method == "GET" and match.group(2) in (None, "/configuration") and status == 200 \
                and self.pending(match.group(1), now):
            body = json.loads(data)
            config = body.get("Configuration", body)
            config.update(State="Pending", StateReason="The function is being created.",
                          StateReasonCode="Creating")
            return json.dumps(body).encode(), True
        return data, False


@contextlib.contextmanager
def delayed(endpoint: str, delay_ms: float, propagation: "Propagation | None" = None):
    """Yields (url, calls): a proxy in front of `endpoint` that holds every request `delay_ms` before
    forwarding it (roughly a real region's round trip, which moto on loopback does not have), and the list of
    requests it forwarded as (method, path, X-Amz-Target) — the AWS calls of a run. With `propagation`, the
    waits of a real account moto lacks are emulated too (see Propagation)."""
    import http.client
    import threading
    import urllib.parse
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    target = urllib.parse.urlsplit(endpoint)
    calls = []
    propagation = propagation or Propagation()

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def forward(self):
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            time.sleep(delay_ms / 1000)
            # The operation: the JSON protocols name it in X-Amz-Target, the query protocols (IAM, STS) in Action=.
            action = next((p[7:] for p in (body or b"").decode(errors="replace").split("&")
                           if p.startswith("Action=")), None)
            operation = self.headers.get("X-Amz-Target") or action or f"{self.command} {self.path.split('?')[0]}"
            calls.append((self.command, self.path, self.headers.get("X-Amz-Target") or action))
            canned = propagation.before(self.command, self.path, action)
            if canned:
                status, error_type, message = canned
                data = json.dumps({"Type": "User", "message": message}).encode()
                self.send_response(status)
                self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.answer(data)
                propagation.record(arrived, True, operation)
                return
            upstream = http.client.HTTPConnection(target.hostname, target.port)
            upstream.request(self.command, self.path, body, dict(self.headers))
            answer = upstream.getresponse()
            data, waiting = propagation.after(self.command, self.path, action, answer.status, answer.read())
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            # HEAD answers keep the object's length; every other answer carries the body read.
            length = answer.getheader("Content-Length") if self.command == "HEAD" else None
            self.send_header("Content-Length", length or str(len(data)))
            self.answer(data if self.command != "HEAD" else b"")
            upstream.close()
            propagation.record(arrived, waiting, operation)

        def answer(self, body: bytes):
            """The status line, headers and body in one write: written apart (end_headers, then the body), the
            body waits behind Nagle's algorithm for the client's delayed ACK of the headers, about 40 ms on
            Linux, on a kept-alive connection now and then — a stall of this proxy's, not the network's."""
            self._headers_buffer.append(b"\r\n")
            self.wfile.write(b"".join(self._headers_buffer) + body)
            self._headers_buffer = []

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = forward

        def log_message(self, *_):
            pass

    class Server(ThreadingHTTPServer):
        # socketserver's default listen backlog is 5: a burst of connections (the Free Tier guard asks every
        # region at once) would overflow it and wait for the kernel's 1 s SYN retry, which AWS's endpoints
        # (one per region) never make a client do.
        request_queue_size = 128

    server = Server(("127.0.0.1", free_port()), Forward)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()


def critical_chain(timeline, start, end, last=None):
    """The chain of AWS calls that ends with `last` (default: the call answered last between `start` and
    `end`, monotonic seconds): back through, for each call, the call answered last before it arrived (what it
    may have waited for). Returns (calls on it, seconds they took), leaving out answers that were emulated
    waits. Only meaningful where the chain has no pauses (another call may end in a pause)."""
    calls = sorted((c for c in timeline if start <= c[0] and c[1] <= end), key=lambda c: c[1])
    chain, seconds = 0, 0.0
    current = last or (calls[-1] if calls else None)
    while current:
        if not current[2]:
            chain, seconds = chain + 1, seconds + current[1] - current[0]
        before = [c for c in calls if c[1] <= current[0]]
        current = before[-1] if before else None
    return chain, seconds


def cold_up_critical_path(timeline, start, end, iam_s, pending_s):
    """A cold `up`'s critical path: the chain of calls up to CreateRole (no pauses there), IAM_S of
    propagation, the CreateFunction that succeeds, PENDING_S, and the read that finds it Active. Returns
    (calls, seconds) with the waits included."""
    calls = sorted((c for c in timeline if start <= c[0] and c[1] <= end), key=lambda c: c[1])
    create_role = next(c for c in calls if c[3] == "CreateRole")
    chain, seconds = critical_chain(timeline, start, end, create_role)
    created = [c for c in calls if c[3].startswith("POST ") and c[3].rstrip("/").endswith("/functions")
               and not c[2]]
    active = [c for c in calls if c[3].startswith("GET ") and "/functions/" in c[3] and not c[2]
              and created and c[0] >= created[-1][1]]
    tail = [created[-1], active[0]] if created and active else created[-1:]
    return chain + len(tail), seconds + iam_s + pending_s + sum(c[1] - c[0] for c in tail)

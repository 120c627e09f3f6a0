"""Shared by the benchmarks: a free loopback port, a throwaway moto server, and summary statistics."""

import contextlib
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "shopsmart-target"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto():
    """Yields the endpoint of a fresh moto server (from .cache/venv, installed by tests/run)."""
    port = free_port()
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

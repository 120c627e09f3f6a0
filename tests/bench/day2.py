#!/usr/bin/env python3
"""Day-2 speed of `shopsmart-deploy up` at a real region's round trip: every AWS call is held DELAY_MS by a
proxy in front of moto (tests/bench/common.py `delayed`), which also emulates what a real account makes a
cold `up` wait for and moto lacks: IAM_S seconds of role propagation and PENDING_S seconds of a new function
being Pending (common.py `Propagation`). Runs, in a copy of the repository's shopsmart.yaml, frontend/ and
function/: a cold `up`, no-op `up`s, `plan`s of the deployed stack, `up`s after editing one file of function/src, `up`s after editing one
file of frontend/, and `destroy`; prints median/min/max wall time, the AWS calls of each, and for the cold
`up` and `destroy` the ratio to their critical path.

    python3 tests/bench/day2.py [N] [DELAY_MS] [IAM_S] [PENDING_S]

The function is built from source (no `--function-zip`), by a stand-in for cargo-lambda (cargo-lambda and a
Lambda toolchain are not on this machine): `cargo lambda build` writes an 8 MB "binary" (the start of the
provisioner's own debug binary, which compresses like real machine code, plus the build's number) and logs
its own duration, which the code-change figure subtracts ("build time plus ...").

BENCH_TIMELINE=1 also prints every call of the cold `up` and of `destroy` (arrival and answer, ms from the
run's start): where a run's time above its critical path goes.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import (ROOT, TARGET, Propagation, aws_env, cold_up_critical_path, critical_chain, delayed, moto,
                    summary)

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
DELAY_MS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
IAM_S = float(sys.argv[3]) if len(sys.argv) > 3 else 6.0
PENDING_S = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0

# The critical path of a run (cold `up`, `destroy`): the emulated waits plus the AWS calls on its longest
# chain, found in the proxy's timeline (common.py `critical_chain`: from the last answer back through what
# each call may have waited for), each at the time it really took (DELAY_MS and moto's own work). What is
# left of the wall time is this tool's: process start, building, pauses past the moment a wait was over.

FAKE_CARGO = """#!/bin/sh
# A stand-in for `cargo lambda build`: an 8 MB "binary" and its build number; logs start and end times.
start=$(date +%s.%N)
out="$CARGO_TARGET_DIR/lambda/shopsmart-api"
mkdir -p "$out"
{ printf '\\177ELF\\002\\001\\001'; head -c 11 /dev/zero; printf '\\267\\000'; head -c 44 /dev/zero;
  head -c 8000000 "$SAMPLE_BINARY"; wc -l < "$BUILD_LOG"; } > "$out/bootstrap"
echo "$start $(date +%s.%N) $*" >> "$BUILD_LOG"
"""


def workspace(tmp: Path) -> tuple[Path, dict]:
    """A copy of what `up` reads, with cargo and cargo-lambda stand-ins first on PATH."""
    ws = tmp / "ws"
    ws.mkdir()
    shutil.copy(ROOT / "shopsmart.yaml", ws / "shopsmart.yaml")
    shutil.copy(ROOT / "Cargo.toml", ws / "Cargo.toml")
    shutil.copy(ROOT / "Cargo.lock", ws / "Cargo.lock")
    shutil.copytree(ROOT / "frontend", ws / "frontend")
    shutil.copytree(ROOT / "function", ws / "function", ignore=shutil.ignore_patterns("target"))
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "cargo").write_text(FAKE_CARGO)
    (bin_dir / "cargo-lambda").write_text("#!/bin/sh\nexit 1\n")
    for tool in ("cargo", "cargo-lambda"):
        (bin_dir / tool).chmod(0o755)
    (tmp / "builds.log").write_text("")
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CARGO_TARGET_DIR": str(tmp / "target"),
        "BUILD_LOG": str(tmp / "builds.log"),
        "SAMPLE_BINARY": str(TARGET / "debug" / "shopsmart-deploy"),
    }
    return ws / "shopsmart.yaml", env


def build_seconds(log: Path, count_before: int) -> float:
    """How long the stand-in builds after the first `count_before` took."""
    lines = log.read_text().splitlines()[count_before:]
    return sum(float(line.split()[1]) - float(line.split()[0]) for line in lines)


TIMES = {}


def run(env, config, stage, calls, *verb):
    """(wall ms, the calls); the run's start and end (monotonic) are kept in TIMES by its position."""
    args = [TARGET / "debug" / "shopsmart-deploy", "--config", config, "--stage", stage, "-q", *verb]
    before = len(calls)
    started = time.monotonic()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    TIMES[before] = (started, time.monotonic())
    return (time.monotonic() - started) * 1000, calls[before:]


def edit_runs(env, config, stage, calls, path: Path, comment: str, log: Path):
    """RUNS `up`s, each after appending a comment to `path`; (ms, calls, build seconds) each."""
    results = []
    for round in range(RUNS):
        with open(path, "a") as source:
            source.write(comment.format(round))
        builds = len(log.read_text().splitlines())
        millis, run_calls = run(env, config, stage, calls, "up", "--allow-charges")
        results.append((millis, run_calls, build_seconds(log, builds)))
    return results


def report(label, runs, critical_ms=None):
    millis = [m for m, _ in runs]
    counts = sorted({len(c) for _, c in runs})
    reads = ("Describe", "List", "Get", "BatchGet", "Query", "Scan")
    writes = sorted({sum(1 for method, _, target in c if method in ("PUT", "POST", "DELETE", "PATCH")
                         and not (target or "").split(".")[-1].startswith(reads))
                     for _, c in runs})
    line = f"{summary(label, millis)}; AWS calls {counts}, writes {writes} (at {DELAY_MS:g} ms a call)"
    if critical_ms:
        median = sorted(millis)[len(millis) // 2]
        line += f"; critical path {critical_ms:.0f} ms, ratio {median / critical_ms:.2f}"
    print(line)


def main():
    subprocess.run(["cargo", "build", "-q", "-p", "shopsmart-deploy"], cwd=ROOT, check=True)
    propagation = Propagation(IAM_S, PENDING_S)
    with tempfile.TemporaryDirectory() as tmp, moto() as endpoint, \
            delayed(endpoint, DELAY_MS, propagation) as (url, calls):
        tmp = Path(tmp)
        config, build_env = workspace(tmp)
        env = {**aws_env(url), **build_env}
        log = Path(build_env["BUILD_LOG"])
        up = ["up", "--allow-charges"]
        stage = f"b{uuid.uuid4().hex[:7]}"
        results = {}
        results["cold up"] = [run(env, config, stage, calls, *up)]
        results["no-op up"] = [run(env, config, stage, calls, *up) for _ in range(RUNS)]
        # plan of the deployed stack: every resource read, plus the Free Tier guard's count of the account's
        # provisioned tables (all regions), which a no-op `up` skips.
        results["plan"] = [run(env, config, stage, calls, "plan", "--allow-charges") for _ in range(RUNS)]
        code = edit_runs(env, config, stage, calls, config.parent / "function" / "src" / "main.rs",
                         "\n// bench edit {}\n", log)
        results["code-change up"] = [(m, c) for m, c, _ in code]
        site = edit_runs(env, config, stage, calls, config.parent / "frontend" / "css" / "shop.css",
                         "\n/* bench edit {} */\n", log)
        results["site-change up"] = [(m, c) for m, c, _ in site]
        cold_at = 0
        destroy_at = len(calls)
        results["destroy"] = [run(env, config, stage, calls, "destroy", "--yes")]
    critical = {}
    paths = {
        "cold up": cold_up_critical_path(propagation.timeline, *TIMES[cold_at], IAM_S, PENDING_S),
        "destroy": critical_chain(propagation.timeline, *TIMES[destroy_at]),
    }
    for label, (chain, seconds) in paths.items():
        critical[label] = seconds * 1000
        print(f"{label}: critical path {critical[label]:.0f} ms ({chain} calls on the longest chain, at the "
              f"time each took, plus the emulated waits)")
    print(f"emulated: {DELAY_MS:g} ms a call, IAM propagation {IAM_S:g} s, Lambda Pending {PENDING_S:g} s")
    for label, runs in results.items():
        report(label, runs, critical.get(label))
    if os.environ.get("BENCH_TIMELINE"):
        # Every call of the cold `up` and `destroy`: arrival and answer in ms from the run's start.
        for label, at in (("cold up", cold_at), ("destroy", destroy_at)):
            start, end = TIMES[at]
            print(f"{label} timeline (ms from start; wall {(end - start) * 1000:.0f}):")
            for arrived, answered, waiting, operation in sorted(c for c in propagation.timeline
                                                                if start <= c[0] and c[1] <= end):
                print(f"  {(arrived - start) * 1000:7.0f} {(answered - start) * 1000:7.0f}"
                      f"{' wait' if waiting else '     '} {operation}")
    beyond = sorted(m - b * 1000 for m, _, b in code)
    print(f"code-change up beyond its build: median {beyond[len(beyond) // 2]:.1f} ms, min {beyond[0]:.1f}, "
          f"max {beyond[-1]:.1f} (the stand-in build took {sorted(b for _, _, b in code)[len(code) // 2] * 1000:.0f} ms)")
    site_builds = sum(b for _, _, b in site)
    print(f"site-change ups that built the function: {sum(1 for _, _, b in site if b)} (build seconds {site_builds:.2f})")
    for label in ("no-op up", "plan"):
        by_operation = {}
        for method, path, target in results[label][0][1]:
            key = (target or f"{method} /{path.split('?')[0].split('/')[1]}").split(".")[-1]
            by_operation[key] = by_operation.get(key, 0) + 1
        print(f"{label} calls:", ", ".join(f"{k} ×{v}" for k, v in sorted(by_operation.items())))


if __name__ == "__main__":
    main()

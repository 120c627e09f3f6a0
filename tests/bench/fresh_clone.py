#!/usr/bin/env python3
"""A newcomer's first minutes, measured: `git clone` of this repository into a temporary directory, then

  1. `cargo run -p shopsmart-deploy -- dev` with an EMPTY build directory, until the shop answers (the website
     and the API's `GET /products?limit=1` both 200), then stopped as Ctrl-C stops it;
  2. `tests/run` cold: an EMPTY build directory of its own (what CI on a clean machine does), or with
     --reuse-build the one `dev` just filled (what a newcomer who ran `dev` first does);
  3. `tests/run` warm: again, in the same build directory.

    python3 tests/bench/fresh_clone.py [--rev REV] [--reuse-build] [--dev-only] [--timings] [--keep]

For each phase it prints the wall time, the CPU time of everything the phase ran (user + sys of all
children: cargo, rustc, the linker, the tool, moto, node, Chromium), the load average when it started and
the CPU time the REST of the machine used meanwhile (from /proc/stat): on a machine shared with other
builds, a wall time far above CPU time / cores with a large "others" figure is contention, not cost.

What it does not start from zero: crates already downloaded into ~/.cargo (a newcomer downloads them once,
at the speed of their network), the toolchain, Chromium (tests/run installs it when missing, as root).
moto (into the clone's .cache/venv, by `dev`) and the browser tests' npm packages (by tests/run) are
installed as a newcomer's run installs them. Logs of each phase are kept in the temporary directory
(printed; removed at the end unless --keep).
"""

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import free_port  # noqa: E402

DEV_DEADLINE_S = 30 * 60  # a bound, far above the target (5 min), so a stuck run ends
STOP_DEADLINE_S = 60


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat, not idle or iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Wall time, CPU time of the children waited for meanwhile, load at the start, the machine's other work."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.load = os.getloadavg()
        self.rusage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.busy = machine_busy_s()
        self.start = time.monotonic()
        print(f"fresh_clone: {self.name}: start, load average {self.load[0]:.2f} {self.load[1]:.2f}",
              flush=True)
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - self.rusage.ru_utime) + (after.ru_stime - self.rusage.ru_stime)
        self.others = max(0.0, machine_busy_s() - self.busy - self.cpu)
        print(f"fresh_clone: {self.name}: {fmt(self.wall)} wall, {fmt(self.cpu)} CPU, others {fmt(self.others)}",
              flush=True)
        return False


def fmt(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run_dev(clone: Path, env: dict, log: Path, timings: bool) -> float:
    """`cargo run -p shopsmart-deploy -- dev` until the website and the API answer; then Ctrl-C. Returns the
    seconds until both answered."""
    port, api_port, emulator_port = free_port(), free_port(), free_port()
    command = ["cargo", "run", "--locked", "-p", "shopsmart-deploy"] + (["--timings"] if timings else []) + [
        "--", "dev", "--port", str(port), "--api-port", str(api_port), "--emulator-port", str(emulator_port)]
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    urls = [f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{api_port}/products?limit=1"]
    answered = None
    try:
        while time.monotonic() - start < DEV_DEADLINE_S:
            if proc.poll() is not None:
                raise SystemExit(f"dev exited ({proc.returncode}) before the shop answered; its log: {log}")
            if all(answers(url) for url in urls):
                answered = time.monotonic() - start
                break
            time.sleep(1)
        if answered is None:
            raise SystemExit(f"the shop did not answer within {DEV_DEADLINE_S} s; dev's log: {log}")
        return answered
    finally:
        stop(proc)


def stop(proc: subprocess.Popen):
    """Ctrl-C to the process group (as a terminal sends it), then SIGKILL after a bounded wait."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run_tests(clone: Path, env: dict, log: Path) -> int:
    with open(log, "w") as out:
        proc = subprocess.Popen(["tests/run"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait()
    finally:
        if proc.poll() is None:  # interrupted: tests/run's own trap stops moto on SIGTERM
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


def tail(log: Path, lines: int = 8) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="HEAD", help="the commit to clone (default: this checkout's HEAD)")
    parser.add_argument("--reuse-build", action="store_true",
                        help="tests/run cold in the build directory dev filled (default: an empty one)")
    parser.add_argument("--timings", action="store_true", help="cargo run --timings (report kept with --keep)")
    parser.add_argument("--dev-only", action="store_true", help="measure the first phase only")
    parser.add_argument("--keep", action="store_true", help="keep the clone, its build directories and logs")
    args = parser.parse_args()
    # A SIGTERM (or Ctrl-C) still prints the phases measured so far and stops what runs (finally: blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", args.rev], check=True, capture_output=True,
                         text=True).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="shopsmart-fresh-"))
    clone = tmp / "shop"
    print(f"fresh_clone: commit {rev[:12]} cloned into {clone}; {os.cpu_count()} cores", flush=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", rev], check=True)

    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "CARGO_TARGET_DIR"}
    dev_target, test_target = tmp / "target-dev", tmp / "target-tests"
    results = []
    try:
        env = dict(base, CARGO_TARGET_DIR=str(dev_target))
        with Phase("dev until the shop answers") as phase:
            answered = run_dev(clone, env, tmp / "dev.log", args.timings)
        results.append((phase, f"the shop answered after {fmt(answered)}"))
        print(f"fresh_clone: the shop answered after {fmt(answered)}", flush=True)

        env = dict(base, CARGO_TARGET_DIR=str(dev_target if args.reuse_build else test_target))
        for name in [] if args.dev_only else ["tests/run cold", "tests/run warm"]:
            log = tmp / (name.replace("/", "-").replace(" ", "-") + ".log")
            with Phase(name) as phase:
                code = run_tests(clone, env, log)
            results.append((phase, "green" if code == 0 else f"FAILED (exit {code}): {log}\n{tail(log)}"))
    finally:
        print(f"\nfresh clone of {rev[:12]}, {os.cpu_count()} cores, build directory for tests/run cold: "
              f"{'the one dev filled' if args.reuse_build else 'empty'}")
        print(f"{'phase':28} {'wall':>14} {'CPU user+sys':>14} {'load at start':>14} {'others CPU':>14}  result")
        for phase, result in results:
            print(f"{phase.name:28} {fmt(phase.wall):>14} {fmt(phase.cpu):>14} {phase.load[0]:>14.2f} "
                  f"{fmt(phase.others):>14}  {result}")
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

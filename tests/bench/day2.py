#!/usr/bin/env python3
"""Day-2 speed of `shopsmart-deploy up` at a real region's round trip: every AWS call is held 20 ms by a proxy
in front of moto (tests/bench/common.py `delayed`). Runs a cold `up`, no-op `up`s, `up`s after editing one
file of frontend/ (a copy, so the repository is not touched) and `destroy`, with a prebuilt zip, and prints
median/min/max wall time and the AWS calls of each.

    python3 tests/bench/day2.py [N] [DELAY_MS]

Not emulated: IAM propagation and Lambda's Pending period (moto has neither), so a cold `up` here is its calls
only; and a build of function/ (the no-op target counts it; here `--function-zip` stands in).
"""

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from common import ROOT, TARGET, aws_env, delayed, moto, summary

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
DELAY_MS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0


def write_zip(path: Path):
    with zipfile.ZipFile(path, "w") as archive:
        # An executable bootstrap whose ELF header says arm64; moto never runs it.
        bootstrap = zipfile.ZipInfo("bootstrap")
        bootstrap.create_system, bootstrap.external_attr = 3, 0o100755 << 16
        archive.writestr(bootstrap, b"\x7fELF\x02\x01\x01" + bytes(11) + b"\xb7\x00" + bytes(44))


def run(env, config, stage, calls, *verb):
    args = [TARGET / "debug" / "shopsmart-deploy", "--config", config, "--stage", stage, "-q", *verb]
    before = len(calls)
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000, calls[before:]


def main():
    subprocess.run(["cargo", "build", "-q", "-p", "shopsmart-deploy"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp, moto() as endpoint, delayed(endpoint, DELAY_MS) as (url, calls):
        tmp = Path(tmp)
        shutil.copy(ROOT / "shopsmart.yaml", tmp / "shopsmart.yaml")
        shutil.copytree(ROOT / "frontend", tmp / "frontend")
        zip_path = tmp / "function.zip"
        write_zip(zip_path)
        env = aws_env(url)
        config = tmp / "shopsmart.yaml"
        up = ["up", "--allow-charges", "--function-zip", zip_path]
        stage = f"b{uuid.uuid4().hex[:7]}"
        results = {}
        results["cold up"] = [run(env, config, stage, calls, *up)]
        results["no-op up"] = [run(env, config, stage, calls, *up) for _ in range(RUNS)]
        site = []
        for round in range(RUNS):
            with open(tmp / "frontend" / "css" / "shop.css", "a") as css:
                css.write(f"\n/* bench edit {round} */\n")
            site.append(run(env, config, stage, calls, *up))
        results["site-change up"] = site
        results["destroy"] = [run(env, config, stage, calls, "destroy", "--yes")]
    for label, runs in results.items():
        millis = [m for m, _ in runs]
        counts = sorted({len(c) for _, c in runs})
        reads = ("Describe", "List", "Get", "BatchGet", "Query", "Scan")
        writes = sorted({sum(1 for method, _, target in c if method in ("PUT", "POST", "DELETE", "PATCH")
                             and not (target or "").split(".")[-1].startswith(reads))
                         for _, c in runs})
        print(f"{summary(label, millis)}; AWS calls {counts}, writes {writes} (at {DELAY_MS:g} ms a call)")
    noop_calls = results["no-op up"][0][1]
    by_operation = {}
    for method, path, target in noop_calls:
        key = (target or f"{method} /{path.split('?')[0].split('/')[1]}").split(".")[-1]
        by_operation[key] = by_operation.get(key, 0) + 1
    print("no-op up calls:", ", ".join(f"{k} ×{v}" for k, v in sorted(by_operation.items())))


if __name__ == "__main__":
    main()

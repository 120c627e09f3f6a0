#!/usr/bin/env python3
"""Wall time of `shopsmart-deploy up` against moto: cold (a new stage each run) and no-op (the same stage
again), with the prebuilt test zip so no Lambda build is timed.

    python3 tests/bench/up.py [N]

The AWS call counts of the same runs come from the CallLog interceptor in provisioner/tests/it/day2.rs and
stack.rs; moto answers in milliseconds, so these times show the tool's own overhead and its critical path,
not AWS's (where the Lambda Active/Updated waits dominate).
"""

import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from common import ROOT, TARGET, aws_env, moto, summary

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def deploy(env, stage, zip_path, verb="up"):
    args = [TARGET / "debug" / "shopsmart-deploy", "--config", ROOT / "shopsmart.yaml", "--stage", stage, "-q"]
    # --allow-charges: the benchmark's stacks share moto's region, so together they exceed the free capacity.
    args += [verb, "--yes"] if verb == "destroy" else [verb, "--allow-charges", "--function-zip", zip_path]
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def main():
    subprocess.run(["cargo", "build", "-q", "-p", "shopsmart-deploy"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp, moto() as endpoint:
        zip_path = Path(tmp) / "function.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            # What --function-zip checks: an executable bootstrap whose ELF header says arm64; moto never runs it.
            bootstrap = zipfile.ZipInfo("bootstrap")
            bootstrap.create_system, bootstrap.external_attr = 3, 0o100755 << 16
            archive.writestr(bootstrap, b"\x7fELF\x02\x01\x01" + bytes(11) + b"\xb7\x00" + bytes(44))
        env = aws_env(endpoint)
        stages = [f"b{uuid.uuid4().hex[:7]}" for _ in range(RUNS)]
        cold = [deploy(env, stage, zip_path) for stage in stages]
        noop = [deploy(env, stages[0], zip_path) for _ in range(RUNS)]
        destroy = [deploy(env, stage, zip_path, "destroy") for stage in stages]
    print(summary("cold up", cold))
    print(summary("no-op up", noop))
    print(summary("destroy", destroy))


if __name__ == "__main__":
    main()

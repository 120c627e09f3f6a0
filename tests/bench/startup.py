#!/usr/bin/env python3
"""Local-mode spawn → first answered request of the shop's API (issue 2 target: ≤ 20 ms).

Builds the release binary for this machine, then N times: spawn it on a free port, and poll a request until
one is answered. Measures two routes: an unknown route (no AWS call) and GET /products?limit=1 (one
DynamoDB Scan against a moto started here, with an empty Products table).

    python3 tests/bench/startup.py [N]
"""

import http.client
import subprocess
import sys
import time

from common import ROOT, TARGET, aws_env, free_port, moto, summary

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def first_answer_ms(binary, env, path) -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env={**env, "PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", path)
                conn.getresponse().read()
                return (time.perf_counter() - started) * 1000
            except OSError:
                if time.perf_counter() - started > 10:
                    raise SystemExit(f"no answer on {path} within 10 s")
    finally:
        proc.terminate()
        proc.wait()


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "shopsmart-function", "--bin", "shopsmart-api"],
                   cwd=ROOT, check=True)
    binary = TARGET / "release" / "shopsmart-api"
    with moto() as endpoint:
        env = aws_env(endpoint)
        env.update(PRODUCTS_TABLE="bench-products", CARTS_TABLE="bench-carts", ORDERS_TABLE="bench-orders",
                   CORS_ORIGINS="http://127.0.0.1:8080")
        subprocess.run([ROOT / ".cache" / "venv" / "bin" / "python", "-c", CREATE_TABLE], env=env, check=True)
        for path in ["/no-such-route", "/products?limit=1"]:
            print(summary(f"spawn → first answer of GET {path}",
                          [first_answer_ms(binary, env, path) for _ in range(RUNS)]))


# The Products table through boto3 from the moto virtualenv, keyed as docs/architecture.md says.
CREATE_TABLE = """
import boto3, os
boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1").create_table(
    TableName="bench-products", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "productId", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "productId", "KeyType": "HASH"}])
"""

if __name__ == "__main__":
    main()

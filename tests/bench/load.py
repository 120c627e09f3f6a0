#!/usr/bin/env python3
"""The shop under load with DynamoDB's provisioned capacity emulated: N shoppers against the function in local
mode (the `shopsmart-api` binary, as `dev` runs it), whose DynamoDB is moto behind a proxy that holds a token
bucket per table and kind (reads, writes), filled at the table's provisioned RCU/WCU a second and holding up to
300 s of unused capacity (DynamoDB's burst), and answers as DynamoDB does once a bucket is empty:
ProvisionedThroughputExceededException (HTTP 400), and for TransactWriteItems a TransactionCanceledException
whose CancellationReasons carry ThrottlingError. What a call consumes is priced by DynamoDB's rules from the
items it read (the answer) or wrote (4 KB per read unit, half for eventually consistent reads; 1 KB per write
unit, twice in a transaction); an UpdateItem or DeleteItem is priced at 1 KB (every item of this shop is under
1 KB, function/tests/it/capacity.rs). A call is let through while its buckets are above zero and then charged,
so a bucket may go below zero, as DynamoDB lets a request finish and throttles the next ones.

Each shopper does what the storefront does for one order: loads the catalogue (GET /products, GET /cart), adds
two products (POST /cart), opens the cart and the checkout page (GET /cart twice), and checks out (POST
/checkout with an Idempotency-Key); a 503 `busy` is repeated, identical, after its Retry-After, as the storefront
does. The run reports successful checkouts a second, 503s, latency p50/p99 of every answer and of a whole
checkout, and lost or duplicated orders against the Orders table and the stock (both must be 0).

    python3 tests/bench/load.py [SECONDS] [SHOPPERS] [CAPACITY ...]

CAPACITY: `products=R/W,carts=R/W,orders=R/W` (default: shopsmart.yaml's, and one higher setting). The buckets
start empty (the tables just came out of a busy spell): the figures are what the capacity sustains, not its
burst. Loopback only; bounded by SECONDS per setting plus the shoppers' last answers.
"""

import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import ROOT, TARGET, aws_env, free_port, moto

try:
    import yaml
except ImportError:  # PyYAML comes with moto in .cache/venv
    PYTHON = str(ROOT / ".cache" / "venv" / "bin" / "python")
    os.execv(PYTHON, [PYTHON, *sys.argv])

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 40.0
SHOPPERS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
SETTINGS = sys.argv[3:]
BURST_SECONDS = 300
STOCK = 100_000  # every product: the shoppers never sell out, so each checkout can succeed
TABLES = ("products", "carts", "orders")


def shipped_capacity() -> dict:
    config = yaml.safe_load((ROOT / "shopsmart.yaml").read_text())
    provisioned = config["tables"]["billing"]["provisioned"]
    return {t: (provisioned[t]["read"], provisioned[t]["write"]) for t in TABLES}


def parse_setting(text: str) -> dict:
    capacity = {}
    for part in text.split(","):
        table, units = part.split("=")
        read, write = units.split("/")
        capacity[table] = (int(read), int(write))
    return capacity


def ddb(endpoint: str, operation: str, body: dict) -> dict:
    url = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    conn.request("POST", "/", json.dumps(body), {
        "X-Amz-Target": f"DynamoDB_20120810.{operation}", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request"})
    answer = conn.getresponse()
    data = json.loads(answer.read() or b"{}")
    if answer.status != 200:
        raise SystemExit(f"{operation}: {answer.status} {data}")
    return data


def create_shop(endpoint: str, prefix: str, capacity: dict) -> dict:
    names = {t: f"{prefix}-{t}" for t in TABLES}
    keys = {"products": ["productId"], "carts": ["cartId", "productId"], "orders": ["orderId"]}
    for table, name in names.items():
        read, write = capacity[table]
        ddb(endpoint, "CreateTable", {
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in keys[table]],
            "KeySchema": [{"AttributeName": k, "KeyType": kind} for k, kind in zip(keys[table], ("HASH", "RANGE"))],
            "ProvisionedThroughput": {"ReadCapacityUnits": read, "WriteCapacityUnits": write}})
    products = yaml.safe_load((ROOT / "shopsmart.yaml").read_text())["products"]
    for p in products:
        cents = round(float(p["price"]) * 100)
        ddb(endpoint, "PutItem", {"TableName": names["products"], "Item": {
            "productId": {"S": p["id"]}, "name": {"S": p["name"]}, "description": {"S": p["description"]},
            "priceCents": {"N": str(cents)}, "currency": {"S": p.get("currency", "USD")},
            "imageUrl": {"S": p["image"]}, "stock": {"N": str(STOCK)}, "onSale": {"BOOL": True},
            "seededBy": {"S": "shopsmart-dev"}}})
    return names


# ---- DynamoDB's capacity, emulated in front of moto ------------------------------------------------------

def value_size(value: dict) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = "".join(c for c in inner if c.isdigit()).strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + item_size(inner) + len(inner)
    raise ValueError(kind)


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def write_units(size: int) -> float:
    return max(1, math.ceil(size / 1024))


class Buckets:
    """One token bucket per (table, "read" | "write"): refilled at the provisioned rate, capped at 300 s of it,
    starting empty."""

    def __init__(self, names: dict, capacity: dict):
        self.lock = threading.Lock()
        self.rate = {}
        for table, name in names.items():
            self.rate[(name, "read")], self.rate[(name, "write")] = capacity[table]
        self.tokens = {key: 0.0 for key in self.rate}
        self.at = time.monotonic()
        self.throttled = 0

    def _refill(self):
        now = time.monotonic()
        for key, rate in self.rate.items():
            self.tokens[key] = min(rate * BURST_SECONDS, self.tokens[key] + rate * (now - self.at))
        self.at = now

    def admit(self, keys) -> bool:
        with self.lock:
            self._refill()
            ok = all(self.tokens.get(key, 1.0) > 0 for key in keys)
            self.throttled += not ok
            return ok

    def charge(self, charges: dict):
        with self.lock:
            self._refill()
            for key, units in charges.items():
                if key in self.tokens:
                    self.tokens[key] -= units


def touched(operation: str, sent: dict) -> list:
    """The (table, kind) buckets a call draws on, known before it is sent."""
    if operation in ("GetItem", "Query", "Scan"):
        return [(sent["TableName"], "read")]
    if operation == "BatchGetItem":
        return [(table, "read") for table in sent["RequestItems"]]
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(sent["TableName"], "write")]
    if operation == "TransactWriteItems":
        return sorted({(next(iter(a.values()))["TableName"], "write") for a in sent["TransactItems"]})
    return []


def consumed(operation: str, sent: dict, answer: dict) -> dict:
    charges = {}

    def add(table, kind, units):
        charges[(table, kind)] = charges.get((table, kind), 0.0) + units

    consistent = sent.get("ConsistentRead", False)
    if operation == "GetItem":
        add(sent["TableName"], "read", read_units(item_size(answer.get("Item", {})), consistent))
    elif operation in ("Query", "Scan"):
        add(sent["TableName"], "read", read_units(sum(item_size(i) for i in answer.get("Items", [])), consistent))
    elif operation == "BatchGetItem":
        for table, request in sent["RequestItems"].items():
            found = answer.get("Responses", {}).get(table, [])
            sizes = [item_size(i) for i in found] + [0] * (len(request["Keys"]) - len(found))
            for size in sizes:
                add(table, "read", read_units(size, request.get("ConsistentRead", False)))
    elif operation == "PutItem":
        add(sent["TableName"], "write", write_units(item_size(sent["Item"])))
    elif operation in ("UpdateItem", "DeleteItem"):
        add(sent["TableName"], "write", 1)
    elif operation == "TransactWriteItems":
        for action in sent["TransactItems"]:
            (kind, body), = action.items()
            size = item_size(body["Item"]) if kind == "Put" else 1024
            add(body["TableName"], "write", 2 * write_units(size))
    return charges


def throttled_answer(operation: str, sent: dict) -> bytes:
    if operation == "TransactWriteItems":
        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity of your table "
                    "or index. DynamoDB is automatically scaling your table or index so please try again shortly."}
                   for _ in sent["TransactItems"]]
        return json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                           "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons "
                                      f"[{', '.join('ThrottlingError' for _ in reasons)}]",
                           "CancellationReasons": reasons}).encode()
    return json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                       "message": "The level of configured provisioned throughput for the table was exceeded. "
                                  "Consider increasing your provisioning level with the UpdateTable API."}).encode()


def capacity_proxy(endpoint: str, buckets: Buckets):
    target = urllib.parse.urlsplit(endpoint)
    local = threading.local()

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            sent = json.loads(body or b"{}")
            if not buckets.admit(touched(operation, sent)):
                return self.reply(400, throttled_answer(operation, sent))
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection(target.hostname, target.port)
            local.conn.request("POST", self.path, body, dict(self.headers))
            answer = local.conn.getresponse()
            data = answer.read()
            if answer.status == 200 or operation == "TransactWriteItems":
                # A cancelled transaction (a condition failed) consumes too, as DynamoDB's does.
                buckets.charge(consumed(operation, sent, json.loads(data or b"{}") if answer.status == 200 else {}))
            self.reply(answer.status, data)

        def reply(self, status, data):
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128
        daemon_threads = True

    server = Server(("127.0.0.1", free_port()), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---- shoppers ------------------------------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = []      # every answer, ms
        self.checkout_ms = []    # a whole checkout, retries included, ms
        self.busy = {}           # 503s by route
        self.other_errors = []
        self.placed = {}         # orderId -> (cartId, lines) from 201/200 answers
        self.carts = []          # (cartId, lines) of every shopper that tried to check out

    def record(self, route, status, ms):
        with self.lock:
            self.latencies.append(ms)
            if status == 503:
                self.busy[route] = self.busy.get(route, 0) + 1


def shopper(api_port: int, products: list, deadline: float, stats: Stats, seed: int):
    conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)

    def call(method, path, route, cart=None, body=None, key=None):
        headers = {"Content-Type": "application/json"}
        if cart:
            headers["X-Cart-Id"] = cart
        if key:
            headers["Idempotency-Key"] = key
        while True:
            started = time.monotonic()
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            answer = conn.getresponse()
            data = answer.read()
            stats.record(route, answer.status, (time.monotonic() - started) * 1000)
            if answer.status != 503:
                return answer.status, json.loads(data or b"null")
            if time.monotonic() > deadline:
                return 503, None
            time.sleep(int(answer.getheader("Retry-After") or "1"))

    n = seed
    while time.monotonic() < deadline:
        cart = str(uuid.uuid4())
        lines = [products[n % len(products)], products[(n + 3) % len(products)]]
        n += 1
        call("GET", "/products?limit=50", "GET /products")
        call("GET", "/cart", "GET /cart", cart)
        for product in lines:
            status, _ = call("POST", "/cart", "POST /cart", cart, {"productId": product, "qty": 1})
            if status not in (200, 503):  # a 503 only once the run's time is up
                stats.other_errors.append(("POST /cart", status))
        call("GET", "/cart", "GET /cart", cart)
        call("GET", "/cart", "GET /cart", cart)
        if time.monotonic() > deadline:
            break
        started = time.monotonic()
        status, order = call("POST", "/checkout", "POST /checkout", cart, key=str(uuid.uuid4()))
        with stats.lock:
            stats.carts.append((cart, sorted(lines)))
            if status in (200, 201):
                stats.checkout_ms.append((time.monotonic() - started) * 1000)
                stats.placed[order["orderId"]] = (cart, sorted(l["productId"] for l in order["lines"]))
            elif status != 503:
                stats.other_errors.append(("POST /checkout", status, order))


def scan(endpoint: str, table: str) -> list:
    items, start = [], None
    while True:
        body = {"TableName": table, "ConsistentRead": True}
        if start:
            body["ExclusiveStartKey"] = start
        page = ddb(endpoint, "Scan", body)
        items += page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def check_orders(endpoint: str, names: dict, stats: Stats) -> tuple:
    """(lost, duplicated, stock errors): answered orders missing from the table, carts with more than one order
    (or an order nobody was answered about that is not one retried checkout's), products whose stock fell by
    other than the units in the Orders table."""
    orders = scan(endpoint, names["orders"])
    stored = {o["orderId"]["S"]: o for o in orders}
    lost = [order_id for order_id in stats.placed if order_id not in stored]
    per_cart = {}
    for order in orders:
        per_cart[order["cartId"]["S"]] = per_cart.get(order["cartId"]["S"], 0) + 1
    duplicated = sum(count - 1 for count in per_cart.values() if count > 1)
    sold = {}
    for order in orders:
        for line in order["lines"]["L"]:
            pid = line["M"]["productId"]["S"]
            sold[pid] = sold.get(pid, 0) + int(line["M"]["qty"]["N"])
    stock_errors = [p["productId"]["S"] for p in scan(endpoint, names["products"])
                    if STOCK - int(p["stock"]["N"]) != sold.get(p["productId"]["S"], 0)]
    return lost, duplicated, stock_errors, len(orders)


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(endpoint: str, capacity: dict, label: str):
    names = create_shop(endpoint, f"load-{uuid.uuid4().hex[:8]}", capacity)
    buckets = Buckets(names, capacity)
    proxy = capacity_proxy(endpoint, buckets)
    api_port = free_port()
    env = aws_env(f"http://127.0.0.1:{proxy.server_address[1]}")
    env.update(PRODUCTS_TABLE=names["products"], CARTS_TABLE=names["carts"], ORDERS_TABLE=names["orders"],
               PORT=str(api_port), RUST_LOG="error")
    api = subprocess.Popen([TARGET / "debug" / "shopsmart-api"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    try:
        line = api.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"shopsmart-api did not start: {line!r} (build it: cargo build -p shopsmart-function)")
        products = sorted(p["productId"]["S"] for p in scan(endpoint, names["products"]))
        stats = Stats()
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [threading.Thread(target=shopper, args=(api_port, products, deadline, stats, i))
                   for i in range(SHOPPERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        api.terminate()
        api.wait()
        proxy.shutdown()
    lost, duplicated, stock_errors, stored = check_orders(endpoint, names, stats)
    units = ", ".join(f"{t} {r}/{w}" for t, (r, w) in capacity.items())
    total_r = sum(r for r, _ in capacity.values())
    total_w = sum(w for _, w in capacity.values())
    print(f"\n{label}: {units} (RCU/WCU; {total_r} RCU + {total_w} WCU), {SHOPPERS} shoppers, {elapsed:.0f} s")
    print(f"  checkouts placed: {len(stats.placed)} = {len(stats.placed) / elapsed:.2f}/s "
          f"(of {len(stats.carts)} tried; orders in the table: {stored})")
    print(f"  503 busy answers: {sum(stats.busy.values())} {dict(sorted(stats.busy.items()))}; "
          f"DynamoDB calls throttled by the emulated capacity: {buckets.throttled}")
    print(f"  latency of every answer: p50 {pct(stats.latencies, 0.5):.0f} ms, p99 {pct(stats.latencies, 0.99):.0f} ms "
          f"({len(stats.latencies)} answers)")
    print(f"  a whole checkout (busy retries included): p50 {pct(stats.checkout_ms, 0.5):.0f} ms, "
          f"p99 {pct(stats.checkout_ms, 0.99):.0f} ms")
    print(f"  lost orders: {len(lost)}, duplicated orders: {duplicated}, stock not matching the orders: "
          f"{len(stock_errors)}, other errors: {len(stats.other_errors)} {stats.other_errors[:3]}")
    return len(lost) + duplicated + len(stock_errors)


def main():
    settings = [parse_setting(s) for s in SETTINGS] or [
        shipped_capacity(), {"products": (4, 2), "carts": (3, 3), "orders": (1, 2)}]
    with moto() as endpoint:
        bad = sum(run(endpoint, capacity, "shipped" if i == 0 and not SETTINGS else f"setting {i + 1}")
                  for i, capacity in enumerate(settings))
    if bad:
        raise SystemExit("orders were lost or duplicated")


if __name__ == "__main__":
    main()

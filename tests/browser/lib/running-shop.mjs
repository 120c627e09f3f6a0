// Finds the running shop the browser tests drive: either given in env (SHOP_URL, API_URL, *_TABLE), or
// started here with SHOP_START_CMD (e.g. `shopsmart-deploy dev ...`), whose output names the URLs and
// tables. Either way the emulator is AWS_ENDPOINT_URL, which the tests also use to check the tables.

import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

const START_DEADLINE_MS = 180_000;
const STOP_GRACE_MS = 10_000;

const TABLE_ENV = { products: "PRODUCTS_TABLE", carts: "CARTS_TABLE", orders: "ORDERS_TABLE" };

function requireEndpoint() {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    throw new Error(
      "AWS_ENDPOINT_URL is not set: run tests/run (it starts moto), or start moto yourself " +
        "(moto_server -H 127.0.0.1 -p PORT) and set AWS_ENDPOINT_URL=http://127.0.0.1:PORT",
    );
  }
  return endpoint;
}

function tablesFromEnv() {
  const tables = {};
  for (const [kind, name] of Object.entries(TABLE_ENV)) if (process.env[name]) tables[kind] = process.env[name];
  return tables;
}

function missingParts(shop) {
  const missing = [];
  if (!shop.siteUrl) missing.push("website URL (SHOP_URL)");
  if (!shop.apiUrl) missing.push("API URL (API_URL)");
  for (const [kind, name] of Object.entries(TABLE_ENV)) if (!shop.tables[kind]) missing.push(`${kind} table (${name})`);
  return missing;
}

/** Reads `website: URL`, `api: URL` and the table names of a `tables: ...-products ...-carts ...-orders` line
 * from one line of output. */
export function parseStartLine(line, shop) {
  const website = /\bwebsite\s*:\s*(https?:\/\/\S+)/i.exec(line);
  if (website && !shop.siteUrl) shop.siteUrl = website[1].replace(/\/+$/, "");
  const api = /\bapi\s*:\s*(https?:\/\/\S+)/i.exec(line);
  if (api && !shop.apiUrl) shop.apiUrl = api[1].replace(/\/+$/, "");
  // Only from the `tables:` line: other lines may name other stacks' tables (the capacity guard's warning
  // lists every provisioned table of the account).
  const tables = /^\s*tables\s*:\s*(.*)$/i.exec(line);
  if (!tables) return;
  for (const match of tables[1].matchAll(/([A-Za-z0-9_.-]+-(products|carts|orders))\b/g)) {
    if (/^https?:/.test(match[1])) continue;
    shop.tables[match[2]] ??= match[1];
  }
}

async function startShop(command, endpoint) {
  const child = spawn("bash", ["-c", command], {
    env: { ...process.env, AWS_ENDPOINT_URL: endpoint },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stopping it stops everything it started
  });
  const shop = { siteUrl: null, apiUrl: null, tables: tablesFromEnv(), endpoint, stop: null };
  const output = [];
  const remember = (line) => {
    output.push(line);
    if (output.length > 40) output.shift();
  };
  createInterface({ input: child.stderr }).on("line", remember);
  const stdout = createInterface({ input: child.stdout });

  const exited = once(child, "exit").then(([code, signal]) => ({ code, signal }));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGINT");
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  shop.stop = stop;

  const ready = new Promise((resolve) => {
    stdout.on("line", (line) => {
      remember(line);
      parseStartLine(line, shop);
      if (missingParts(shop).length === 0) resolve("ready");
    });
  });
  let timer;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve("timeout"), START_DEADLINE_MS);
  });
  const outcome = await Promise.race([ready, exited.then(() => "exited"), deadline]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await stop();
    const why = outcome === "exited" ? "exited before it was ready" : `was not ready after ${START_DEADLINE_MS / 1000} s`;
    throw new Error(
      `SHOP_START_CMD (${command}) ${why}; still missing: ${missingParts(shop).join(", ")}.\n` +
        `It must print lines "website: http://127.0.0.1:P", "api: http://127.0.0.1:Q" and the table names.\n` +
        `Last output:\n${output.join("\n")}`,
    );
  }
  return shop;
}

/** The shop to test: { siteUrl, apiUrl, tables: {products, carts, orders}, endpoint, stop() }. */
export async function shopUnderTest() {
  const endpoint = requireEndpoint();
  if (process.env.SHOP_URL) {
    const shop = {
      siteUrl: process.env.SHOP_URL.replace(/\/+$/, ""),
      apiUrl: (process.env.API_URL ?? "").replace(/\/+$/, "") || null,
      tables: tablesFromEnv(),
      endpoint,
      stop: async () => {},
    };
    const missing = missingParts(shop);
    if (missing.length) throw new Error(`SHOP_URL is set but these are missing from env: ${missing.join(", ")}`);
    return shop;
  }
  if (process.env.SHOP_START_CMD) return startShop(process.env.SHOP_START_CMD, endpoint);
  throw new Error(
    "No shop to test: set SHOP_URL, API_URL, PRODUCTS_TABLE, CARTS_TABLE, ORDERS_TABLE for a running shop, " +
      "or SHOP_START_CMD to a command that starts one (e.g. `shopsmart-deploy dev`), and AWS_ENDPOINT_URL for moto; " +
      "tests/run sets these up.",
  );
}

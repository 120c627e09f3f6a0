#!/usr/bin/env node
// A stand-in for `shopsmart-deploy dev` while working on the storefront: seeds fresh tables in the
// emulator, runs the API in local mode and serves frontend/ (with a generated config.js pointing at that
// API) on another origin. Prints the lines the browser tests read, then stays up until Ctrl-C.
//
//   AWS_ENDPOINT_URL=http://127.0.0.1:5104 node tests/browser/local-shop.mjs [--site-port P] [--api-port Q]
//   SHOP_START_CMD="node tests/browser/local-shop.mjs" AWS_ENDPOINT_URL=... node --test tests/browser/
//
// The API binary: SHOPSMART_API_BIN, else $CARGO_TARGET_DIR (or ~/.cache/shopsmart-target)/debug/shopsmart-api.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { seedLocal } from "./seed-local.mjs";

const FRONTEND = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "frontend");
const API_START_DEADLINE_MS = 20_000;
const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

function fail(message) {
  console.error(`local-shop: ${message}`);
  process.exit(2);
}

function portArg(value, name) {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${name} must be a port number 0..65535, got '${value}'`);
  return port;
}

/** Starts the API on 127.0.0.1 and resolves with its URL once it prints its listening line. */
function startApi(bin, env) {
  const child = spawn(bin, [], { env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API (${bin}) did not say it was listening within ${API_START_DEADLINE_MS} ms`)), API_START_DEADLINE_MS);
    child.once("error", (error) => reject(new Error(`starting the API (${bin}): ${error.message}; build it with cargo build -p shopsmart-function`)));
    child.once("exit", (code) => reject(new Error(`the API (${bin}) exited with code ${code} before listening`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    });
  });
}

/** Serves frontend/ like the S3 website: files by path, index.html for "/" and (as 404) for unknown paths. */
function siteHandler(currentConfigJs) {
  return async (request, response) => {
    let path;
    try {
      path = decodeURIComponent(new URL(request.url, "http://site").pathname);
    } catch {
      response.writeHead(400, { "Content-Type": "text/plain" });
      return response.end("malformed path");
    }
    if (path === "/config.js") {
      response.writeHead(200, { "Content-Type": CONTENT_TYPES[".js"], "Cache-Control": "no-store" });
      return response.end(currentConfigJs());
    }
    const file = normalize(join(FRONTEND, path === "/" ? "index.html" : path));
    let status = 200;
    let target = file;
    if (!file.startsWith(FRONTEND + sep) || !(await stat(file).then((s) => s.isFile(), () => false))) {
      status = 404; // the S3 error document: index.html, whose router takes over
      target = join(FRONTEND, "index.html");
    }
    const body = await readFile(target);
    response.writeHead(status, { "Content-Type": CONTENT_TYPES[extname(target)] ?? "application/octet-stream", "Content-Length": body.length });
    response.end(request.method === "HEAD" ? undefined : body);
  };
}

const { values } = parseArgs({ options: { "site-port": { type: "string" }, "api-port": { type: "string" } } });
const sitePort = portArg(values["site-port"], "--site-port");
const apiPort = portArg(values["api-port"], "--api-port");
if (!process.env.AWS_ENDPOINT_URL) fail("AWS_ENDPOINT_URL is not set: start moto (moto_server -H 127.0.0.1 -p PORT) and set AWS_ENDPOINT_URL=http://127.0.0.1:PORT");
const awsEnv = {
  AWS_REGION: process.env.AWS_REGION ?? "us-east-1",
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? "testing",
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? "testing",
};
Object.assign(process.env, awsEnv);

const bin =
  process.env.SHOPSMART_API_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "shopsmart-target"), "debug", "shopsmart-api");

const tables = await seedLocal({ prefix: `webdev-${randomBytes(4).toString("hex")}` });

// The site's origin must be known before the API starts (CORS_ORIGINS), so bind the site first.
let configJs = "";
const server = createServer(siteHandler(() => configJs));
await new Promise((resolve, reject) => server.once("error", reject).listen(sitePort, "127.0.0.1", resolve));
const siteUrl = `http://127.0.0.1:${server.address().port}`;

let api;
try {
  api = await startApi(bin, { ...process.env, ...tables, CORS_ORIGINS: siteUrl, PORT: String(apiPort) });
} catch (error) {
  server.close();
  fail(error.message);
}
configJs = `export const API_URL = ${JSON.stringify(api.url)};\n`;

console.log(`website: ${siteUrl}`);
console.log(`api: ${api.url}`);
console.log(`tables: ${tables.PRODUCTS_TABLE} ${tables.CARTS_TABLE} ${tables.ORDERS_TABLE}`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  api.child.kill("SIGTERM");
  server.close();
  server.closeAllConnections();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
api.child.once("exit", (code) => {
  if (!stopping) console.error(`local-shop: the API exited (code ${code})`);
  stop();
});

// `shopsmart-deploy diagram` of the shipped shopsmart.yaml (drawn from the file alone: the endpoint is a closed
// port), checked in headless Chromium: the Mermaid text parsed and rendered to SVG by Mermaid itself, and the
// SVG output opened as a document with no console error and no request beyond the file.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { it } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/shopsmart-target");
const binary = process.env.SHOPSMART_DEPLOY ?? join(targetDir, "debug/shopsmart-deploy");
const mermaidScript = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");

async function diagram(format) {
  const args = ["diagram", "--config", join(repo, "shopsmart.yaml"), "--format", format, "--endpoint-url", "http://127.0.0.1:9"];
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_EC2_METADATA_DISABLED: "true" };
  const { stdout, stderr } = await promisify(execFile)(binary, args, { env });
  assert.match(stderr, /from shopsmart\.yaml alone/);
  return stdout;
}

/** Runs `body(page)` in a fresh Chromium; returns the console errors, uncaught errors and requested URLs. */
async function inChromium(body) {
  const browser = await launchBrowser();
  const seen = { errors: [], requests: [] };
  try {
    const page = await browser.context.newPage();
    page.on("console", (message) => message.type() === "error" && seen.errors.push(message.text()));
    page.on("pageerror", (error) => seen.errors.push(String(error)));
    page.on("request", (request) => seen.requests.push(request.url()));
    await body(page);
  } finally {
    await browser.close();
  }
  return seen;
}

it("diagram: Mermaid parses and renders the text, Chromium opens the SVG without errors", async () => {
  const [mermaidText, svg] = await Promise.all([diagram("mermaid"), diagram("svg")]);
  let rendered;
  const mermaidRun = await inChromium(async (page) => {
    await page.setContent("<!doctype html><body></body>");
    await page.addScriptTag({ path: mermaidScript });
    rendered = await page.evaluate(async (text) => {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
      await window.mermaid.parse(text);
      return (await window.mermaid.render("stack", text)).svg;
    }, mermaidText);
  });
  assert.deepEqual(mermaidRun.errors, []);
  assert.match(rendered, /^<svg /);
  assert.doesNotMatch(rendered, /Syntax error/);
  for (const text of ["shopsmart-dev-orders", "GET /orders/{orderId}", "reads / writes"]) {
    assert.ok(rendered.includes(text), `Mermaid's SVG shows ${text}`);
  }

  const dir = await mkdtemp(join(tmpdir(), "shopsmart-diagram-"));
  try {
    const file = pathToFileURL(join(dir, "stack.svg")).href;
    await writeFile(fileURLToPath(file), svg);
    let root;
    const svgRun = await inChromium(async (page) => {
      await page.goto(file);
      root = await page.evaluate(() => {
        const doc = document.documentElement;
        return [doc.localName, document.getElementsByTagName("parsererror").length, doc.textContent];
      });
    });
    assert.deepEqual(svgRun.errors, []);
    assert.deepEqual(svgRun.requests, [file], "the SVG loads nothing else");
    assert.deepEqual(root.slice(0, 2), ["svg", 0], "an SVG document without XML errors");
    assert.ok(root[2].includes("shopsmart-dev-carts") && root[2].includes("POST /checkout"), root[2]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Headless Chromium (the Debian package) driven by playwright-core, with a fresh profile per launch.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
];

/** A persistent context on a new, empty user-data-dir; close() also removes the profile. */
export async function launchBrowser({ viewport = { width: 1280, height: 900 } } = {}) {
  const profile = await mkdtemp(join(tmpdir(), "shopsmart-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      locale: "en-US",
      timezoneId: "UTC",
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`launching Chromium (${CHROMIUM_PATH}): ${error.message}. Install it with apt-get install chromium.`, { cause: error });
  }
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

// Small helpers for driving the storefront pages in tests.

import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "artifacts");

/** The same display the shop uses: integer cents → exact decimal string → Intl (en-US in tests). */
export function usd(cents) {
  const abs = Math.abs(cents);
  const decimal = `${cents < 0 ? "-" : ""}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(decimal);
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export function cartIdOf(page) {
  return page.evaluate(() => localStorage.getItem("shopsmart.cartId"));
}

/** Waits until the header badge says `count` items (hidden when 0). */
export async function expectBadge(page, count) {
  await page.waitForFunction(
    (expected) => {
      const label = document.querySelector("[data-testid=cart-badge-label]");
      return label && label.textContent === (expected === 1 ? "(1 item)" : `(${expected} items)`);
    },
    count,
  );
}

/** Is this request a call to the shop's API (not the website)? */
export function isApiCall(request, apiUrl, pathPrefix) {
  return request.url().startsWith(apiUrl + pathPrefix);
}

/** Retries `check` (which throws until it holds) every 50 ms until it passes or `timeoutMs` runs out. */
export async function eventually(check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

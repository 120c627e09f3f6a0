// The shop is busy (DynamoDB throttled a request, the API answered 503 `busy` with Retry-After): the storefront
// says so ("the shop is busy, trying again in N s"), repeats the request by itself once Retry-After has passed
// (a checkout with the SAME Idempotency-Key), and the cart is never lost.
//
// The running shop (moto) cannot throttle, so the test answers chosen API calls itself, in the API's own busy
// shape (function/src/error.rs), before letting them through to the real API; the tables are then checked
// through the SDK: exactly one order, the product's stock down by one, the cart emptied by the order.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { shopUnderTest } from "./lib/running-shop.mjs";
import { cartIdOf, expectBadge, screenshot } from "./lib/storefront.mjs";
import { allProducts, cartLines, dynamoClient, ordersOfCart, productStock } from "./lib/tables.mjs";

let shop;
let db;
let product;

before(async () => {
  shop = await shopUnderTest();
  db = dynamoClient(shop.endpoint);
  const inStock = (await allProducts(db, shop.tables.products))
    .filter((p) => Number.isSafeInteger(p.stock) && p.stock >= 5)
    .sort((a, b) => a.productId.localeCompare(b.productId));
  // storefront.test.mjs uses the first seven; this file takes the last, so neither changes the other's stock.
  product = inStock.at(-1);
  assert.ok(inStock.length >= 8, `the Products table needs 8 products with stock >= 5 (has ${inStock.length})`);
});

after(async () => {
  await shop?.stop();
});

/** The API's 503 `busy` answer, with the CORS headers the real API sends to the shop's origin. */
function busyAnswer(retryAfter) {
  return {
    status: 503,
    headers: {
      "content-type": "application/json",
      "retry-after": String(retryAfter),
      "cache-control": "no-store",
      "access-control-allow-origin": new URL(shop.siteUrl).origin,
      "access-control-expose-headers": "x-request-id, retry-after",
    },
    body: JSON.stringify({
      error: {
        code: "busy",
        message: `The shop is busy: DynamoDB throttled this request. Nothing was changed. Try again in ${retryAfter} s.`,
      },
    }),
  };
}

/** API Gateway's own throttle answer (the stage's rate limit): 429, no Retry-After, the function never ran. */
function gatewayThrottled() {
  return {
    status: 429,
    headers: { "content-type": "application/json", "access-control-allow-origin": new URL(shop.siteUrl).origin },
    body: JSON.stringify({ message: "Too Many Requests" }),
  };
}

/** Answers the first `times` POSTs to `path` with `answer` (busy, Retry-After `retryAfter`, unless given),
 * then lets them through. */
async function busyFor(page, path, times, retryAfter, answer = busyAnswer(retryAfter)) {
  const seen = [];
  await page.route(`${shop.apiUrl}${path}`, async (route) => {
    const request = route.request();
    if (request.method() !== "POST") return route.continue();
    seen.push({ at: Date.now(), key: request.headers()["idempotency-key"] });
    if (seen.length <= times) return route.fulfill(answer);
    return route.continue();
  });
  return seen;
}

/** Opens the catalogue and adds the product; its first POST /cart is answered `answer`. The busy state shows
 * ("trying again in 1 s") and the add goes through by itself, sent exactly twice. */
async function addThroughBusy(page, answer) {
  const adds = await busyFor(page, "/cart", 1, 1, answer);
      await page.goto(shop.siteUrl + "/");
      const card = page.locator(`[data-testid=product-card][data-product-id="${product.productId}"]`);
      await card.getByTestId("add-to-cart").click();
      await page.getByTestId("busy").filter({ hasText: /The shop is busy, trying again in 1 s/ }).waitFor();
      await page.getByTestId("notice-success").filter({ hasText: product.name }).waitFor();
      assert.equal(adds.length, 2, "the add was sent again by itself, once");
}

describe("storefront while the shop is busy", () => {
  it("treats API Gateway's own throttle (429 Too Many Requests) as busy and sends the request again", async () => {
    const browser = await launchBrowser();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      await addThroughBusy(page, gatewayThrottled());
      assert.equal(await page.getByTestId("error-panel").count(), 0, "a throttled request is no error");
      assert.deepEqual(
        (await cartLines(db, shop.tables.carts, await cartIdOf(page))).map((l) => [l.productId.S, l.qty.N]),
        [[product.productId, "1"]],
      );
    } finally {
      await browser.close();
    }
  });

  it("shows the busy state, retries after Retry-After with the same Idempotency-Key, and places one order", async () => {
    const browser = await launchBrowser();
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const pageErrors = [];
      page.on("pageerror", (error) => pageErrors.push(error));
      const stockBefore = await productStock(db, shop.tables.products, product.productId);

      // Add to cart: busy once, then through.
      await addThroughBusy(page, busyAnswer(1));
      await expectBadge(page, 1);
      assert.equal(await page.getByTestId("busy").isHidden(), true, "the busy state goes once the answer is there");
      const cartId = await cartIdOf(page);
      assert.deepEqual(
        (await cartLines(db, shop.tables.carts, cartId)).map((l) => [l.productId.S, l.qty.N]),
        [[product.productId, "1"]],
        "one unit in the cart: the busy answer wrote nothing and the retry added once",
      );

      // Checkout: busy twice with Retry-After 2, then the real API places the order.
      const checkouts = await busyFor(page, "/checkout", 2, 2);
      await page.getByTestId("cart-link").click();
      await page.getByTestId("go-to-checkout").click();
      await page.getByTestId("place-order").click();
      const busy = page.getByTestId("busy");
      await busy.filter({ hasText: /The shop is busy, trying again in 2 s/ }).waitFor();
      assert.match(await busy.textContent(), /Your cart is kept/);
      await screenshot(page, "busy-checkout");
      await busy.filter({ hasText: /trying again in 1 s/ }).waitFor();
      await page.getByTestId("confirmation").waitFor({ timeout: 20_000 });
      const orderId = (await page.getByTestId("order-id").textContent()).trim();

      assert.equal(checkouts.length, 3, "two busy answers, then the one that went through");
      assert.equal(new Set(checkouts.map((c) => c.key)).size, 1, "every retry carries the same Idempotency-Key");
      assert.ok(checkouts[0].key, "the checkout sends an Idempotency-Key");
      for (let i = 1; i < checkouts.length; i++) {
        const waited = checkouts[i].at - checkouts[i - 1].at;
        assert.ok(waited >= 1900, `retry ${i} came ${waited} ms after the busy answer; Retry-After asked for 2 s`);
      }
      const orders = await ordersOfCart(db, shop.tables.orders, cartId);
      assert.deepEqual(orders.map((o) => o.orderId.S), [orderId], "exactly one order");
      assert.equal(await productStock(db, shop.tables.products, product.productId), stockBefore - 1);
      assert.deepEqual(await cartLines(db, shop.tables.carts, cartId), [], "the order emptied the cart");
      assert.deepEqual(pageErrors.map(String), [], "the page threw uncaught errors");
    } finally {
      await browser.close();
    }
  });
});

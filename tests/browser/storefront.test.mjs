// End-to-end storefront tests: headless Chromium against a running shop (the `dev` stack or one given in
// env), checked afterwards through the AWS SDK against the emulator. See lib/running-shop.mjs.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { shopUnderTest } from "./lib/running-shop.mjs";
import { cartIdOf, eventually, expectBadge, isApiCall, screenshot, usd } from "./lib/storefront.mjs";
import {
  allProducts,
  cartLines,
  dynamoClient,
  orderItem,
  ordersOfCart,
  productStock,
  setProductOnSale,
  setProductStock,
} from "./lib/tables.mjs";

let shop;
let db;
let products; // from the Products table, in stock, sorted by id

// Each scenario takes products nobody else here uses, so one scenario's stock change never leaks into another.
const pick = (index) => {
  const product = products[index];
  assert.ok(product, `the Products table needs at least ${index + 1} products with stock >= 5 (has ${products.length})`);
  return product;
};

before(async () => {
  shop = await shopUnderTest();
  db = dynamoClient(shop.endpoint);
  products = (await allProducts(db, shop.tables.products))
    .filter((p) => Number.isSafeInteger(p.stock) && p.stock >= 5 && Number.isSafeInteger(p.priceCents))
    .sort((a, b) => a.productId.localeCompare(b.productId));
});

after(async () => {
  await shop?.stop();
});

async function withPage(options, body) {
  const browser = await launchBrowser(options);
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await body(page, browser.context);
    assert.deepEqual(pageErrors.map(String), [], "the page threw uncaught errors");
  } finally {
    await browser.close();
  }
}

async function addFromCatalogue(page, product) {
  const card = page.locator(`[data-testid=product-card][data-product-id="${product.productId}"]`);
  await card.getByTestId("add-to-cart").click();
  await page.getByTestId("notice-success").filter({ hasText: product.name }).waitFor();
}

async function goToCheckout(page) {
  await page.getByTestId("cart-link").click();
  await page.getByTestId("go-to-checkout").click();
  await page.getByTestId("place-order").waitFor();
}

describe("storefront in headless Chromium", () => {
  it("shops end to end: catalogue, product, cart edits, checkout, order page, and the tables agree", async () => {
    const [first, second, removed] = [pick(0), pick(1), pick(2)];
    const stockBefore = Object.fromEntries(
      await Promise.all([first, second, removed].map(async (p) => [p.productId, await productStock(db, shop.tables.products, p.productId)])),
    );

    await withPage({}, async (page) => {
      // Catalogue: every product card with its price from integer cents.
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      const listed = (await allProducts(db, shop.tables.products)).length;
      if (listed <= 50) {
        assert.equal(await page.getByTestId("product-card").count(), listed, "one card per product in the table");
        assert.equal(await page.getByTestId("load-more").isVisible(), false, "no 'show more' when everything is shown");
      }
      assert.equal(await page.getByTestId("cart-badge").isVisible(), false, "an empty cart shows no count");
      const firstCard = page.locator(`[data-testid=product-card][data-product-id="${first.productId}"]`);
      assert.equal(await firstCard.getByTestId("price").textContent(), usd(first.priceCents));
      assert.equal(await firstCard.getByTestId("stock").isVisible(), true);
      await page.locator("img").last().evaluate((img) => img.decode().catch(() => {}));
      await screenshot(page, "catalogue");

      // Product detail, add two of the first product.
      await firstCard.getByTestId("product-link").click();
      await page.getByTestId("product-detail").waitFor();
      assert.equal(await page.getByTestId("product-name").textContent(), first.name);
      assert.equal(await page.getByTestId("price").textContent(), usd(first.priceCents));
      await page.getByLabel("Quantity").fill("2");
      await page.getByTestId("add-to-cart").click();
      await page.getByTestId("notice-success").waitFor();
      await expectBadge(page, 2);

      // Two more products from the catalogue.
      await page.getByRole("link", { name: "Products", exact: true }).click();
      await page.getByTestId("product-card").first().waitFor();
      await addFromCatalogue(page, second);
      await expectBadge(page, 3);
      await addFromCatalogue(page, removed);
      await expectBadge(page, 4);

      // Cart: change a quantity, remove a line.
      await page.getByTestId("cart-link").click();
      await page.getByTestId("cart-line").nth(2).waitFor();
      const secondLine = page.locator(`[data-testid=cart-line][data-product-id="${second.productId}"]`);
      await secondLine.getByLabel(`Quantity of ${second.name}`).fill("3");
      await secondLine.getByTestId("update-qty").click();
      await eventually(async () => assert.equal(await secondLine.getByTestId("line-total").textContent(), usd(3 * second.priceCents)));
      await expectBadge(page, 6);
      await page.getByRole("button", { name: `Remove ${removed.name} from cart` }).click();
      await page.locator(`[data-testid=cart-line][data-product-id="${removed.productId}"]`).waitFor({ state: "detached" });
      await expectBadge(page, 5);
      const expectedTotal = 2 * first.priceCents + 3 * second.priceCents;
      assert.equal(await page.getByTestId("cart-line").count(), 2);
      assert.equal(await page.getByTestId("cart-total").textContent(), usd(expectedTotal));
      await screenshot(page, "cart");

      // Checkout → confirmation with id, lines and the right total.
      await page.getByTestId("go-to-checkout").click();
      assert.equal(await page.getByTestId("total").textContent(), usd(expectedTotal));
      await page.getByTestId("place-order").click();
      await page.getByTestId("confirmation").waitFor();
      const orderId = (await page.getByTestId("order-id").textContent()).trim();
      assert.match(orderId, /\S/);
      assert.match(page.url(), new RegExp(`#/order/${encodeURIComponent(orderId)}$`));
      assert.equal(await page.getByTestId("total").textContent(), usd(expectedTotal));
      assert.equal(await page.getByTestId("line").count(), 2);
      assert.equal(await page.locator(`[data-testid=line][data-product-id="${first.productId}"] [data-testid=line-qty]`).textContent(), "2");
      assert.equal(await page.locator(`[data-testid=line][data-product-id="${second.productId}"] [data-testid=line-qty]`).textContent(), "3");
      await expectBadge(page, 0);
      assert.equal(await page.getByTestId("cart-badge").isVisible(), false);
      await screenshot(page, "confirmation");

      // The order page reloads the order from the API by id.
      await page.reload();
      await page.getByTestId("order").waitFor();
      assert.equal((await page.getByTestId("order-id").textContent()).trim(), orderId);
      assert.equal(await page.getByTestId("total").textContent(), usd(expectedTotal));
      assert.equal(await page.getByTestId("line").count(), 2);

      // The tables agree: the order is stored, the cart is empty, stock went down by what was bought.
      const cartId = await cartIdOf(page);
      const stored = await orderItem(db, shop.tables.orders, orderId);
      assert.ok(stored, `order ${orderId} is in ${shop.tables.orders}`);
      assert.equal(Number(stored.totalCents?.N), expectedTotal);
      assert.equal((await ordersOfCart(db, shop.tables.orders, cartId)).length, 1);
      assert.deepEqual(await cartLines(db, shop.tables.carts, cartId), []);
      assert.equal(await productStock(db, shop.tables.products, first.productId), stockBefore[first.productId] - 2);
      assert.equal(await productStock(db, shop.tables.products, second.productId), stockBefore[second.productId] - 3);
      assert.equal(await productStock(db, shop.tables.products, removed.productId), stockBefore[removed.productId]);
    });
  });

  it("shows the 409 message naming the product when it sold out after it went into the cart", async () => {
    const product = pick(3);
    const stock = await productStock(db, shop.tables.products, product.productId);
    await withPage({}, async (page) => {
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      await addFromCatalogue(page, product);
      await goToCheckout(page);
      await setProductStock(db, shop.tables.products, product.productId, 0);
      try {
        const answer = page.waitForResponse((r) => isApiCall(r.request(), shop.apiUrl, "/checkout") && r.request().method() === "POST");
        await page.getByTestId("place-order").click();
        const response = await answer;
        assert.equal(response.status(), 409);
        const { error } = await response.json();
        const shown = await page.getByTestId("notice-error").textContent();
        assert.equal(shown, error.message, "the page shows the server's own words");
        assert.ok(shown.includes(product.name) || shown.includes(product.productId), `"${shown}" names ${product.productId}`);
        assert.equal(await page.getByTestId("confirmation").count(), 0);
        const cartId = await cartIdOf(page);
        assert.equal((await ordersOfCart(db, shop.tables.orders, cartId)).length, 0);
        assert.equal((await cartLines(db, shop.tables.carts, cartId)).length, 1, "a refused checkout keeps the cart");
      } finally {
        await setProductStock(db, shop.tables.products, product.productId, stock);
      }
    });
  });

  it("shows a product taken off sale as no longer available in the cart, out of the total, and removes it", async () => {
    const [gone, kept] = [pick(7), pick(6)];
    await withPage({}, async (page) => {
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      await addFromCatalogue(page, gone);
      await addFromCatalogue(page, kept);
      await setProductOnSale(db, shop.tables.products, gone.productId, false);
      try {
        await page.getByTestId("cart-link").click();
        const line = page.locator(`[data-testid=unavailable-line][data-product-id="${gone.productId}"]`);
        await line.waitFor();
        const text = await line.textContent();
        assert.ok(text.includes(gone.name) && text.includes("No longer available"), text);
        assert.equal(await page.getByTestId("cart-line").count(), 1, "the product still sold stays a line");
        assert.equal(await page.getByTestId("cart-total").textContent(), usd(kept.priceCents), "not in the total");
        await line.getByTestId("remove-unavailable").click();
        await page.getByTestId("notice-success").filter({ hasText: gone.name }).waitFor();
        assert.equal(await page.getByTestId("unavailable-line").count(), 0);
        const lines = await cartLines(db, shop.tables.carts, await cartIdOf(page));
        assert.deepEqual(lines.map((l) => l.productId.S), [kept.productId]);
      } finally {
        await setProductOnSale(db, shop.tables.products, gone.productId, true);
      }
    });
  });

  it("places exactly one order when Place order is double-clicked", async () => {
    const product = pick(4);
    await withPage({}, async (page) => {
      const checkoutRequests = [];
      page.on("request", (r) => {
        if (isApiCall(r, shop.apiUrl, "/checkout") && r.method() === "POST") checkoutRequests.push(r.headers()["idempotency-key"]);
      });
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      await addFromCatalogue(page, product);
      await goToCheckout(page);
      await page.getByTestId("place-order").dblclick();
      await page.getByTestId("confirmation").waitFor();
      const orderId = (await page.getByTestId("order-id").textContent()).trim();
      const orders = await ordersOfCart(db, shop.tables.orders, await cartIdOf(page));
      assert.deepEqual(orders.map((o) => o.orderId.S), [orderId]);
      assert.ok(checkoutRequests.length >= 1);
      assert.equal(new Set(checkoutRequests).size, 1, "every checkout request of one attempt carries the same Idempotency-Key");
    });
  });

  it("retries a checkout whose answer was lost with the same Idempotency-Key and gets the same single order", async () => {
    const product = pick(5);
    await withPage({}, async (page) => {
      const keys = [];
      let lostAnswers = 0;
      // The server places the order, but the browser never hears back (connection reset).
      await page.route(`${shop.apiUrl}/checkout`, async (route) => {
        if (route.request().method() !== "POST") return route.continue();
        keys.push(route.request().headers()["idempotency-key"]);
        if (lostAnswers === 0) {
          lostAnswers += 1;
          await route.fetch();
          return route.abort("connectionreset");
        }
        return route.continue();
      });
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      await addFromCatalogue(page, product);
      await goToCheckout(page);
      await page.getByTestId("place-order").click();
      const notice = await page.getByTestId("notice-error").textContent();
      assert.match(notice, /again is safe/);
      const cartId = await cartIdOf(page);
      assert.equal((await ordersOfCart(db, shop.tables.orders, cartId)).length, 1, "the lost attempt did place the order");

      await page.getByTestId("place-order").click();
      await page.getByTestId("confirmation").waitFor();
      const orderId = (await page.getByTestId("order-id").textContent()).trim();
      assert.equal(keys.length, 2);
      assert.equal(keys[0], keys[1], "the retry reuses the Idempotency-Key");
      const orders = await ordersOfCart(db, shop.tables.orders, cartId);
      assert.deepEqual(orders.map((o) => o.orderId.S), [orderId]);
    });
  });

  it("shows the server's words for a refused quantity (over 99 on one line)", async () => {
    const product = pick(6);
    await withPage({}, async (page) => {
      await page.goto(`${shop.siteUrl}/#/product/${encodeURIComponent(product.productId)}`);
      await page.getByTestId("product-detail").waitFor();
      await page.getByTestId("add-to-cart").click();
      await expectBadge(page, 1);
      await page.getByLabel("Quantity").fill("99");
      const answer = page.waitForResponse((r) => isApiCall(r.request(), shop.apiUrl, "/cart") && r.request().method() === "POST");
      await page.getByTestId("add-to-cart").click();
      const response = await answer;
      assert.ok([400, 422].includes(response.status()), `POST /cart answered ${response.status()}`);
      const { error } = await response.json();
      assert.equal(await page.getByTestId("notice-error").textContent(), error.message);
      await expectBadge(page, 1);
    });
  });

  it("shows an error panel with a working retry while the API is unreachable, never a blank page", async () => {
    await withPage({}, async (page) => {
      const outage = (route) => route.abort("internetdisconnected");
      await page.route(`${shop.apiUrl}/**`, outage);
      await page.goto(shop.siteUrl + "/");
      const panel = page.getByTestId("error-panel");
      await panel.waitFor();
      assert.match(await page.getByTestId("error-message").textContent(), /Could not reach the shop's server/);
      assert.equal(await page.getByRole("alert").count() >= 1, true);
      await screenshot(page, "api-outage");

      // The cart page, freshly loaded, fails the same visible way.
      await page.goto(shop.siteUrl + "/#/cart");
      await page.reload();
      await panel.waitFor();

      await page.unroute(`${shop.apiUrl}/**`, outage);
      await page.getByTestId("retry").click();
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      assert.equal(await panel.count(), 0);
    });
  });

  it("answers an unknown product with the server's 404 message and an unknown page with 'not found'", async () => {
    await withPage({}, async (page) => {
      const answer = page.waitForResponse((r) => isApiCall(r.request(), shop.apiUrl, "/products/"));
      await page.goto(`${shop.siteUrl}/#/product/no-such-product-${Date.now()}`);
      const response = await answer;
      assert.equal(response.status(), 404);
      await page.getByTestId("error-panel").waitFor();
      assert.equal(await page.getByTestId("error-message").textContent(), (await response.json()).error.message);
      assert.equal(await page.getByTestId("retry").count(), 0, "retrying cannot help a 404");

      await page.goto(`${shop.siteUrl}/#/nowhere`);
      await page.getByTestId("not-found").waitFor();
    });
  });

  it("answers the API's own 404 as JSON, not as the storefront's page (with https: through CloudFront's error responses)", async () => {
    // With `website.https` the API is under /api on the site's origin, and the distribution's custom error
    // responses apply to every origin: only the private bucket's 403 may become the storefront's page.
    const response = await fetch(`${shop.apiUrl}/products/nope-${Date.now()}`);
    assert.equal(response.status, 404);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal((await response.json()).error.code, "product_not_found");
  });

  it("works as the website's error document: an unknown path shows the shop and moves to the site root", async () => {
    await withPage({}, async (page) => {
      await page.goto(`${shop.siteUrl}/no/such/page.html#/cart`);
      await page.getByRole("heading", { name: "Your cart" }).waitFor();
      assert.equal(new URL(page.url()).pathname, "/");
      const headerColour = await page.evaluate(() => getComputedStyle(document.querySelector(".site-header")).backgroundColor);
      assert.equal(headerColour, "rgb(30, 58, 138)", "the stylesheet loads from a deep path too");
    });
  });

  it("makes a valid v4 cart id without crypto.randomUUID (missing on the plain-http S3 website endpoint)", async () => {
    const product = pick(0);
    await withPage({}, async (page, context) => {
      // 127.0.0.1 is a secure context, so take randomUUID away the way an http:// origin would.
      await context.addInitScript(() => {
        Object.defineProperty(Crypto.prototype, "randomUUID", { value: undefined, configurable: true });
      });
      await page.goto(`${shop.siteUrl}/#/product/${encodeURIComponent(product.productId)}`);
      await page.getByTestId("product-detail").waitFor();
      assert.equal(await page.evaluate(() => typeof crypto.randomUUID), "undefined");
      await page.getByTestId("add-to-cart").click();
      await expectBadge(page, 1);
      const cartId = await cartIdOf(page);
      assert.match(cartId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal((await cartLines(db, shop.tables.carts, cartId)).length, 1);
    });
  });

  it("works by keyboard at 360 px: labelled controls, alt text, visible focus, no sideways scrolling", async () => {
    await withPage({ viewport: { width: 360, height: 740 } }, async (page) => {
      await page.goto(shop.siteUrl + "/");
      await page.getByTestId("product-card").first().waitFor();
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(await overflow(), 0, "catalogue fits 360 px");
      await screenshot(page, "catalogue-360px");
      assert.equal(await page.locator("img:not([alt])").count(), 0, "every image has alt text");

      // Tab to the first enabled "Add to cart" and press Enter.
      let reached = false;
      for (let i = 0; i < 40 && !reached; i += 1) {
        await page.keyboard.press("Tab");
        reached = await page.evaluate(() => document.activeElement?.dataset?.testid === "add-to-cart");
      }
      assert.ok(reached, "an Add to cart button is reachable with Tab");
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, "none", "the focused button shows a focus outline");
      await page.keyboard.press("Enter");
      await expectBadge(page, 1);

      await page.goto(shop.siteUrl + "/#/cart");
      await page.getByTestId("cart-line").first().waitFor();
      assert.equal(await overflow(), 0, "cart fits 360 px");
      const unlabelled = await page.evaluate(() => [...document.querySelectorAll("input, select, textarea")].filter((el) => el.labels.length === 0).length);
      assert.equal(unlabelled, 0, "every field has a label");
      await screenshot(page, "cart-360px");

      await page.getByTestId("go-to-checkout").click();
      await page.getByTestId("place-order").waitFor();
      assert.equal(await overflow(), 0, "checkout fits 360 px");
      await screenshot(page, "checkout-360px");
      const productId = await page.getByTestId("line").first().getAttribute("data-product-id");
      await page.goto(`${shop.siteUrl}/#/product/${encodeURIComponent(productId)}`);
      await page.getByTestId("product-detail").waitFor();
      assert.equal(await overflow(), 0, "product page fits 360 px");
      await screenshot(page, "product-360px");
    });
  });

  it("loads the catalogue within 50 KB before product images, with no request to any other origin", async (t) => {
    await withPage({}, async (page) => {
      const finished = [];
      page.on("requestfinished", (r) => finished.push(r));
      await page.goto(shop.siteUrl + "/", { waitUntil: "networkidle" });
      await page.getByTestId("product-card").first().waitFor();
      let withoutImages = 0;
      let images = 0;
      const origins = new Set();
      for (const request of finished) {
        const sizes = await request.sizes();
        const bytes = sizes.responseBodySize + sizes.responseHeadersSize;
        if (request.resourceType() === "image") images += bytes;
        else withoutImages += bytes;
        origins.add(new URL(request.url()).origin);
      }
      t.diagnostic(`catalogue first load: ${withoutImages} bytes before images (HTML, CSS, JS, config, API), ${images} bytes of images`);
      assert.ok(withoutImages <= 50 * 1024, `first load transferred ${withoutImages} bytes before images`);
      assert.deepEqual([...origins].filter((o) => o !== shop.siteUrl && o !== shop.apiUrl), []);
    });
  });
});

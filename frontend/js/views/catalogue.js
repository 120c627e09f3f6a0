// The catalogue: a grid of products with image, name, price, stock state and "Add to cart".

import { api } from "../api.js";
import { showCartCount } from "../cart-badge.js";
import { finishCheckoutAttempt } from "../checkout-attempt.js";
import { h, productImage, replaceChildren } from "../dom.js";
import { formatCents } from "../money.js";
import { inlineMessage, showError, showLoading } from "../states.js";
import { stockState } from "../stock.js";

function productCard(product, onAdd) {
  const stock = stockState(product.stock);
  const href = "#/product/" + encodeURIComponent(product.productId);
  const titleId = "product-title-" + product.productId.replace(/[^A-Za-z0-9_-]/g, "_");
  return h(
    "li",
    { class: "card", "data-testid": "product-card", "data-product-id": product.productId },
    h("a", { class: "card__image-link", href, tabindex: "-1", "aria-hidden": "true" }, productImage(product.imageUrl, product.name, "card__image")),
    h("h2", { class: "card__title", id: titleId }, h("a", { href, "data-testid": "product-link" }, product.name)),
    h("p", { class: "price", "data-testid": "price" }, formatCents(product.priceCents, product.currency)),
    h("p", { class: `stock stock--${stock.level}`, "data-testid": "stock" }, stock.text),
    h(
      "button",
      {
        type: "button",
        class: "button",
        "data-testid": "add-to-cart",
        "aria-describedby": titleId,
        disabled: stock.level === "out",
        onclick: (event) => onAdd(product, event.currentTarget),
      },
      "Add to cart",
    ),
  );
}

export async function renderCatalogue(main) {
  showLoading(main, "products");
  let page;
  try {
    page = await api.listProducts();
  } catch (error) {
    showError(main, error, () => renderCatalogue(main));
    return;
  }

  const status = h("div", { class: "status-line", "aria-live": "polite", "data-testid": "catalogue-status" });
  const grid = h("ul", { class: "grid", "data-testid": "product-grid" });

  async function onAdd(product, button) {
    button.disabled = true;
    replaceChildren(status);
    try {
      const cart = await api.addToCart(product.productId, 1);
      finishCheckoutAttempt();
      showCartCount(cart);
      replaceChildren(status, inlineMessage("success", `Added ${product.name} to your cart.`));
    } catch (error) {
      replaceChildren(status, inlineMessage("error", error.message));
    } finally {
      button.disabled = stockState(product.stock).level === "out";
    }
  }

  function appendPage(products) {
    for (const product of products) grid.append(productCard(product, onAdd));
  }

  const moreButton = h("button", { type: "button", class: "button button--secondary", "data-testid": "load-more" }, "Show more products");
  let cursor = page.nextCursor;
  moreButton.hidden = !cursor;
  moreButton.addEventListener("click", async () => {
    moreButton.disabled = true;
    try {
      const next = await api.listProducts(cursor);
      appendPage(next.products ?? []);
      cursor = next.nextCursor;
      moreButton.hidden = !cursor;
    } catch (error) {
      replaceChildren(status, inlineMessage("error", error.message));
    } finally {
      moreButton.disabled = false;
    }
  });

  const products = page.products ?? [];
  appendPage(products);
  replaceChildren(
    main,
    h("h1", { tabindex: "-1" }, "Products"),
    status,
    products.length === 0
      ? h("p", { class: "state state--empty", "data-testid": "catalogue-empty" }, "No products are for sale yet. Please come back later.")
      : grid,
    h("p", { class: "actions" }, moreButton),
  );
}

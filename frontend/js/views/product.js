// Product detail (GET /products/{id}) with a quantity field and "Add to cart".

import { api } from "../api.js";
import { showCartCount } from "../cart-badge.js";
import { finishCheckoutAttempt } from "../checkout-attempt.js";
import { h, productImage, replaceChildren } from "../dom.js";
import { formatCents } from "../money.js";
import { inlineMessage, showError, showLoading } from "../states.js";
import { stockState } from "../stock.js";

const MAX_QTY_PER_LINE = 99;

export async function renderProduct(main, productId) {
  showLoading(main, "product");
  let product;
  try {
    product = await api.getProduct(productId);
  } catch (error) {
    showError(main, error, () => renderProduct(main, productId));
    return;
  }

  const stock = stockState(product.stock);
  const status = h("div", { class: "status-line", "aria-live": "polite", "data-testid": "product-status" });
  const qtyInput = h("input", {
    id: "qty",
    name: "qty",
    type: "number",
    inputmode: "numeric",
    min: 1,
    max: MAX_QTY_PER_LINE,
    step: 1,
    value: 1,
    required: true,
    "data-testid": "qty",
  });
  const addButton = h("button", { type: "submit", class: "button", "data-testid": "add-to-cart", disabled: stock.level === "out" }, "Add to cart");

  async function onSubmit(event) {
    event.preventDefault();
    const qty = Number(qtyInput.value);
    replaceChildren(status);
    // The server has the final word; this only catches what the browser already knows is wrong.
    if (!Number.isInteger(qty) || qty < 1 || qty > MAX_QTY_PER_LINE) {
      replaceChildren(status, inlineMessage("error", `Enter a whole number of items from 1 to ${MAX_QTY_PER_LINE}.`));
      qtyInput.focus();
      return;
    }
    addButton.disabled = true;
    try {
      const cart = await api.addToCart(product.productId, qty);
      finishCheckoutAttempt();
      showCartCount(cart);
      replaceChildren(
        status,
        inlineMessage("success", `Added ${qty} × ${product.name} to your cart.`),
        h("a", { href: "#/cart", class: "button button--secondary" }, "View cart"),
      );
    } catch (error) {
      replaceChildren(status, inlineMessage("error", error.message));
    } finally {
      addButton.disabled = stock.level === "out";
    }
  }

  replaceChildren(
    main,
    h("p", { class: "breadcrumb" }, h("a", { href: "#/" }, "← All products")),
    h(
      "article",
      { class: "product", "data-testid": "product-detail", "data-product-id": product.productId },
      productImage(product.imageUrl, product.name, "product__image"),
      h(
        "div",
        { class: "product__info" },
        h("h1", { tabindex: "-1", "data-testid": "product-name" }, product.name),
        h("p", { class: "price price--large", "data-testid": "price" }, formatCents(product.priceCents, product.currency)),
        h("p", { class: `stock stock--${stock.level}`, "data-testid": "stock" }, stock.text),
        h("p", { class: "product__description" }, product.description ?? ""),
        h(
          "form",
          { class: "add-form", novalidate: true, onsubmit: onSubmit },
          h("label", { for: "qty" }, "Quantity"),
          qtyInput,
          addButton,
        ),
        status,
      ),
    ),
  );
}

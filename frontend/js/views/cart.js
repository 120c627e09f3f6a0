// The cart: lines with quantity change and remove, totals, and the way to checkout.

import { api } from "../api.js";
import { showCartCount } from "../cart-badge.js";
import { finishCheckoutAttempt } from "../checkout-attempt.js";
import { h, productImage, replaceChildren } from "../dom.js";
import { formatCents } from "../money.js";
import { inlineMessage, showError, showLoading } from "../states.js";

const MAX_QTY_PER_LINE = 99;

function fieldId(productId) {
  return "qty-" + productId.replace(/[^A-Za-z0-9_-]/g, "_");
}

export async function renderCart(main) {
  showLoading(main, "your cart");
  let cart;
  try {
    cart = await api.getCart();
  } catch (error) {
    showError(main, error, () => renderCart(main));
    return;
  }
  showCartCount(cart);

  const status = h("div", { class: "status-line", "aria-live": "polite", "data-testid": "cart-status" });
  const body = h("div", { "data-testid": "cart-body" });

  // Runs one cart change; on success redraws from the cart the API returned, on failure says why.
  async function change(action, controls, successText, focusAfter) {
    for (const control of controls) control.disabled = true;
    replaceChildren(status);
    try {
      const updated = await action();
      finishCheckoutAttempt();
      showCartCount(updated);
      drawBody(updated);
      replaceChildren(status, inlineMessage("success", successText));
      document.getElementById(focusAfter)?.focus();
    } catch (error) {
      replaceChildren(status, inlineMessage("error", error.message));
      for (const control of controls) control.disabled = false;
    }
  }

  function lineItem(line, currency) {
    const id = fieldId(line.productId);
    const qtyInput = h("input", {
      id,
      type: "number",
      inputmode: "numeric",
      min: 0,
      max: MAX_QTY_PER_LINE,
      step: 1,
      value: line.qty,
      required: true,
      "data-testid": "line-qty-input",
    });
    const updateButton = h("button", { type: "submit", class: "button button--small button--secondary", "data-testid": "update-qty" }, "Update");
    const removeButton = h("button", { type: "button", class: "button button--small button--danger", "data-testid": "remove", "aria-label": `Remove ${line.name} from cart` }, "Remove");

    const form = h(
      "form",
      {
        class: "qty-form",
        novalidate: true,
        onsubmit: (event) => {
          event.preventDefault();
          const qty = Number(qtyInput.value);
          if (!Number.isInteger(qty) || qty < 0 || qty > MAX_QTY_PER_LINE) {
            replaceChildren(status, inlineMessage("error", `Enter a whole number from 0 to ${MAX_QTY_PER_LINE} for ${line.name} (0 removes it).`));
            qtyInput.focus();
            return;
          }
          const text = qty === 0 ? `Removed ${line.name}.` : `${line.name}: quantity set to ${qty}.`;
          change(() => api.setCartQty(line.productId, qty), [qtyInput, updateButton, removeButton], text, qty === 0 ? "cart-title" : id);
        },
      },
      h("label", { for: id }, "Quantity", h("span", { class: "visually-hidden" }, ` of ${line.name}`)),
      qtyInput,
      updateButton,
    );
    removeButton.addEventListener("click", () =>
      change(() => api.removeFromCart(line.productId), [qtyInput, updateButton, removeButton], `Removed ${line.name}.`, "cart-title"),
    );

    return h(
      "li",
      { class: "cart-line", "data-testid": "cart-line", "data-product-id": line.productId },
      productImage(line.imageUrl, line.name, "cart-line__image"),
      h(
        "div",
        { class: "cart-line__info" },
        h("h2", { class: "cart-line__name" }, h("a", { href: "#/product/" + encodeURIComponent(line.productId) }, line.name)),
        h("p", { class: "cart-line__price" }, formatCents(line.priceCents, currency), " each"),
      ),
      form,
      h("p", { class: "cart-line__total", "data-testid": "line-total" }, formatCents(line.lineTotalCents, currency)),
      removeButton,
    );
  }

  // A line whose product is no longer sold: named when the shop still knows it, never priced, only removable.
  function unavailableItem(line) {
    const label = line.name || `Product ${line.productId}`;
    const removeButton = h("button", { type: "button", class: "button button--small button--danger", "data-testid": "remove-unavailable", "aria-label": `Remove ${label} from cart` }, "Remove");
    removeButton.addEventListener("click", () =>
      change(() => api.removeFromCart(line.productId), [removeButton], `Removed ${label}.`, "cart-title"),
    );
    return h(
      "li",
      { class: "cart-line cart-line--unavailable", "data-testid": "unavailable-line", "data-product-id": line.productId },
      h(
        "div",
        { class: "cart-line__info" },
        h("h2", { class: "cart-line__name" }, label),
        h("p", { class: "cart-line__price" }, `No longer available (${line.qty} in your cart). Remove it to check out.`),
      ),
      removeButton,
    );
  }

  function drawBody(current) {
    const lines = Array.isArray(current.lines) ? current.lines : [];
    const unavailable = Array.isArray(current.unavailable) ? current.unavailable : [];
    const gone = unavailable.length === 0 ? [] : [
      h("h2", { class: "cart-unavailable__title" }, "No longer available"),
      h("ul", { class: "cart-lines cart-unavailable", "data-testid": "cart-unavailable" }, unavailable.map(unavailableItem)),
    ];
    if (lines.length === 0) {
      replaceChildren(
        body,
        h("p", { class: "state state--empty", "data-testid": "cart-empty" }, "Your cart is empty."),
        ...gone,
        h("p", { class: "actions" }, h("a", { class: "button", href: "#/" }, "Browse products")),
      );
      return;
    }
    replaceChildren(
      body,
      h("ul", { class: "cart-lines" }, lines.map((line) => lineItem(line, current.currency))),
      ...gone,
      h(
        "div",
        { class: "cart-summary" },
        h("p", { class: "cart-summary__total" }, "Total ", h("strong", { "data-testid": "cart-total" }, formatCents(current.totalCents, current.currency))),
        h("a", { class: "button button--primary", href: "#/checkout", "data-testid": "go-to-checkout" }, "Check out"),
      ),
    );
  }

  drawBody(cart);
  replaceChildren(main, h("h1", { id: "cart-title", tabindex: "-1" }, "Your cart"), status, body);
}

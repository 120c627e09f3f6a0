// Checkout: review the cart and place the order. One Idempotency-Key per attempt, reused after a
// network error, and the button is locked while a request is in flight, so one click = one order.

import { api } from "../api.js";
import { showCartCount } from "../cart-badge.js";
import { currentCheckoutKey, finishCheckoutAttempt } from "../checkout-attempt.js";
import { h, replaceChildren } from "../dom.js";
import { inlineMessage, showError, showLoading } from "../states.js";
import { linesTable } from "./order-lines.js";
import { rememberPlacedOrder } from "./order.js";

export async function renderCheckout(main) {
  showLoading(main, "checkout");
  let cart;
  try {
    cart = await api.getCart();
  } catch (error) {
    showError(main, error, () => renderCheckout(main));
    return;
  }
  showCartCount(cart);

  const lines = Array.isArray(cart.lines) ? cart.lines : [];
  if (lines.length === 0) {
    replaceChildren(
      main,
      h("h1", { tabindex: "-1" }, "Checkout"),
      h("p", { class: "state state--empty", "data-testid": "cart-empty" }, "Your cart is empty, so there is nothing to order yet."),
      h("p", { class: "actions" }, h("a", { class: "button", href: "#/" }, "Browse products")),
    );
    return;
  }

  const status = h("div", { class: "status-line", "aria-live": "assertive", "data-testid": "checkout-status" });
  const placeButton = h("button", { type: "button", class: "button button--primary button--large", "data-testid": "place-order" }, "Place order");
  let inFlight = false;

  async function placeOrder() {
    if (inFlight) return; // a second click while the first is on its way must not send anything
    inFlight = true;
    placeButton.disabled = true;
    placeButton.setAttribute("aria-busy", "true");
    placeButton.textContent = "Placing order…";
    replaceChildren(status);
    const key = currentCheckoutKey();
    try {
      const order = await api.checkout(key);
      finishCheckoutAttempt();
      showCartCount({ lines: [] });
      rememberPlacedOrder(order);
      location.hash = "#/order/" + encodeURIComponent(order.orderId);
      return;
    } catch (error) {
      if (error.retryable) {
        // No answer (or a server failure): the order may or may not exist. Keep the key so that
        // trying again returns the same order instead of placing a second one.
        replaceChildren(
          status,
          inlineMessage("error", `${error.message} Pressing "Place order" again is safe: you will not be charged twice.`),
        );
      } else {
        finishCheckoutAttempt();
        replaceChildren(
          status,
          inlineMessage("error", error.message),
          error.status === 409 || error.status === 400 || error.status === 422
            ? h("p", {}, h("a", { href: "#/cart", "data-testid": "back-to-cart" }, "Change your cart"))
            : null,
        );
      }
    } finally {
      inFlight = false;
      placeButton.disabled = false;
      placeButton.removeAttribute("aria-busy");
      placeButton.textContent = "Place order";
    }
  }
  placeButton.addEventListener("click", placeOrder);

  replaceChildren(
    main,
    h("h1", { tabindex: "-1" }, "Checkout"),
    h("p", {}, "Check your order, then place it. Prices and stock are confirmed by the shop when you order."),
    linesTable(lines, cart.totalCents, cart.currency, "Items in your order"),
    status,
    h("p", { class: "actions" }, h("a", { class: "button button--secondary", href: "#/cart" }, "Back to cart"), placeButton),
  );
}

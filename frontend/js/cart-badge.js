// The item count in the header, kept in step with the last cart the API returned.

import { api } from "./api.js";

/** Sets the badge from a cart body ({lines:[{qty}]}). */
export function showCartCount(cart) {
  const count = Array.isArray(cart?.lines)
    ? cart.lines.reduce((sum, line) => sum + (Number.isSafeInteger(line.qty) ? line.qty : 0), 0)
    : 0;
  const badge = document.querySelector("[data-testid=cart-badge]");
  const label = document.querySelector("[data-testid=cart-badge-label]");
  if (!badge || !label) return;
  badge.textContent = String(count);
  badge.hidden = count === 0;
  // The number alone is meaningless to a screen reader; say what it counts.
  badge.setAttribute("aria-hidden", "true");
  label.textContent = count === 1 ? "(1 item)" : `(${count} items)`;
}

/** Fetches the cart to show the count; a failure leaves the badge as it was (the page shows its own error). */
export async function refreshCartCount() {
  try {
    showCartCount(await api.getCart());
  } catch {
    // The view on screen reports API problems; the badge stays quiet.
  }
}

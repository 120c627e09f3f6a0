// The confirmation right after checkout, and the order page that reloads an order by id.

import { api } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { showError, showLoading } from "../states.js";
import { linesTable } from "./order-lines.js";

// The order just placed in this page, so the confirmation shows without a second request.
let justPlaced = null;

export function rememberPlacedOrder(order) {
  justPlaced = order;
}

function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso ?? "");
  return new Intl.DateTimeFormat(navigator.languages, { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function drawOrder(main, order, confirmation) {
  const lines = Array.isArray(order.lines) ? order.lines : [];
  replaceChildren(
    main,
    h(
      "section",
      { class: "order", "data-testid": confirmation ? "confirmation" : "order" },
      h("h1", { tabindex: "-1" }, confirmation ? "Thank you, your order is placed" : "Your order"),
      h(
        "dl",
        { class: "order__facts" },
        h("dt", {}, "Order number"),
        h("dd", { "data-testid": "order-id" }, order.orderId),
        h("dt", {}, "Placed"),
        h("dd", {}, h("time", { datetime: order.createdAt }, formatDate(order.createdAt))),
        h("dt", {}, "Status"),
        h("dd", { "data-testid": "order-status" }, order.status === "PLACED" ? "Placed" : String(order.status ?? "")),
      ),
      linesTable(lines, order.totalCents, order.currency, "Items in this order"),
      confirmation
        ? h(
            "p",
            {},
            "Keep this link to see your order again: ",
            h("a", { href: "#/order/" + encodeURIComponent(order.orderId), "data-testid": "order-link" }, "order " + order.orderId),
          )
        : null,
      h("p", { class: "actions" }, h("a", { class: "button", href: "#/" }, "Continue shopping")),
    ),
  );
}

export async function renderOrder(main, orderId) {
  if (justPlaced && justPlaced.orderId === orderId) {
    const order = justPlaced;
    justPlaced = null; // a later visit (reload, back) loads it from the API like any order
    drawOrder(main, order, true);
    return;
  }
  showLoading(main, "your order");
  try {
    drawOrder(main, await api.getOrder(orderId), false);
  } catch (error) {
    showError(main, error, () => renderOrder(main, orderId));
  }
}

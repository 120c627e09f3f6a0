// The table of lines shared by the checkout review, the confirmation and the order page.

import { h } from "../dom.js";
import { formatCents } from "../money.js";

/** A read-only table of order/cart lines with the total in its footer. */
export function linesTable(lines, totalCents, currency, caption) {
  return h(
    "table",
    { class: "lines", "data-testid": "lines" },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col", class: "num" }, "Qty"), h("th", { scope: "col", class: "num" }, "Subtotal")),
    ),
    h(
      "tbody",
      {},
      lines.map((line) =>
        h(
          "tr",
          { "data-testid": "line", "data-product-id": line.productId },
          h("th", { scope: "row" }, line.name ?? line.productId),
          h("td", { class: "num" }, formatCents(line.priceCents, currency)),
          h("td", { class: "num", "data-testid": "line-qty" }, String(line.qty)),
          h("td", { class: "num", "data-testid": "line-total" }, formatCents(line.lineTotalCents, currency)),
        ),
      ),
    ),
    h(
      "tfoot",
      {},
      h("tr", {}, h("th", { scope: "row", colspan: 3 }, "Total"), h("td", { class: "num total", "data-testid": "total" }, formatCents(totalCents, currency))),
    ),
  );
}

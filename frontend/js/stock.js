// How a product's stock is shown to shoppers.

const LOW_STOCK = 5;

/** { text, level } for a stock count: level is "out", "low" or "in" (used for styling and tests). */
export function stockState(stock) {
  if (!Number.isSafeInteger(stock) || stock <= 0) return { text: "Out of stock", level: "out" };
  if (stock <= LOW_STOCK) return { text: `Only ${stock} left`, level: "low" };
  return { text: "In stock", level: "in" };
}

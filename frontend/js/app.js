// Entry point: hash routing (so index.html alone serves every page, also as the S3 error document).
//   #/                 catalogue        #/product/{id}  product detail
//   #/cart             cart             #/checkout      review and place the order
//   #/order/{id}       confirmation / order page

import { refreshCartCount } from "./cart-badge.js";
import { h, replaceChildren } from "./dom.js";
import { showError } from "./states.js";
import { renderCatalogue } from "./views/catalogue.js";

const main = document.getElementById("main");

const routes = [
  { pattern: /^\/?$/, title: "Products", render: () => renderCatalogue(main) },
  // The other views load on first use, keeping the catalogue's first load small (budget: 50 KB).
  { pattern: /^\/product\/([^/]+)$/, title: "Product", render: async (id) => (await import("./views/product.js")).renderProduct(main, id) },
  { pattern: /^\/cart$/, title: "Your cart", render: async () => (await import("./views/cart.js")).renderCart(main) },
  { pattern: /^\/checkout$/, title: "Checkout", render: async () => (await import("./views/checkout.js")).renderCheckout(main) },
  { pattern: /^\/order\/([^/]+)$/, title: "Your order", render: async (id) => (await import("./views/order.js")).renderOrder(main, id) },
];

function renderNotFound() {
  replaceChildren(
    main,
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", { "data-testid": "not-found" }, "There is no page at this address."),
    h("p", { class: "actions" }, h("a", { class: "button", href: "#/" }, "Back to products")),
  );
}

function decodeSegment(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null; // malformed escape: treated as an unknown page
  }
}

let firstRender = true;

async function route() {
  const hash = location.hash.replace(/^#/, "");
  const path = hash === "" ? "/" : hash;
  let matched = false;
  for (const { pattern, title, render } of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    const param = match[1] === undefined ? undefined : decodeSegment(match[1]);
    if (param === null) break;
    matched = true;
    document.title = `${title} · ShopSmart`;
    try {
      await render(param);
    } catch (error) {
      // A bug or an answer this page cannot draw: say so rather than leave a blank page.
      console.error(error);
      showError(main, new Error("This page could not be shown. Please try again."), () => route());
    }
    break;
  }
  if (!matched) {
    document.title = "Page not found · ShopSmart";
    renderNotFound();
  }
  // Move focus to the new page's heading so keyboard and screen-reader users land on the content
  // (not on the first load, where focus belongs to the browser's start position).
  if (!firstRender) main.querySelector("h1")?.focus({ preventScroll: false });
  firstRender = false;
}

// Served as the error document for an unknown path (e.g. /shop/cart): continue at the site root.
if (location.pathname !== "/" && location.pathname !== "/index.html") {
  history.replaceState(null, "", "/" + location.hash);
}

// The skip link targets the main landmark without touching the hash, which holds the route.
document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", () => {
  route();
});
refreshCartCount();
route();

// Tiny DOM builder. Data from the API only ever goes into text nodes and attributes, never innerHTML.

/**
 * h("a", { href: "#/", class: "x" }, "text", childNode) → element.
 * Attributes: `class`, `dataset` (object), `on*` functions become listeners, booleans toggle, null skips.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
}

const PLACEHOLDER_IMAGE = "images/placeholder.svg";

/**
 * A product image. Only same-origin paths are used (the API sends site-relative paths such as
 * "images/mug.svg"); anything else, or a missing file, shows the placeholder.
 */
export function productImage(imageUrl, name, className) {
  let src = PLACEHOLDER_IMAGE;
  if (typeof imageUrl === "string" && imageUrl) {
    try {
      const url = new URL(imageUrl, document.baseURI);
      if (url.origin === location.origin) src = url.pathname;
    } catch {
      // malformed: keep the placeholder
    }
  }
  const img = h("img", { src, alt: name ? `Photo of ${name}` : "", class: className, width: 240, height: 240, loading: "lazy", decoding: "async" });
  img.addEventListener("error", () => {
    if (!img.src.endsWith(PLACEHOLDER_IMAGE)) img.src = PLACEHOLDER_IMAGE;
  }, { once: true });
  return img;
}

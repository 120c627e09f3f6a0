// Loading, empty and error panels shared by every view.

import { h, replaceChildren } from "./dom.js";

export function showLoading(main, what) {
  replaceChildren(main, h("p", { class: "state state--loading", role: "status", "data-testid": "loading" }, `Loading ${what}…`));
}

/**
 * A visible error panel. Retryable failures (no answer, server errors) get a "Try again" button that
 * runs `retry`; refusals (4xx) show the server's message and a way back.
 */
export function showError(main, error, retry) {
  const title = error && error.retryable ? "We could not load this page" : "Something is not right";
  const panel = h(
    "section",
    { class: "panel panel--error", role: "alert", "data-testid": "error-panel", "aria-labelledby": "error-title" },
    h("h1", { id: "error-title", tabindex: "-1" }, title),
    h("p", { "data-testid": "error-message" }, error && error.message ? error.message : "An unexpected error happened."),
    h(
      "p",
      { class: "actions" },
      retry && (!error || error.retryable !== false)
        ? h("button", { type: "button", class: "button", "data-testid": "retry", onclick: retry }, "Try again")
        : null,
      h("a", { class: "button button--secondary", href: "#/" }, "Back to products"),
    ),
  );
  replaceChildren(main, panel);
  panel.querySelector("h1").focus();
}

/** An inline message inside a view (e.g. a refused cart change), announced to screen readers. */
export function inlineMessage(kind, text) {
  return h(
    "p",
    { class: `notice notice--${kind}`, role: kind === "error" ? "alert" : "status", "data-testid": `notice-${kind}` },
    text,
  );
}

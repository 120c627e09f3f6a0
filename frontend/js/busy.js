// "The shop is busy": the API answers 503 `busy` with Retry-After when DynamoDB throttled the request (the
// tables' provisioned capacity is used up for the moment). The API then has written nothing, so api.js
// repeats the request by itself after the seconds it asks for (a checkout with its same Idempotency-Key),
// and this banner counts down meanwhile. Nothing is cleared: the cart lives on the server under the cart id
// this browser keeps.

const MAX_WAIT_SECONDS = 30;

let waiting = 0;
let banner = null;

function theBanner() {
  if (banner && banner.isConnected) return banner;
  banner = document.createElement("div");
  banner.className = "busy-banner";
  banner.setAttribute("role", "status");
  banner.setAttribute("aria-live", "polite");
  banner.dataset.testid = "busy";
  banner.hidden = true;
  const main = document.getElementById("main");
  main.parentNode.insertBefore(banner, main);
  return banner;
}

/** Whole seconds from a Retry-After header (1..30; 1 when missing or unreadable, e.g. not exposed by CORS). */
export function retryAfterSeconds(header) {
  const seconds = Number.parseInt(header ?? "", 10);
  if (!Number.isFinite(seconds) || seconds < 1) return 1;
  return Math.min(seconds, MAX_WAIT_SECONDS);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Shows "the shop is busy, trying again in N s" counting down, and resolves when it is time to try again. */
export async function waitWhileBusy(seconds) {
  const element = theBanner();
  waiting += 1;
  element.hidden = false;
  try {
    for (let left = seconds; left > 0; left -= 1) {
      element.textContent = `The shop is busy, trying again in ${left} s. Your cart is kept.`;
      await sleep(1000);
    }
    // A little spread so that many waiting shoppers do not all come back in the same instant.
    element.textContent = "The shop is busy, trying again now…";
    await sleep(Math.floor(Math.random() * 250));
  } finally {
    waiting -= 1;
  }
}

/** The request got its answer (or gave up): the banner goes once no other request is waiting. */
export function busyOver() {
  if (waiting === 0 && banner) banner.hidden = true;
}

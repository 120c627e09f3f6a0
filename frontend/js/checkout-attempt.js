// One Idempotency-Key per checkout attempt. It is kept (in sessionStorage, so a reload keeps it too)
// until the API gives a definite answer, so a double click or a retry after a network error sends the
// same key and the server places at most one order.

import { uuidV4 } from "./uuid.js";

const STORAGE_KEY = "shopsmart.checkoutKey";

let memoryKey = null;

function read() {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? memoryKey;
  } catch {
    return memoryKey;
  }
}

function write(key) {
  memoryKey = key;
  try {
    if (key === null) sessionStorage.removeItem(STORAGE_KEY);
    else sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // storage blocked: the in-memory copy still covers retries on this page
  }
}

/** The key for the current attempt: the pending one if an earlier try got no answer, else a new one. */
export function currentCheckoutKey() {
  const pending = read();
  if (pending) return pending;
  const fresh = uuidV4();
  write(fresh);
  return fresh;
}

/** The API answered (order placed, or refused for a reason the shopper must fix): the attempt is over. */
export function finishCheckoutAttempt() {
  write(null);
}

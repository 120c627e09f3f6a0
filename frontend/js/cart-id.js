// The shopper's cart identity: a UUID v4 made in the browser and kept in localStorage. The API never
// lets anyone read a cart without it, so it is the only "login" this shop has.

import { uuidV4 } from "./uuid.js";

const STORAGE_KEY = "shopsmart.cartId";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

let memoryCartId = null; // used when storage is blocked (private mode, disabled cookies)

function readStored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return memoryCartId;
  }
}

function store(id) {
  memoryCartId = id;
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // Storage blocked: the cart lives for this page only, which is still usable.
  }
}

/** The cart id for this browser, creating (and keeping) one on first use. */
export function cartId() {
  const existing = readStored();
  if (existing && UUID_V4.test(existing)) return existing;
  const fresh = uuidV4();
  store(fresh);
  return fresh;
}

// The shop API client: one place that adds the cart id, parses JSON and turns every failure into an
// ApiError that the views can show in words.

import { API_URL } from "../config.js";
import { busyOver, retryAfterSeconds, waitWhileBusy } from "./busy.js";
import { cartId } from "./cart-id.js";

const REQUEST_TIMEOUT_MS = 15000;
/** A `busy` answer is repeated by itself this many times (each after its Retry-After) before it is shown. */
const BUSY_RETRIES = 8;

export class ApiError extends Error {
  /**
   * @param {"network"|"http"} kind network: no answer at all (safe to retry); http: the API answered.
   * @param {number} status HTTP status (0 for network errors)
   * @param {string} code the API's snake_case error code, or a local one
   */
  constructor(kind, status, code, message) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
  }

  /** True when trying again later may work (no answer, or the server/AWS failed). */
  get retryable() {
    return this.kind === "network" || this.status >= 500 || this.status === 429;
  }
}

function apiUrl(path) {
  return API_URL.replace(/\/+$/, "") + path;
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFromResponse(response, body) {
  const error = body && typeof body === "object" ? body.error : null;
  if (error && typeof error.message === "string" && error.message) {
    return new ApiError("http", response.status, String(error.code || "error"), error.message);
  }
  const message =
    response.status >= 500
      ? `The shop's server had a problem (HTTP ${response.status}). Please try again in a moment.`
      : `The shop's server refused the request (HTTP ${response.status}).`;
  return new ApiError("http", response.status, "http_" + response.status, message);
}

async function send(method, path, headers, body) {
  try {
    return await fetch(apiUrl(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      mode: "cors",
      credentials: "omit",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (cause) {
    const timedOut = cause && cause.name === "TimeoutError";
    const error = new ApiError(
      "network",
      0,
      timedOut ? "timeout" : "network_error",
      timedOut
        ? "The shop's server did not answer in time. Check your connection and try again."
        : "Could not reach the shop's server. Check your connection and try again.",
    );
    error.cause = cause;
    throw error;
  }
}

/**
 * Calls the API and returns the parsed JSON body of a 2xx answer; throws ApiError otherwise. A 503 `busy`
 * (DynamoDB throttled it; the API wrote nothing) is sent again, identical, after its Retry-After.
 * @param {string} method
 * @param {string} path starting with "/", already URL-encoded
 * @param {{body?: unknown, headers?: Record<string,string>, withCart?: boolean}} [options]
 */
export async function request(method, path, { body, headers = {}, withCart = false } = {}) {
  const allHeaders = { Accept: "application/json", ...headers };
  if (withCart) allHeaders["X-Cart-Id"] = cartId();
  if (body !== undefined) allHeaders["Content-Type"] = "application/json";
  let response;
  let parsed;
  try {
    for (let retry = 0; ; retry += 1) {
      response = await send(method, path, allHeaders, body);
      parsed = await readJson(response);
      const busy = response.status === 503 && parsed?.error?.code === "busy";
      if (!busy || retry === BUSY_RETRIES) break;
      await waitWhileBusy(retryAfterSeconds(response.headers.get("Retry-After")));
    }
  } finally {
    busyOver();
  }
  if (!response.ok) throw errorFromResponse(response, parsed);
  if (parsed === null) {
    throw new ApiError("http", response.status, "bad_response", "The shop's server sent an answer this page cannot read.");
  }
  return parsed;
}

const enc = encodeURIComponent;

export const api = {
  listProducts: (cursor) =>
    request("GET", "/products?limit=50" + (cursor ? "&cursor=" + enc(cursor) : "")),
  getProduct: (productId) => request("GET", "/products/" + enc(productId)),
  getCart: () => request("GET", "/cart", { withCart: true }),
  addToCart: (productId, qty) => request("POST", "/cart", { withCart: true, body: { productId, qty } }),
  setCartQty: (productId, qty) => request("PUT", "/cart/" + enc(productId), { withCart: true, body: { qty } }),
  removeFromCart: (productId) => request("DELETE", "/cart/" + enc(productId), { withCart: true }),
  checkout: (idempotencyKey) =>
    request("POST", "/checkout", { withCart: true, headers: { "Idempotency-Key": idempotencyKey } }),
  getOrder: (orderId) => request("GET", "/orders/" + enc(orderId), { withCart: true }),
};

// Money is integer cents end to end. Formatting hands Intl an exact decimal string built with integer
// arithmetic, so no binary floating point ever touches an amount.

const formatters = new Map();

function formatterFor(currency) {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat(navigator.languages, { style: "currency", currency });
    formatters.set(currency, formatter);
  }
  return formatter;
}

/** "1234" cents → "12.34" (exact decimal string; the API's currencies have two minor digits). */
export function centsToDecimalString(cents) {
  if (!Number.isSafeInteger(cents)) throw new TypeError(`amount is not integer cents: ${cents}`);
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const major = Math.trunc(abs / 100);
  const minor = String(abs % 100).padStart(2, "0");
  return `${sign}${major}.${minor}`;
}

/** Formats integer cents for display, e.g. formatCents(1250, "USD") → "$12.50". */
export function formatCents(cents, currency = "USD") {
  if (!Number.isSafeInteger(cents)) return "—";
  // Intl.NumberFormat.format accepts decimal strings exactly (ECMA-402 NumberFormat v3).
  return formatterFor(currency).format(centsToDecimalString(cents));
}

/** Sums integer cents; refuses anything that is not an integer rather than guessing. */
export function sumCents(amounts) {
  let total = 0;
  for (const amount of amounts) {
    if (!Number.isSafeInteger(amount)) throw new TypeError(`amount is not integer cents: ${amount}`);
    total += amount;
  }
  return total;
}

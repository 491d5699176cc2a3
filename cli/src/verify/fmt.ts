/**
 * `n.toLocaleString("en-US")` for the report's counts, without loading ICU's number formatting
 * (its first call costs tens of milliseconds, a visible share of verifying a bundle in < 0.5 s).
 * Safe non-negative integers are grouped by hand ("1,234,567", exactly what en-US gives); any
 * other number goes to toLocaleString itself.
 */
export function fmt(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) return n.toLocaleString("en-US");
  const s = String(n);
  let out = "";
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ",";
    out += s[i];
  }
  return out;
}

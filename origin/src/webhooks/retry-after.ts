/**
 * The wait a receiver asked for with Retry-After (RFC 9110 §10.2.3) on a 429 (RFC 6585) or a 503,
 * in milliseconds from `now`, or null when it asked for none we can read. Either form: delay
 * seconds (`120`) or an HTTP-date. Other statuses' Retry-After is not a request to slow down and is
 * ignored, as is a value that does not parse. A date in the past is no wait (0).
 */
export function retryAfterMs(status: number | null, header: string | null, now: Date): number | null {
  if ((status !== 429 && status !== 503) || header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only the IMF-fixdate (and the obsolete forms Date.parse also reads) names a weekday and "GMT":
  // a bare number or word that Date.parse happens to accept is not an HTTP-date.
  if (!/GMT$/.test(value)) return null;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

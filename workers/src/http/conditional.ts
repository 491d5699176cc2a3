/** One entity tag of an If-None-Match list: weak or strong, quoted. */
const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

/** Weak comparison (RFC 9110 §8.8.3.2), the one If-None-Match uses: the W/ prefix does not count. */
const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/**
 * Whether a GET or HEAD may be answered 304 (RFC 9110 §13.1.2): `*` or a tag in If-None-Match
 * matching `etag`. Weak comparison, because an intermediary that compresses the body (Cloudflare
 * does) turns the strong tag it forwards into a weak one. If-Modified-Since is deliberately not
 * honoured: Last-Modified has whole seconds, and a CRL or OCSP response re-signed for a revocation
 * within the same second as the one a client holds would hide behind the date (RFC 9110 §8.8.2.2);
 * a 200 costs a body, a 304 there costs a missed revocation.
 */
export function notModified(headers: Headers, etag: string): boolean {
  const inm = headers.get("if-none-match");
  return inm !== null && (inm.trim() === "*" || (inm.match(ENTITY_TAG) ?? []).some((t) => opaque(t) === opaque(etag)));
}

/** A strong ETag for a representation's bytes: the first 128 bits of their SHA-256, hex. */
export async function strongEtag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

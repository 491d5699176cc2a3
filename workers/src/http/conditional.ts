/** One entity tag of an If-None-Match list: weak or strong, quoted. */
const ENTITY_TAG = /(?:W\/)?"[^"]*"/g;

/** Weak comparison (RFC 9110 §8.8.3.2), the one If-None-Match uses: the W/ prefix does not count. */
const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/**
 * Whether a GET or HEAD may be answered 304 (RFC 9110 §13.1.2, §13.1.3, §13.2.2): If-None-Match,
 * when present, decides alone (`*` or a tag matching `etag`); only without it does If-Modified-Since
 * count, and only when it is a valid date. Weak comparison, because an intermediary that compresses
 * the body (Cloudflare does) turns the strong tag it forwards into a weak one.
 */
export function notModified(headers: Headers, etag: string, lastModified?: Date): boolean {
  const inm = headers.get("if-none-match");
  if (inm !== null) return inm.trim() === "*" || (inm.match(ENTITY_TAG) ?? []).some((t) => opaque(t) === opaque(etag));
  const ims = headers.get("if-modified-since");
  if (ims === null || lastModified === undefined) return false;
  const since = Date.parse(ims);
  // Last-Modified is sent in whole seconds: compare what the client could have seen. Two versions
  // made within one second share it (RFC 9110 §8.8.2.2), so a client that revalidates by date alone
  // may keep the first; If-None-Match, which every 200 enables (ETag), has no such blind spot.
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/** A strong ETag for a representation's bytes: the first 128 bits of their SHA-256, hex. */
export async function strongEtag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

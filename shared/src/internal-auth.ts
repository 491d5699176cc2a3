/**
 * Signed internal calls between origin and edge (both ways). HMAC-SHA256 with a shared secret over
 * method, path, timestamp, nonce and the body's SHA-256, sent in three headers. The receiver
 * refuses a missing or wrong signature, a timestamp outside ±MAX_SKEW_S, and a nonce it has seen
 * (replay). Web Crypto only, so the same code runs in workerd and Node.
 */
export const SIG_HEADER = "kakunin-signature";
export const TS_HEADER = "kakunin-timestamp";
export const NONCE_HEADER = "kakunin-nonce";
export const MAX_SKEW_S = 300;

const enc = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export async function sha256Hex(data: Uint8Array<ArrayBuffer> | string): Promise<string> {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}

function hmacKey(secret: string) {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function canonical(method: string, path: string, ts: string, nonce: string, bodyHash: string): string {
  return `${method.toUpperCase()}\n${path}\n${ts}\n${nonce}\n${bodyHash}`;
}

/** Headers to attach to an internal request. `path` includes the query string, if any. */
export async function signInternal(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array<ArrayBuffer> | string,
  now: Date = new Date(),
): Promise<Record<string, string>> {
  const ts = String(Math.floor(now.getTime() / 1000));
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(canonical(method, path, ts, nonce, await sha256Hex(body))));
  return { [SIG_HEADER]: toHex(mac), [TS_HEADER]: ts, [NONCE_HEADER]: nonce };
}

export type InternalAuthFailure = "missing" | "stale" | "bad-signature";

/**
 * Checks signature and freshness. Replay (a nonce seen before) is the caller's check, since it
 * needs shared state; the nonce is returned for it.
 */
export async function verifyInternal(
  secret: string,
  method: string,
  path: string,
  body: Uint8Array<ArrayBuffer> | string,
  headers: { get(name: string): string | null },
  now: Date = new Date(),
): Promise<{ ok: true; nonce: string; timestamp: number } | { ok: false; error: InternalAuthFailure; skewS?: number }> {
  const sig = headers.get(SIG_HEADER);
  const ts = headers.get(TS_HEADER);
  const nonce = headers.get(NONCE_HEADER);
  if (!sig || !ts || !nonce || !/^[0-9a-f]{64}$/.test(sig) || !/^\d{1,12}$/.test(ts) || !/^[0-9a-f]{32}$/.test(nonce)) {
    return { ok: false, error: "missing" };
  }
  const t = Number(ts);
  // Positive skew: the caller's clock is ahead of ours.
  if (Math.abs(now.getTime() / 1000 - t) > MAX_SKEW_S) return { ok: false, error: "stale", skewS: Math.round(t - now.getTime() / 1000) };
  const macBytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) macBytes[i] = parseInt(sig.slice(i * 2, i * 2 + 2), 16);
  // crypto.subtle.verify compares in constant time.
  const good = await crypto.subtle.verify("HMAC", await hmacKey(secret), macBytes, enc.encode(canonical(method, path, ts, nonce, await sha256Hex(body))));
  return good ? { ok: true, nonce, timestamp: t } : { ok: false, error: "bad-signature" };
}

/**
 * The sentence a refused internal call is answered (and logged) with. A timestamp outside the
 * window is almost always clock skew between origin and edge, so it is named with its size and
 * direction instead of a bare "unauthorized".
 */
export function internalAuthMessage(f: { error: InternalAuthFailure | "replayed"; skewS?: number }): string {
  switch (f.error) {
    case "stale": {
      const s = f.skewS ?? 0;
      return `Internal call refused: clock skew: the caller's timestamp is ${Math.abs(s)} s ${s >= 0 ? "ahead of" : "behind"} this server's clock ` +
        `(allowed ±${MAX_SKEW_S} s); synchronise the origin's and the edge's clocks (NTP).`;
    }
    case "missing":
      return "Internal call refused: missing or malformed signature headers.";
    case "bad-signature":
      return "Internal call refused: bad signature (is KAKUNIN_EDGE_SECRET the same at the origin and the edge?).";
    case "replayed":
      return "Internal call refused: replayed nonce.";
  }
}

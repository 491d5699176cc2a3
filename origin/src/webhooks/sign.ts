import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Signatures in the Standard Webhooks style (standardwebhooks.com): HMAC-SHA256, keyed with the
 * endpoint's secret, over `{webhook-id}.{webhook-timestamp}.{body}`, sent base64 as
 * `webhook-signature: v1,<sig>`, with the key's id in `webhook-signature-key-id` so a receiver can
 * hold two secrets during a rotation. The id is the CloudEvents id (dedupe on it); the timestamp
 * bounds replays (receivers refuse one older than their tolerance, 5 minutes by convention).
 */
export const SECRET_PREFIX = "whsec_";

export function newSecret(): { secret: string; keyId: string } {
  return { secret: SECRET_PREFIX + randomBytes(32).toString("base64"), keyId: `whk_${randomBytes(8).toString("hex")}` };
}

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
}

export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return "v1," + createHmac("sha256", key(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
}

/** The receiver's check (documented in docs/alerts-and-review.md; used by the tests and the CLI). */
export function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, ts, body));
  return headers.signature.split(" ").some((s) => {
    const got = Buffer.from(s);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

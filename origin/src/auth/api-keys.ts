import { createHash, randomBytes } from "node:crypto";

export type Role = "admin" | "issuer" | "auditor";
export const ROLES: readonly Role[] = ["admin", "issuer", "auditor"];

const KEY_PREFIX = "kk_";
/** Agent credentials look different from tenant API keys at a glance (and to secret scanners). */
export const AGENT_CREDENTIAL_PREFIX = "kka_";

/** A new API key: 256 random bits, base64url, with a recognisable prefix (for secret scanners). */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** A new agent credential: 256 random bits like an API key, prefixed `kka_`. */
export function generateAgentCredential(): string {
  return AGENT_CREDENTIAL_PREFIX + randomBytes(32).toString("base64url");
}

/**
 * Keys are stored as SHA-256. A fast hash is right here: keys are random 256-bit secrets, not
 * passwords, so there is nothing to brute-force (GitHub and Stripe tokens are handled the same way).
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * What a listing (and the `api_key.created` audit entry) shows of a key: enough to tell keys apart,
 * useless to an attacker. Ten characters of a generated key are its scheme and 42 of its 256 random
 * bits; a KAKUNIN_ADMIN_KEY is chosen by an operator and may be only 16 characters, so no key shows
 * more than a quarter of itself.
 */
export function keyPrefix(key: string): string {
  return key.slice(0, Math.min(10, Math.floor(key.length / 4)));
}

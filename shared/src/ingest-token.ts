/**
 * Ingest tokens: short-lived bearer tokens an agent uses to post events. The origin mints them,
 * the edge verifies them without calling the origin: `kit1.<payload b64url>.<HMAC-SHA256 b64url>`,
 * keyed with the origin ⇄ edge secret under a distinct label so a token can never pass for an
 * internal-call signature. The payload names the agent and the certificate it was minted under:
 * once that certificate is revoked or replaced, the edge refuses the token; and the agent
 * credential or API key that minted it: once that is revoked, too.
 */
export interface IngestTokenClaims {
  agent_id: string;
  tenant_id: string;
  /** Serial of the agent's active certificate at minting time. */
  serial: string;
  /** Issued-at and expiry, epoch seconds. */
  iat: number;
  exp: number;
  /** Unique id, for audit. */
  jti: string;
  /**
   * The agent credential that minted the token (absent when an API key did): once it is revoked,
   * the agent's record at the edge lists it and the edge refuses its tokens.
   */
  cred?: string;
  /**
   * The API key that minted the token (absent when an agent credential did, and on tokens from
   * before 2026-12-07): once it is revoked, the record of every agent it minted for lists it too.
   */
  key?: string;
}

const PREFIX = "kit1";
const LABEL = "kakunin ingest token v1\n";
const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  try {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function key(secret: string) {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function mintIngestToken(secret: string, claims: IngestTokenClaims): Promise<string> {
  const payload = b64url(enc.encode(JSON.stringify(claims)));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(LABEL + payload)));
  return `${PREFIX}.${payload}.${b64url(mac)}`;
}

export type IngestTokenFailure = "malformed" | "bad-signature" | "expired";

export async function verifyIngestToken(
  secret: string,
  token: string,
  now: Date = new Date(),
): Promise<{ ok: true; claims: IngestTokenClaims } | { ok: false; error: IngestTokenFailure }> {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX || parts[1]!.length > 2048) return { ok: false, error: "malformed" };
  const mac = fromB64url(parts[2]!);
  if (!mac || mac.length !== 32) return { ok: false, error: "malformed" };
  const good = await crypto.subtle.verify("HMAC", await key(secret), mac, enc.encode(LABEL + parts[1]!));
  if (!good) return { ok: false, error: "bad-signature" };
  const raw = fromB64url(parts[1]!);
  let claims: IngestTokenClaims;
  try {
    claims = JSON.parse(new TextDecoder().decode(raw)) as IngestTokenClaims;
  } catch {
    return { ok: false, error: "malformed" };
  }
  if (
    typeof claims.exp !== "number" ||
    typeof claims.agent_id !== "string" ||
    typeof claims.serial !== "string" ||
    (claims.cred !== undefined && typeof claims.cred !== "string") ||
    (claims.key !== undefined && typeof claims.key !== "string")
  ) {
    return { ok: false, error: "malformed" };
  }
  if (now.getTime() / 1000 >= claims.exp) return { ok: false, error: "expired" };
  return { ok: true, claims };
}

import { bufferSource, bytesEqual, toBase64 } from "./base64.ts";
import { isInnerList, parseDictionary } from "./structured-fields.ts";

async function sha256(body: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bufferSource(body)));
}

/** `Content-Digest` per RFC 9530: `sha-256=:<base64>:`, over the exact body bytes (empty body too). */
export async function contentDigest(body: Uint8Array): Promise<string> {
  return `sha-256=:${toBase64(await sha256(body))}:`;
}

export type DigestCheck = { ok: true } | { ok: false; error: string };

/** Checks the `sha-256` member of a `Content-Digest` field against the body actually received. */
export async function checkContentDigest(field: string | undefined, body: Uint8Array): Promise<DigestCheck> {
  if (field === undefined) return { ok: false, error: "Content-Digest is missing" };
  const dict = parseDictionary(field);
  const member = dict?.get("sha-256");
  if (!member || isInnerList(member) || !(member.value instanceof Uint8Array)) {
    return { ok: false, error: "Content-Digest has no sha-256 byte sequence" };
  }
  return bytesEqual(member.value, await sha256(body)) ? { ok: true } : { ok: false, error: "Content-Digest does not match the body" };
}

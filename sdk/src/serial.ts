/**
 * Serial numbers as the edge accepts them: hex, at most 20 octets. Upper case and colons (as
 * `openssl x509 -serial` and many tools print them) are normalised to the canonical lowercase form,
 * so one agent never gets two cache entries. The one definition: the edge's GET /v1/verify/:serial
 * uses `canonicalSerial` from here (through `@kakunin/verify/rules`).
 */
export function canonicalSerial(raw: string): string | undefined {
  const s = raw.replace(/:/g, "").toLowerCase();
  return /^[0-9a-f]{1,40}$/.test(s) ? s : undefined;
}

/** `canonicalSerial` of a value read from a header or a file: surrounding whitespace is ignored. */
export function normaliseSerial(raw: string): string | undefined {
  return canonicalSerial(raw.trim());
}

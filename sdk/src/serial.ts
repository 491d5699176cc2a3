/**
 * Serial numbers as the edge accepts them: hex, at most 20 octets. Upper case and colons (as
 * `openssl x509 -serial` and many tools print them), a sign-padding `00` octet and a missing
 * leading zero digit are normalised to the canonical form (lowercase, whole octets, no padding),
 * so one agent never gets two cache entries. The one definition: the edge's GET /v1/verify/:serial
 * uses `canonicalSerial` from here (through `@kakunin/verify/rules`).
 */
export function canonicalSerial(raw: string): string | undefined {
  let s = raw.replace(/:/g, "").toLowerCase();
  // Zero is no serial (RFC 5280: a positive INTEGER).
  if (!/^[0-9a-f]{1,64}$/.test(s) || /^0+$/.test(s)) return undefined;
  // One number, one key. A serial is a positive INTEGER, and tools write it in more than one way:
  // DER's sign-padding octet (`00` before a first octet ≥ 0x80, as the raw content octets read),
  // or without a leading zero digit (Go's big.Int, Python's int). Both are the stored form (whole
  // octets, no padding) once normalised; Kakunin's own serials are 16 octets starting 0x40–0x7f,
  // which neither rule changes.
  if (s.length % 2 === 1) s = `0${s}`;
  s = s.replace(/^(00)+(?=[0-9a-f]{2})/, "");
  return s.length <= 40 ? s : undefined;
}

/** `canonicalSerial` of a value read from a header or a file: surrounding whitespace is ignored. */
export function normaliseSerial(raw: string): string | undefined {
  return canonicalSerial(raw.trim());
}

/** Value start and end of the DER TLV at `at` (definite lengths only, as DER requires). */
function tlvAt(der: Uint8Array, at: number, tag: number): { start: number; end: number } {
  if (der[at] !== tag) throw new Error(`invalid SubjectPublicKeyInfo: expected tag 0x${tag.toString(16)} at ${at}`);
  let len = der[at + 1] ?? 0;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3) throw new Error("invalid SubjectPublicKeyInfo: bad length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  const end = start + len;
  if (end > der.length) throw new Error("invalid SubjectPublicKeyInfo: truncated");
  return { start, end };
}

/**
 * The subjectPublicKey BIT STRING's bits (without the unused-bits octet) of a DER
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }:
 * what RFC 5280 §4.2.1.2 method 1 hashes into a key identifier. Read in place: the issuance path
 * needs only these bytes, not a parsed key object.
 */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = tlvAt(spki, 0, 0x30);
  const alg = tlvAt(spki, outer.start, 0x30);
  const bits = tlvAt(spki, alg.end, 0x03);
  if (bits.end !== outer.end) throw new Error("invalid SubjectPublicKeyInfo: trailing data");
  return spki.subarray(bits.start + 1, bits.end);
}

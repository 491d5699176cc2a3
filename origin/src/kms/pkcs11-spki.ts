/**
 * DER SubjectPublicKeyInfo for an RSA key from the token's CKA_MODULUS / CKA_PUBLIC_EXPONENT.
 * Hand-rolled because it is three fixed structures, and @peculiar/asn1-rsa is not a dependency
 * of origin (only transitively installed).
 */

// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, as RFC 3279 requires.
const RSA_ENCRYPTION_ALGORITHM = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);

function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.from([0x80 | bytes.length, ...bytes]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(tag), derLength(content.length), content]);
}

/** A non-negative INTEGER from big-endian magnitude bytes: minimal, with a 0x00 if the top bit is set. */
function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const first = trimmed[0] ?? 0;
  const body = first & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed.length ? trimmed : Uint8Array.of(0);
  return tlv(0x02, body);
}

/** Bit length of a big-endian unsigned magnitude (leading zero bytes ignored). */
export function bitLength(magnitude: Uint8Array): number {
  for (let i = 0; i < magnitude.length; i++) {
    const b = magnitude[i] ?? 0;
    if (b !== 0) return (magnitude.length - i) * 8 - Math.clz32(b) + 24;
  }
  return 0;
}

export function rsaSpkiFromComponents(modulus: Uint8Array, publicExponent: Uint8Array): Uint8Array {
  const rsaPublicKey = tlv(0x30, concat([derUnsignedInteger(modulus), derUnsignedInteger(publicExponent)]));
  // BIT STRING content starts with the count of unused bits, always 0 here.
  const subjectPublicKey = tlv(0x03, concat([Uint8Array.of(0), rsaPublicKey]));
  return tlv(0x30, concat([RSA_ENCRYPTION_ALGORITHM, subjectPublicKey]));
}

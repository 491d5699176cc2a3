import { webcrypto } from "node:crypto";

/**
 * A certificate serial: 16 random octets (127 bits of randomness, CA/B BR asks for ≥ 64), the top
 * bit cleared so the DER INTEGER is positive without a pad octet and bit 6 set so there is never a
 * leading zero octet: every serial is exactly 32 lowercase hex digits, as stored and as printed by
 * `openssl x509 -serial` (modulo case).
 */
export function newSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x40;
  return Buffer.from(b).toString("hex");
}

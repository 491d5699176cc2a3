import type { OcspCertId } from "@kakunin/shared";
import { Bad, kids, singleResponses, type Tlv } from "./response-reader.ts";

/**
 * The CertIDs a pre-signed OCSP response answers for (RFC 6960 §4.1.1: hash algorithm, issuer
 * name hash, issuer key hash, serial), as `certIdKey` strings. A request is answered with the
 * response only when its CertID is one of these: the same serial asked under another CA's name
 * or key is another certificate (RFC 5019 §2.2.3: unauthorized). Kakunin's responses carry one
 * CertID each (SHA-1 in ocsp_b64, SHA-256 in ocsp_sha256_b64; origins before 2026-12-07 put both
 * in the one ocsp_b64 response). Undefined when the bytes do not parse.
 */
export function responseCertIds(der: Uint8Array): ReadonlySet<string> | undefined {
  try {
    const out = new Set<string>();
    for (const single of singleResponses(der)) {
      const id = certIdOf(der, single[0]);
      if (id) out.add(certIdKey(id));
    }
    return out;
  } catch {
    return undefined;
  }
}

/** One string per CertID; hashes and serial are lowercase hex, the serial without a 00 pad. */
export function certIdKey(id: OcspCertId): string {
  return `${id.hashAlgorithm}:${id.issuerNameHash}:${id.issuerKeyHash}:${id.serial}`;
}

// The hash algorithm OIDs' DER contents (1.3.14.3.2.26, 2.16.840.1.101.3.4.2.1).
const HASHES: Record<string, "sha1" | "sha256"> = { "2b0e03021a": "sha1", "608648016503040201": "sha256" };

const hex = (b: Uint8Array, t: Tlv): string => {
  let s = "";
  for (let i = t.start; i < t.end; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
};

/** CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash, issuerKeyHash OCTET STRING, serialNumber INTEGER } */
function certIdOf(der: Uint8Array, t: Tlv | undefined): OcspCertId | undefined {
  if (t?.tag !== 0x30) throw new Bad();
  const [alg, name, key, serial] = kids(der, t);
  if (alg?.tag !== 0x30 || name?.tag !== 0x04 || key?.tag !== 0x04 || serial?.tag !== 0x02 || serial.end === serial.start) throw new Bad();
  const oid = kids(der, alg)[0];
  if (oid?.tag !== 0x06) throw new Bad();
  const hashAlgorithm = HASHES[hex(der, oid)];
  // A CertID hashed some other way can never match a request (those parse as "other").
  if (!hashAlgorithm) return undefined;
  return { hashAlgorithm, issuerNameHash: hex(der, name), issuerKeyHash: hex(der, key), serial: hex(der, serial).replace(/^(00)+(?=..)/, "") };
}

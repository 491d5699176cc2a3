import { fromBase64, toHex } from "./base64.ts";

/** One DER element: its tag, where its contents start and end, and where the whole TLV ends. */
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Reads the TLV at `offset`; `undefined` when it runs past `limit` or uses a form DER forbids. */
function readTlv(der: Uint8Array, offset: number, limit: number): Tlv | undefined {
  const tag = der[offset];
  let first = der[offset + 1];
  if (tag === undefined || first === undefined || (tag & 0x1f) === 0x1f) return undefined;
  let pos = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    // Indefinite lengths (0x80) are BER, not DER; four octets is already 4 GiB.
    if (count === 0 || count > 4) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) {
      first = der[pos++];
      if (first === undefined) return undefined;
      length = length * 256 + first;
    }
  }
  const end = pos + length;
  return end <= limit ? { tag, start: offset, contentStart: pos, end } : undefined;
}

function children(der: Uint8Array, parent: Tlv): Tlv[] | undefined {
  const out: Tlv[] = [];
  for (let pos = parent.contentStart; pos < parent.end; ) {
    const child = readTlv(der, pos, parent.end);
    if (!child) return undefined;
    out.push(child);
    pos = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const VERSION = 0xa0;

export type CertificateParts = { ok: true; spki: Uint8Array; serial: string } | { ok: false; error: string };

/**
 * Just enough X.509 (RFC 5280 §4.1) to check a signature: the SubjectPublicKeyInfo, for
 * `crypto.subtle.importKey("spki", ...)`, and the serial number, to tie the key to the serial.
 * Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?, serialNumber INTEGER,
 * signature, issuer, validity, subject, subjectPublicKeyInfo, ... }, ... }
 */
export function certificateParts(pem: string): CertificateParts {
  const b64 = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem)?.[1]?.replace(/\s+/g, "");
  const der = b64 === undefined ? undefined : fromBase64(b64);
  if (!der) return { ok: false, error: "certificate_pem is not a PEM certificate" };
  const cert = readTlv(der, 0, der.length);
  if (!cert || cert.tag !== SEQUENCE) return { ok: false, error: "certificate is not a DER SEQUENCE" };
  const tbs = children(der, cert)?.[0];
  if (!tbs || tbs.tag !== SEQUENCE) return { ok: false, error: "certificate has no tbsCertificate" };
  const fields = children(der, tbs);
  if (!fields) return { ok: false, error: "tbsCertificate is not well-formed DER" };
  const rest = fields[0]?.tag === VERSION ? fields.slice(1) : fields;
  const [serial, , , , , spki] = rest;
  if (!serial || serial.tag !== INTEGER || !spki || spki.tag !== SEQUENCE) return { ok: false, error: "tbsCertificate lacks a serial number or subjectPublicKeyInfo" };
  const serialHex = toHex(der.subarray(serial.contentStart, serial.end)).replace(/^(00)+(?=.)/, "");
  return { ok: true, spki: der.slice(spki.start, spki.end), serial: serialHex };
}

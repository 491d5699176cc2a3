import { bitString, concat, hexInteger, seq, sha256WithRsa, time, tlv } from "./crl.ts";

/** [0] EXPLICIT Version v3 (INTEGER 2). */
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);

const bytes = (der: ArrayBuffer | Uint8Array): Uint8Array => (der instanceof Uint8Array ? der : new Uint8Array(der));

export interface TbsInput {
  serialHex: string;
  issuerDer: ArrayBuffer;
  subjectDer: ArrayBuffer;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Uint8Array;
  extensionsDer: ArrayBuffer[];
}

/**
 * DER TBSCertificate (RFC 5280 §4.1), concatenated by hand like the CRL and OCSP encoders. Names,
 * the SPKI and extensions are already DER and land byte for byte (no parse and re-encode on every
 * issuance). @peculiar/x509's generator re-encodes extensions through asn1-schema, which corrupts
 * OIDs with arcs above 2^53 (our 2.25 UUID OID), so the CA builds the TBS itself and signs exactly
 * these bytes.
 */
export function encodeTbs(t: TbsInput): Uint8Array {
  return seq(
    VERSION_V3,
    hexInteger(t.serialHex),
    sha256WithRsa(),
    bytes(t.issuerDer),
    seq(time(t.notBefore), time(t.notAfter)),
    bytes(t.subjectDer),
    t.spkiDer,
    tlv(0xa3, seq(concat(t.extensionsDer.map(bytes)))),
  );
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
export function encodeCertificate(tbsDer: Uint8Array, signature: Uint8Array): Uint8Array {
  return seq(tbsDer, sha256WithRsa(), bitString(signature));
}

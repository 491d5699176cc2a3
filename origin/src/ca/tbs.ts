import * as asn1js from "asn1js";

/** sha256WithRSAEncryption, parameters NULL (RFC 4055 §5). */
const SHA256_RSA = "1.2.840.113549.1.1.11";

function algorithmIdentifier(): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: SHA256_RSA }), new asn1js.Null()] });
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(d: Date): asn1js.UTCTime | asn1js.GeneralizedTime {
  return d.getUTCFullYear() < 2050 ? new asn1js.UTCTime({ valueDate: d }) : new asn1js.GeneralizedTime({ valueDate: d });
}

/** Embeds already-encoded DER (a Name, an SPKI, an Extension) as-is. */
function raw(der: ArrayBuffer | Uint8Array): asn1js.AsnType {
  const buf = der instanceof Uint8Array ? der.slice().buffer : der;
  const parsed = asn1js.fromBER(buf);
  if (parsed.offset === -1) throw new Error("invalid DER embedded in TBSCertificate");
  return parsed.result;
}

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
 * DER TBSCertificate (RFC 5280 §4.1), assembled with asn1js. @peculiar/x509's generator re-encodes
 * extensions through asn1-schema, which corrupts OIDs with arcs above 2^53 (our 2.25 UUID OID);
 * asn1js encodes them correctly, so the CA builds the TBS itself and signs exactly these bytes.
 */
export function encodeTbs(t: TbsInput): Uint8Array {
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [new asn1js.Integer({ value: 2 })] }),
      new asn1js.Integer({ valueHex: Buffer.from(t.serialHex, "hex") }),
      algorithmIdentifier(),
      raw(t.issuerDer),
      new asn1js.Sequence({ value: [time(t.notBefore), time(t.notAfter)] }),
      raw(t.subjectDer),
      raw(t.spkiDer),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 3 },
        value: [new asn1js.Sequence({ value: t.extensionsDer.map(raw) })],
      }),
    ],
  });
  return new Uint8Array(tbs.toBER(false));
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }. */
export function encodeCertificate(tbsDer: Uint8Array, signature: Uint8Array): Uint8Array {
  const cert = new asn1js.Sequence({
    value: [raw(tbsDer), algorithmIdentifier(), new asn1js.BitString({ valueHex: signature.slice().buffer, unusedBits: 0 })],
  });
  return new Uint8Array(cert.toBER(false));
}

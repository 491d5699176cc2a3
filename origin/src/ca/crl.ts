import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import { err, ok, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import { signVerified } from "../kms/verified-sign.ts";
import type { LoadedAuthority } from "./authority.ts";
import type { CrlReason } from "@kakunin/shared";
import { x509 } from "./x509.ts";

/**
 * RFC 5280 §5.3.1 CRLReason codes. 7 is unassigned, so the code is not the index in CRL_REASONS:
 * map by name. certificateHold stays mapped only for certificates revoked with it before the API
 * refused it (REVOCATION_REASONS): their stored code must still encode.
 */
export const CRL_REASON_CODE: Readonly<Record<CrlReason, number>> = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4,
  cessationOfOperation: 5, certificateHold: 6, privilegeWithdrawn: 9, aACompromise: 10,
};

const SHA256_RSA = "1.2.840.113549.1.1.11";
const OID_AUTHORITY_KEY_ID = "2.5.29.35";
const OID_CRL_NUMBER = "2.5.29.20";
const OID_REASON_CODE = "2.5.29.21";
const OID_ISSUING_DISTRIBUTION_POINT = "2.5.29.28";

// --- Minimal DER assembly, shared with ocsp.ts. -----------------------------------------------
// Composite values are concatenated by hand rather than through asn1js so that embedded DER (the
// issuer Name taken from the certificate, a whole Certificate) lands byte for byte; asn1js only
// encodes leaf values (INTEGER, OID, times), which it does correctly for every OID we use.

function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One TLV: `tag` is the full identifier octet (0x30 SEQUENCE, 0xa0 [0] constructed, ...). */
export function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([Uint8Array.of(tag), lengthOctets(body.length), body]);
}

export const seq = (...content: Uint8Array[]): Uint8Array => tlv(0x30, ...content);
export const octetString = (v: Uint8Array): Uint8Array => tlv(0x04, v);

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** DER of a leaf value built with asn1js. */
export const der = (v: asn1js.BaseBlock): Uint8Array => new Uint8Array(v.toBER(false));

export const oid = (dotted: string): Uint8Array => der(new asn1js.ObjectIdentifier({ value: dotted }));

/** Positive INTEGER from hex: a 00 pad if the high bit is set (Kakunin serials never need one). */
export function hexInteger(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`not a hex serial: ${hex}`);
  const bytes = fromHex(hex.length % 2 ? `0${hex}` : hex);
  return tlv(0x02, bytes[0]! & 0x80 ? concat([Uint8Array.of(0), bytes]) : bytes);
}

export const fromHex = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

/** sha256WithRSAEncryption with NULL parameters (RFC 4055 §5), as in certificates. */
export const sha256WithRsa = (): Uint8Array => seq(oid(SHA256_RSA), Uint8Array.of(0x05, 0x00));

/** Whole seconds: RFC 5280 §4.1.2.5.2 and RFC 5019 §2.2.4 forbid fractional seconds. */
export const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

export const bitString = (v: Uint8Array): Uint8Array => tlv(0x03, Uint8Array.of(0), v);

export function extension(oidDotted: string, value: Uint8Array, critical = false): Uint8Array {
  // critical FALSE is the DEFAULT, so DER omits it.
  return critical ? seq(oid(oidDotted), Uint8Array.of(0x01, 0x01, 0xff), octetString(value)) : seq(oid(oidDotted), octetString(value));
}

/**
 * RFC 5280 §5.2.5 Issuing Distribution Point, critical: distributionPoint [0] { fullName [0] {
 * uniformResourceIdentifier [6] uri } } and onlyContainsUserCerts [1] TRUE. The CRL's scope is then
 * the certificates whose CRL Distribution Point names `uri` (a relying party matches the two names),
 * which is what lets one issuer publish several small CRLs instead of one unbounded one.
 */
export function issuingDistributionPoint(uri: string): Uint8Array {
  const name = tlv(0x86, new TextEncoder().encode(uri));
  return extension(OID_ISSUING_DISTRIBUTION_POINT, seq(tlv(0xa0, tlv(0xa0, name)), Uint8Array.of(0x81, 0x01, 0xff)), true);
}

/** RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050 (same rule as certificates). */
export function time(d: Date): Uint8Array {
  const s = wholeSeconds(d);
  return der(s.getUTCFullYear() < 2050 ? new asn1js.UTCTime({ valueDate: s }) : new asn1js.GeneralizedTime({ valueDate: s }));
}

/**
 * The issuer's subject Name and subjectPublicKey BIT STRING value, as bytes sliced out of its
 * certificate: a rebuilt Name could differ in string type or ordering, and relying parties match
 * a CRL's issuer and an OCSP CertID's name hash against the certificate's exact encoding.
 */
export function issuerParts(issuer: LoadedAuthority): { subjectDer: Uint8Array; publicKeyBits: Uint8Array } {
  const parsed = asn1js.fromBER(new Uint8Array(issuer.cert.rawData));
  const tbs = childrenOf(childrenOf(parsed.result)[0]);
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, spki, ...
  const hasVersion = tbs[0]?.idBlock.tagClass === 3;
  const subject = tbs[hasVersion ? 5 : 4];
  const spki = childrenOf(tbs[hasVersion ? 6 : 5]);
  const bits = spki[1];
  if (!subject || !(bits instanceof asn1js.BitString)) throw new Error("issuing CA certificate is not a Certificate");
  return { subjectDer: subject.valueBeforeDecodeView.slice(), publicKeyBits: bits.valueBlock.valueHexView.slice() };
}

function childrenOf(b: asn1js.AsnType | undefined): asn1js.AsnType[] {
  if (!(b instanceof asn1js.Constructed)) throw new Error("issuing CA certificate is not a Certificate");
  return b.valueBlock.value;
}

/** RFC 5280 §4.2.1.2 method 1, the same key identifier as the issuer certificate's SKI. */
export const sha1 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha1").update(b).digest());
export const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash("sha256").update(b).digest());

// --- The CRL. ----------------------------------------------------------------------------------

export interface RevokedEntry { serial: string; revokedAt: Date; reasonCode: CrlReason }

export interface CrlInput {
  /** Monotonic per issuer (RFC 5280 §5.2.3); at most 20 octets. */
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: RevokedEntry[];
  /**
   * A partitioned CRL: its Issuing Distribution Point URI (the same URI the certificates in its
   * scope carry as CRL Distribution Point). Absent: a full CRL of everything the issuer revoked.
   */
  distributionPoint?: string;
}

function revokedEntry(r: RevokedEntry): Uint8Array {
  const code = CRL_REASON_CODE[r.reasonCode];
  // RFC 5280 §5.3.1: "the reason code CRL entry extension SHOULD be absent instead of using the
  // unspecified (0) reasonCode value".
  const exts = code === 0 ? [] : [seq(extension(OID_REASON_CODE, der(new asn1js.Enumerated({ value: code }))))];
  return seq(hexInteger(r.serial), time(r.revokedAt), ...exts);
}

/**
 * An X.509 v2 CRL (RFC 5280 §5) in DER, signed by the issuing CA with exactly one KeyManager call.
 * Entries are sorted by serial so the same input always yields the same bytes.
 */
export async function buildCrl(
  keys: KeyManager,
  issuer: LoadedAuthority,
  input: CrlInput,
): Promise<Result<Uint8Array, KeyManagerError>> {
  if (input.crlNumber < 0n) throw new Error("CRL number must be non-negative");
  const { subjectDer, publicKeyBits } = issuerParts(issuer);
  // AKI must equal the issuer's SKI as written in its certificate; method 1 is the fallback.
  const ski = issuer.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const keyId = ski ? fromHex(ski) : sha1(publicKeyBits);
  const entries = [...input.revoked].sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
  const crlExtensions = [
    extension(OID_AUTHORITY_KEY_ID, seq(tlv(0x80, keyId))), // keyIdentifier [0] IMPLICIT
    extension(OID_CRL_NUMBER, der(asn1js.Integer.fromBigInt(input.crlNumber))),
    ...(input.distributionPoint ? [issuingDistributionPoint(input.distributionPoint)] : []),
  ];
  const tbs = seq(
    der(new asn1js.Integer({ value: 1 })), // v2: required because extensions are present
    sha256WithRsa(),
    subjectDer,
    time(input.thisUpdate),
    time(input.nextUpdate),
    // RFC 5280 §5.1.2.6: with no revoked certificates the field is absent, not an empty SEQUENCE.
    // concat, not a spread: tens of thousands of arguments overflow the call stack.
    ...(entries.length ? [tlv(0x30, concat(entries.map(revokedEntry)))] : []),
    tlv(0xa0, seq(...crlExtensions)),
  );
  const signature = await signVerified(keys, issuer.record.keyRef, tbs, issuer.spki);
  if (!signature.ok) return err(signature.error);
  return ok(seq(tbs, sha256WithRsa(), bitString(signature.value)));
}

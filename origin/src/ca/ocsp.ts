import * as asn1js from "asn1js";
import { err, ok, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import { signVerified } from "../kms/verified-sign.ts";
import type { LoadedAuthority } from "./authority.ts";
import type { CrlReason } from "@kakunin/shared";
import {
  bitString, CRL_REASON_CODE, der, hexInteger, issuerParts, octetString, oid, seq, sha1, sha256,
  sha256WithRsa, tlv, wholeSeconds,
} from "./crl.ts";

const OID_SHA1 = "1.3.14.3.2.26";
const OID_SHA256 = "2.16.840.1.101.3.4.2.1";
const OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";

export interface CertIdHashes { nameHash: string; keyHash: string }

/**
 * RFC 6960 §4.1.1 CertID hashes of an issuer, lowercase hex: the name hash over the issuer's
 * subject DER, the key hash over its subjectPublicKey BIT STRING value (without the unused-bits
 * octet). The edge indexes pre-signed responses by (nameHash, keyHash, serial).
 */
export function issuerHashes(issuer: LoadedAuthority): { sha1: CertIdHashes; sha256: CertIdHashes } {
  const { subjectDer, publicKeyBits } = issuerParts(issuer);
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  return {
    sha1: { nameHash: hex(sha1(subjectDer)), keyHash: hex(sha1(publicKeyBits)) },
    sha256: { nameHash: hex(sha256(subjectDer)), keyHash: hex(sha256(publicKeyBits)) },
  };
}

export interface OcspResponseInput {
  serial: string;
  status: "good" | "revoked";
  /** Required when status is "revoked". */
  revokedAt?: Date;
  /** Omitted from revokedInfo when absent or `unspecified` (mirrors the CRL entry, RFC 5280 §5.3.1). */
  reasonCode?: CrlReason;
  thisUpdate: Date;
  nextUpdate: Date;
  producedAt: Date;
}

/** OCSP times are always GeneralizedTime, UTC, whole seconds (RFC 5019 §2.2.4). */
const generalizedTime = (d: Date): Uint8Array => der(new asn1js.GeneralizedTime({ valueDate: wholeSeconds(d) }));

/** Hash AlgorithmIdentifier with NULL parameters, as openssl writes it in requests. */
const hashAlgorithm = (dotted: string): Uint8Array => seq(oid(dotted), Uint8Array.of(0x05, 0x00));

function certStatus(input: OcspResponseInput): Uint8Array {
  if (input.status === "good") return Uint8Array.of(0x80, 0x00); // good [0] IMPLICIT NULL
  if (!input.revokedAt) throw new Error("a revoked OCSP status needs revokedAt");
  const code = input.reasonCode ? CRL_REASON_CODE[input.reasonCode] : 0;
  // revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
  const reason = code === 0 ? [] : [tlv(0xa0, der(new asn1js.Enumerated({ value: code })))];
  return tlv(0xa1, generalizedTime(input.revokedAt), ...reason);
}

/** The CertID hash a response answers for: RFC 5019 clients send SHA-1, newer ones SHA-256. */
export type OcspHash = "sha1" | "sha256";

/** A certificate's status signed twice, once per CertID hash (see buildOcspResponse). */
export interface OcspResponses {
  sha1: Uint8Array;
  sha256: Uint8Array;
}

const CERT_ID_HASH: Record<OcspHash, { oid: string; digest: (b: Uint8Array) => Uint8Array }> = {
  sha1: { oid: OID_SHA1, digest: sha1 },
  sha256: { oid: OID_SHA256, digest: sha256 },
};

/**
 * A complete, pre-signed OCSPResponse (RFC 6960 §4.2.1) for one certificate, signed directly by the
 * issuing CA (it has digitalSignature, so no delegated responder certificate) with exactly one
 * KeyManager call.
 *
 * It carries exactly one SingleResponse, whose CertID is hashed with `hash`. Go's
 * golang.org/x/crypto/ocsp ParseResponse and Python cryptography's certificate_status refuse a
 * response with more than one (RFC 5019 §2.2.1 also asks for one per response), so a certificate
 * gets one response per hash and the edge serves the one whose CertID the request used (an earlier
 * build carried both CertIDs in one response: only openssl-style clients could read it).
 * No nonce: the bytes are signed ahead of any request (RFC 5019 §2.2.1).
 *
 * `certs` is absent (RFC 6960 §4.2.1: "If no certificates are included, then certs SHOULD be
 * absent"). The signer is the issuer, which every client already holds: it needs the issuer's name
 * and key to build the CertID it asks about. Go's x/crypto/ocsp reads any embedded certificate as
 * a delegated responder that the issuer must have signed, so an issuing CA embedding itself is
 * refused there ("bad OCSP signature", golang/go#59641); an earlier build embedded it.
 */
export async function buildOcspResponse(
  keys: KeyManager,
  issuer: LoadedAuthority,
  input: OcspResponseInput,
  hash: OcspHash,
): Promise<Result<Uint8Array, KeyManagerError>> {
  const { subjectDer, publicKeyBits } = issuerParts(issuer);
  const { oid: alg, digest } = CERT_ID_HASH[hash];
  const single = seq(
    seq(hashAlgorithm(alg), octetString(digest(subjectDer)), octetString(digest(publicKeyBits)), hexInteger(input.serial)),
    certStatus(input),
    generalizedTime(input.thisUpdate),
    tlv(0xa0, generalizedTime(input.nextUpdate)), // nextUpdate [0] EXPLICIT
  );
  const tbsResponseData = seq(
    // version [0] DEFAULT v1: omitted in DER.
    tlv(0xa2, octetString(sha1(publicKeyBits))), // responderID byKey [2] EXPLICIT KeyHash (SHA-1, §4.2.1)
    generalizedTime(input.producedAt),
    seq(single),
  );
  const signature = await signVerified(keys, issuer.record.keyRef, tbsResponseData, issuer.spki);
  if (!signature.ok) return err(signature.error);
  const basic = seq(tbsResponseData, sha256WithRsa(), bitString(signature.value));
  return ok(seq(
    der(new asn1js.Enumerated({ value: 0 })), // successful
    tlv(0xa0, seq(oid(OID_OCSP_BASIC), octetString(basic))), // responseBytes [0] EXPLICIT
  ));
}

/** Both responses of one status, signed concurrently (two KeyManager calls, one round trip's wait). */
export async function buildOcspResponses(
  keys: KeyManager,
  issuer: LoadedAuthority,
  input: OcspResponseInput,
): Promise<Result<OcspResponses, KeyManagerError>> {
  const [a, b] = await Promise.all([buildOcspResponse(keys, issuer, input, "sha1"), buildOcspResponse(keys, issuer, input, "sha256")]);
  if (!a.ok) return a;
  if (!b.ok) return b;
  return ok({ sha1: a.value, sha256: b.value });
}

import * as asn1js from "asn1js";
import { err, ok, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
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

/**
 * A complete, pre-signed OCSPResponse (RFC 6960 §4.2.1) for one certificate, signed directly by the
 * issuing CA (it has digitalSignature, so no delegated responder certificate) with exactly one
 * KeyManager call.
 *
 * It carries two SingleResponses for the same certificate, one whose CertID is hashed with SHA-1
 * (what most clients send) and one with SHA-256, so a request in either form finds its CertID in
 * the same signed bytes. No nonce: the bytes are signed ahead of any request (RFC 5019 §2.2.1).
 *
 * The issuing CA certificate rides in `certs` (~1 KB): a relying party holding only the root can
 * then find the signer in the response and chain it (`openssl ocsp -respin r.der -CAfile root.pem`
 * verifies; without certs it fails "signer certificate not found"). Clients that pass the issuer
 * themselves (`-issuer`) work either way: openssl then trusts that certificate directly.
 */
export async function buildOcspResponse(
  keys: KeyManager,
  issuer: LoadedAuthority,
  input: OcspResponseInput,
): Promise<Result<Uint8Array, KeyManagerError>> {
  const { subjectDer, publicKeyBits } = issuerParts(issuer);
  const status = certStatus(input);
  const single = (alg: string, hash: (b: Uint8Array) => Uint8Array) => seq(
    seq(hashAlgorithm(alg), octetString(hash(subjectDer)), octetString(hash(publicKeyBits)), hexInteger(input.serial)),
    status,
    generalizedTime(input.thisUpdate),
    tlv(0xa0, generalizedTime(input.nextUpdate)), // nextUpdate [0] EXPLICIT
  );
  const tbsResponseData = seq(
    // version [0] DEFAULT v1: omitted in DER.
    tlv(0xa2, octetString(sha1(publicKeyBits))), // responderID byKey [2] EXPLICIT KeyHash (SHA-1, §4.2.1)
    generalizedTime(input.producedAt),
    seq(single(OID_SHA1, sha1), single(OID_SHA256, sha256)),
  );
  const signature = await keys.sign(issuer.record.keyRef, tbsResponseData);
  if (!signature.ok) return err(signature.error);
  const basic = seq(
    tbsResponseData,
    sha256WithRsa(),
    bitString(signature.value),
    tlv(0xa0, seq(new Uint8Array(issuer.cert.rawData))), // certs [0] EXPLICIT SEQUENCE OF Certificate
  );
  return ok(seq(
    der(new asn1js.Enumerated({ value: 0 })), // successful
    tlv(0xa0, seq(oid(OID_OCSP_BASIC), octetString(basic))), // responseBytes [0] EXPLICIT
  ));
}

import { createHash } from "node:crypto";
import { err, ok, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import { signVerified } from "../kms/verified-sign.ts";
import { subjectPublicKeyBits } from "./spki.ts";
import { encodeCertificate, encodeTbs } from "./tbs.ts";
import { x509 } from "./x509.ts";

export interface CertificateRequest {
  /** Positive serial, hex without leading zero octet (see serial.ts). */
  serial: string;
  subject: x509.Name;
  issuer: x509.Name;
  /** DER SubjectPublicKeyInfo of the subject's key. */
  subjectSpki: Uint8Array;
  /** DER SPKI of the issuer's key, for the Authority Key Identifier (equal to subjectSpki for a root). */
  issuerSpki: Uint8Array;
  /**
   * The issuer certificate itself, when there is one (not for a self-signed root): its Subject Key
   * Identifier, as written, becomes the AKI. An issuing CA signed offline may use another key-id
   * method than ours (RFC 7093, a fixed value); openssl refuses a leaf whose AKI differs from its
   * issuer's SKI ("unable to get local issuer certificate"). Method 1 over issuerSpki otherwise.
   */
  issuerCert?: x509.X509Certificate;
  notBefore: Date;
  notAfter: Date;
  /** Profile extensions; SKI and AKI are added here for every certificate. */
  extensions: x509.Extension[];
  /** KeyManager reference of the issuer's private key. */
  signerRef: string;
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING, as openssl computes it. */
export async function keyIdentifier(spki: Uint8Array): Promise<string> {
  return createHash("sha1").update(subjectPublicKeyBits(spki)).digest("hex");
}

/**
 * Encodes the TBSCertificate and has the KeyManager sign it: exactly one sign call per certificate
 * (AWS KMS bills and rate-limits each one). Signature: sha256WithRSAEncryption.
 */
export async function signCertificate(
  keys: KeyManager,
  req: CertificateRequest,
): Promise<Result<x509.X509Certificate, KeyManagerError>> {
  const extensions = [
    ...req.extensions,
    new x509.SubjectKeyIdentifierExtension(await keyIdentifier(req.subjectSpki)),
    new x509.AuthorityKeyIdentifierExtension(req.issuerCert?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ?? await keyIdentifier(req.issuerSpki)),
  ];
  const tbs = encodeTbs({
    serialHex: req.serial,
    issuerDer: req.issuer.toArrayBuffer(),
    subjectDer: req.subject.toArrayBuffer(),
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    spkiDer: req.subjectSpki,
    extensionsDer: extensions.map((e) => e.rawData),
  });
  // Checked under issuerSpki: a certificate its issuer's key does not verify is never returned.
  const signature = await signVerified(keys, req.signerRef, tbs, req.issuerSpki);
  if (!signature.ok) return err(signature.error);
  return ok(new x509.X509Certificate(encodeCertificate(tbs, signature.value)));
}

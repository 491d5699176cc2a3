// @peculiar/x509 2.x resolves its algorithm providers through tsyringe, which needs the
// reflect-metadata polyfill loaded before it. Every CLI module imports x509 through this file.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, in order. */
export function splitPem(pem: string): string[] {
  return pem.match(PEM_BLOCK) ?? [];
}

/** Parses one certificate, or returns the parser's complaint: bundles are untrusted input. */
export function parseCertificate(pem: string): x509.X509Certificate | string {
  try {
    return new x509.X509Certificate(pem);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * Does `cert` carry a valid signature by `issuerKey` (itself when omitted)? Signature only: a
 * bundle is checked long after issuance, when the certificates may have expired — what matters
 * is whether they were valid when each event happened, which the validity check decides.
 */
export async function signedBy(cert: x509.X509Certificate, issuer?: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer ?? cert, signatureOnly: true });
  } catch {
    return false;
  }
}

/** `signedBy` one of `cas` (the bundle's issuing CA and its rolled-over predecessors). */
export async function signedByOneOf(cert: x509.X509Certificate, cas: readonly x509.X509Certificate[]): Promise<boolean> {
  for (const ca of cas) if (await signedBy(cert, ca)) return true;
  return false;
}

/** Serial numbers compare as integers: hex case and leading zeros are presentation. */
export function normalizeSerial(s: string): string {
  return s.toLowerCase().replace(/^0+(?=.)/, "");
}

export { x509 };

import { ok, err, type Result } from "@kakunin/shared";
import { x509 } from "./x509.ts";

/** Clock skew tolerated on an imported certificate's notBefore (an offline machine's clock). */
const SKEW_MS = 5 * 60_000;

export interface IssuingCheck {
  root: x509.X509Certificate;
  /** DER SPKI of the pending request's key: the certificate must carry exactly this key. */
  spki: Uint8Array;
  tenantId: string;
  tenantExtensionOid: string;
  now: Date;
}

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Everything an issuing-CA certificate signed offline must satisfy before Kakunin signs with it:
 * it chains to the configured root (name and signature), carries the pending request's key, is a
 * CA that may sign only end-entity certificates (pathLen 0), may sign certificates, CRLs and OCSP
 * responses, names the tenant (the audit verifier requires it), and is valid now and within the
 * root's validity. Each failure says which rule, for the operator who signed it.
 */
export async function checkImportedIssuing(cert: x509.X509Certificate, c: IssuingCheck): Promise<Result<void, string>> {
  if (cert.issuer !== c.root.subject) return err(`issuer "${cert.issuer}" is not the root "${c.root.subject}"`);
  if (!(await cert.verify({ publicKey: c.root.publicKey, signatureOnly: true }))) return err("the signature does not verify with the root's key");
  if (!equalBytes(new Uint8Array(cert.publicKey.rawData), c.spki)) return err("the certificate's public key is not the key of the pending request");
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  if (!bc || !bc.ca) return err("basicConstraints must say CA:TRUE");
  if (!bc.critical) return err("basicConstraints must be critical");
  if (bc.pathLength !== 0) return err("basicConstraints pathlen must be 0 (the issuing CA signs agents, never another CA)");
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const { keyCertSign, cRLSign, digitalSignature } = x509.KeyUsageFlags;
  const need = keyCertSign | cRLSign | digitalSignature;
  if (!ku || (ku.usages & need) !== need) return err("keyUsage must include keyCertSign, cRLSign and digitalSignature (the CA signs its own OCSP responses)");
  const tenant = cert.extensions.find((e) => e.type === c.tenantExtensionOid);
  const expected = new TextEncoder().encode(c.tenantId.toLowerCase());
  if (!tenant || !equalBytes(new Uint8Array(tenant.value).slice(2), expected)) {
    return err(
      `the tenant extension (${c.tenantExtensionOid}) must name tenant ${c.tenantId}: sign with the request's extensions (openssl -copy_extensions copyall)`,
    );
  }
  if (cert.notBefore.getTime() < c.root.notBefore.getTime() || cert.notAfter.getTime() > c.root.notAfter.getTime()) {
    return err("the validity must lie inside the root's validity");
  }
  if (cert.notBefore.getTime() > c.now.getTime() + SKEW_MS) return err("the certificate is not valid yet");
  if (cert.notAfter.getTime() <= c.now.getTime()) return err("the certificate has expired");
  return ok(undefined);
}

/** Serial as Kakunin stores it: lowercase hex, no sign-padding octet (as `openssl x509 -serial` prints, lowercased). */
export function storedSerial(cert: x509.X509Certificate): string {
  const hex = cert.serialNumber.toLowerCase();
  return hex.replace(/^(00)+(?=[0-9a-f]{2})/, "");
}

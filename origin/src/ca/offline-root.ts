import { err, ok, type Result } from "@kakunin/shared";
import { x509 } from "./x509.ts";

/**
 * The `key_ref` stored for a root whose key Kakunin never holds (offline-root mode): no
 * KeyManager resolves it, so nothing can sign with it by mistake.
 */
export const OFFLINE_ROOT_KEY_REF = "offline:root";

/** Why the CA cannot sign yet (offline-root mode: no root certificate or no imported issuing CA). */
export interface CaNotReady {
  code: "ca_not_ready";
  message: string;
}

export const caNotReady = (message: string): { ok: false; error: CaNotReady } => ({ ok: false, error: { code: "ca_not_ready", message } });

/**
 * Parses and checks the operator's root certificate (KAKUNIN_ROOT_CERT_FILE): self-signed (name
 * and signature), a CA allowed to sign certificates and CRLs, valid now.
 */
export async function parseOfflineRoot(pem: string, now: Date): Promise<Result<x509.X509Certificate, string>> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch (e) {
    return err(`not a PEM certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (cert.issuer !== cert.subject || !(await cert.verify({ publicKey: cert.publicKey, signatureOnly: true }))) {
    return err("not a self-signed root certificate");
  }
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const need = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  if (!bc?.ca || !ku || (ku.usages & need) !== need) return err("the root must be a CA (basicConstraints CA:TRUE) with keyUsage keyCertSign and cRLSign");
  if (cert.notAfter.getTime() <= now.getTime()) return err("the root certificate has expired");
  return ok(cert);
}

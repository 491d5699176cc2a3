import { createPublicKey, verify } from "node:crypto";
import { err, type Result } from "@kakunin/shared";
import { processLogger } from "../observability/logger.ts";
import type { KeyManager, KeyManagerError } from "./types.ts";

/**
 * Signs with the KeyManager, then checks the signature under the public key the signed object
 * names (the issuer certificate's key, the CA's key for a CRL or OCSP response, the agent
 * certificate's key), as step-ca and Vault do after signing. A faulty HSM, a KMS bug, or a key
 * reference that resolves to another key (an alias moved, a token re-initialised with reused
 * CKA_IDs) would otherwise publish a certificate, CRL, OCSP response or tree head that no relying
 * party accepts, and a stored tree head that does not verify makes every later one refused.
 * Verification is local and costs well under a millisecond; the KMS still sees exactly one Sign.
 */
export async function signVerified(keys: KeyManager, ref: string, data: Uint8Array, spki: Uint8Array): Promise<Result<Uint8Array, KeyManagerError>> {
  const signed = await keys.sign(ref, data);
  if (!signed.ok) return signed;
  if (verifies(spki, data, signed.value)) return signed;
  processLogger("key_manager").error("signature does not verify under the intended key; discarded", {
    event: "kms_bad_signature",
    backend: keys.kind,
    key_ref: ref,
  });
  return err({ code: "failed", message: `${keys.kind} returned a signature for ${ref} that does not verify under the intended public key` });
}

/** RSASSA-PKCS1-v1_5 with SHA-256 over `data`; false for any malformed key or signature. */
function verifies(spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    return verify("sha256", data, key, signature);
  } catch {
    return false;
  }
}

/**
 * Check c: the signed tree head. The signature (RSASSA-PKCS1-v1_5, SHA-256) must verify over
 * exactly `treeHeadMessage(...)` with the signer certificate's key; the chain check has already
 * tied that certificate to the issuing CA. Everything the entries check proves is relative to
 * this head, so a head that does not verify makes every inclusion proof meaningless.
 */
import { treeHeadSignatureValid } from "@kakunin/shared";
import { normalizeSerial, type x509 } from "../x509.ts";
import type { Bundle, CheckResult } from "./types.ts";
import { fmt } from "./fmt.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX32 = /^[0-9a-f]{64}$/;

export async function checkTreeHead(b: Bundle, signer: x509.X509Certificate | null): Promise<CheckResult> {
  const h = b.tree_head;
  const reasons: string[] = [];
  if (!HEX32.test(h.root_hash)) reasons.push("root_hash is not 32 bytes of lowercase hex");
  if (Number.isNaN(Date.parse(h.timestamp))) reasons.push(`timestamp ${JSON.stringify(h.timestamp)} is not a date`);
  if (h.tenant_id !== b.tenant.id) reasons.push(`signed for tenant ${h.tenant_id}, but the bundle is for tenant ${b.tenant.id}`);
  if (!BASE64.test(h.signature)) reasons.push("signature is not base64");
  if (!signer) reasons.push("no usable signer certificate");
  else {
    // Absent in the oldest bundles; present, it must be the verified signer's serial (the report
    // prints it), not any other value a holder put there.
    const named: unknown = h.signer_serial;
    if (named !== undefined && (typeof named !== "string" || normalizeSerial(named) !== normalizeSerial(signer.serialNumber))) {
      reasons.push(`signer_serial ${JSON.stringify(named)} is not the signer certificate's serial ${signer.serialNumber}`);
    }
    const t = Date.parse(h.timestamp);
    if (!Number.isNaN(t) && (t < signer.notBefore.getTime() || t > signer.notAfter.getTime())) {
      reasons.push(`signed at ${h.timestamp}, outside the audit certificate's validity (${signer.notBefore.toISOString()} to ${signer.notAfter.toISOString()})`);
    }
    if (BASE64.test(h.signature) && !(await treeHeadSignatureValid(signer.publicKey.rawData, Buffer.from(h.signature, "base64"), h))) {
      reasons.push("the signature does not verify with the signer certificate's key over the tree size, root hash, timestamp and tenant");
    }
  }
  const what = `tree size ${fmt(h.tree_size)}, root ${h.root_hash.slice(0, 16)}…, signed ${h.timestamp}`;
  return {
    id: "tree_head", title: "signed tree head", status: reasons.length ? "fail" : "pass",
    summary: reasons.length ? `does not verify (${what})` : `${what} by audit certificate ${signer?.serialNumber ?? "?"}`,
    failures: reasons.length ? [{ subject: "tree head", reasons }] : [],
    notes: [],
  };
}


import type { ProblemType } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import type { CertificateRow } from "./certificate-status.ts";
import { revokeInTx, type RevokeInput } from "./revoke.ts";
import { validCertificates } from "./valid-certificates.ts";

/** What revokeInTx answers for a certificate that stopped speaking for the agent since it was read. */
const NO_LONGER_VALID: ReadonlySet<ProblemType> = new Set<ProblemType>(["already-revoked", "already-superseded", "certificate-expired"]);

/**
 * A decision about the agent (the risk policy's auto-revocation, a review's revoke, retirement, a
 * new model hash) acts on every certificate that still speaks for it: the active one and a renewed
 * predecessor inside its overlap, which would otherwise go on verifying, and staying off the CRL,
 * for up to its overlap (days). A certificate that stopped being valid between the read and its
 * row lock (revoked directly, superseded or expired meanwhile) is already what the decision wants:
 * skipped, never a failure, so the decision cannot half-apply (an early return inside the
 * transaction would commit the certificates revoked before it). Returns the certificates this call
 * revoked, the active one first.
 */
export async function revokeValidCertificates(tx: Queryable, agentId: string, input: Omit<RevokeInput, "certificateId">): Promise<CertificateRow[]> {
  const revoked: CertificateRow[] = [];
  for (const cert of await validCertificates(tx, agentId, input.now)) {
    const r = await revokeInTx(tx, { ...input, certificateId: cert.id });
    if (r.ok) revoked.push(r.value);
    // Anything else (the certificate gone from the tenant it was read in) cannot happen; throwing rolls the decision back whole.
    else if (!NO_LONGER_VALID.has(r.error.type)) throw new Error(`revoking certificate ${cert.id}: ${r.error.detail}`);
  }
  return revoked;
}

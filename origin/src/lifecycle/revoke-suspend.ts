import { ok, type Result } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import type { CertificateRow } from "./certificate-status.ts";
import type { Failure } from "./failure.ts";
import { revokeInTx, type RevokeInput } from "./revoke.ts";
import { revokeValidCertificates } from "./revoke-valid.ts";

/**
 * `POST /v1/certificates/:id/revoke`: the named certificate is revoked with the caller's reason and
 * the agent is suspended, and a suspended agent has no certificate that verifies anywhere: any other
 * certificate still speaking for it (a renewed predecessor inside its overlap, or the successor when
 * the predecessor is named) is revoked too, as every other decision about the agent does
 * (revoke-valid.ts). Otherwise the edge would answer `agent_suspended` while OCSP answered `good`
 * and the CRL left it out for up to the overlap. The others are withdrawn with the agent
 * (privilegeWithdrawn), not given the caller's code: a key compromise reported for one key says
 * nothing about the other. Returns the named certificate.
 */
export async function revokeAndSuspend(tx: Queryable, input: Omit<RevokeInput, "suspendAgent">): Promise<Result<CertificateRow, Failure>> {
  const named = await revokeInTx(tx, { ...input, suspendAgent: true });
  if (!named.ok) return named;
  await revokeValidCertificates(tx, named.value.agentId, {
    tenantId: input.tenantId,
    actor: input.actor,
    // Taken under the agent's lock, which this transaction now holds: the others end at the same time.
    now: named.value.revokedAt ?? input.now,
    reason: `agent suspended: certificate ${named.value.serialNumber} revoked (${input.reason})`,
    code: "privilegeWithdrawn",
    suspendAgent: true,
  });
  return ok(named.value);
}

import { ok, type Result } from "@kakunin/shared";
import type { AuditActor } from "../audit/types.ts";
import type { AuthorityRecord } from "../ca/authority.ts";
import type { Services } from "../services.ts";
import { activateIssuing } from "./activate-issuing.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";

export interface Rollover {
  previous: AuthorityRecord;
  current: AuthorityRecord;
}

/**
 * Issuing-CA rollover (docs/ca-lifecycle.md): a new key in the KeyManager, a new issuing CA signed
 * by the root, and in one transaction the old CA retired and the new one active. Certificates the
 * old CA issued stay valid: it keeps signing their CRL and OCSP responses until the last one
 * expires. New certificates come from the new CA. The partial unique index (one active issuing CA
 * per tenant) and the conditional retire make a concurrent rollover a 409, never two active CAs.
 * In offline-root mode the root cannot sign here: the rollover is a CSR and an import instead.
 */
export async function rolloverIssuingCa(
  s: Services,
  tenant: { id: string; name: string },
  actor: AuditActor,
): Promise<Result<Rollover, Failure>> {
  if (s.ca.offlineRoot) {
    return fail("conflict", "offline root: roll over with a CSR signed offline (POST /v1/tenant/ca/csr, then POST /v1/tenant/ca/import)");
  }
  const current = await s.ca.issuingFor(tenant);
  if (!current.ok) return keyManagerFailure(current.error);
  const generation = (await s.ca.issuersOf(tenant.id)).length + 1;
  const next = await s.ca.signSuccessorIssuing(tenant, generation);
  if (!next.ok) return keyManagerFailure(next.error);
  const r = await activateIssuing(s, tenant, next.value, { actor, kind: "ca.rolled_over", expectCurrentId: current.value.record.id });
  if (!r.ok) return r;
  return ok({ previous: r.value.previous!, current: r.value.current });
}

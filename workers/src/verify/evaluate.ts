import { inScope, type Band, type CertStatusRecord } from "@kakunin/shared";
import type { EdgeReason, EdgeVerifyData } from "@kakunin/verify";

/**
 * The verify answer is typed by the gateway SDK that consumes it (a type-only import: nothing of the
 * SDK is bundled), so the edge cannot change a field the SDK relies on without failing to compile.
 */
export type VerifyReason = EdgeReason;
export type VerifyResult = EdgeVerifyData;

/**
 * The verdict for one certificate at `now`. Status is computed at request time (an active record
 * past not_after is `expired`), so expiry needs no publication. `valid` is true only when the
 * certificate is active, inside its validity window, and every requested check holds.
 */
export function evaluate(
  rec: CertStatusRecord,
  now: Date,
  checks: { modelHash?: string; scopes: string[] },
  risk: { score: number; band: Band },
): VerifyResult {
  const t = now.getTime();
  const expired = t >= Date.parse(rec.not_after);
  const status = rec.status === "revoked" ? "revoked" : expired ? "expired" : "active";
  const reasons: VerifyReason[] = [];
  if (status === "revoked") reasons.push({ code: "revoked", detail: `revoked at ${rec.revoked_at}: ${rec.revocation_reason ?? "no reason given"}` });
  if (status === "expired") reasons.push({ code: "expired", detail: `expired at ${rec.not_after}` });
  if (status === "active" && t < Date.parse(rec.not_before)) reasons.push({ code: "not_yet_valid", detail: `valid from ${rec.not_before}` });
  if (status === "active" && rec.agent_status === "suspended") reasons.push({ code: "agent_suspended", detail: "the agent is suspended" });
  if (status === "active" && rec.agent_status === "retired") reasons.push({ code: "agent_retired", detail: "the agent is retired" });
  if (checks.modelHash !== undefined && checks.modelHash !== rec.model.hash) {
    reasons.push({ code: "model_hash_mismatch", detail: `certificate binds model hash ${rec.model.hash}` });
  }
  for (const scope of checks.scopes) {
    if (!inScope(rec.scopes, scope)) reasons.push({ code: "scope_not_granted", detail: `'${scope}' is not covered by the agent's scopes` });
  }
  return {
    serial_number: rec.serial_number,
    status,
    valid: reasons.length === 0,
    reasons,
    agent_id: rec.agent_id,
    agent_urn: rec.agent_urn,
    tenant_id: rec.tenant_id,
    model: rec.model,
    scopes: rec.scopes,
    not_before: rec.not_before,
    not_after: rec.not_after,
    revoked_at: rec.revoked_at,
    revocation_reason: rec.revocation_reason,
    risk,
    checked_at: now.toISOString(),
    certificate_pem: rec.certificate_pem,
  };
}

import type { Band, CertStatusRecord } from "@kakunin/shared";
import type { EdgeReason, EdgeVerifyData } from "@kakunin/verify";
import { callerCheckReasons, statusAt } from "@kakunin/verify/rules";

/**
 * The verify answer is typed by the gateway SDK that consumes it (a type-only import: nothing of the
 * SDK is bundled), so the edge cannot change a field the SDK relies on without failing to compile.
 */
export type VerifyReason = EdgeReason;
export type VerifyResult = EdgeVerifyData;

/** step-ca's default renewal window: renew once two thirds of the validity have passed. */
export function renewAfter(notBefore: string, notAfter: string): string {
  const from = Date.parse(notBefore);
  return new Date(from + ((Date.parse(notAfter) - from) * 2) / 3).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The verdict for one certificate at `now`. `valid` is true only when the certificate is active,
 * inside its validity window, and every requested check holds. A renewed certificate inside its
 * overlap is active (with `superseded_at` saying until when); afterwards it is `superseded`, which
 * a gateway can tell apart from a revocation for cause. `certificate_pem` is not part of it: the
 * route adds it only when asked (`?include=certificate_pem`).
 */
export function evaluate(
  rec: CertStatusRecord,
  now: Date,
  checks: { modelHash?: string; scopes: string[]; maxBand?: Band; maxRisk?: number },
  risk: { score: number; band: Band },
): VerifyResult {
  const t = now.getTime();
  const status = statusAt(rec, t);
  const reasons: VerifyReason[] = [];
  if (status === "revoked") reasons.push({ code: "revoked", detail: `revoked at ${rec.revoked_at}: ${rec.revocation_reason ?? "no reason given"}` });
  if (status === "superseded") reasons.push({ code: "superseded", detail: `superseded by ${rec.superseded_by ?? "its successor"} at ${rec.superseded_at ?? "renewal"} (renewal, not revoked for cause)` });
  if (status === "expired") reasons.push({ code: "expired", detail: `expired at ${rec.not_after}` });
  if (status === "active" && t < Date.parse(rec.not_before)) reasons.push({ code: "not_yet_valid", detail: `valid from ${rec.not_before}` });
  if (status === "active" && rec.agent_status === "suspended") reasons.push({ code: "agent_suspended", detail: "the agent is suspended" });
  if (status === "active" && rec.agent_status === "retired") reasons.push({ code: "agent_retired", detail: "the agent is retired" });
  reasons.push(...callerCheckReasons(rec, checks, risk));
  const renew = renewAfter(rec.not_before, rec.not_after);
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
    renew_after: renew,
    expires_soon: status === "active" && t >= Date.parse(renew),
    superseded_at: rec.superseded_at ?? null,
    superseded_by: rec.superseded_by ?? null,
  };
}

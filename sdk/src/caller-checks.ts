import { inScope } from "./scope.ts";
import type { EdgeReason } from "./types.ts";

type RiskBand = "low" | "medium" | "high";
const RANK: Readonly<Record<RiskBand, number>> = { low: 0, medium: 1, high: 2 };

/** What a caller asks of a certificate beyond its validity (all optional). */
export interface CallerChecks {
  readonly modelHash?: string | undefined;
  readonly scopes?: readonly string[] | undefined;
  /** A gateway's risk ceiling: refuse an agent whose band is above this (?max_band=). */
  readonly maxBand?: RiskBand | undefined;
  /** Or whose score is above this (?max_risk=); with both, either refuses (one reason). */
  readonly maxRisk?: number | undefined;
}

/**
 * The reasons a caller's own checks add to a verdict: the model hash it expects, the scopes it
 * needs and its risk ceiling. One definition for the edge (workers/src/verify/evaluate.ts, over the
 * status record) and the SDK (evaluate.ts, over a cached edge answer), so the two can never disagree
 * on a verdict.
 */
export function callerCheckReasons(
  cert: { model: { hash: string }; scopes: readonly string[] },
  checks: CallerChecks,
  risk?: { band: RiskBand; score: number },
): EdgeReason[] {
  const reasons: EdgeReason[] = [];
  if (checks.modelHash !== undefined && checks.modelHash !== cert.model.hash) {
    reasons.push({ code: "model_hash_mismatch", detail: `certificate binds model hash ${cert.model.hash}` });
  }
  for (const scope of checks.scopes ?? []) {
    if (!inScope(cert.scopes, scope)) reasons.push({ code: "scope_not_granted", detail: `'${scope}' is not covered by the agent's scopes` });
  }
  // A gateway's risk ceiling refuses a risky agent before (or without) any revocation.
  if (risk !== undefined && checks.maxBand !== undefined && RANK[risk.band] > RANK[checks.maxBand]) {
    reasons.push({ code: "risk_too_high", detail: `risk band ${risk.band} (score ${risk.score}) is above the allowed ${checks.maxBand}` });
  } else if (risk !== undefined && checks.maxRisk !== undefined && risk.score > checks.maxRisk) {
    reasons.push({ code: "risk_too_high", detail: `risk score ${risk.score} is above the allowed ${checks.maxRisk}` });
  }
  return reasons;
}

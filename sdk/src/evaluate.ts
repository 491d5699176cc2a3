import { callerCheckReasons } from "./caller-checks.ts";
import { statusAt } from "./status-at.ts";
import type { CheckedVerifyData, EdgeVerifyData, RiskBand, VerifyChecks, VerifyReason } from "./types.ts";

/** Reasons that depend on the caller's checks or on the clock: recomputed here, never taken from the cache. */
const LOCAL: ReadonlySet<string> = new Set(["model_hash_mismatch", "scope_not_granted", "not_yet_valid", "risk_too_high", "tenant_not_allowed"]);

const BANDS: ReadonlySet<unknown> = new Set<RiskBand>(["low", "medium", "high"]);

/**
 * Why a risk ceiling is unusable, or undefined when it is fine. A misspelt band ("LOW") or a NaN
 * score compares false against everything, which silently disabled the ceiling: callers refuse instead.
 */
export function riskLimitError(maxBand: unknown, maxRisk: unknown): string | undefined {
  if (maxBand !== undefined && !BANDS.has(maxBand)) return `maxBand must be "low" or "medium" (lower case), got ${JSON.stringify(maxBand) ?? String(maxBand)}`;
  if (maxRisk !== undefined && !(typeof maxRisk === "number" && maxRisk >= 0 && maxRisk <= 1))
    return `maxRisk must be a number from 0 to 1, got ${String(maxRisk)}`;
  return undefined;
}

/** The edge's answer is passed through as sent; a risk the SDK cannot compare counts as absent. */
function usableRisk(risk: unknown): { band: RiskBand; score: number } | undefined {
  if (typeof risk !== "object" || risk === null) return undefined;
  const { band, score } = risk as { band?: unknown; score?: unknown };
  return BANDS.has(band) && typeof score === "number" && Number.isFinite(score) ? { band: band as RiskBand, score } : undefined;
}

/**
 * Evaluates a cached edge answer for one caller's checks at `now`. The SDK fetches each serial
 * without `?model_hash=`/`?scope=` so every check on one agent shares one cache entry; the model
 * and scope rules here are the edge's (workers/src/verify/evaluate.ts). Time-dependent status is
 * recomputed too, so an answer cached a moment before `not_after` does not outlive the certificate.
 */
export function evaluate(edge: EdgeVerifyData, checks: VerifyChecks, now: number): CheckedVerifyData {
  const status = statusAt(edge, now);
  // Only what the clock changed since the edge answered adds a reason; the edge's own are kept.
  const superseded = status === "superseded" && edge.status !== "superseded";
  const expired = status === "expired" && edge.status !== "expired";
  const reasons: VerifyReason[] = [];
  if (superseded) reasons.push({ code: "superseded", detail: `superseded by ${edge.superseded_by ?? "its successor"} at ${edge.superseded_at} (renewal)` });
  if (expired) reasons.push({ code: "expired", detail: `expired at ${edge.not_after}` });
  reasons.push(...edge.reasons.filter((r) => !LOCAL.has(r.code)));
  // A status other than active is never valid, even when the edge listed no reason for it: the
  // status itself becomes the reason, so "reasons empty exactly when valid" still holds.
  if (status !== "active" && !reasons.some((r) => r.code === status)) reasons.unshift({ code: status, detail: `the edge reports status ${status}` });
  if (status === "active" && now < Date.parse(edge.not_before)) reasons.push({ code: "not_yet_valid", detail: `valid from ${edge.not_before}` });
  if (checks.tenant !== undefined) {
    const allowed: readonly string[] = typeof checks.tenant === "string" ? [checks.tenant] : checks.tenant;
    if (!allowed.includes(edge.tenant_id))
      reasons.push({ code: "tenant_not_allowed", detail: `the agent belongs to tenant ${edge.tenant_id}, which this gateway does not accept` });
  }
  const wanted = typeof checks.scope === "string" ? [checks.scope] : (checks.scope ?? []);
  // Risk ceilings fail closed: verify() never throws, so a bad ceiling or an answer without a
  // usable risk is a refusal, never a ceiling quietly skipped.
  const ceiling = checks.maxBand !== undefined || checks.maxRisk !== undefined;
  const limitError = riskLimitError(checks.maxBand, checks.maxRisk);
  const risk = usableRisk(edge.risk);
  if (limitError !== undefined) reasons.push({ code: "risk_too_high", detail: `invalid risk ceiling: ${limitError}` });
  else if (ceiling && risk === undefined)
    reasons.push({ code: "risk_too_high", detail: "the edge answer carries no risk score and a risk ceiling is set: refused (fail closed)" });
  const limits = limitError === undefined ? { maxBand: checks.maxBand, maxRisk: checks.maxRisk } : {};
  reasons.push(...callerCheckReasons(edge, { modelHash: checks.modelHash, scopes: wanted, ...limits }, risk));
  const expiresSoon = edge.renew_after === undefined ? edge.expires_soon : status === "active" && now >= Date.parse(edge.renew_after);
  return { ...edge, status, valid: status === "active" && reasons.length === 0, reasons, ...(expiresSoon === undefined ? {} : { expires_soon: expiresSoon }) };
}

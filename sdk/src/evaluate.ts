import { callerCheckReasons } from "./caller-checks.ts";
import { statusAt } from "./status-at.ts";
import type { EdgeReason, EdgeVerifyData, VerifyChecks } from "./types.ts";

/** Reasons that depend on the caller's checks or on the clock: recomputed here, never taken from the cache. */
const LOCAL: ReadonlySet<string> = new Set(["model_hash_mismatch", "scope_not_granted", "not_yet_valid", "risk_too_high"]);

/**
 * Evaluates a cached edge answer for one caller's checks at `now`. The SDK fetches each serial
 * without `?model_hash=`/`?scope=` so every check on one agent shares one cache entry; the model
 * and scope rules here are the edge's (workers/src/verify/evaluate.ts). Time-dependent status is
 * recomputed too, so an answer cached a moment before `not_after` does not outlive the certificate.
 */
export function evaluate(edge: EdgeVerifyData, checks: VerifyChecks, now: number): EdgeVerifyData {
  const status = statusAt(edge, now);
  // Only what the clock changed since the edge answered adds a reason; the edge's own are kept.
  const superseded = status === "superseded" && edge.status !== "superseded";
  const expired = status === "expired" && edge.status !== "expired";
  const reasons: EdgeReason[] = [];
  if (superseded) reasons.push({ code: "superseded", detail: `superseded by ${edge.superseded_by ?? "its successor"} at ${edge.superseded_at} (renewal)` });
  if (expired) reasons.push({ code: "expired", detail: `expired at ${edge.not_after}` });
  reasons.push(...edge.reasons.filter((r) => !LOCAL.has(r.code)));
  if (status === "active" && now < Date.parse(edge.not_before)) reasons.push({ code: "not_yet_valid", detail: `valid from ${edge.not_before}` });
  const wanted = typeof checks.scope === "string" ? [checks.scope] : (checks.scope ?? []);
  reasons.push(...callerCheckReasons(edge, { modelHash: checks.modelHash, scopes: wanted, maxBand: checks.maxBand, maxRisk: checks.maxRisk }, edge.risk));
  const expiresSoon = edge.renew_after === undefined ? edge.expires_soon : status === "active" && now >= Date.parse(edge.renew_after);
  return { ...edge, status, valid: reasons.length === 0, reasons, ...(expiresSoon === undefined ? {} : { expires_soon: expiresSoon }) };
}

import { inScope } from "./scope.ts";
import type { EdgeReason } from "./types.ts";

/**
 * The reasons a caller's own checks add to a verdict: the model hash it expects and the scopes it
 * needs. One definition for the edge (workers/src/verify/evaluate.ts, over the status record) and
 * the SDK (evaluate.ts, over a cached edge answer), so the two can never disagree on a verdict.
 */
export function callerCheckReasons(
  cert: { model: { hash: string }; scopes: readonly string[] },
  modelHash: string | undefined,
  scopes: readonly string[],
): EdgeReason[] {
  const reasons: EdgeReason[] = [];
  if (modelHash !== undefined && modelHash !== cert.model.hash) {
    reasons.push({ code: "model_hash_mismatch", detail: `certificate binds model hash ${cert.model.hash}` });
  }
  for (const scope of scopes) {
    if (!inScope(cert.scopes, scope)) reasons.push({ code: "scope_not_granted", detail: `'${scope}' is not covered by the agent's scopes` });
  }
  return reasons;
}

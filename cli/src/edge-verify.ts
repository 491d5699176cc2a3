/**
 * GET /v1/verify/:serial at the edge, called directly rather than through the SDK's verifier: the
 * CLI wants the edge's own verdict (`?model_hash=`, `?scope=`, `?consistency=strong`) and its exact
 * HTTP failure (400 vs 404) for exit codes, where a gateway wants the cached, fail-closed verdict.
 */
import { err, ok, type Result } from "@kakunin/shared";
import type { EdgeVerifyData } from "@kakunin/verify";
import { call, type Endpoint, type Failure } from "./http.ts";

/** The edge's verify answer; the type is the gateway SDK's, so the two cannot drift apart. */
export type Verification = EdgeVerifyData;

export interface VerifyChecks {
  modelHash?: string;
  scopes?: readonly string[];
  /** Read the edge's authoritative ledger instead of KV (sees every delivered revocation). */
  strong?: boolean;
}

export async function verifySerial(edge: Endpoint, serial: string, checks: VerifyChecks = {}): Promise<Result<Verification, Failure>> {
  const r = await call<{ data: Verification }>("GET", edge, `/v1/verify/${encodeURIComponent(serial)}`, {
    query: { model_hash: checks.modelHash, scope: checks.scopes, consistency: checks.strong ? "strong" : undefined },
    timeoutMs: 15_000,
  });
  return r.ok ? ok(r.value.body.data) : err(r.error);
}

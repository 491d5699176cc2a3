/**
 * GET /v1/verify/:serial at the edge. Kept apart (and shaped like a client call) so `kakunin
 * verify` can switch to @kakunin/verify, the gateway SDK, without touching the command.
 */
import { err, ok, type Result } from "@kakunin/shared";
import { call, type Endpoint, type Failure } from "./http.ts";

export interface VerifyReason { code: string; detail: string }

export interface Verification {
  serial_number: string;
  status: "active" | "revoked" | "expired";
  valid: boolean;
  reasons: VerifyReason[];
  agent_id: string;
  agent_urn: string;
  tenant_id: string;
  model: { name: string; version: string; hash: string };
  scopes: string[];
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  risk: { score: number; band: string };
  checked_at: string;
  certificate_pem?: string;
}

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

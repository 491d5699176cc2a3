import type { FieldError, ProblemType } from "@kakunin/shared";
import { processLogger } from "../observability/logger.ts";
import type { KeyManagerError } from "../kms/types.ts";
import type { CaNotReady } from "../ca/offline-root.ts";
import type { AuditLogRewritten } from "../audit/tree-head.ts";

/**
 * Why a lifecycle operation was refused; the HTTP layer maps `type` to its problem and status. A
 * validation failure names its fields (the API's 422s list them in `errors`), so it is its own
 * variant: a bare `fail("validation-failed", …)` once answered a 422 without the list.
 */
export type Failure = { type: Exclude<ProblemType, "validation-failed">; detail: string } | { type: "validation-failed"; detail: string; errors: FieldError[] };

export const fail = (type: Exclude<ProblemType, "validation-failed">, detail: string): { ok: false; error: Failure } => ({
  ok: false,
  error: { type, detail },
});

/** A request field the operation cannot accept, named as zod's own 422s name theirs. */
export const failField = (path: string, message: string, detail: string): { ok: false; error: Failure } => ({
  ok: false,
  error: { type: "validation-failed", detail, errors: [{ path, message }] },
});

/**
 * Seconds a client is told to wait after a 503 kms-unavailable (the Retry-After header): KMS
 * throttling and HSM session loss clear in seconds, and nothing was issued, so the same call may
 * simply be sent again.
 */
export const KMS_RETRY_AFTER_S = 5;

/** A KeyManager that is not configured or not reachable is the server's 503, never the caller's fault. */
export function keyManagerFailure(e: KeyManagerError | CaNotReady | AuditLogRewritten): { ok: false; error: Failure } {
  if (e.code === "ca_not_ready") return fail("ca-not-ready", e.message);
  if (e.code === "audit_log_rewritten") return fail("audit-log-inconsistent", e.message);
  if (e.code === "not_configured") return fail("kms-not-configured", `Key management is not configured: ${e.message}`);
  processLogger("key_manager").error("key manager unavailable", { event: "kms_unavailable", code: e.code, error: e.message.split("\n")[0]!.slice(0, 300) });
  return fail("kms-unavailable", "Key management is unavailable; try again later.");
}

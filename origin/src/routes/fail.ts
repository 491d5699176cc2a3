import type { Result } from "@kakunin/shared";
import type { ZodType, z } from "zod";
import { ApiError } from "../http/api-error.ts";
import { DB_CONFLICT_RETRY_AFTER_S } from "../http/problems.ts";
import { KMS_RETRY_AFTER_S, keyManagerFailure, type Failure } from "../lifecycle/failure.ts";
import type { KeyManagerError } from "../kms/types.ts";
import type { CaNotReady } from "../ca/offline-root.ts";
import type { AuditLogRewritten } from "../audit/tree-head.ts";

/** Unwraps a lifecycle result inside a handler; a failure becomes its problem response. */
export function orThrow<T>(r: Result<T, Failure>): T {
  if (!r.ok) {
    const f = r.error;
    if (f.type === "validation-failed") throw new ApiError(f.type, f.detail, { errors: f.errors });
    const e = new ApiError(f.type, f.detail);
    // docs/operations.md (KmsErrors): "Certify answers 503 with Retry-After meanwhile".
    if (f.type === "kms-unavailable") throw e.withHeader("retry-after", String(KMS_RETRY_AFTER_S));
    // The same answer as a transaction PostgreSQL aborted for a concurrent one (http/problems.ts).
    throw f.type === "database-conflict" ? e.withHeader("retry-after", String(DB_CONFLICT_RETRY_AFTER_S)) : e;
  }
  return r.value;
}

/** Unwraps a KeyManager result inside a handler; a failure becomes a 503 problem. */
export function kmOrThrow<T>(r: Result<T, KeyManagerError | CaNotReady | AuditLogRewritten>): T {
  if (!r.ok) return orThrow(keyManagerFailure(r.error));
  return r.value;
}

/**
 * An optional JSON body (a bare POST is fine): undefined when empty, else parsed and validated —
 * 400 for malformed JSON, 422 naming each invalid field.
 */
export function parseOptionalJson<T extends ZodType>(raw: string, schema: T): z.infer<T> | undefined {
  if (raw.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError("malformed-json", "The request body is not valid JSON.");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError("validation-failed", `${parsed.error.issues.length} invalid field(s) in the request body`, {
      errors: parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
    });
  }
  return parsed.data;
}

import type { Result } from "@kakunin/shared";
import { ApiError } from "../http/api-error.ts";
import { keyManagerFailure, type Failure } from "../lifecycle/failure.ts";
import type { KeyManagerError } from "../kms/types.ts";

/** Unwraps a lifecycle result inside a handler; a failure becomes its problem response. */
export function orThrow<T>(r: Result<T, Failure>): T {
  if (!r.ok) throw new ApiError(r.error.type, r.error.detail);
  return r.value;
}

/** Unwraps a KeyManager result inside a handler; a failure becomes a 503 problem. */
export function kmOrThrow<T>(r: Result<T, KeyManagerError>): T {
  if (!r.ok) return orThrow(keyManagerFailure(r.error));
  return r.value;
}

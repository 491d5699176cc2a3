/**
 * A value or an expected failure. Used across module boundaries where failure is part of the
 * contract (KMS not configured, S3 unreachable); exceptions stay reserved for bugs.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

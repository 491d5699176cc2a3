import { problem, type FieldError, type Problem, type ProblemType } from "@kakunin/shared";

/**
 * Fields a 422 lists, as the edge does (workers/src/ingest/parse.ts); its detail counts them all.
 * Every listed entry costs the origin memory before the first byte goes out: a 1 MB PATCH naming
 * 90,000 unknown features was answered with a 45 MB problem (each message names the scorer's
 * features), until 2026-12-07. Kept here too so no ApiError built from a long list escapes it.
 */
export const FIELD_ERRORS_LISTED = 200;

/**
 * An expected failure a handler reports; `onError` turns it into problem+json. Thrown (not returned)
 * only inside the HTTP layer, where Hono's control flow wants it.
 */
export class ApiError extends Error {
  readonly problem: Problem;
  /** Response headers the problem needs (WWW-Authenticate on a 401, Retry-After on a 503). */
  headers: Record<string, string> = {};
  // A 422 validation failure always names its fields (README: 422s list each failing field).
  constructor(type: "validation-failed", detail: string, extra: { errors: FieldError[]; [k: string]: unknown });
  constructor(type: Exclude<ProblemType, "validation-failed">, detail: string, extra?: { [k: string]: unknown });
  constructor(type: ProblemType, detail: string, extra: { errors?: FieldError[]; [k: string]: unknown } = {}) {
    super(detail);
    this.problem = problem(type, detail, extra.errors ? { ...extra, errors: extra.errors.slice(0, FIELD_ERRORS_LISTED) } : extra);
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }
}

export const notFound = (what: string, id: string) => new ApiError("not-found", `${what} ${id} not found`);

/** A query-string field the schema accepted but the request cannot be answered with (a 422 naming it, as zod's own failures are). */
export const invalidQueryField = (path: string, message: string) =>
  new ApiError("validation-failed", "1 invalid field(s) in the query string", { errors: [{ path, message }] });

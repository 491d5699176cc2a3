import { problem, type FieldError, type Problem, type ProblemType } from "@kakunin/shared";

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
    this.problem = problem(type, detail, extra);
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

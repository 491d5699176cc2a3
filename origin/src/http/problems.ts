import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { processLogger } from "../observability/logger.ts";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import { problem, problemResponse, type FieldError, type Problem, type RouteMatcher, wrongMethodAllow } from "@kakunin/shared";
import { ApiError, FIELD_ERRORS_LISTED } from "./api-error.ts";
import { requestBodyCutOff } from "./body-cut-off.ts";
import { isDatabaseUnavailable, isStorageFault, isTransientConflict, sqlState } from "../db/index.ts";
import { innermostMessage } from "../causes.ts";

/** Seconds a client is told to wait when the database is unavailable. */
export const DB_RETRY_AFTER_S = 5;
/** Seconds a client is told to wait when a concurrent transaction won (database-conflict): nothing was changed. */
export const DB_CONFLICT_RETRY_AFTER_S = 1;

/** The innermost cause's message (drizzle's outer one carries the SQL and its parameters). */
const rootMessage = (e: unknown): string => innermostMessage(e, 5);

function withInstance(c: Context, p: Problem, headers: Record<string, string> = {}): Response {
  return problemResponse({ ...p, instance: new URL(c.req.url).pathname }, headers);
}

/** Zod issues → the `errors` list of a 422: one entry per failing field, dotted path. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export function validationProblem(c: Context, issues: readonly z.core.$ZodIssue[], target: string): Response {
  const errors = fieldErrors(issues.slice(0, FIELD_ERRORS_LISTED));
  const where = target === "json" ? "request body" : target === "query" ? "query string" : target;
  const listed = issues.length > FIELD_ERRORS_LISTED ? `; the first ${FIELD_ERRORS_LISTED} are listed` : "";
  return withInstance(c, problem("validation-failed", `${issues.length} invalid field(s) in the ${where}${listed}`, { errors }));
}

/**
 * The single place errors become responses. Expected errors carry their problem; Hono's own
 * HTTPExceptions (malformed JSON, body limit) are mapped; anything else is a bug: logged with its
 * stack on the server, answered as a bare 500 problem without internals.
 */
export const onError: ErrorHandler = (e, c) => {
  if (e instanceof ApiError) return withInstance(c, e.problem, e.headers);
  if (e instanceof HTTPException) {
    if (e.status === 400 && /Malformed JSON/i.test(e.message)) {
      return withInstance(c, problem("malformed-json", "The request body is not valid JSON."));
    }
    if (e.status === 413) return withInstance(c, problem("payload-too-large", e.message || "Request body too large."));
    if (e.status === 401) return withInstance(c, problem("unauthorized", e.message || "Authentication required."));
    if (e.status >= 400 && e.status < 500) return withInstance(c, problem("bad-request", e.message || "Bad request."));
  }
  if (requestBodyCutOff(c.env)) {
    // Nobody reads this answer; its status keeps the request out of the 5xx the on-call is paged for.
    return withInstance(c, problem("bad-request", "The request body was not received in full: the connection closed first."), { connection: "close" });
  }
  if (isStorageFault(e)) c.get("services")?.storageFaults.record(`SQLSTATE ${sqlState(e)}: ${rootMessage(e)}`);
  const log = c.get("services")?.logger ?? processLogger("http");
  if (isTransientConflict(e)) {
    // A concurrent transaction won (deadlock, serialization, lock timeout): nothing was committed.
    log.warn("transaction aborted by a concurrent one", { ...requestFields(c, e), event: "database_conflict" });
    return withInstance(c, problem("database-conflict", "A concurrent change conflicted with this request; nothing was changed. Retry it."), {
      "retry-after": String(DB_CONFLICT_RETRY_AFTER_S),
    });
  }
  if (isDatabaseUnavailable(e)) {
    // Expected during a database restart or failover: one line, no stack, and a hint to retry.
    log.warn("database unavailable", { ...requestFields(c, e), event: "database_unavailable", error: rootMessage(e).slice(0, 300) });
    return withInstance(c, problem("database-unavailable", "The database is unavailable; retry shortly."), { "retry-after": String(DB_RETRY_AFTER_S) });
  }
  // One structured line: the request id (from the answer's header) ties it to the 500 and its
  // request log line. No stack and no outer message: a failed query's message carries its SQL and
  // parameters, that is the request body (an owner's email), and headers and bodies are never logged.
  log.error("unhandled error", { ...requestFields(c, e), error: e instanceof Error ? e.name : typeof e, cause: rootMessage(e).slice(0, 300) });
  return withInstance(c, problem("internal-error", "An unexpected error occurred; it has been logged."));
};

/** What every error line says of its request: the id (from the answer's header), method, path and SQLSTATE. */
function requestFields(c: Context, e: unknown) {
  return {
    component: "http",
    request_id: c.res.headers.get("x-request-id") ?? undefined,
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    sqlstate: sqlState(e),
  };
}

/** No route: 405 with `Allow` when the path has routes under other methods, else 404. */
export function onNotFound(router: RouteMatcher): NotFoundHandler {
  return (c) => {
    const path = new URL(c.req.url).pathname;
    const allow = wrongMethodAllow(router, c.req.method, path);
    if (allow) return withInstance(c, problem("method-not-allowed", `${c.req.method} is not allowed on ${path}; allowed: ${allow}.`), { allow });
    return withInstance(c, problem("not-found", `No route for ${c.req.method} ${path}`));
  };
}

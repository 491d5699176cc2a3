/**
 * RFC 9457 problem details. Every error Kakunin returns, at the origin and at the edge, is one of
 * these `types`; the status for each lives here in one place so no route picks its own.
 */
export const PROBLEM_TYPES = {
  "bad-request": { status: 400, title: "Bad request" },
  "malformed-json": { status: 400, title: "Malformed JSON" },
  "invalid-serial": { status: 400, title: "Invalid serial number" },
  unauthorized: { status: 401, title: "Unauthorized" },
  forbidden: { status: 403, title: "Forbidden" },
  "risk-suspension": { status: 403, title: "Suspended for risk: only an admin, with a reason, may lift it" },
  "not-found": { status: 404, title: "Not found" },
  "method-not-allowed": { status: 405, title: "Method not allowed" },
  // Refused by the origin's HTTP parser before any route (origin/src/http/client-error.ts).
  "request-timeout": { status: 408, title: "Request timeout" },
  conflict: { status: 409, title: "Conflict" },
  "already-active": { status: 409, title: "Agent already has an active certificate" },
  "already-revoked": { status: 409, title: "Certificate already revoked" },
  "no-active-certificate": { status: 409, title: "Agent has no active certificate" },
  "already-superseded": { status: 409, title: "Certificate already superseded" },
  "renewal-in-progress": { status: 409, title: "Certificate renewed concurrently" },
  "already-retired": { status: 409, title: "Agent already retired" },
  "already-initialized": { status: 409, title: "Already initialized" },
  "ca-rollover-conflict": { status: 409, title: "The issuing CA changed during the rollover" },
  "nothing-to-review": { status: 409, title: "Nothing awaits review for this agent" },
  // A decision made on the alerts the reviewer saw (`alerts` in the body) when more are open now.
  "review-stale": { status: 409, title: "New alerts arrived since the review was loaded" },
  "webhook-limit": { status: 409, title: "Webhook endpoint limit reached" },
  // Caps on live bearer credentials (docs/security.md): a leaked admin or issuer key cannot mint
  // them without bound; revoking one frees its place, so 409 (state), not 429 (rate).
  "api-key-limit": { status: 409, title: "API key limit reached" },
  "credential-limit": { status: 409, title: "Agent credential limit reached" },
  // Offline-root mode (docs/ca-lifecycle.md): an imported issuing-CA certificate or root CRL that
  // breaks a rule (chain, key, constraints, validity); the detail names the rule.
  "invalid-ca-certificate": { status: 422, title: "Issuing-CA certificate rejected" },
  "invalid-crl": { status: 422, title: "CRL rejected" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "unsupported-media-type": { status: 415, title: "Unsupported media type" },
  // An edge⇄origin call in a contract version the receiver does not speak (rolling deploy): the
  // sender holds the data and retries; it is never treated as a bad record (shared/src/wire).
  "unsupported-wire-version": { status: 426, title: "Unsupported wire contract version" },
  "too-many-requests": { status: 429, title: "Too many requests" },
  "headers-too-large": { status: 431, title: "Request header fields too large" },
  "validation-failed": { status: 422, title: "Validation failed" },
  "agent-retired": { status: 422, title: "Agent is retired" },
  "replay-failed": { status: 422, title: "Dead letter replay failed" },
  "certificate-expired": { status: 422, title: "Certificate has expired" },
  "webhook-url-refused": { status: 422, title: "Webhook URL refused" },
  "status-not-propagated": { status: 503, title: "Certificate status not yet available at this edge" },
  "edge-backlog-full": { status: 503, title: "This agent's events are waiting for the origin; the edge takes no more until they are delivered" },
  // The agent's Durable Object threw (reset, overloaded, a storage error): send the batch again.
  "monitor-unavailable": { status: 503, title: "This agent's monitor did not answer" },
  // The edge's status ledger (a Durable Object) or KV threw: retry after Retry-After.
  "edge-store-unavailable": { status: 503, title: "This edge's status store did not answer" },
  "kms-not-configured": { status: 503, title: "Key management not configured" },
  "kms-unavailable": { status: 503, title: "Key management unavailable" },
  // Offline-root mode: no root certificate configured, or no issuing CA imported yet.
  "ca-not-ready": { status: 503, title: "No issuing CA yet (offline root)" },
  "database-unavailable": { status: 503, title: "Database unavailable" },
  // PostgreSQL aborted the transaction for a concurrent one (deadlock, serialization, lock timeout): retry.
  "database-conflict": { status: 503, title: "Concurrent change; retry" },
  "not-ready": { status: 503, title: "Not ready" },
  "edge-unavailable": { status: 503, title: "The edge did not answer" },
  // The audit log no longer extends the tree head the origin signed before: its database was changed behind it.
  "audit-log-inconsistent": { status: 500, title: "Audit log does not match its signed tree head" },
  "internal-error": { status: 500, title: "Internal server error" },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

/** One failing input field, as reported in a 422. `path` is dotted (`model.hash`, `events.3.amount`). */
export interface FieldError {
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Type URIs are URNs: stable identifiers that do not pretend to be dereferenceable pages. */
export function problemTypeUri(type: ProblemType): string {
  return `urn:kakunin:problem:${type}`;
}

export function problem(
  type: ProblemType,
  detail: string,
  extra: { instance?: string; errors?: FieldError[]; [k: string]: unknown } = {},
): Problem {
  const { status, title } = PROBLEM_TYPES[type];
  return { type: problemTypeUri(type), title, status, detail, ...extra };
}

/** A problem as a fetch Response (Workers and Node 20 both have the global Response). */
export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/**
 * The refusals a Kakunin gateway answers with, RFC 9457 problem details whose `type` is
 * `urn:kakunin:problem:<name>`, like every other Kakunin error. 401: the caller has not shown it is
 * the agent it names; 403: it has, but the agent may not do this; 503: the edge cannot say.
 */
export const GATEWAY_PROBLEMS = {
  "agent-serial-missing": { status: 401, title: "Agent serial missing" },
  "agent-serial-invalid": { status: 401, title: "Invalid agent serial" },
  "unknown-agent": { status: 401, title: "Unknown agent certificate" },
  "signature-missing": { status: 401, title: "Request signature missing" },
  "signature-invalid": { status: 401, title: "Invalid request signature" },
  "signature-stale": { status: 401, title: "Request signature outside the time window" },
  "signature-replayed": { status: 401, title: "Request signature already used" },
  "digest-mismatch": { status: 401, title: "Content digest does not match the body" },
  "certificate-revoked": { status: 403, title: "Agent certificate revoked" },
  "certificate-not-valid": { status: 403, title: "Agent certificate expired or not yet valid" },
  "agent-inactive": { status: 403, title: "Agent suspended or retired" },
  "model-hash-mismatch": { status: 403, title: "Model hash mismatch" },
  "scope-not-granted": { status: 403, title: "Scope not granted" },
  "risk-too-high": { status: 403, title: "Agent risk above the allowed band" },
  "tenant-not-allowed": { status: 403, title: "Agent belongs to another tenant" },
  "path-not-canonical": { status: 400, title: "Request target is not in canonical form" },
  "payload-too-large": { status: 413, title: "Payload too large" },
  "internal-error": { status: 500, title: "Internal server error" },
  "edge-unavailable": { status: 503, title: "Agent verification unavailable" },
  "replay-store-full": { status: 503, title: "Replay store full" },
} as const;

export type GatewayProblemName = keyof typeof GATEWAY_PROBLEMS;

export interface GatewayProblem {
  type: `urn:kakunin:problem:${GatewayProblemName}`;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function gatewayProblem(name: GatewayProblemName, detail: string, extensions: Record<string, unknown> = {}): GatewayProblem {
  const { status, title } = GATEWAY_PROBLEMS[name];
  return { ...extensions, type: `urn:kakunin:problem:${name}`, title, status, detail };
}

/** The headers every refusal carries; `Retry-After` when the problem says when to come back (`retry_after`, seconds). */
export function problemHeaders(p: GatewayProblem): Record<string, string> {
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store" };
  if (typeof p.retry_after === "number") headers["retry-after"] = String(p.retry_after);
  return headers;
}

/** The problem as a fetch Response (Hono, Workers, any fetch-style server). */
export function problemResponse(p: GatewayProblem): Response {
  return new Response(JSON.stringify(p), { status: p.status, headers: problemHeaders(p) });
}

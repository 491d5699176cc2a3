import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { IDENTITY_ONLY, JSON_MEDIA_TYPE as JSON_TYPE, parseJsonBody, type ScoringRecord, unreadableJsonRepresentation } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { dataResponse, INGEST_TOKEN, problemResponses, serve, type EdgeApp } from "../http/openapi.ts";
import { MAX_REQUEST_BODY, payloadTooLarge } from "../http/capped-body.ts";
import { edgeProblem } from "../http/problems.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { authenticateIngest } from "../ingest/authenticate.ts";
import { parseEvents } from "../ingest/parse.ts";
import { eventsBodySchema, ingestOutcomeSchema } from "../openapi/schemas.ts";

export const MAX_BODY = MAX_REQUEST_BODY;

const challenge = { "www-authenticate": z.string().openapi({ example: 'Bearer realm="kakunin-ingest", error="invalid_token"' }) };

export const route = createRoute({
  method: "post",
  path: "/v1/events",
  summary: "Post an agent's behaviour events; each is scored by the agent's monitor",
  tags: ["ingest"],
  security: INGEST_TOKEN,
  request: { body: { required: true, description: "≤ 1 MiB", content: { "application/json": { schema: eventsBodySchema } } } },
  responses: {
    202: dataResponse(ingestOutcomeSchema, "Accepted and scored; duplicates acknowledged, never counted twice"),
    ...problemResponses({
      400: "Body is not valid JSON",
      401: { description: "Missing, malformed, invalid or expired ingest token", headers: challenge },
      403: "The token's certificate is revoked, expired or replaced, or the agent is not active",
      413: "Body over 1 MiB, more than 1000 events, or an event's attributes over 8 KiB; `errors` names where",
      415: { description: "Body is not application/json, or is compressed (Content-Encoding) or not UTF-8", headers: { "accept-encoding": z.string() } },
      422: "An invalid event (`errors` paths like `events.3.amount`); nothing was accepted",
      500: "Misconfigured edge (no KAKUNIN_EDGE_SECRET)",
      503: {
        description:
          "This edge has not received the token's certificate yet (status-not-propagated), the agent's events waiting for the origin are at the edge's cap (edge-backlog-full; nothing of the batch was accepted), or the agent's monitor or the edge's status store did not answer (monitor-unavailable, edge-store-unavailable; send the batch again)",
        headers: { "retry-after": z.string() },
      },
    }),
  },
});

/**
 * The agent's Durable Object threw: reset (a deploy, an eviction), overloaded, or its storage
 * failed. That is this edge being unavailable for the agent, not a bug in the request: 503 with
 * Retry-After, so the runtime sends the batch again. The batch may have been committed before the
 * failure; event ids make the retry idempotent (its events come back as duplicates, and a retry
 * of committed events arms their forwarding, AgentMonitor.ingest). Overloaded objects ask for a
 * longer pause (Cloudflare sets `overloaded` on those errors).
 */
function monitorUnavailable(c: Context<EdgeEnv>, e: unknown): Response {
  const overloaded = typeof e === "object" && e !== null && (e as { overloaded?: unknown }).overloaded === true;
  console.error("[edge] agent monitor failed", { request_id: c.var.requestId, overloaded }, e);
  return edgeProblem(
    c,
    "monitor-unavailable",
    "This agent's monitor did not answer; send the batch again after Retry-After (event ids make the retry idempotent).",
    {
      headers: { "retry-after": overloaded ? "5" : "1" },
    },
  );
}

/** POST /v1/events: an agent's behaviour events, scored by its AgentMonitor. */
export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    const caller = await authenticateIngest(c);
    if (caller instanceof Response) return caller;
    // The tenant's scoring overrides, read while the body is parsed (awaited below; a failed read
    // fails the request as before, and the agent retries; no unhandled rejection on an early return).
    const scoringRead = c.env.CERT_STATUS.get(`scoring:${caller.cert.tenant_id}`);
    scoringRead.catch(() => undefined);
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (!JSON_TYPE.test(type)) return edgeProblem(c, "unsupported-media-type", `Expected application/json, got ${type || "no content type"}.`);
    // A gzip batch was "not valid JSON" (400) and a coding label on a plain body passed unread.
    const unreadable = unreadableJsonRepresentation(c.req.header("content-type"), c.req.header("content-encoding"));
    if (unreadable) return edgeProblem(c, "unsupported-media-type", unreadable, { headers: { ...IDENTITY_ONLY } });
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_BODY) return payloadTooLarge(c, MAX_BODY);
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength > MAX_BODY) return payloadTooLarge(c, MAX_BODY);
    // Bytes that are not UTF-8, escaped lone surrogates and nesting deeper than MAX_JSON_DEPTH are
    // refused here, naming the field: the origin cannot store them, and accepting them with a 202
    // would jam forwarding.
    const body = parseJsonBody(new Uint8Array(raw));
    if (!body.ok && body.reason === "malformed-json") return edgeProblem(c, "malformed-json", "The request body is not valid JSON.");
    if (!body.ok) return edgeProblem(c, "validation-failed", body.detail, { errors: body.errors });
    const parsed = parseEvents(body.value, Date.now());
    if (!parsed.ok && parsed.status === 413) {
      const [first, ...rest] = parsed.errors;
      return edgeProblem(
        c,
        "payload-too-large",
        `Over an ingest limit: ${first!.path} (${first!.message})${rest.length ? ` and ${rest.length} more` : ""}; nothing was accepted`,
        { errors: parsed.errors },
      );
    }
    if (!parsed.ok) return edgeProblem(c, "validation-failed", `${parsed.errors.length} invalid field(s); nothing was accepted`, { errors: parsed.errors });
    const monitor = c.env.AGENT_MONITOR.getByName(caller.claims.agent_id);
    // The tenant's scoring overrides (published by the origin; eventually consistent like all KV).
    const scoringRaw = await fromStore("status store", () => scoringRead);
    const scoring = scoringRaw ? (JSON.parse(scoringRaw) as ScoringRecord).scoring : undefined;
    let outcome: Awaited<ReturnType<typeof monitor.ingest>>;
    try {
      outcome = await monitor.ingest(
        {
          agentId: caller.claims.agent_id,
          tenantId: caller.cert.tenant_id,
          serial: caller.cert.serial_number,
          ...(caller.claims.serial !== caller.cert.serial_number && { tokenSerial: caller.claims.serial }),
          scopes: caller.cert.scopes,
          ...(caller.agent?.sensitivity && { sensitivity: caller.agent.sensitivity }),
          ...(scoring && { scoring }),
        },
        parsed.events,
        c.var.requestId,
      );
    } catch (e) {
      return monitorUnavailable(c, e);
    }
    if ("backlogFull" in outcome) {
      return edgeProblem(
        c,
        "edge-backlog-full",
        `${outcome.pending} of this agent's events are waiting for the origin, as many as this edge holds for one agent; nothing of this batch was accepted: send it again after Retry-After.`,
        { headers: { "retry-after": String(outcome.retryAfterS) } },
      );
    }
    return c.json({ data: outcome }, 202);
  });
}

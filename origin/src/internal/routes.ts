import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import {
  ACCEPTED_WIRE_VERSIONS, checkWireVersion, DEAD_LETTERS_PATH, deadLetterReportSchema, EVENTS_PATH, forwardedEventsSchema,
  RISK_ALERTS_PATH, riskAlertSchema, SIG_HEADER, storedEventsAckSchema, type RiskAlert,
} from "@kakunin/shared";
import type { ZodType } from "zod";
import type { AppEnv } from "../app-env.ts";
import { appendAudit } from "../audit/append.ts";
import { tenants } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { fieldErrors } from "../http/problems.ts";
import { recordEdgeDeadLetters } from "../lifecycle/dead-letters.ts";
import { dataResponse, errorResponses, jsonBody } from "../routes/openapi.ts";
import type { Services } from "../services.ts";
import { decideRisk } from "./decide-risk.ts";
import { storeEvents } from "./store-events.ts";
import { parseJson, verifyEdgeCall } from "./verify-call.ts";

export { EVENTS_PATH, RISK_ALERTS_PATH };

const signed = [{ signedInternal: [] }];
const versionRefused = { 426: { description: "A `wire_version` this origin does not speak: the edge holds the data and retries", content: errorResponses()[400]!.content } };

// Documented (tagged `internal`) so the OpenAPI check sees every route; the handlers keep their
// own checks because the signature must be verified over the raw body before it is parsed.
export const eventsRoute = createRoute({
  method: "post", path: EVENTS_PATH, summary: "The edge forwards accepted, scored events (stored once per event_id)",
  tags: ["internal"], security: signed, request: { body: jsonBody(forwardedEventsSchema) },
  responses: { 200: dataResponse(storedEventsAckSchema, "Stored; `dead_lettered` counts events the database refused (kept as dead letters)"), ...errorResponses(422), ...versionRefused },
});

export const riskAlertsRoute = createRoute({
  method: "post", path: RISK_ALERTS_PATH,
  summary: "The edge reports an agent whose risk reached high; the tenant policy revokes or flags (idempotent per alert)",
  tags: ["internal"], security: signed, request: { body: jsonBody(riskAlertSchema) },
  responses: {
    200: dataResponse(z.object({
      decision: z.enum(["revoked", "flagged", "already_revoked", "no_active_certificate"]),
      certificate_id: z.uuid().nullable(),
    }), "Decided"),
    ...errorResponses(404, 422), ...versionRefused,
  },
});

export const deadLettersRoute = createRoute({
  method: "post", path: DEAD_LETTERS_PATH, summary: "The edge reports records it gave up on after bounded retries (idempotent per key)",
  tags: ["internal"], security: signed, request: { body: jsonBody(deadLetterReportSchema) },
  responses: { 200: dataResponse(z.object({ recorded: z.number().int() }), "Recorded"), ...errorResponses(422), ...versionRefused },
});

/** Signature, then contract version (426 before any shape check: another version may have another shape), then schema. */
async function contractBody<T>(s: Services, req: Request, path: string, schema: ZodType<T>): Promise<T> {
  const body = parseJson(await verifyEdgeCall(s, req, path));
  const version = checkWireVersion(body);
  if (!version.ok) {
    throw new ApiError("unsupported-wire-version", `wire_version ${JSON.stringify(version.version)} is not one of ${ACCEPTED_WIRE_VERSIONS.join(", ")}; hold and retry after the upgrade.`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error.issues).slice(0, 50);
    throw new ApiError("validation-failed", `${parsed.error.issues.length} invalid field(s)`, { errors });
  }
  return parsed.data;
}

/** An alert for an agent the origin no longer has is dropped (404), but never silently: it is audited in its tenant's log. */
async function auditDroppedAlert(s: Services, alert: RiskAlert): Promise<void> {
  const [tenant] = await s.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, alert.tenant_id));
  if (!tenant) return;
  await s.db.transaction(async (tx) => {
    await appendAudit(tx, tenant.id, [{
      kind: "risk.alert_dropped", actor: { type: "system", id: "risk-policy" }, agentId: null, at: s.clock.now(),
      data: { alert_id: alert.alert_id, agent_id: alert.agent_id, serial_number: alert.serial_number, score: alert.score, reason: "agent not found", triggered_at: alert.triggered_at },
    }]);
  });
}

/** Calls from the edge (AgentMonitor): HMAC-signed, not API-key authenticated. */
export function registerInternal(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "signedInternal", {
    type: "apiKey",
    in: "header",
    name: SIG_HEADER,
    description: "Edge → origin calls only. HMAC-SHA256 with the shared KAKUNIN_EDGE_SECRET over "
      + "`METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SHA-256(body))`, sent as hex in `kakunin-signature`, with "
      + "`kakunin-timestamp` (Unix seconds, within ±300 s) and `kakunin-nonce` (never reused; a replay is refused).",
  });
  app.openAPIRegistry.registerPath(eventsRoute);
  app.openAPIRegistry.registerPath(riskAlertsRoute);
  app.openAPIRegistry.registerPath(deadLettersRoute);
  app.post(EVENTS_PATH, async (c) => {
    const s = c.var.services;
    const batch = await contractBody(s, c.req.raw, EVENTS_PATH, forwardedEventsSchema);
    const { dead_lettered, ...ack } = await storeEvents(s, batch);
    // `dead_lettered` only when non-zero: the ack stays what an older edge expects.
    return c.json({ data: dead_lettered ? { ...ack, dead_lettered } : ack }, 200);
  });
  app.post(RISK_ALERTS_PATH, async (c) => {
    const s = c.var.services;
    const alert = await contractBody(s, c.req.raw, RISK_ALERTS_PATH, riskAlertSchema);
    const out = await decideRisk(s, alert);
    if (!out) {
      await auditDroppedAlert(s, alert);
      throw new ApiError("not-found", `agent ${alert.agent_id} not found in tenant ${alert.tenant_id}`);
    }
    return c.json({ data: out }, 200);
  });
  app.post(DEAD_LETTERS_PATH, async (c) => {
    const s = c.var.services;
    const report = await contractBody(s, c.req.raw, DEAD_LETTERS_PATH, deadLetterReportSchema);
    return c.json({ data: { recorded: await recordEdgeDeadLetters(s, report) } }, 200);
  });
}

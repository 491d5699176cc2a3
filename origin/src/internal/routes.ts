import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { SIG_HEADER } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { fieldErrors } from "../http/problems.ts";
import { dataResponse, errorResponses, jsonBody } from "../routes/openapi.ts";
import { decideRisk } from "./decide-risk.ts";
import { forwardedEvents, riskAlert } from "./schemas.ts";
import { storeEvents } from "./store-events.ts";
import { parseJson, verifyEdgeCall } from "./verify-call.ts";

export const EVENTS_PATH = "/internal/v1/events";
export const RISK_ALERTS_PATH = "/internal/v1/risk-alerts";

function invalid(issues: Parameters<typeof fieldErrors>[0]): ApiError {
  const errors = fieldErrors(issues).slice(0, 50);
  return new ApiError("validation-failed", `${issues.length} invalid field(s)`, { errors });
}

const signed = [{ signedInternal: [] }];

// Documented (tagged `internal`) so the OpenAPI check sees every route; the handlers keep their
// own checks because the signature must be verified over the raw body before it is parsed.
export const eventsRoute = createRoute({
  method: "post",
  path: EVENTS_PATH,
  summary: "The edge forwards accepted, scored events (stored once per event_id)",
  tags: ["internal"],
  security: signed,
  request: { body: jsonBody(forwardedEvents) },
  responses: {
    200: dataResponse(z.object({ stored: z.number().int(), duplicates: z.number().int(), rejected: z.number().int() }), "Stored"),
    ...errorResponses(422),
  },
});

export const riskAlertsRoute = createRoute({
  method: "post",
  path: RISK_ALERTS_PATH,
  summary: "The edge reports an agent whose risk reached high; the tenant policy revokes or flags (idempotent per alert)",
  tags: ["internal"],
  security: signed,
  request: { body: jsonBody(riskAlert) },
  responses: {
    200: dataResponse(z.object({
      decision: z.enum(["revoked", "flagged", "already_revoked", "no_active_certificate"]),
      certificate_id: z.uuid().nullable(),
    }), "Decided"),
    ...errorResponses(404, 422),
  },
});

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
  app.post(EVENTS_PATH, async (c) => {
    const s = c.var.services;
    const body = parseJson(await verifyEdgeCall(s, c.req.raw, EVENTS_PATH));
    const parsed = forwardedEvents.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error.issues);
    return c.json({ data: await storeEvents(s, parsed.data) }, 200);
  });
  app.post(RISK_ALERTS_PATH, async (c) => {
    const s = c.var.services;
    const body = parseJson(await verifyEdgeCall(s, c.req.raw, RISK_ALERTS_PATH));
    const parsed = riskAlert.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error.issues);
    const out = await decideRisk(s, parsed.data);
    if (!out) throw new ApiError("not-found", `agent ${parsed.data.agent_id} not found in tenant ${parsed.data.tenant_id}`);
    return c.json({ data: out }, 200);
  });
}

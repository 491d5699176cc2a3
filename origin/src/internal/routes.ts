import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { fieldErrors } from "../http/problems.ts";
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

/** Calls from the edge (AgentMonitor): HMAC-signed, not API-key authenticated, not in OpenAPI. */
export function registerInternal(app: OpenAPIHono<AppEnv>): void {
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

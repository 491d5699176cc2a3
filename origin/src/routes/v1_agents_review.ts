import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { plainText } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { reviewAgent } from "../lifecycle/review-agent.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams, jsonBody } from "./openapi.ts";
import { awaitPublished } from "../publish/await-published.ts";
import { apiInstant } from "./query-time.ts";

export const reviewBody = z.strictObject({
  decision: z.enum(["clear", "revoke", "reinstate"]),
  reason: plainText(1024),
  // Optional precondition, as a merge API takes the head it was reviewed at: the number of open
  // alerts the reviewer decided on (the queue item's `alerts`). A decision closes every open alert,
  // so without it one that arrived after the queue was loaded is closed unseen.
  alerts: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .openapi({ description: "The queue item's `alerts` the decision was made on: 409 review-stale (nothing decided) if a different number is open now" }),
  // A count does not say which alerts: after another reviewer's decision the agent can be flagged
  // again with as many new ones. The oldest open alert's time changes with every decision.
  opened_at: apiInstant.optional().openapi({
    description:
      "The queue item's `opened_at` the decision was made on: 409 review-stale (nothing decided) if the agent's oldest open alert is another (someone decided since and it was flagged again)",
  }),
});

export const reviewView = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  decision: z.enum(["clear", "revoke", "reinstate"]),
  reason: z.string(),
  agent_status: z.enum(["active", "suspended", "retired"]),
  closed_alerts: z.number().int(),
  revoked_certificate_id: z.uuid().nullable(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/review",
  summary:
    "Decide on a flagged or auto-revoked agent: clear (false positive; events become normal history), revoke, or reinstate (lift a risk suspension) — admin, audited",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: idParams, body: jsonBody(reviewBody) },
  responses: { 200: dataResponse(reviewView, "Decided"), ...errorResponses(404, 409, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { opened_at, ...body } = c.req.valid("json");
    const input = { ...body, ...(opened_at !== undefined && { openedAt: new Date(opened_at) }) };
    const out = orThrow(await reviewAgent(c.var.services, c.var.caller.tenantId, c.req.valid("param").id, input, apiKeyActor(c.var.caller)));
    // A decision that revokes or reinstates changes what verify answers: answer once the edge has it
    // (bounded, as revoke does; the agent's record is queued after its certificates').
    await awaitPublished(c.var.services, "agent", c.req.valid("param").id);
    return c.json({ data: out }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { apiKeyActor } from "../audit/types.ts";
import { requireRole } from "../auth/authenticate.ts";
import { replayWebhook } from "../lifecycle/replay-webhook.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams, jsonBody, uuidInput } from "./openapi.ts";

export const replayBody = z.strictObject({
  /** Deliveries to send again (any status); absent: every dead-lettered delivery of the endpoint. */
  delivery_ids: z.array(uuidInput()).min(1).max(1000).optional(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/tenant/webhooks/{id}/replay",
  summary: "Send dead-lettered (or chosen) deliveries again, with the same CloudEvents id (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: idParams, body: jsonBody(replayBody) },
  responses: { 200: dataResponse(z.object({ requeued: z.number().int() }), "Requeued"), ...errorResponses(404, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const out = orThrow(
      await replayWebhook(c.var.services, c.var.caller.tenantId, c.req.valid("param").id, c.req.valid("json").delivery_ids, apiKeyActor(c.var.caller)),
    );
    return c.json({ data: out }, 200);
  });
}

import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { apiKeyActor } from "../audit/types.ts";
import { requireRole } from "../auth/authenticate.ts";
import { deleteWebhook } from "../lifecycle/delete-webhook.ts";
import { toWebhookView, webhookView } from "../views/webhook.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/tenant/webhooks/{id}",
  summary: "Remove a webhook endpoint: nothing more is sent to it; its pending deliveries end dead, its delivery log stays (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(webhookView, "The removed endpoint"), ...errorResponses(404) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const row = orThrow(await deleteWebhook(c.var.services, c.var.caller.tenantId, c.req.valid("param").id, apiKeyActor(c.var.caller)));
    return c.json({ data: toWebhookView(row) }, 200);
  });
}

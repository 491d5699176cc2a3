import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createWebhook } from "../lifecycle/create-webhook.ts";
import { webhookView, toWebhookView } from "../views/webhook.ts";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/enqueue.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const webhookCreate = z.strictObject({
  url: z.string().max(2048),
  event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)).max(WEBHOOK_EVENT_TYPES.length).optional(),
  description: z.string().max(256).optional(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/tenant/webhooks",
  summary: "Register a webhook endpoint (admin); the answer carries its signing secret, shown once",
  description:
    "CloudEvents 1.0 (structured JSON) signed in the Standard Webhooks style: webhook-id, webhook-timestamp, " +
    "webhook-signature (v1,base64 HMAC-SHA256 of `id.timestamp.body`), webhook-signature-key-id. Loopback and private " +
    "addresses are refused (422) unless KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1.",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(webhookCreate) },
  responses: {
    201: dataResponse(webhookView.extend({ secret: z.string().openapi({ description: "whsec_<base64 key>; store it, it is not shown again" }) }), "Registered"),
    ...errorResponses(409, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const row = orThrow(await createWebhook(c.var.services, c.var.caller.tenantId, c.req.valid("json"), apiKeyActor(c.var.caller)));
    return c.json({ data: { ...toWebhookView(row), secret: row.secret } }, 201);
  });
}

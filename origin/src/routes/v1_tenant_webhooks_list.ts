import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { webhookEndpoints } from "../db/schema.ts";
import { toWebhookView, webhookView } from "../views/webhook.ts";
import { bearer, errorResponses } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/webhooks",
  summary: "The tenant's webhook endpoints (secrets are never shown again)",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  responses: {
    200: { description: "The endpoints", content: { "application/json": { schema: z.object({ data: z.array(webhookView), next_cursor: z.null() }) } } },
    ...errorResponses(),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const rows = await c.var.services.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, c.var.caller.tenantId), isNull(webhookEndpoints.disabledAt)))
      // Every active endpoint, unpaged: creation caps them at KAKUNIN_WEBHOOK_MAX_ENDPOINTS (≤ 1,000),
      // and a cap lowered later must not hide the ones already there (a cut here was silent).
      .orderBy(asc(webhookEndpoints.createdAt), asc(webhookEndpoints.id));
    // Auditors read the configuration, not the receivers' credentials a query may carry.
    const full = c.var.caller.role === "admin";
    return c.json({ data: rows.map((w) => toWebhookView(w, full)), next_cursor: null }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { deliveryView, toDeliveryView } from "../views/webhook.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/webhooks/{id}/deliveries",
  summary: "The endpoint's delivery log: each event, its status (pending, delivered, dead) and every attempt",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: {
    params: idParams,
    query: z.object({
      status: z.enum(["pending", "delivered", "dead"]).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: {
    200: { description: "Newest first", content: { "application/json": { schema: z.object({ data: z.array(deliveryView), next_cursor: z.null() }) } } },
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const [ep] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, c.var.caller.tenantId)));
    if (!ep) throw new ApiError("not-found", `webhook ${id} not found`);
    const rows = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, id), q.status ? eq(webhookDeliveries.status, q.status) : undefined))
      .orderBy(desc(webhookDeliveries.createdAt))
      .limit(q.limit);
    const log = rows.length
      ? await db
          .select()
          .from(webhookAttempts)
          .where(
            inArray(
              webhookAttempts.deliveryId,
              rows.map((r) => r.id),
            ),
          )
          .orderBy(webhookAttempts.id)
      : [];
    return c.json(
      {
        data: rows.map((r) =>
          toDeliveryView(
            r,
            log.filter((a) => a.deliveryId === r.id),
          ),
        ),
        next_cursor: null,
      },
      200,
    );
  });
}

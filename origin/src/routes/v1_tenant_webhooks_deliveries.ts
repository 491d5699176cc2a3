import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, inArray } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { deliveryView, toDeliveryView } from "../views/webhook.ts";
import { beforeCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/webhooks/{id}/deliveries",
  summary: "The endpoint's delivery log: each event, its status (pending, delivered, dead) and every attempt",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: {
    params: idParams,
    query: pageQuery.extend({ status: z.enum(["pending", "delivered", "dead"]).optional() }),
  },
  responses: {
    200: {
      description: "Newest first, a page at a time: next_cursor is set while older deliveries remain",
      content: { "application/json": { schema: z.object({ data: z.array(deliveryView), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const [ep] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, c.var.caller.tenantId)));
    if (!ep) throw new ApiError("not-found", `webhook ${id} not found`);
    // Keyset on (created_at, id), newest first: one alert fans out to deliveries at the same instant.
    const older = cursor ? beforeCursor(webhookDeliveries.createdAt, webhookDeliveries.id, cursor) : undefined;
    const fetched = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, id), q.status ? eq(webhookDeliveries.status, q.status) : undefined, older))
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(q.limit + 1);
    const { page: rows, next } = keysetPage(fetched, q.limit, (r) => r);
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
        next_cursor: next,
      },
      200,
    );
  });
}

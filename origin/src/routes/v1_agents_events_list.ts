import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agentEvents, agents } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { rfc3339 } from "../time.ts";
import { afterCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

const eventView = z.object({
  event_id: z.string(),
  timestamp: z.string(),
  type: z.string(),
  action: z.string(),
  score: z.number(),
  band: z.enum(["low", "medium", "high"]),
  reasons: z.array(z.object({ feature: z.string(), contribution: z.number(), detail: z.string() })),
  serial_number: z.string(),
  event: z.record(z.string(), z.unknown()),
  received_at: z.string(),
});

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/events",
  summary: "Behaviour events the edge accepted for this agent, with their scores, in event-time order",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { params: idParams, query: pageQuery },
  responses: {
    200: { description: "A page of events", content: { "application/json": { schema: z.object({ data: z.array(eventView), next_cursor: z.string().nullable() }) } } },
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const [agent] = await s.db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    const cursor = cursorParam(q.cursor);
    const conds = [eq(agentEvents.agentId, id)];
    if (cursor) conds.push(afterCursor(agentEvents.occurredAt, agentEvents.id, cursor));
    const rows = await s.db.select().from(agentEvents).where(and(...conds)).orderBy(asc(agentEvents.occurredAt), asc(agentEvents.id)).limit(q.limit + 1);
    const { page, next } = keysetPage(rows, q.limit, (r) => ({ createdAt: r.occurredAt, id: r.id }));
    return c.json({
      data: page.map((e) => ({
        event_id: e.eventId, timestamp: rfc3339(e.occurredAt), type: e.type, action: e.action, score: e.score, band: e.band,
        reasons: e.reasons, serial_number: e.serialNumber, event: e.event, received_at: rfc3339(e.receivedAt),
      })),
      next_cursor: next,
    }, 200);
  });
}

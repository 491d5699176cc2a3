import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agentEvents } from "../db/schema.ts";
import { openReviews } from "../lifecycle/review-queue.ts";
import { rfc3339 } from "../time.ts";
import { cursorParam, encodeCursor, pageQuery } from "./cursor.ts";
import { bearer, errorResponses } from "./openapi.ts";

const reason = z.object({ feature: z.string(), contribution: z.number(), detail: z.string() });

export const reviewItem = z.object({
  agent_id: z.uuid(),
  name: z.string(),
  agent_status: z.enum(["active", "suspended", "retired"]),
  /** review_required: flagged with auto_revoke off; auto_revoked: revoked by the policy, awaiting a decision. */
  kind: z.enum(["review_required", "auto_revoked"]),
  score: z.number(),
  opened_at: z.string(),
  alerts: z.number().int(),
  top_reasons: z.array(reason),
  event_ids: z.array(z.string()),
  events: z.array(
    z.object({ event_id: z.string(), occurred_at: z.string(), action: z.string(), score: z.number(), band: z.string(), reasons: z.array(reason) }),
  ),
});

export const route = createRoute({
  method: "get",
  path: "/v1/reviews",
  summary: "The review queue: agents flagged for review or auto-revoked and awaiting a decision, with top reasons and the events that drove them",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { query: pageQuery },
  responses: {
    200: {
      description: "Oldest first, a page at a time: next_cursor is set while more agents wait",
      content: { "application/json": { schema: z.object({ data: z.array(reviewItem), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(422),
  },
});

const EVENTS_SHOWN = 20;

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const page = await openReviews(db, c.var.caller.tenantId, q.limit, cursor ? { openedAt: cursor.t, agentId: cursor.id } : undefined);
    const items = page.items.map((r) => ({
      agent_id: r.agentId,
      name: r.name,
      agent_status: r.status,
      kind: r.kind,
      score: r.score,
      opened_at: rfc3339(r.openedAt),
      alerts: r.alerts,
      top_reasons: r.reasons,
      event_ids: r.eventIds,
    }));
    const data = await Promise.all(
      items.map(async (it) => {
        const ids = it.event_ids.slice(0, EVENTS_SHOWN);
        const rows = ids.length
          ? await db
              .select()
              .from(agentEvents)
              .where(and(eq(agentEvents.agentId, it.agent_id), inArray(agentEvents.eventId, ids)))
          : [];
        return {
          ...it,
          event_ids: it.event_ids.slice(0, 1000),
          events: rows.map((e) => ({
            event_id: e.eventId,
            occurred_at: rfc3339(e.occurredAt),
            action: e.action,
            score: e.score,
            band: e.band,
            reasons: e.reasons,
          })),
        };
      }),
    );
    const next = page.next ? encodeCursor({ createdAt: page.next.openedAt, id: page.next.agentId }) : null;
    return c.json({ data, next_cursor: next }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, isNull, type SQL } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { deadLetters } from "../db/schema.ts";
import type { DeadLetterRow } from "../lifecycle/dead-letters.ts";
import { beforeCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses } from "./openapi.ts";

export const deadLetterView = z.object({
  id: z.uuid(),
  source: z.enum(["edge", "origin"]),
  kind: z.enum(["event", "alert", "publish"]),
  agent_id: z.uuid().nullable(),
  ref: z.string(),
  status: z.number().int(),
  error: z.string(),
  attempts: z.number().int(),
  /** The record as it was sent, JSON text (escapes kept: it may hold what made it undeliverable). */
  payload: z.string(),
  first_failed_at: z.string(),
  dead_at: z.string(),
  replayed_at: z.string().nullable(),
  replay_result: z.string().nullable(),
}).openapi("DeadLetter");

export function toDeadLetterView(r: DeadLetterRow): z.infer<typeof deadLetterView> {
  return {
    id: r.id, source: r.source, kind: r.kind, agent_id: r.agentId, ref: r.ref, status: r.status, error: r.error, attempts: r.attempts,
    payload: r.payload, first_failed_at: r.firstFailedAt.toISOString(), dead_at: r.deadAt.toISOString(),
    replayed_at: r.replayedAt?.toISOString() ?? null, replay_result: r.replayResult,
  };
}

export const route = createRoute({
  method: "get",
  path: "/v1/admin/dead-letters",
  summary: "Records given up on after bounded retries (edge and origin), newest first; `?pending=true` hides replayed ones",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { query: pageQuery.extend({ pending: z.enum(["true", "false"]).optional() }) },
  responses: {
    200: { description: "Dead letters", content: { "application/json": { schema: z.object({ data: z.array(deadLetterView), next_cursor: z.string().nullable() }) } } },
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const where: SQL[] = [eq(deadLetters.tenantId, c.var.caller.tenantId)];
    if (q.pending === "true") where.push(isNull(deadLetters.replayedAt));
    const cursor = cursorParam(q.cursor);
    if (cursor) where.push(beforeCursor(deadLetters.deadAt, deadLetters.id, cursor));
    const rows = await c.var.services.db.select().from(deadLetters).where(and(...where))
      .orderBy(desc(deadLetters.deadAt), desc(deadLetters.id)).limit(q.limit + 1);
    const { page, next } = keysetPage(rows, q.limit, (r) => ({ createdAt: r.deadAt, id: r.id }));
    return c.json({ data: page.map(toDeadLetterView), next_cursor: next }, 200);
  });
}

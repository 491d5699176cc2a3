import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, gt, lte } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents, certificates } from "../db/schema.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { afterCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses } from "./openapi.ts";
import { rfc3339 } from "../time.ts";

const DURATION = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** The longest `expiring_within` (100 years): 7 digits of days would reach past the year 9999, which the database cannot hold (a 500). */
const MAX_WINDOW_S = 36_500 * 86_400;

/** `30d`, `12h`, `90m`, `3600s` → seconds; undefined when malformed. */
export function parseDuration(v: string): number | undefined {
  const m = DURATION.exec(v);
  return m ? Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S] : undefined;
}

const listedAgent = agentView.extend({
  certificate: z.object({ id: z.uuid(), serial_number: z.string(), expires_at: z.string() }).optional()
    .openapi({ description: "With `expiring_within`: the active certificate that expires inside the window" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/agents",
  summary: "List agents, oldest first, with cursor pagination",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: {
    query: pageQuery.extend({
      status: z.enum(["active", "suspended", "retired"]).optional(),
      expiring_within: z.string().regex(DURATION, "a duration like 30d, 12h, 90m or 3600s")
        .refine((v) => (parseDuration(v) ?? 0) <= MAX_WINDOW_S, "at most 36500d (100 years)").optional()
        .openapi({ description: "Only agents whose active certificate expires within this window (and has not expired yet)", example: "30d" }),
    }),
  },
  responses: {
    200: {
      description: "A page of agents",
      content: { "application/json": { schema: z.object({ data: z.array(listedAgent), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const conds = [eq(agents.tenantId, c.var.caller.tenantId)];
    if (q.status) conds.push(eq(agents.status, q.status));
    if (cursor) conds.push(afterCursor(agents.createdAt, agents.id, cursor));
    const db = c.var.services.db;
    if (q.expiring_within === undefined) {
      const rows = await db.select().from(agents).where(and(...conds)).orderBy(asc(agents.createdAt), asc(agents.id)).limit(q.limit + 1);
      const p = keysetPage(rows, q.limit, (r) => r);
      return c.json({ data: p.page.map(toAgentView), next_cursor: p.next }, 200);
    }
    const now = c.var.services.clock.now();
    const until = new Date(now.getTime() + parseDuration(q.expiring_within)! * 1000);
    const rows = await db
      .select({ a: agents, c: { id: certificates.id, serial: certificates.serialNumber, expiresAt: certificates.expiresAt } })
      .from(agents)
      .innerJoin(certificates, and(eq(certificates.agentId, agents.id), eq(certificates.status, "active")))
      .where(and(...conds, gt(certificates.expiresAt, now), lte(certificates.expiresAt, until)))
      .orderBy(asc(agents.createdAt), asc(agents.id))
      .limit(q.limit + 1);
    const p = keysetPage(rows, q.limit, (r) => r.a);
    return c.json({
      data: p.page.map((r) => ({ ...toAgentView(r.a), certificate: { id: r.c.id, serial_number: r.c.serial, expires_at: rfc3339(r.c.expiresAt) } })),
      next_cursor: p.next,
    }, 200);
  });
}

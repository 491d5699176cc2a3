import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, gt, or } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { decodeCursor, encodeCursor, pageQuery } from "./cursor.ts";
import { bearer, errorResponses } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents",
  summary: "List agents, oldest first, with cursor pagination",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { query: pageQuery.extend({ status: z.enum(["active", "suspended", "retired"]).optional() }) },
  responses: {
    200: {
      description: "A page of agents",
      content: { "application/json": { schema: z.object({ data: z.array(agentView), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) {
      throw new ApiError("validation-failed", "1 invalid field(s) in the query string", {
        errors: [{ path: "cursor", message: "not a cursor returned by this API" }],
      });
    }
    const conds = [eq(agents.tenantId, c.var.caller.tenantId)];
    if (q.status) conds.push(eq(agents.status, q.status));
    if (cursor) conds.push(or(gt(agents.createdAt, cursor.t), and(eq(agents.createdAt, cursor.t), gt(agents.id, cursor.id)))!);
    const rows = await c.var.services.db
      .select()
      .from(agents)
      .where(and(...conds))
      .orderBy(asc(agents.createdAt), asc(agents.id))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const next = rows.length > q.limit ? encodeCursor(page[page.length - 1]!) : null;
    return c.json({ data: page.map(toAgentView), next_cursor: next }, 200);
  });
}

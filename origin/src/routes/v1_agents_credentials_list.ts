import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agentCredentials, agents } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { afterCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";
import { agentCredentialView, toAgentCredentialView } from "./v1_agents_credentials_create.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/credentials",
  summary: "List an agent's credentials, revoked ones included (never the keys themselves)",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  // Paged like every list: nothing caps how many credentials an agent gets, and `?limit=` was ignored.
  request: { params: idParams, query: pageQuery },
  responses: {
    200: {
      description: "Oldest first, a page at a time: next_cursor is set while more credentials remain",
      content: { "application/json": { schema: z.object({ data: z.array(agentCredentialView), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const { id } = c.req.valid("param");
    const [agent] = await db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const conds = [eq(agentCredentials.agentId, id)];
    if (cursor) conds.push(afterCursor(agentCredentials.createdAt, agentCredentials.id, cursor));
    const rows = await db.select().from(agentCredentials).where(and(...conds)).orderBy(asc(agentCredentials.createdAt), asc(agentCredentials.id)).limit(q.limit + 1);
    const { page, next } = keysetPage(rows, q.limit, (r) => r);
    return c.json({ data: page.map(toAgentCredentialView), next_cursor: next }, 200);
  });
}

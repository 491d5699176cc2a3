import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agentCredentials, agents } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";
import { agentCredentialView, toAgentCredentialView } from "./v1_agents_credentials_create.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/credentials",
  summary: "List an agent's credentials, revoked ones included (never the keys themselves)",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { params: idParams },
  responses: {
    200: { description: "Credentials", content: { "application/json": { schema: z.object({ data: z.array(agentCredentialView), next_cursor: z.null() }) } } },
    ...errorResponses(404),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const { id } = c.req.valid("param");
    const [agent] = await db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    const rows = await db.select().from(agentCredentials).where(eq(agentCredentials.agentId, id)).orderBy(asc(agentCredentials.createdAt));
    return c.json({ data: rows.map(toAgentCredentialView), next_cursor: null }, 200);
  });
}

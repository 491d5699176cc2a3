import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}",
  summary: "Get an agent",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(agentView, "The agent"), ...errorResponses(404) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const [row] = await c.var.services.db.select().from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!row) throw notFound("agent", id);
    return c.json({ data: toAgentView(row) }, 200);
  });
}

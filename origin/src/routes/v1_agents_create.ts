import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { agentCreateSchema } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createAgent } from "../lifecycle/create-agent.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/agents",
  summary: "Register an agent",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { body: jsonBody(agentCreateSchema) },
  responses: { 201: dataResponse(agentView, "The new agent, status active"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const row = await createAgent(c.var.services, c.var.caller.tenantId, c.req.valid("json"), apiKeyActor(c.var.caller));
    c.header("location", `/v1/agents/${row.id}`);
    return c.json({ data: toAgentView(row) }, 201);
  });
}

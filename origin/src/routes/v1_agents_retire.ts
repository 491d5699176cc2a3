import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { retireAgent } from "../lifecycle/retire-agent.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { awaitPublished } from "../publish/await-published.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/retire",
  summary: "Retire an agent for good; its active certificate and a renewed predecessor inside its overlap are revoked (cessationOfOperation)",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(agentView, "The retired agent"), ...errorResponses(404, 409) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const agent = orThrow(await retireAgent(c.var.services, c.var.caller.tenantId, c.req.valid("param").id, apiKeyActor(c.var.caller)));
    // Answer once the edge holds the revocations (bounded, as revoke does). The agent's record is
    // queued after its certificates' and the publisher delivers in order, so its delivery covers them.
    await awaitPublished(c.var.services, "agent", agent.id);
    return c.json({ data: toAgentView(agent) }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { revokeAgentCredential } from "../lifecycle/agent-credentials.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, uuidInput } from "./openapi.ts";
import { agentCredentialView, toAgentCredentialView } from "./v1_agents_credentials_create.ts";

/** POST …/revoke like certificates (a state change that keeps the record), not DELETE. */
export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/credentials/{cid}/revoke",
  summary: "Revoke an agent credential; it stops working at once",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { params: z.object({ id: uuidInput(), cid: uuidInput() }) },
  responses: { 200: dataResponse(agentCredentialView, "The revoked credential"), ...errorResponses(404, 409) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id, cid } = c.req.valid("param");
    const caller = c.var.caller;
    const row = orThrow(await revokeAgentCredential(c.var.services, { tenantId: caller.tenantId, agentId: id, credentialId: cid, actor: apiKeyActor(caller) }));
    return c.json({ data: toAgentCredentialView(row) }, 200);
  });
}

import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { agentPatchSchema } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { patchAgent } from "../lifecycle/patch-agent.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { ApiError } from "../http/api-error.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams, jsonBody } from "./openapi.ts";
import { awaitPublished } from "../publish/await-published.ts";

export const route = createRoute({
  method: "patch",
  path: "/v1/agents/{id}",
  summary:
    "Change an agent; a new model.hash revokes its active certificate and a renewed predecessor inside its overlap (reason superseded); `sensitivity` (low|normal|high) needs admin",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { params: idParams, body: jsonBody(agentPatchSchema) },
  responses: { 200: dataResponse(agentView, "The updated agent"), ...errorResponses(404, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    // Sensitivity is a risk control, like the tenant's scoring: an issuer may not lower it.
    if (c.req.valid("json").sensitivity !== undefined && c.var.caller.role !== "admin") {
      throw new ApiError("forbidden", "changing an agent's sensitivity requires the admin role");
    }
    const out = orThrow(await patchAgent(c.var.services, c.var.caller.tenantId, c.req.valid("param").id, c.req.valid("json"), apiKeyActor(c.var.caller)));
    if (out.superseded) {
      c.header("kakunin-superseded-certificate", out.superseded.id);
      // A revocation, as POST …/revoke is: answered once the edge holds it (bounded wait).
      await awaitPublished(c.var.services, "cert", out.superseded.serialNumber);
    }
    return c.json({ data: toAgentView(out.agent) }, 200);
  });
}

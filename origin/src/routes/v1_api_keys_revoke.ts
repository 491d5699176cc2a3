import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { revokeApiKey } from "../lifecycle/revoke-api-key.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { apiKeyView, toApiKeyView } from "./v1_api_keys_create.ts";

export const route = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  summary: "Revoke an API key",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(apiKeyView, "The revoked key"), ...errorResponses(404, 409) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const row = orThrow(await revokeApiKey(c.var.services, c.var.caller.tenantId, id, apiKeyActor(c.var.caller)));
    return c.json({ data: toApiKeyView(row) }, 200);
  });
}

import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { apiKeys } from "../db/schema.ts";
import { ApiError, notFound } from "../http/api-error.ts";
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
    const s = c.var.services;
    const mine = and(eq(apiKeys.id, id), eq(apiKeys.tenantId, c.var.caller.tenantId));
    const row = await s.db.transaction(async (tx) => {
      const [revoked] = await tx.update(apiKeys).set({ revokedAt: s.clock.now() }).where(and(mine, isNull(apiKeys.revokedAt))).returning();
      if (revoked) {
        await appendAudit(tx, c.var.caller.tenantId, [{
          kind: "api_key.revoked", actor: apiKeyActor(c.var.caller), at: revoked.revokedAt!, data: { api_key_id: revoked.id, name: revoked.name, role: revoked.role },
        }]);
      }
      return revoked;
    });
    if (row) return c.json({ data: toApiKeyView(row) }, 200);
    const [existing] = await s.db.select({ id: apiKeys.id }).from(apiKeys).where(mine);
    if (!existing) throw notFound("api key", id);
    throw new ApiError("conflict", `api key ${id} is already revoked`);
  });
}

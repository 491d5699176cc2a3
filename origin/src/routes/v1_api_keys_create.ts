import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { displayName } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createApiKey, type ApiKeyRow } from "../auth/create-key.ts";
import { rfc3339 } from "../time.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const apiKeyView = z.object({
  id: z.uuid(), name: z.string(), role: z.enum(["admin", "issuer", "auditor"]), prefix: z.string(),
  created_at: z.string(), revoked_at: z.string().nullable(),
});

export function toApiKeyView(k: ApiKeyRow): z.infer<typeof apiKeyView> {
  return { id: k.id, name: k.name, role: k.role, prefix: k.prefix, created_at: rfc3339(k.createdAt), revoked_at: rfc3339(k.revokedAt) };
}

export const route = createRoute({
  method: "post",
  path: "/v1/api-keys",
  summary: "Create an API key in the caller's tenant; the key is shown once",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(z.strictObject({ name: displayName, role: z.enum(["admin", "issuer", "auditor"]) })) },
  responses: { 201: dataResponse(apiKeyView.extend({ key: z.string() }), "The new key"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const { row, key } = await c.var.services.db.transaction(async (tx) => {
      const created = await createApiKey(tx, { tenantId: c.var.caller.tenantId, ...body });
      await appendAudit(tx, c.var.caller.tenantId, [{
        kind: "api_key.created", actor: apiKeyActor(c.var.caller), at: created.row.createdAt,
        data: { api_key_id: created.row.id, name: created.row.name, role: created.row.role, prefix: created.row.prefix },
      }]);
      return created;
    });
    return c.json({ data: { ...toApiKeyView(row), key } }, 201);
  });
}

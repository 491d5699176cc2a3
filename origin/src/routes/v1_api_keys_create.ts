import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { displayName } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createApiKey, type ApiKeyRow } from "../auth/create-key.ts";
import { rfc3339 } from "../time.ts";
import { and, count, eq, isNull } from "drizzle-orm";
import { apiKeys, tenants } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
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
  // `name` only labels the key in lists: a client that sends just the role gets "<role> key".
  request: { body: jsonBody(z.strictObject({ name: displayName.optional(), role: z.enum(["admin", "issuer", "auditor"]) })) },
  responses: { 201: dataResponse(apiKeyView.extend({ key: z.string() }), "The new key"), ...errorResponses(409, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const tenantId = c.var.caller.tenantId;
    const max = c.var.services.config.KAKUNIN_MAX_API_KEYS;
    const { row, key } = await c.var.services.db.transaction(async (tx) => {
      // The tenant row is the lock: concurrent creations are counted one after another (NO KEY
      // UPDATE, so rows that merely reference the tenant are not held up). Revoked keys and the
      // stored-revoked `kakunin init` token do not count: only keys that open the API.
      await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for("no key update");
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(apiKeys).where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)));
      if (n >= max) {
        throw new ApiError("api-key-limit", `the tenant already has ${n} live API keys (at most ${max}, KAKUNIN_MAX_API_KEYS); revoke one first (DELETE /v1/api-keys/:id)`);
      }
      const created = await createApiKey(tx, { tenantId: c.var.caller.tenantId, role: body.role, name: body.name ?? `${body.role} key` });
      await appendAudit(tx, c.var.caller.tenantId, [{
        kind: "api_key.created", actor: apiKeyActor(c.var.caller), at: created.row.createdAt,
        data: { api_key_id: created.row.id, name: created.row.name, role: created.row.role, prefix: created.row.prefix },
      }]);
      return created;
    });
    return c.json({ data: { ...toApiKeyView(row), key } }, 201);
  });
}

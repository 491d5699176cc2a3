import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createApiKey } from "../auth/create-key.ts";
import { tenants } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { rfc3339 } from "../time.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";
import { tenantView } from "./v1_tenant_get.ts";

/** Tenant names go into certificate subjects (O=), so they are short, printable and unique. */
const tenantCreate = z.strictObject({
  name: z.string().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, "letters, digits, space, '.', '_' and '-'"),
});

export const route = createRoute({
  method: "post",
  path: "/v1/tenants",
  summary: "Create a tenant with its first admin key (operator tenant's admins only)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(tenantCreate) },
  responses: {
    201: dataResponse(tenantView.extend({ admin_api_key: z.string() }), "The tenant and its first admin key (shown once)"),
    ...errorResponses(409, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    if (!c.var.caller.isOperator) throw new ApiError("forbidden", "Only admins of the operator tenant may create tenants.");
    const { name } = c.req.valid("json");
    try {
      const out = await c.var.services.db.transaction(async (tx) => {
        const [t] = await tx.insert(tenants).values({ name }).returning();
        const { key, row } = await createApiKey(tx, { tenantId: t!.id, name: "initial admin", role: "admin" });
        await appendAudit(tx, t!.id, [
          { kind: "tenant.created", actor: apiKeyActor(c.var.caller), at: t!.createdAt, data: { tenant_id: t!.id, name: t!.name, created_by_tenant: c.var.caller.tenantId } },
          { kind: "api_key.created", actor: apiKeyActor(c.var.caller), at: t!.createdAt, data: { api_key_id: row.id, name: row.name, role: row.role, prefix: row.prefix } },
        ]);
        return { id: t!.id, name: t!.name, created_at: rfc3339(t!.createdAt), admin_api_key: key };
      });
      return c.json({ data: out }, 201);
    } catch (e) {
      if (sqlState(e) === UNIQUE_VIOLATION) throw new ApiError("conflict", `a tenant named '${name}' already exists`);
      throw e;
    }
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createTenant } from "../lifecycle/create-tenant.ts";
import { ApiError } from "../http/api-error.ts";
import { rfc3339 } from "../time.ts";
import { orThrow } from "./fail.ts";
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
    const { tenant, adminKey } = orThrow(await createTenant(c.var.services, name, apiKeyActor(c.var.caller), c.var.caller.tenantId));
    return c.json({ data: { id: tenant.id, name: tenant.name, created_at: rfc3339(tenant.createdAt), admin_api_key: adminKey } }, 201);
  });
}

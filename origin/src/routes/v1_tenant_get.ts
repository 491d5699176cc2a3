import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { tenants } from "../db/schema.ts";
import { rfc3339 } from "../time.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const tenantView = z.object({ id: z.uuid(), name: z.string(), created_at: z.string() });

export const route = createRoute({
  method: "get",
  path: "/v1/tenant",
  summary: "The caller's tenant and role (who am I)",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  responses: { 200: dataResponse(tenantView.extend({ role: z.string(), api_key_id: z.uuid() }), "Tenant"), ...errorResponses() },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const [t] = await c.var.services.db.select().from(tenants).where(eq(tenants.id, c.var.caller.tenantId));
    return c.json({ data: { id: t!.id, name: t!.name, created_at: rfc3339(t!.createdAt), role: c.var.caller.role, api_key_id: c.var.caller.keyId } }, 200);
  });
}

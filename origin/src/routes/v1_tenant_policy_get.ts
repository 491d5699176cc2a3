import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { tenants } from "../db/schema.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const policyView = z.object({
  auto_revoke: z.boolean(),
  renewal_overlap_seconds: z.number().int().nullable().openapi({ description: "Renewal overlap for this tenant; null: the origin's default (KAKUNIN_RENEWAL_OVERLAP_S)" }),
});

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/policy",
  summary: "The tenant's policy",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  responses: { 200: dataResponse(policyView, "The policy"), ...errorResponses() },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const [t] = await c.var.services.db.select({ policy: tenants.policy }).from(tenants).where(eq(tenants.id, c.var.caller.tenantId));
    return c.json({ data: { auto_revoke: t!.policy.auto_revoke, renewal_overlap_seconds: t!.policy.renewal_overlap_seconds ?? null } }, 200);
  });
}

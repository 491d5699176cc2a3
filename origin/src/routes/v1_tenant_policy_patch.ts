import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { patchPolicy } from "../lifecycle/patch-policy.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";
import { policyView } from "./v1_tenant_policy_get.ts";

export const policyPatch = z
  .strictObject({
    auto_revoke: z.boolean().optional(),
    /** How long a renewed certificate stays valid beside its successor (0 to 30 days). */
    renewal_overlap_seconds: z.number().int().min(0).max(30 * 86_400).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "at least one policy field is required" });

export const route = createRoute({
  method: "patch",
  path: "/v1/tenant/policy",
  summary: "Change the tenant's policy (admin)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(policyPatch) },
  responses: { 200: dataResponse(policyView, "The new policy"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const patch = c.req.valid("json");
    const policy = await patchPolicy(c.var.services, c.var.caller.tenantId, patch, apiKeyActor(c.var.caller));
    return c.json({ data: { auto_revoke: policy.auto_revoke, renewal_overlap_seconds: policy.renewal_overlap_seconds ?? null } }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { treeHead } from "../audit/tree-head.ts";
import { requireRole } from "../auth/authenticate.ts";
import { kmOrThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const treeHeadView = z.object({
  tenant_id: z.uuid(), tree_size: z.number().int(), root_hash: z.string(), timestamp: z.string(), signature: z.string(),
  signature_algorithm: z.literal("RSASSA_PKCS1_V1_5_SHA_256"), signer_serial: z.string(), signer_certificate_pem: z.string(),
});

export const route = createRoute({
  method: "get",
  path: "/v1/audit/tree-head",
  summary: "The newest signed tree head of the tenant's audit log (RFC 9162 style)",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  responses: { 200: dataResponse(treeHeadView, "Signed tree head"), ...errorResponses(503) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const sth = kmOrThrow(await treeHead(c.var.services, { id: c.var.caller.tenantId, name: c.var.caller.tenantName }));
    return c.json({ data: sth }, 200);
  });
}

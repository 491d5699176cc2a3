import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { requestIssuingCa, type CaRequest } from "../lifecycle/request-issuing-ca.ts";
import { rfc3339 } from "../time.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const caRequestView = z.object({
  id: z.uuid(),
  status: z.enum(["pending", "imported"]),
  generation: z.number().int(),
  /** PKCS#10, signed by the new key in the KeyManager; asks for the issuing profile's extensions. */
  csr_pem: z.string(),
  created_at: z.string(),
});

export function caRequestJson(r: CaRequest): z.infer<typeof caRequestView> {
  return { id: r.id, status: r.status, generation: r.generation, csr_pem: r.csrPem, created_at: rfc3339(r.createdAt) };
}

export const route = createRoute({
  method: "post",
  path: "/v1/tenant/ca/csr",
  summary: "Offline root: create the key of the tenant's next issuing CA and a CSR for the root to sign offline (the pending one again if it exists)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  responses: {
    201: dataResponse(caRequestView, "A new request (new key in the KeyManager)"),
    200: dataResponse(caRequestView, "The tenant's pending request, unchanged"),
    ...errorResponses(409, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const tenant = { id: c.var.caller.tenantId, name: c.var.caller.tenantName };
    const r = orThrow(await requestIssuingCa(s, tenant, apiKeyActor(c.var.caller)));
    return c.json({ data: caRequestJson(r.request) }, r.created ? 201 : 200);
  });
}

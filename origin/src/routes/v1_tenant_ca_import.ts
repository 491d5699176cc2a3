import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { importIssuingCa } from "../lifecycle/import-issuing-ca.ts";
import { orThrow } from "./fail.ts";
import { authorityView, view } from "./v1_ca_get.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const importRequest = z.strictObject({
  /** The issuing-CA certificate the offline root signed for the pending request (PEM). */
  certificate_pem: z
    .string()
    .min(1)
    .max(64 * 1024),
});

export const route = createRoute({
  method: "post",
  path: "/v1/tenant/ca/import",
  summary: "Offline root: import the issuing-CA certificate signed offline for the pending CSR; checked, then made the active issuing CA",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(importRequest) },
  responses: {
    201: dataResponse(z.object({ current: authorityView, previous: authorityView.nullable() }), "Now the active issuing CA (the previous one retired)"),
    200: dataResponse(z.object({ current: authorityView, previous: authorityView.nullable() }), "Already imported: nothing changed"),
    ...errorResponses(409, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const tenant = { id: c.var.caller.tenantId, name: c.var.caller.tenantName };
    const { certificate_pem } = c.req.valid("json");
    const r = orThrow(await importIssuingCa(s, tenant, certificate_pem, apiKeyActor(c.var.caller)));
    const data = { current: view({ record: r.current }), previous: r.previous ? view({ record: r.previous }) : null };
    return c.json({ data }, r.replayed ? 200 : 201);
  });
}

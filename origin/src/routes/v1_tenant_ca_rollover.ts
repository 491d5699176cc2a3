import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { rolloverIssuingCa } from "../lifecycle/rollover-ca.ts";
import { orThrow } from "./fail.ts";
import { authorityView, view } from "./v1_ca_get.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/tenant/ca/rollover",
  summary: "Roll the tenant's issuing CA over to a new key; the old CA keeps serving CRL/OCSP for the certificates it issued",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  responses: {
    201: dataResponse(z.object({ current: authorityView, previous: authorityView }), "The new issuing CA (now signing) and the retired one"),
    ...errorResponses(409, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const tenant = { id: c.var.caller.tenantId, name: c.var.caller.tenantName };
    const r = orThrow(await rolloverIssuingCa(s, tenant, apiKeyActor(c.var.caller)));
    return c.json({ data: { current: view({ record: r.current }), previous: view({ record: r.previous }) } }, 201);
  });
}

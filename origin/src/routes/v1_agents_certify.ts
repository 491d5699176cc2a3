import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { certifyAgent } from "../lifecycle/certify.ts";
import { issuedCertificateView, toIssuedView } from "../views/certificate.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/certify",
  summary: "Issue the agent's X.509 certificate (RSA-2048 key generated inside the KeyManager)",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { params: idParams },
  responses: {
    201: dataResponse(issuedCertificateView, "The issued certificate"),
    ...errorResponses(404, 409, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const caller = c.var.caller;
    const cert = orThrow(await certifyAgent(s, { id: caller.tenantId, name: caller.tenantName }, c.req.valid("param").id, apiKeyActor(caller)));
    c.header("location", `/v1/certificates/${cert.id}`);
    return c.json({ data: toIssuedView(cert, s.clock.now()) }, 201);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { plainText } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { awaitPublished } from "../publish/await-published.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { certifyAgent } from "../lifecycle/certify.ts";
import { issuedCertificateView, toIssuedView } from "../views/certificate.ts";
import { orThrow, parseOptionalJson } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { emptyJsonIsNoBody } from "./optional-body.ts";

export const certifyRequest = z.strictObject({
  /** Why a suspension is being lifted (audited). Required to lift a risk suspension. */
  reason: plainText(500).optional(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/certify",
  summary: "Issue the agent's X.509 certificate (RSA-2048 key generated inside the KeyManager)",
  security: bearer,
  middleware: [requireRole("admin", "issuer"), emptyJsonIsNoBody] as const,
  description: "Certifying a suspended agent lifts the suspension. A suspension the risk monitor caused (revocation reason `risk_threshold`, or a review's `revoke` confirming its flag) only an admin may lift, with `{\"reason\": ...}`: an issuer gets 403 `risk-suspension`.",
  request: { params: idParams, body: { required: false, content: { "application/json": { schema: certifyRequest } } } },
  responses: {
    201: dataResponse(issuedCertificateView, "The issued certificate"),
    ...errorResponses(404, 409, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const caller = c.var.caller;
    const body = parseOptionalJson(await c.req.text(), certifyRequest);
    const cert = orThrow(await certifyAgent(s, { id: caller.tenantId, name: caller.tenantName }, c.req.valid("param").id, apiKeyActor(caller), { reason: body?.reason }));
    // Answer once the edge holds the certificate (bounded, as revoke and ingest tokens do): a gateway
    // verifying right after the 201 must find it, not a 404 for a few hundred milliseconds.
    await awaitPublished(s, "cert", cert.serialNumber);
    c.header("location", `/v1/certificates/${cert.id}`);
    return c.json({ data: toIssuedView(cert, s.clock.now()) }, 201);
  });
}

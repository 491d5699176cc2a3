import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { reasonCodeOf, revokeSchema } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { revokeAndSuspend } from "../lifecycle/revoke-suspend.ts";
import { awaitPublished } from "../publish/await-published.ts";
import { revokedView, toRevokedView } from "../views/certificate.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams, jsonBody } from "./openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/certificates/{id}/revoke",
  summary: "Revoke a certificate; the agent becomes suspended and any other certificate still valid for it is revoked too",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { params: idParams, body: jsonBody(revokeSchema) },
  responses: { 200: dataResponse(revokedView, "The revoked certificate"), ...errorResponses(404, 409, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const body = c.req.valid("json");
    const revoked = orThrow(await s.db.transaction((tx) => revokeAndSuspend(tx, {
      tenantId: c.var.caller.tenantId,
      certificateId: c.req.valid("param").id,
      reason: body.reason,
      code: body.reason_code ?? reasonCodeOf(body.reason),
      now: s.clock.now(),
      // The revocation's time is taken once the agent's and the certificate's rows are locked.
      clock: s.clock,
      actor: apiKeyActor(c.var.caller),
    })));
    // Answer once the edge holds the revocation (bounded; the publisher retries after a timeout):
    // a gateway checking right after a 200 must not still be told "active".
    await awaitPublished(s, "cert", revoked.serialNumber);
    return c.json({ data: toRevokedView(revoked) }, 200);
  });
}

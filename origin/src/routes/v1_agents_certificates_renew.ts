import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { awaitPublished } from "../publish/await-published.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { renewCertificate } from "../lifecycle/renew.ts";
import { issuedCertificateView, toIssuedView } from "../views/certificate.ts";
import { rfc3339 } from "../time.ts";
import { orThrow } from "./fail.ts";
import { emptyJsonIsNoBody, optionalJson } from "./optional-body.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

export const renewRequest = z.strictObject({
  /** How long the current certificate stays valid beside its successor (default: tenant policy, else 24 h). */
  overlap_seconds: z.number().int().min(0).max(30 * 86_400).optional(),
});

const renewedView = issuedCertificateView.extend({
  predecessor: z.object({
    id: z.uuid(),
    serial_number: z.string(),
    status: z.literal("renewed"),
    superseded_at: z.string().openapi({ description: "Until this instant the predecessor stays valid; then it is superseded (CRL reason 4)" }),
  }),
  overlap_seconds: z.number().int(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/certificates/renew",
  summary: "Renew the agent's certificate: a successor with a fresh key; the current one stays valid for an overlap, then is superseded",
  security: bearer,
  middleware: [requireRole("admin", "issuer"), emptyJsonIsNoBody] as const,
  request: { params: idParams, body: { required: false, content: { "application/json": { schema: renewRequest } } } },
  responses: {
    201: dataResponse(renewedView, "The successor certificate and the predecessor's overlap"),
    ...errorResponses(404, 409, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const caller = c.var.caller;
    const body = await optionalJson(c, renewRequest);
    const r = orThrow(await renewCertificate(
      s, { id: caller.tenantId, name: caller.tenantName }, c.req.valid("param").id, { overlapSeconds: body?.overlap_seconds }, apiKeyActor(caller),
    ));
    // Answer once the edge holds the successor (bounded): it is what the agent presents next.
    await awaitPublished(s, "cert", r.certificate.serialNumber);
    c.header("location", `/v1/certificates/${r.certificate.id}`);
    return c.json({
      data: {
        ...toIssuedView(r.certificate, s.clock.now()),
        predecessor: { id: r.predecessor.id, serial_number: r.predecessor.serialNumber, status: "renewed" as const, superseded_at: rfc3339(r.predecessor.supersededAt!)! },
        overlap_seconds: r.overlapSeconds,
      },
    }, 201);
  });
}

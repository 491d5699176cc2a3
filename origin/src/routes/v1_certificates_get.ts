import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { certificates } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { certificateView, toCertificateView } from "../views/certificate.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/certificates/{id}",
  summary: "Get a certificate",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(certificateView, "The certificate"), ...errorResponses(404) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const s = c.var.services;
    const [row] = await s.db.select().from(certificates).where(and(eq(certificates.id, id), eq(certificates.tenantId, c.var.caller.tenantId)));
    if (!row) throw notFound("certificate", id);
    return c.json({ data: toCertificateView(row, s.clock.now()) }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents, certificates } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { certificateView, toCertificateView } from "../views/certificate.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/certificates",
  summary: "Every certificate the agent has had, newest first",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { params: idParams },
  responses: {
    200: { description: "Certificates", content: { "application/json": { schema: z.object({ data: z.array(certificateView), next_cursor: z.null() }) } } },
    ...errorResponses(404),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const s = c.var.services;
    const [agent] = await s.db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    const rows = await s.db.select().from(certificates).where(eq(certificates.agentId, id)).orderBy(desc(certificates.issuedAt));
    const now = s.clock.now();
    return c.json({ data: rows.map((r) => toCertificateView(r, now)), next_cursor: null }, 200);
  });
}

import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, type SQL } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents, certificates } from "../db/schema.ts";
import { notFound } from "../http/api-error.ts";
import { certificateView, toCertificateView } from "../views/certificate.ts";
import { beforeCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/certificates",
  summary: "Every certificate the agent has had, newest first, paged (`cursor`, `limit` 1–200, default 50)",
  security: bearer,
  middleware: [requireRole("admin", "issuer", "auditor")] as const,
  request: { params: idParams, query: pageQuery },
  responses: {
    200: { description: "Certificates", content: { "application/json": { schema: z.object({ data: z.array(certificateView), next_cursor: z.string().nullable() }) } } },
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const s = c.var.services;
    const [agent] = await s.db.select({ id: agents.id }).from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const where: SQL[] = [eq(certificates.agentId, id)];
    if (cursor) where.push(beforeCursor(certificates.issuedAt, certificates.id, cursor));
    // Renewal and re-certification add a certificate each time: unbounded over an agent's life.
    const rows = await s.db.select().from(certificates).where(and(...where)).orderBy(desc(certificates.issuedAt), desc(certificates.id)).limit(q.limit + 1);
    const { page, next } = keysetPage(rows, q.limit, (r) => ({ createdAt: r.issuedAt, id: r.id }));
    const now = s.clock.now();
    return c.json({ data: page.map((r) => toCertificateView(r, now)), next_cursor: next }, 200);
  });
}

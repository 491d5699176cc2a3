import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { buildEvidence } from "../audit/evidence.ts";
import { requireRole } from "../auth/authenticate.ts";
import { notFound } from "../http/api-error.ts";
import { kmOrThrow } from "./fail.ts";
import { bearer, errorResponses, idParams } from "./openapi.ts";

const windowQuery = z.object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: "from must be before to", path: ["from"] });

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/evidence",
  summary: "Self-contained evidence bundle for an agent (verify offline with `kakunin audit verify`)",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  request: { params: idParams, query: windowQuery },
  responses: {
    200: { description: "Evidence bundle (format kakunin-evidence/1)", content: { "application/json": { schema: z.object({ data: z.record(z.string(), z.unknown()) }) } } },
    ...errorResponses(404, 422, 503),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const bundle = kmOrThrow(await buildEvidence(
      c.var.services, { id: c.var.caller.tenantId, name: c.var.caller.tenantName }, id,
      { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined },
    ));
    if (!bundle) throw notFound("agent", id);
    // Enveloped like every success body; `kakunin audit verify` accepts the saved response as is.
    return c.json({ data: bundle as unknown as Record<string, unknown> }, 200);
  });
}

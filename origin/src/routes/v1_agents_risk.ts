import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { BANDS, signInternal } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents } from "../db/schema.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";

/** How long the edge gets to answer before the caller is told it is unavailable. */
const EDGE_TIMEOUT_MS = 5000;

const riskView = z.looseObject({
  agent_id: z.uuid(),
  score: z.number(),
  band: z.enum(BANDS),
  reasons: z.array(z.object({ feature: z.string(), contribution: z.number(), detail: z.string() })),
});

export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/risk",
  summary: "The agent's current risk (score, band, top reasons), read from the edge that scores it",
  description:
    "The same answer as the edge's `GET /v1/agents/:id/risk`, fetched with a signed origin call. An agent credential reads its own agent's risk here with its key (the contract's \"read its risk\"), without minting an ingest token.",
  security: bearer,
  // An agent credential may use this route for its own agent (requireRole checks the :id).
  middleware: [requireRole("admin", "issuer", "auditor", "agent")] as const,
  request: { params: idParams },
  responses: { 200: dataResponse(riskView, "The agent's current risk"), ...errorResponses(404, 503) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const { id } = c.req.valid("param");
    const [agent] = await s.db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    // The monitor that scores the agent lives at the edge; the edge trusts a signed origin call.
    const path = `/v1/agents/${agent.id}/risk`;
    let res: Response;
    try {
      res = await fetch(new URL(path, s.config.KAKUNIN_EDGE_URL), {
        headers: await signInternal(s.edgeSecret, "GET", path, ""),
        signal: AbortSignal.timeout(EDGE_TIMEOUT_MS),
      });
    } catch (e) {
      throw new ApiError("edge-unavailable", `the edge did not answer: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!res.ok) throw new ApiError("edge-unavailable", `the edge answered ${res.status}`);
    const body = (await res.json()) as { data: z.infer<typeof riskView> };
    return c.json({ data: body.data }, 200);
  });
}

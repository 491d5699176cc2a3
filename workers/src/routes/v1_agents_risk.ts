import { createRoute, z } from "@hono/zod-openapi";
import { verifyInternal } from "@kakunin/shared";
import { claimInternalNonce } from "../ledger/client.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { dataResponse, INGEST_TOKEN, problemResponses, serve, SIGNED_INTERNAL, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { authenticateIngest } from "../ingest/authenticate.ts";
import { riskViewSchema } from "../openapi/schemas.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * GET /v1/agents/:id/risk — the agent's current risk, for the agent itself (its ingest token; any
 * other agent's id is 404, exactly like a missing agent) or for the origin (a signed internal call).
 */
export const route = createRoute({
  method: "get",
  path: "/v1/agents/{id}/risk",
  summary: "An agent's current risk: score, band and top reasons",
  description: "For the agent itself (its own ingest token) or the origin (a signed internal call).",
  tags: ["ingest"],
  security: [...INGEST_TOKEN, ...SIGNED_INTERNAL],
  request: { params: z.object({ id: z.uuid().openapi({ description: "Agent id" }) }) },
  responses: {
    200: dataResponse(riskViewSchema, "Current risk (decayed to now); not cached", { "cache-control": z.literal("no-store") }),
    ...problemResponses({
      401: "Missing or invalid ingest token (and no valid signature), or a replayed signed call",
      403: "The token's certificate is no longer valid",
      404: "Not an agent id, or another agent than the token's (the same answer)",
      500: "Misconfigured edge (no KAKUNIN_EDGE_SECRET)",
      503: {
        description:
          "This edge has not received the token's certificate yet (status-not-propagated), or the agent's monitor or the edge's status store did not answer (monitor-unavailable, edge-store-unavailable)",
        headers: { "retry-after": z.string() },
      },
    }),
  },
});

export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    // Any case names the same agent, and its monitor is named by the canonical (lower-case) id.
    const id = c.req.param("id").toLowerCase();
    const path = new URL(c.req.url).pathname;
    const signed =
      c.req.header("kakunin-signature") && c.env.KAKUNIN_EDGE_SECRET
        ? await verifyInternal(c.env.KAKUNIN_EDGE_SECRET, "GET", path, "", c.req.raw.headers)
        : undefined;
    // A signed call is spent once (as publishes are): a captured one is not replayable for ±300 s.
    if (signed?.ok && !(await fromStore("status ledger", () => claimInternalNonce(c.env, signed))))
      return edgeProblem(c, "unauthorized", "Internal call refused: replayed nonce.");
    if (!signed?.ok) {
      const caller = await authenticateIngest(c);
      if (caller instanceof Response) return caller;
      // Another agent, of this tenant or none, is 404 like a missing one: a token speaks for one agent only.
      if (caller.claims.agent_id !== id) return edgeProblem(c, "not-found", `No agent ${id}.`);
    } else if (!UUID.test(id)) {
      // Checked after the credential, as on every authenticated route: who the caller is comes first.
      return edgeProblem(c, "not-found", `No agent ${id}.`);
    }
    const view = await fromStore("agent monitor", () => c.env.AGENT_MONITOR.getByName(id).risk(id));
    return c.json({ data: view }, 200, { "cache-control": "no-store" });
  });
}

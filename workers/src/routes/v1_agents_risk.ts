import type { Hono } from "hono";
import { verifyInternal } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";
import { authenticateIngest } from "../ingest/authenticate.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * GET /v1/agents/:id/risk — the agent's current risk, for the agent itself (its ingest token; a
 * token for another agent gets 403) or for the origin (a signed internal call).
 */
export function register(app: Hono<EdgeEnv>): void {
  app.get("/v1/agents/:id/risk", async (c) => {
    const id = c.req.param("id");
    if (!UUID.test(id)) return edgeProblem(c, "not-found", `No agent ${id}.`);
    const path = new URL(c.req.url).pathname;
    const signed = c.req.header("kakunin-signature") && c.env.KAKUNIN_EDGE_SECRET
      ? await verifyInternal(c.env.KAKUNIN_EDGE_SECRET, "GET", path, "", c.req.raw.headers)
      : undefined;
    if (!signed?.ok) {
      const caller = await authenticateIngest(c);
      if (caller instanceof Response) return caller;
      if (caller.claims.agent_id !== id) return edgeProblem(c, "forbidden", "An ingest token can only read its own agent's risk.");
    }
    const view = await c.env.AGENT_MONITOR.getByName(id).risk(id);
    return c.json({ data: view }, 200, { "cache-control": "no-store" });
  });
}

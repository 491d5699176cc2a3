import type { Hono } from "hono";
import type { EdgeEnv } from "../app-env.ts";
import { edgeProblem } from "../http/problems.ts";
import { authenticateIngest } from "../ingest/authenticate.ts";
import { parseEvents } from "../ingest/parse.ts";

const MAX_BODY = 1024 * 1024;
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** POST /v1/events: an agent's behaviour events, scored by its AgentMonitor. */
export function register(app: Hono<EdgeEnv>): void {
  app.post("/v1/events", async (c) => {
    const caller = await authenticateIngest(c);
    if (caller instanceof Response) return caller;
    const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
    if (!JSON_TYPE.test(type)) return edgeProblem(c, "unsupported-media-type", `Expected application/json, got ${type || "no content type"}.`);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > MAX_BODY) return edgeProblem(c, "payload-too-large", `Request body exceeds ${MAX_BODY} bytes.`);
    const raw = await c.req.arrayBuffer();
    if (raw.byteLength > MAX_BODY) return edgeProblem(c, "payload-too-large", `Request body exceeds ${MAX_BODY} bytes.`);
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      return edgeProblem(c, "malformed-json", "The request body is not valid JSON.");
    }
    const parsed = parseEvents(body, Date.now());
    if (!parsed.ok) return edgeProblem(c, "validation-failed", `${parsed.errors.length} invalid field(s); nothing was accepted`, { errors: parsed.errors });
    const monitor = c.env.AGENT_MONITOR.getByName(caller.claims.agent_id);
    const outcome = await monitor.ingest(
      { agentId: caller.claims.agent_id, tenantId: caller.cert.tenant_id, serial: caller.cert.serial_number, scopes: caller.cert.scopes },
      parsed.events,
    );
    return c.json({ data: outcome }, 202);
  });
}

import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { AgentEvent } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { env } from "./fixtures.ts";

/** What the alert tests (replay-alerts, alert-budget) post, and how they count what it raised. */
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const SCOPES = ["orders.*", "crm.lookup_customer"];

export const post = (token: string, events: AgentEvent[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

/** Ordinary work: an in-scope order. */
export const work = (id: string, at: number): AgentEvent => ({
  event_id: id,
  timestamp: new Date(at).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: `customer/${id}`,
  outcome: "success",
});
/** Out of scope: high on its own. */
export const wire = (id: string, at: number): AgentEvent => ({
  event_id: id,
  timestamp: new Date(at).toISOString(),
  type: "transaction",
  action: "payments.wire",
  resource: "customer/3",
  outcome: "success",
});

/** Alerts the agent's monitor has queued for the origin. */
export async function alertsQueued(agentId: string): Promise<number> {
  return runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (_m: AgentMonitor, state) =>
    Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts").one().n),
  );
}

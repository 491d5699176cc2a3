import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mintIngestToken } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env, SECRET } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const MIN = 60_000;
const HOUR = 60 * MIN;

const post = (token: string, events: unknown[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

/** Out of scope (["orders.*", "crm.lookup_customer"]): high on its own. */
const wire = (id: string, at: number) => ({
  event_id: id,
  timestamp: new Date(at).toISOString(),
  type: "transaction",
  action: "payments.wire",
  resource: "customer/3",
  outcome: "success",
});

/**
 * An agent that went high at `t0` (alert one, the origin away so alerts stay queued), then, two hours
 * of real time later, sends another high event stamped `secondAt`. Returns the alerts queued.
 */
async function secondBurst(secondAt: (t0: number) => number): Promise<{ alerts: number; band: string }> {
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
  const { cert, token } = await enrolledAgent();
  const t0 = Date.now();
  const history = Array.from({ length: 30 }, (_, i) => ({
    event_id: `h-${i}`,
    timestamp: new Date(t0 - 40 * MIN + i * MIN).toISOString(),
    type: "tool_call",
    action: "orders.place",
    resource: `customer/${i}`,
    outcome: "success",
  }));
  expect((await post(token, history)).status).toBe(202);
  // Three out-of-scope wires, seconds apart: risk 0.9 and more.
  const first = await post(token, [wire("first-0", t0 - 20_000), wire("first-1", t0 - 10_000), wire("first-2", t0)]);
  expect((await first.json<{ data: { results: { band: string }[] } }>()).data.results.map((r) => r.band)).toEqual(["high", "high", "high"]);
  // Two hours later by the edge's clock.
  vi.spyOn(Date, "now").mockReturnValue(t0 + 2 * HOUR);
  const s = Math.floor((t0 + 2 * HOUR) / 1000);
  const later = await mintIngestToken(SECRET, {
    agent_id: cert.agent_id,
    tenant_id: cert.tenant_id,
    serial: cert.serial_number,
    iat: s,
    exp: s + 3600,
    jti: crypto.randomUUID(),
  });
  const second = await post(later, [wire("second", secondAt(t0))]);
  expect(second.status).toBe(202);
  const band = (await second.json<{ data: { results: { band: string }[] } }>()).data.results[0]!.band;
  const alerts = await runInDurableObject(env.AGENT_MONITOR.getByName(cert.agent_id), async (_m: AgentMonitor, state) => {
    return Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts").one().n);
  });
  return { alerts, band };
}

/**
 * Whether a high event raises an alert (a review, an auto-revocation, the risk.high webhook) is
 * judged against what the tenant was last told, decayed over the time the edge has seen pass since.
 * Before, it was decayed over the agent's claimed time: an agent that kept stamping its events just
 * after its last alert (a frozen clock, two hours behind) raised no alert for a new high burst, which
 * joined no review, while the same burst stamped honestly did.
 */
describe("a high burst hours after the last alert", () => {
  it("stamped honestly: a second alert", async () => {
    expect(await secondBurst((t0) => t0 + 2 * HOUR)).toEqual({ alerts: 2, band: "high" });
  });

  it("stamped seconds after the first alert (the agent's clock frozen): a second alert all the same", async () => {
    expect(await secondBurst((t0) => t0 + 10_000)).toEqual({ alerts: 2, band: "high" });
  });
});

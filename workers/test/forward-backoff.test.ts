import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const ev = (id: string, over: Record<string, unknown> = {}) => ({
  event_id: id,
  timestamp: new Date(Date.now() - 1_000).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: `orders/${id}`,
  amount: 100,
  currency: "EUR",
  outcome: "success",
  latency_ms: 120,
  ...over,
});

const post = (token: string, events: unknown[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

/** An origin that is down (503 to everything); counts the calls it gets. */
function downOrigin(): { calls: number } {
  const seen = { calls: 0 };
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
    seen.calls++;
    return new Response(JSON.stringify({ type: "urn:kakunin:problem:x", status: 503 }), { status: 503 });
  });
  return seen;
}

const alarmOf = (stub: DurableObjectStub<AgentMonitor>) => runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.getAlarm());

/**
 * While the origin is unavailable a monitor backs off (0.5 s doubling to 60 s). Every ingest
 * re-armed forwarding 250 ms ahead, so an agent that kept posting made its monitor call the
 * unavailable origin (a body of up to ~750 KB) after every request, and every agent of every
 * tenant did the same to the one origin they share: the backoff held only for agents that were quiet.
 */
describe("forwarding backoff while the origin is unavailable", () => {
  it("an agent's new events do not pull its monitor's next origin call ahead of the backoff", async () => {
    const origin = downOrigin();
    const { cert, token } = await enrolledAgent();
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    expect((await post(token, [ev("a-0")])).status).toBe(202);
    // The runtime fires the alarm; the origin is down each time: the backoff grows to 60 s.
    for (let i = 0; i < 8; i++) await runDurableObjectAlarm(stub);
    const calls = origin.calls;
    expect(calls).toBeGreaterThanOrEqual(8);
    const backoff = await alarmOf(stub);
    expect(backoff).not.toBeNull();
    expect(backoff! - Date.now()).toBeGreaterThan(30_000);
    for (let i = 1; i <= 5; i++) {
      expect((await post(token, [ev(`a-${i}`)])).status).toBe(202);
      // Still the backoff's time: the agent's posting does not make the next attempt due.
      expect(await alarmOf(stub)).toBe(backoff);
    }
    expect(origin.calls).toBe(calls);
  });

  it("an alert still goes at once: it decides a revocation", async () => {
    const origin = downOrigin();
    const { cert, token } = await enrolledAgent({ scopes: ["orders.*"] });
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    expect((await post(token, [ev("b-0")])).status).toBe(202);
    for (let i = 0; i < 8; i++) await runDurableObjectAlarm(stub);
    expect(origin.calls).toBeGreaterThanOrEqual(8);
    const res = await post(token, [ev("b-1", { type: "transaction", action: "payments.wire" }), ev("b-2", { type: "transaction", action: "payments.wire" })]);
    expect(res.status).toBe(202);
    const queued = await runInDurableObject(stub, async (_m: AgentMonitor, state) =>
      Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts").one().n),
    );
    expect(queued).toBe(1);
    expect((await alarmOf(stub))! - Date.now()).toBeLessThanOrEqual(1_000);
  });
});

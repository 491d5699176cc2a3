import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

// The edge answers an ingest with 202 and forwards the events later, from the AgentMonitor's alarm:
// the origin's log line for that forward must carry the id the client was given, or the two sides'
// logs of one event cannot be tied together.
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Call {
  path: string;
  requestId: string | null;
}

/** Replaces the origin (200 to everything), recording each call's path and x-request-id. */
function fakeOrigin(): Call[] {
  const calls: Call[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    calls.push({ path: new URL(req.url).pathname, requestId: req.headers.get("x-request-id") });
    return new Response(JSON.stringify({ data: { stored: 1, duplicates: 0, rejected: 0, dead_lettered: 0 } }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
  });
  return calls;
}

const ev = (i: number, action = "orders.place") => ({
  event_id: `e-${i}`,
  timestamp: new Date(Date.now() - 60_000 + i * 10).toISOString(),
  type: "tool_call",
  action,
  resource: `orders/${i}`,
  outcome: "success",
});

const post = (token: string, events: object[], headers: Record<string, string> = {}) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ events }),
  });

describe("edge → origin calls carry the ingest's x-request-id", () => {
  it("forwarded events go out under the id the client sent", async () => {
    const { cert, token } = await enrolledAgent();
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    const calls = fakeOrigin();
    const res = await post(token, [ev(1), ev(2)], { "x-request-id": "client-req-42" });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toBe("client-req-42");
    await runDurableObjectAlarm(stub);
    const forwards = calls.filter((c) => c.path === "/internal/v1/events");
    expect(forwards.length).toBeGreaterThan(0);
    for (const f of forwards) expect(f.requestId).toBe("client-req-42");
  });

  it("without one, the id the edge made up (and answered with) is the one forwarded", async () => {
    const { cert, token } = await enrolledAgent();
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    const calls = fakeOrigin();
    const res = await post(token, [ev(1)]);
    expect(res.status).toBe(202);
    const given = res.headers.get("x-request-id");
    expect(given).toBeTruthy();
    await runDurableObjectAlarm(stub);
    const forwards = calls.filter((c) => c.path === "/internal/v1/events");
    expect(forwards.map((f) => f.requestId)).toEqual([given]);
  });

  it("a risk alert raised by an ingest goes out under that ingest's id; every edge → origin call has an id", async () => {
    const { cert, token } = await enrolledAgent();
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    const calls = fakeOrigin();
    // Out of scope, again and again: the agent's risk becomes high and an alert is queued.
    const events = Array.from({ length: 40 }, (_, i) => ev(i, `admin.delete_${i % 5}`));
    expect((await post(token, events, { "x-request-id": "risky-req-7" })).status).toBe(202);
    const queued = await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.sql.exec("SELECT alert_id FROM alerts").toArray().length);
    expect(queued).toBe(1);
    await runDurableObjectAlarm(stub);
    const alerts = calls.filter((c) => c.path === "/internal/v1/risk-alerts");
    expect(alerts.map((a) => a.requestId)).toEqual(["risky-req-7"]);
    expect(calls.length).toBeGreaterThan(1);
    for (const c of calls) expect(c.requestId, c.path).toMatch(/^[\w.:@/+=-]{1,128}$/);
  });
});

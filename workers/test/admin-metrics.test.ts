import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signInternal } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import type { EdgeMetrics } from "../src/routes/v1_admin_metrics.ts";
import { certRec, enrolledAgent, env, publish, SECRET } from "./fixtures.ts";

// GET /v1/admin/metrics in workerd: signed like internal calls; ledger apply lag from the real
// StatusLedger; forward backlog and dead letters from real AgentMonitors whose origin is down or
// refuses (the origin is a stand-in here, as in forwarding.test.ts).
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Problem {
  type: string;
  status: number;
}
const PATH = "/v1/admin/metrics";

async function metrics(opts: { secret?: string | null; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = opts.accept ? { accept: opts.accept } : {};
  if (opts.secret !== null) Object.assign(headers, await signInternal(opts.secret ?? SECRET, "GET", PATH, ""));
  return exports.default.fetch(`http://edge${PATH}`, { headers });
}
const read = async () => {
  const res = await metrics();
  expect(res.status).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json<{ data: EdgeMetrics }>()).data;
};

/** The origin: `status(path)` answers each call (0 = unreachable). */
function origin(status: (path: string) => number) {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    const s = status(path);
    if (s === 0) throw new TypeError("connection refused");
    return new Response(
      JSON.stringify(s < 300 ? { data: { stored: 1, duplicates: 0, rejected: 0, stored_letters: 1 } } : { type: "urn:kakunin:problem:x", status: s }),
      { status: s },
    );
  });
}

async function agentWithEvents(n: number) {
  const { cert, token } = await enrolledAgent();
  const events = Array.from({ length: n }, (_, i) => ({
    event_id: `m-${i}`,
    timestamp: new Date(Date.now() - 1000 + i).toISOString(),
    type: "tool_call",
    action: "orders.place",
    outcome: "success",
  }));
  const res = await exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });
  expect(res.status).toBe(202);
  return { cert, stub: env.AGENT_MONITOR.getByName(cert.agent_id) };
}
const alarmNow = async (stub: DurableObjectStub<AgentMonitor>) => {
  await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
  await runDurableObjectAlarm(stub);
};

describe("GET /v1/admin/metrics", () => {
  it("refuses an unsigned or wrongly signed request with a 401 problem", async () => {
    for (const res of [await metrics({ secret: null }), await metrics({ secret: "another-secret-0123456789abcdef0123456789" })]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect((await res.json<Problem>()).type).toBe("urn:kakunin:problem:unauthorized");
    }
  });

  it("reports the ledger's head and apply lag: nothing before the first batch, then the batch", async () => {
    const before = await read();
    expect(before.ledger).toMatchObject({
      epoch: null,
      max_version: null,
      last_batch_at: null,
      seconds_since_last_batch: null,
      batches_applied: 0,
      kv_unsynced: 0,
    });
    expect(before.forwarding).toMatchObject({ agents_behind: 0, events_pending: 0, truncated: false });
    const rec = certRec();
    expect((await publish([rec])).status).toBe(200);
    const after = await read();
    expect(after.ledger.max_version).toBe(rec.v);
    expect(after.ledger.batches_applied).toBe(1);
    expect(after.ledger.seconds_since_last_batch).toBeLessThanOrEqual(2);
    expect(after.ledger.kv_unsynced).toBe(0);
  });

  it("shows the forward backlog of a monitor whose origin is down, and forgets it once delivered", async () => {
    let status = 0;
    origin(() => status);
    const { stub } = await agentWithEvents(7);
    await alarmNow(stub);
    const held = await read();
    expect(held.forwarding).toMatchObject({ agents_behind: 1, agents_holding: 1, events_pending: 7, alerts_pending: 0 });
    expect(held.forwarding.oldest_pending_age_seconds).toBeGreaterThanOrEqual(0);
    status = 200;
    await alarmNow(stub);
    const drained = await read();
    expect(drained.forwarding).toMatchObject({ agents_behind: 0, agents_holding: 0, events_pending: 0 });
  });

  it("counts dead letters held at the edge, and says how many the origin has not been told of", async () => {
    // The origin refuses the alert for good (404: agent gone) and cannot take the report yet.
    origin((path) => (path === "/internal/v1/risk-alerts" ? 404 : path === "/internal/v1/dead-letters" ? 503 : 200));
    const { stub, cert } = await agentWithEvents(1);
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => {
      const payload = {
        alert_id: "a-1",
        agent_id: cert.agent_id,
        tenant_id: cert.tenant_id,
        serial_number: cert.serial_number,
        score: 0.9,
        reasons: [],
        event_ids: [],
        triggered_at: new Date().toISOString(),
      };
      state.storage.sql.exec("INSERT INTO alerts (alert_id, payload, created_at) VALUES ('a-1', ?, ?)", JSON.stringify(payload), Date.now());
    });
    await alarmNow(stub);
    const m = await read();
    expect(m.dead_letters).toEqual({ held: 1, unreported: 1 });
    expect(m.forwarding.agents_behind).toBe(1);
    // Prometheus text of the same numbers for a scraper.
    const text = await (await metrics({ accept: "text/plain" })).text();
    expect(text).toMatch(/^kakunin_edge_dead_letters_held 1$/m);
    expect(text).toMatch(/^kakunin_edge_dead_letters_unreported 1$/m);
    expect(text).toMatch(/^kakunin_edge_agents_behind 1$/m);
  });
});

import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

interface Outcome {
  data: { accepted: number; results: { event_id: string; score: number; band: string; reasons: { feature: string }[] }[] };
}

const MIN = 60_000;
const DAY = 1_440 * MIN;

const post = (token: string, events: unknown[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

/** A fixed pseudo-random sequence: the same history on every run. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** An agent's ordinary work, one event every 10 minutes around the clock (no hour is unusual), 2% errors. */
function history(from: number, to: number, tag: string, rnd: () => number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let t = from, i = 0; t < to; t += 10 * MIN, i++) {
    const place = rnd() < 0.4;
    out.push({
      event_id: `${tag}-${i}`,
      timestamp: new Date(t + Math.floor(rnd() * 5 * MIN)).toISOString(),
      type: "tool_call",
      action: place ? "orders.place" : "crm.lookup_customer",
      resource: `customer/${Math.floor(rnd() * 300)}`,
      outcome: rnd() < 0.02 ? "error" : "success",
    });
  }
  return out;
}

/** An agent with 14 days of history, sent in time order, up to 15 minutes ago. */
async function agentWithHistory(): Promise<{ agentId: string; token: string; now: number }> {
  const { cert, token } = await enrolledAgent();
  const now = Date.now();
  const past = history(now - 14 * DAY, now - 15 * MIN, "h", lcg(7));
  for (let i = 0; i < past.length; i += 1000) expect((await post(token, past.slice(i, i + 1000))).status).toBe(202);
  return { agentId: cert.agent_id, token, now };
}

/**
 * A storm of 40 denied orders, 20 s apart, ending `endAgo` before now (live by default), each in its
 * own request, with `fillers` back-dated ordinary events beside each.
 */
async function deniedStorm(token: string, now: number, fillers: number, endAgo = 0): Promise<Outcome["data"]["results"]> {
  const old = history(now - 5 * DAY, now - 4 * DAY, "old", lcg(11)).map((e) => ({ ...e, outcome: "success" }));
  const storm: Outcome["data"]["results"] = [];
  for (let k = 0; k < 40; k++) {
    const attack = {
      event_id: `a-${k}`,
      timestamp: new Date(now - endAgo - 13 * MIN + k * 20_000).toISOString(),
      type: "tool_call",
      action: "orders.place",
      resource: `customer/${k}`,
      outcome: "denied",
    };
    const r = await post(token, [...old.slice(k * fillers, (k + 1) * fillers), attack]);
    expect(r.status).toBe(202);
    storm.push((await r.json<Outcome>()).data.results.at(-1)!);
  }
  return storm;
}

// Each test replays 14 days of history (2,000 events) and up to 40 requests through real workerd:
// 2–5 s alone, past vitest's 5 s default on a 2-core box under load. The bound is wall time only.
describe("late (back-dated) events", { timeout: 30_000 }, () => {
  it("an error storm reaches high on its own", async () => {
    const { agentId, token, now } = await agentWithHistory();
    const storm = await deniedStorm(token, now, 0);
    expect(storm.some((r) => r.band === "high")).toBe(true);
    const risk = await runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (m: AgentMonitor) => m.risk(agentId));
    expect(risk.band).toBe("high");
  });

  it("back-dated ordinary events interleaved with a live storm do not dilute it (they used to keep it low)", async () => {
    const { agentId, token, now } = await agentWithHistory();
    // Three events stamped four to five days ago beside each attack event: all accepted (≤ 30 days old).
    const storm = await deniedStorm(token, now, 3);
    expect(storm.some((r) => r.band === "high")).toBe(true);
    const risk = await runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (m: AgentMonitor) => m.risk(agentId));
    expect(risk.band).toBe("high");
  });

  it("a back-dated storm with far-off fillers between its events is judged as a stream too", async () => {
    const { token, now } = await agentWithHistory();
    // A storm stamped three hours ago goes to a late lane, and each filler, days older, to another:
    // the fillers must not reset the storm's lane.
    const storm = await deniedStorm(token, now, 1, 3 * 60 * MIN);
    expect(storm.some((r) => r.band === "high")).toBe(true);
  });

  it("an event stamped minutes ahead (clock-skew tolerance) does not make the agent's next events late", async () => {
    const { agentId, token, now } = await agentWithHistory();
    const ahead = {
      event_id: "ahead",
      timestamp: new Date(now + 4.5 * MIN).toISOString(),
      type: "tool_call",
      action: "crm.lookup_customer",
      resource: "customer/1",
      outcome: "success",
    };
    expect((await post(token, [ahead])).status).toBe(202);
    const wire = {
      event_id: "wire",
      timestamp: new Date(now).toISOString(),
      type: "transaction",
      action: "payments.wire",
      resource: "customer/3",
      outcome: "success",
    };
    expect((await (await post(token, [wire])).json<Outcome>()).data.results[0]).toMatchObject({ band: "high" });
    // Judged late against the stamp ahead, its risk would count for 0.74 of it: medium at verify.
    const risk = await runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (m: AgentMonitor) => m.risk(agentId));
    expect(risk.band).toBe("high");
  });

  it("a six-hour-old anomaly that arrives late raises its alert but does not make the agent high now", async () => {
    const { agentId, token, now } = await agentWithHistory();
    // Out of scope (["orders.*", "crm.lookup_customer"]): high on its own, at its own time six hours ago.
    const old = {
      event_id: "wire",
      timestamp: new Date(now - 6 * 60 * MIN).toISOString(),
      type: "transaction",
      action: "payments.wire",
      resource: "customer/3",
      outcome: "success",
    };
    const r = await post(token, [old]);
    expect((await r.json<Outcome>()).data.results[0]).toMatchObject({ event_id: "wire", band: "high" });
    const { risk, alerts } = await runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (m: AgentMonitor, state) => ({
      risk: m.risk(agentId),
      alerts: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM alerts").toArray()[0]!.n,
    }));
    // Scored in time order with the rest it would have decayed for six hours (15-minute decay): so it does now.
    expect(risk.band).toBe("low");
    // The review it calls for is opened all the same, as it would have been at its own time.
    expect(alerts).toBe(1);
  });
});

import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentRecord, TenantScoring } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env, nextV, postEvents, publish } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Outcome {
  data: { results: { score: number; band: string }[] };
}

const enrolled = (scoring: TenantScoring | undefined, sensitivity?: AgentRecord["sensitivity"]) =>
  enrolledAgent({ tenant_id: crypto.randomUUID() }, { ...(scoring && { scoring }), ...(sensitivity && { sensitivity }) });
const post = (token: string, events: object[]) => postEvents<Outcome>(token, events);
/** The alerts the monitor queued for the origin (which is away in these tests), oldest first. */
const alertsOf = (agentId: string) =>
  runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (_x: AgentMonitor, state) =>
    state.storage.sql
      .exec<{ payload: string }>("SELECT payload FROM alerts ORDER BY created_at")
      .toArray()
      .map((r) => JSON.parse(r.payload) as { triggered_at: string }),
  );

/** The origin's feedback for a review that cleared the alert about "x", raised at `until`. */
const clearOf = (cert: { tenant_id: string; agent_id: string }, until: string) => ({
  kind: "feedback" as const,
  v: nextV(),
  tenant_id: cert.tenant_id,
  agent_id: cert.agent_id,
  review_id: crypto.randomUUID(),
  event_ids: ["x"],
  accepted_until: until,
});
const at = (id: string, action: string, ms: number) => ({ event_id: id, timestamp: new Date(ms).toISOString(), type: "tool_call", action, outcome: "success" });

/**
 * A review's clear accepts what its alerts showed; the events after the newest of them keep their
 * risk. The scorer's lingering risk is raw (the tenant's weights, sensitivity and thresholds are
 * applied on top at every event, tenantVerdict), so the risk the clear leaves must be the raw one:
 * until 2026-12-07 it was the tenant's view stored as raw, and the next event applied the tenant's
 * weights to it a second time. Under a weight below 1 an unreviewed high agent fell to medium on its
 * next ordinary event (a gateway asking `max_band=medium` admitted it, and no alert was open);
 * above 1 a cleared agent was pushed to high by weighting alone.
 */
describe("a clear that leaves unreviewed events keeps their risk as the tenant sees it", () => {
  for (const c of [
    { name: "weights below 1", scoring: { weights: { out_of_scope: 0.5 }, thresholds: { medium: 0.3, high: 0.5 } }, sensitivity: undefined },
    { name: "low sensitivity", scoring: { thresholds: { medium: 0.3, high: 0.5 } }, sensitivity: "low" as const },
  ]) {
    it(`${c.name}: the unreviewed event's risk and band stand after the agent's next ordinary event`, async () => {
      // The origin is away: queued alerts stay where the test can read them.
      vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
      const a = await enrolled(c.scoring, c.sensitivity);
      const t0 = Date.now() - 700_000;
      await post(
        a.token,
        Array.from({ length: 20 }, (_, i) => at(`h-${i}`, "orders.place", t0 + i * 20_000)),
      );
      // Out of scope at the tenant's half weight (or low sensitivity): about 0.68, high under the tenant's line of 0.5.
      const x = (await post(a.token, [at("x", "payments.send", Date.now() - 60_000)])).data.results[0]!;
      expect(x.band).toBe("high");
      const m = env.AGENT_MONITOR.getByName(a.cert.agent_id);
      const [first] = await alertsOf(a.cert.agent_id);
      await new Promise((r) => setTimeout(r, 20));
      // After the alert, unreviewed: another out-of-scope call.
      const y = (await post(a.token, [at("y", "payments.refund", Date.now())])).data.results[0]!;
      expect(y.band).toBe("high");
      expect((await publish([clearOf(a.cert, first!.triggered_at)])).status).toBe(200);
      const risk = () => runInDurableObject(m, async (mon: AgentMonitor) => mon.risk(a.cert.agent_id));
      const cleared = await risk();
      expect(cleared.band).toBe("high");
      expect(cleared.score).toBeCloseTo(y.score, 1);
      // The agent's next ordinary event: nothing new, so its risk is what "y" left (decayed by seconds).
      await post(a.token, [at("z", "orders.place", Date.now())]);
      const next = await risk();
      expect(next.band).toBe("high");
      expect(next.score).toBeCloseTo(y.score, 1);
    });
  }

  it("weights above 1: a cleared agent's unreviewed medium is not pushed to high by weighting it twice", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    // The tenant weighs first uses heavily: a young agent's first use of a declared action (raw about
    // 0.07, low) reads medium to it, and weighted twice it would read high.
    const a = await enrolled({ weights: { action_novelty: 10, novelty_run: 10 } });
    const t0 = Date.now() - 700_000;
    await post(
      a.token,
      Array.from({ length: 30 }, (_, i) => at(`h-${i}`, i % 2 ? "orders.place" : "orders.read", t0 + i * 20_000)),
    );
    expect((await post(a.token, [at("x", "payments.send", Date.now() - 60_000)])).data.results[0]!.band).toBe("high");
    const m = env.AGENT_MONITOR.getByName(a.cert.agent_id);
    const [first] = await alertsOf(a.cert.agent_id);
    await new Promise((r) => setTimeout(r, 20));
    // A first use of a declared action after the alert: medium evidence, unreviewed.
    const y = (await post(a.token, [at("y", "orders.cancel", Date.now())])).data.results[0]!;
    expect(y.band).toBe("medium");
    expect((await publish([clearOf(a.cert, first!.triggered_at)])).status).toBe(200);
    await post(a.token, [at("z", "orders.place", Date.now())]);
    const next = await runInDurableObject(m, async (mon: AgentMonitor) => mon.risk(a.cert.agent_id));
    expect(next.band).toBe("medium");
    expect(next.score).toBeCloseTo(y.score, 1);
  });
});

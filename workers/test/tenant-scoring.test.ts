import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentRecord, TenantScoring } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env, nextV, postEvents, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Outcome {
  data: { results: { score: number; band: string; reasons: { feature: string; contribution: number }[] }[] };
}

const enrolled = (o: { scoring?: TenantScoring; sensitivity?: AgentRecord["sensitivity"]; tenant?: string } = {}) =>
  enrolledAgent(
    { tenant_id: o.tenant ?? crypto.randomUUID() },
    { ...(o.scoring && { scoring: o.scoring }), ...(o.sensitivity && { sensitivity: o.sensitivity }) },
  );

const post = (token: string, events: object[]) => postEvents<Outcome>(token, events);

/** Twenty ordinary events, then one action outside the declared scopes (out_of_scope: high by default). */
const history = (n = 20) =>
  Array.from({ length: n }, (_, i) => ({
    event_id: `h-${i}`,
    timestamp: new Date(Date.now() - 600_000 + i * 20_000).toISOString(),
    type: "tool_call",
    action: "orders.place",
    outcome: "success",
  }));
/** A review's feedback record for the agent (a clear of the alert about "x"), with `extra` fields. */
const feedbackFor = (a: { cert: { tenant_id: string; agent_id: string } }, extra: object = {}) => ({
  kind: "feedback" as const,
  v: nextV(),
  tenant_id: a.cert.tenant_id,
  agent_id: a.cert.agent_id,
  review_id: crypto.randomUUID(),
  event_ids: ["x"],
  ...extra,
});
const outOfScope = { event_id: "x", timestamp: new Date(Date.now() - 1000).toISOString(), type: "tool_call", action: "payments.send", outcome: "success" };

describe("tenant scoring at the edge", () => {
  it("a weight of 0 mutes a feature; thresholds decide the band; verify bands with the tenant's thresholds", async () => {
    const plain = await enrolled();
    await post(plain.token, history());
    const base = (await post(plain.token, [outOfScope])).data.results[0]!;
    expect(base.band).toBe("high");
    expect(base.reasons[0]!.feature).toBe("out_of_scope");

    const muted = await enrolled({ scoring: { weights: { out_of_scope: 0 } } });
    await post(muted.token, history());
    const m = (await post(muted.token, [outOfScope])).data.results[0]!;
    expect(m.reasons.map((r) => r.feature)).not.toContain("out_of_scope");
    expect(m.score).toBeLessThan(base.score);

    const strict = await enrolled({ scoring: { thresholds: { medium: 0.01, high: 0.02 } } });
    const s = (await post(strict.token, [{ ...history(1)[0]!, action: "crm.lookup_customer" }])).data.results[0]!;
    if (s.score >= 0.02) expect(s.band).toBe("high");
    const raw = JSON.parse((await env.CERT_STATUS.get(`risk:${strict.cert.serial_number}`))!) as { thresholds: { high: number } };
    expect(raw.thresholds.high).toBe(0.02);
    const v = await (await verify(strict.cert.serial_number)).json<{ data: { risk: { score: number; band: string } } }>();
    expect(v.data.risk.band).toBe(v.data.risk.score >= 0.02 ? "high" : v.data.risk.score >= 0.01 ? "medium" : "low");
  });

  it("sensitivity high scores the same evidence higher, low lower", async () => {
    const scores: Record<string, number> = {};
    // Evidence that is clearly there but does not saturate the score: an out-of-scope action with
    // its weight turned down by the tenant (a novel in-scope action can score 0 once novelty is
    // calibrated, and a full-weight out-of-scope action is 1 at every sensitivity).
    for (const sensitivity of ["low", "normal", "high"] as const) {
      const a = await enrolled({ sensitivity, scoring: { weights: { out_of_scope: 0.2 } } });
      await post(a.token, history());
      scores[sensitivity] = (await post(a.token, [outOfScope])).data.results[0]!.score;
    }
    expect(scores.normal).toBeGreaterThan(0);
    expect(scores.high).toBeGreaterThan(scores.normal!);
    expect(scores.low).toBeLessThan(scores.normal!);
  });

  it("shadow: the candidate's verdict travels with the forwarded event when it differs, and never changes the answer", async () => {
    const a = await enrolled({ scoring: { shadow: { weights: { out_of_scope: 0 }, since: new Date().toISOString() } } });
    await post(a.token, history());
    const r = (await post(a.token, [outOfScope])).data.results[0]!;
    expect(r.band).toBe("high");
    const forwarded = await runInDurableObject(
      env.AGENT_MONITOR.getByName(a.cert.agent_id),
      async (_m: AgentMonitor, state) => state.storage.sql.exec<{ payload: string }>("SELECT payload FROM events WHERE event_id = 'x'").toArray()[0]!.payload,
    );
    expect(JSON.parse(forwarded).shadow).toMatchObject({ active_band: "high", active_risk_band: "high" });
    expect(JSON.parse(forwarded).shadow.band).not.toBe("high");
  });

  it("review feedback: the monitor accepts the reviewed events and drops the risk they raised (once per review)", async () => {
    const a = await enrolled();
    await post(a.token, history());
    await post(a.token, [outOfScope]);
    const m = env.AGENT_MONITOR.getByName(a.cert.agent_id);
    expect((await runInDurableObject(m, async (x: AgentMonitor) => x.risk(a.cert.agent_id))).band).toBe("high");
    const review = crypto.randomUUID();
    const fb = feedbackFor(a, { review_id: review });
    expect((await publish([fb])).status).toBe(200);
    expect((await runInDurableObject(m, async (x: AgentMonitor) => x.risk(a.cert.agent_id))).score).toBe(0);
    const v = await (await verify(a.cert.serial_number)).json<{ data: { risk: { band: string } } }>();
    expect(v.data.risk.band).toBe("low");
    expect(await runInDurableObject(m, async (x: AgentMonitor) => x.acceptAsNormal(review, ["x"]))).toEqual({ applied: false });
  });
  it("review feedback covers what the review saw: events after its newest alert keep their risk and alert again", async () => {
    // The origin is away: queued alerts stay where the test can read them.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const a = await enrolled();
    await post(a.token, history());
    await post(a.token, [outOfScope]);
    const m = env.AGENT_MONITOR.getByName(a.cert.agent_id);
    const alerts = () =>
      runInDurableObject(m, async (_x: AgentMonitor, state) =>
        state.storage.sql
          .exec<{ payload: string }>("SELECT payload FROM alerts ORDER BY created_at")
          .toArray()
          .map((r) => JSON.parse(r.payload) as { event_ids: string[]; triggered_at: string; score: number }),
      );
    const [first] = await alerts();
    expect(first!.event_ids).toEqual(["x"]);
    await new Promise((r) => setTimeout(r, 20));
    // The agent goes on after its flag: high again, but its risk already was, so no second alert.
    const later = { ...outOfScope, event_id: "y", action: "payments.refund", timestamp: new Date().toISOString() };
    expect((await post(a.token, [later])).data.results[0]!.band).toBe("high");
    expect(await alerts()).toHaveLength(1);

    // The reviewer cleared the alert about "x". "y" was never shown to anyone.
    const fb = feedbackFor(a, { accepted_until: first!.triggered_at });
    expect((await publish([fb])).status).toBe(200);
    const risk = await runInDurableObject(m, async (x: AgentMonitor) => x.risk(a.cert.agent_id));
    expect(risk.band).toBe("high");
    expect(risk.reasons[0]!.feature).toBe("out_of_scope");
    const after = await alerts();
    expect(after).toHaveLength(2);
    expect(after[1]!.event_ids).toEqual(["y"]);
    expect(after[1]!.score).toBeGreaterThanOrEqual(0.85);
    const v = await (await verify(a.cert.serial_number)).json<{ data: { risk: { band: string } } }>();
    expect(v.data.risk.band).toBe("high");

    // A time the monitor cannot read accepts nothing after the epoch: the risk stays (fail closed).
    const b = await enrolled();
    await post(b.token, history());
    await post(b.token, [outOfScope]);
    const bad = feedbackFor(b, { accepted_until: "not a time" });
    expect((await publish([bad])).status).toBe(200);
    expect((await runInDurableObject(env.AGENT_MONITOR.getByName(b.cert.agent_id), async (x: AgentMonitor) => x.risk(b.cert.agent_id))).band).toBe("high");
  });

  it("review feedback accepts the values it was shown: a drift reference is frozen from the values up to the alert, not the ones after", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    // Fifty orders around 1,000 EUR, an alert (an out-of-scope action), then thirty orders at 5×.
    const order = (id: string, t: number, amount: number) => ({
      event_id: id,
      timestamp: new Date(t).toISOString(),
      type: "transaction",
      action: "orders.place",
      outcome: "success",
      amount,
      currency: "EUR",
    });
    const agent = async () => {
      const a = await enrolled();
      const t0 = Date.now() - 3 * 3_600_000;
      await post(
        a.token,
        Array.from({ length: 50 }, (_, i) => order(`o-${i}`, t0 + i * 120_000, 900 + ((i * 37) % 200))),
      );
      await post(a.token, [outOfScope]);
      const m = env.AGENT_MONITOR.getByName(a.cert.agent_id);
      const [alert] = await runInDurableObject(m, async (_x: AgentMonitor, state) =>
        state.storage.sql
          .exec<{ payload: string }>("SELECT payload FROM alerts")
          .toArray()
          .map((r) => JSON.parse(r.payload) as { triggered_at: string }),
      );
      await new Promise((r) => setTimeout(r, 20));
      await post(
        a.token,
        Array.from({ length: 30 }, (_, i) => order(`p-${i}`, Date.now() - 30_000 + i * 1000, 4_500 + ((i * 53) % 1000))),
      );
      const series = () =>
        runInDurableObject(m, async (_x: AgentMonitor, state) => {
          const row = state.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").one();
          return (JSON.parse(row.v) as { amounts: Record<string, { ref: number[]; recent: number[]; drift?: { s: number } }> }).amounts["orders.place|EUR"]!;
        });
      return { a, at: alert!.triggered_at, series };
    };

    // The alert showed the drift: the reference is the fifty reviewed orders, and the thirty after
    // the alert already count against it.
    const shown = await agent();
    expect((await shown.series()).ref).toHaveLength(80);
    expect((await publish([feedbackFor(shown.a, { accepted_until: shown.at, accepted_features: ["amount_drift", "out_of_scope"] })])).status).toBe(200);
    const after = await shown.series();
    expect(after.ref).toEqual(after.recent.slice(0, 50));
    expect(after.drift!.s).toBeGreaterThan(20);

    // An alert time before any the monitor marked: nothing of the values was reviewed, nothing moves.
    const early = await agent();
    const before = await early.series();
    const old = new Date(Date.parse(early.at) - 60_000).toISOString();
    expect((await publish([feedbackFor(early.a, { accepted_until: old, accepted_features: ["amount_drift"] })])).status).toBe(200);
    expect((await early.series()).ref).toEqual(before.ref);
  });
});

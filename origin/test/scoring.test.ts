import { describe, expect, it } from "vitest";
import { bandOf, DEFAULT_SCORING, newState, resourceKind, reviveState, scoreEvent, type ScoredInput } from "@kakunin/shared";

const T0 = Date.parse("2026-03-02T09:00:00Z");
/** A deterministic pseudo-random stream, so tests never depend on Math.random. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An ordinary trading agent: quotes and orders during working hours, ~2 events a minute. */
function normalDay(n: number, seed = 1, start = T0): ScoredInput[] {
  const r = rng(seed);
  let t = start;
  return Array.from({ length: n }, (_, i) => {
    t += 20_000 + Math.floor(r() * 40_000);
    const hour = new Date(t).getUTCHours();
    if (hour >= 17) t += (24 - hour + 9) * 3600_000; // sleep until 09:00
    const place = r() < 0.3;
    return {
      id: `n${seed}-${i}`, ts: t, type: "tool_call", action: place ? "orders.place" : "orders.quote",
      resource: `instrument/${["EURUSD", "GBPUSD", "USDJPY"][Math.floor(r() * 3)]}`,
      amount: place ? Math.round(800 + r() * 400) : undefined, currency: place ? "EUR" : undefined,
      outcome: r() < 0.02 ? "error" : "success", latencyMs: 80 + Math.floor(r() * 40),
    };
  });
}

describe("anomaly scorer", () => {
  it("is deterministic: the same events give the same scores and reasons", () => {
    const events = normalDay(600);
    const run = () => { const s = newState(); return events.map((e) => scoreEvent(s, e, ["orders.*"]).event); };
    expect(run()).toEqual(run());
  });

  it("keeps normal behaviour low and explains every contribution", () => {
    const s = newState();
    const scores = normalDay(2000).map((e) => scoreEvent(s, e, ["orders.*"]));
    const late = scores.slice(500);
    expect(late.filter((x) => x.event.band === "high")).toHaveLength(0);
    expect(late.filter((x) => x.event.band !== "low").length).toBeLessThan(late.length * 0.02);
    for (const x of scores) {
      expect(x.event.score).toBeGreaterThanOrEqual(0);
      expect(x.event.score).toBeLessThanOrEqual(1);
      expect(x.event.band).toBe(bandOf(x.event.score));
      for (const r of x.event.reasons) expect(r.detail.length).toBeGreaterThan(0);
    }
    expect(s.risk.score).toBeLessThan(0.85);
  });

  it("an out-of-scope action is high at once, even at cold start, and says why", () => {
    const s = newState();
    const r = scoreEvent(s, { id: "x", ts: T0, type: "transaction", action: "payments.transfer", outcome: "success" }, ["orders.*"]);
    expect(r.event.band).toBe("high");
    expect(r.event.reasons[0]!.feature).toBe("out_of_scope");
    expect(r.risk.becameHigh).toBe(true);
  });

  it("cold start uses the declared scopes as the prior: a declared action is not novel, an undeclared one within a wildcard is less so", () => {
    const warm = (scopes: string[]) => {
      const s = newState();
      for (const e of normalDay(300)) scoreEvent(s, e, scopes);
      return s;
    };
    const novel = (scopes: string[], action: string) =>
      scoreEvent(warm(scopes), { id: "n", ts: T0 + 10 * 86_400_000, type: "tool_call", action, outcome: "success" }, scopes).event.reasons
        .find((r) => r.feature === "action_novelty")?.contribution ?? 0;
    const explicit = novel(["orders.*", "orders.amend"], "orders.amend");
    const wildcard = novel(["orders.*"], "orders.amend");
    expect(explicit).toBeLessThan(wildcard);
    expect(wildcard).toBeLessThan(0.85);
  });

  it("a burst, an amount spike and an error storm each reach high on a warmed-up agent", () => {
    const base = () => { const s = newState(); for (const e of normalDay(1500)) scoreEvent(s, e, ["orders.*"]); return s; };
    const at = normalDay(1500).at(-1)!.ts + 60_000;
    let s = base();
    const burst = Array.from({ length: 80 }, (_, i) => scoreEvent(s, { id: `b${i}`, ts: at + i * 300, type: "tool_call", action: "orders.quote", resource: "instrument/EURUSD", outcome: "success" }, ["orders.*"]).event.score);
    expect(Math.max(...burst)).toBeGreaterThanOrEqual(0.85);
    s = base();
    const spike = scoreEvent(s, { id: "a", ts: at, type: "tool_call", action: "orders.place", resource: "instrument/EURUSD", amount: 900_000, currency: "EUR", outcome: "success" }, ["orders.*"]);
    expect(spike.event.score).toBeGreaterThanOrEqual(0.85);
    expect(spike.event.reasons.map((r) => r.feature)).toContain("amount_over_max");
    s = base();
    const storm = Array.from({ length: 20 }, (_, i) => scoreEvent(s, { id: `e${i}`, ts: at + i * 2000, type: "tool_call", action: "orders.place", resource: "instrument/EURUSD", outcome: i % 4 === 0 ? "error" : "denied" }, ["orders.*"]).event.score);
    expect(Math.max(...storm)).toBeGreaterThanOrEqual(0.85);
  });

  it("bounded memory: 12k events over thousands of distinct resources and actions keep the state small", () => {
    const s = newState();
    const r = rng(7);
    for (let i = 0; i < 12_000; i++) {
      scoreEvent(s, {
        id: `m${i}`, ts: T0 + i * 1000, type: "data_access", action: `tool.t${Math.floor(r() * 2000)}`,
        resource: `bucket/k${i}`, amount: r() * 1000, currency: ["EUR", "USD", "GBP", "JPY", "CHF"][i % 5]!, outcome: "success",
      }, ["*"]);
    }
    const c = DEFAULT_SCORING.caps;
    expect(Object.keys(s.actions).length).toBeLessThanOrEqual(c.actions);
    expect(Object.keys(s.transitions).length).toBeLessThanOrEqual(c.transitions);
    expect(Object.keys(s.resources).length).toBeLessThanOrEqual(c.resources);
    expect(Object.keys(s.amounts).length).toBeLessThanOrEqual(c.keys);
    expect(JSON.stringify(s).length).toBeLessThan(600_000);
  });

  it("scores late events at their own time without rewriting the sequence", () => {
    const s = newState();
    const events = normalDay(400);
    for (const e of events) scoreEvent(s, e, ["orders.*"]);
    const last = s.prevAction;
    const late = scoreEvent(s, { ...events[100]!, id: "late", ts: events[100]!.ts - 1000 }, ["orders.*"]);
    expect(late.event.score).toBeLessThan(0.85);
    expect(s.prevAction).toBe(last);
  });

  it("resource kinds mask identifiers but keep structure", () => {
    expect(resourceKind("customers/8812/orders?page=2")).toBe(resourceKind("customers/17/orders"));
    expect(resourceKind("customers/cus_9fA2k1/orders")).toBe(resourceKind("customers/cus_77Zq0b/orders"));
    expect(resourceKind("customers/8812/orders")).not.toBe(resourceKind("payroll/8812/salaries"));
    expect(resourceKind("s3://lake/raw/dt=2025-06-15/part-0001.parquet")).toBe(resourceKind("s3://lake/raw/dt=2025-06-16/part-0042.parquet"));
  });
});

describe("scoring state keyed by user strings (issue 11 §5b)", () => {
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];
  const warm = () => { const s = newState(); for (const e of normalDay(800)) scoreEvent(s, e, []); return s; };
  const at = normalDay(800).at(-1)!.ts + 60_000;

  it.each(names)("an action named %s is as novel as any never-seen action", (name) => {
    const feature = (action: string) => scoreEvent(warm(), { id: "p", ts: at, type: "tool_call", action, outcome: "success" }, []).event.reasons
      .find((r) => r.feature === "action_novelty")?.contribution ?? 0;
    const control = feature("orders.never_seen");
    expect(control).toBeGreaterThan(0);
    expect(feature(name)).toBe(control);
  });

  it.each(names)("a resource named %s is as new as any never-seen resource, and is learned across a JSON round trip", (name) => {
    const feature = (resource: string) => scoreEvent(warm(), { id: "p", ts: at, type: "tool_call", action: "orders.quote", resource, outcome: "success" }, []).event.reasons
      .find((r) => r.feature === "resource_novelty")?.contribution ?? 0;
    const control = feature("zzneverseen");
    expect(control).toBeGreaterThan(0);
    expect(feature(name)).toBe(control);
    // Learned as data: after a JSON round trip (how the Durable Object stores it) the name is known.
    const s = warm();
    for (let i = 0; i < 40; i++) scoreEvent(s, { id: `q${i}`, ts: at + i * 30_000, type: "tool_call", action: name, resource: name, amount: 10, currency: "EUR", outcome: "success" }, []);
    const back = reviveState(JSON.parse(JSON.stringify(s)));
    const next = scoreEvent(back, { id: "r", ts: at + 41 * 30_000, type: "tool_call", action: name, resource: name, amount: 10, currency: "EUR", outcome: "success" }, []).event;
    expect(next.reasons.map((r) => r.feature)).not.toContain("action_novelty");
    expect(next.reasons.map((r) => r.feature)).not.toContain("resource_novelty");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

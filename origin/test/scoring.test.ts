import { describe, expect, it } from "vitest";
import {
  MIX_ACTIONS, acceptAsNormal, bandOf, DEFAULT_SCORING, MAX_STATE_BYTES, newState, resolveScoringConfig, resourceKind, reviveState, SCORING_FEATURES, scoreEvent, type ScoredInput,
} from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T09:00:00Z");
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

  it("a declared but never-used tool is not made normal by its scope, and its first uses keep evidence", () => {
    const s = newState();
    const scopes = ["orders.*", "orders.cancel_all"];
    for (const e of normalDay(1500)) scoreEvent(s, e, scopes);
    const at = normalDay(1500).at(-1)!.ts + 60_000;
    const uses = [0, 1, 2].map((i) => scoreEvent(s, { id: `d${i}`, ts: at + i * 60_000, type: "tool_call", action: "orders.cancel_all", outcome: "success" }, scopes).event);
    for (const u of uses) expect(u.reasons.map((r) => r.feature)).toContain("action_novelty");
    expect(uses[0]!.band).not.toBe("low");
  });

  it("sustained medium evidence reaches high: a run of work at a dead hour escalates, one event does not", () => {
    const s = newState();
    const events = normalDay(2500);
    for (const e of events) scoreEvent(s, e, ["orders.*"]);
    const night = Date.UTC(2026, 2, 20, 2, 0, 0); // a working day at 02:00 UTC; the agent works 09:00–17:00
    expect(night).toBeGreaterThan(events.at(-1)!.ts);
    const run = Array.from({ length: 40 }, (_, i) => scoreEvent(s, { id: `h${i}`, ts: night + i * 45_000, type: "tool_call", action: "orders.quote", resource: "instrument/EURUSD", outcome: "success" }, ["orders.*"]).event);
    expect(run[0]!.band).not.toBe("high");
    expect(run[0]!.reasons[0]!.feature).toBe("unusual_hour");
    const firstHigh = run.findIndex((x) => x.band === "high");
    expect(firstHigh).toBeGreaterThan(0);
    expect(run[firstHigh]!.reasons.map((r) => r.feature)).toContain("sustained_anomaly");
  });

  it("sustained medium evidence interleaved with normal work reaches high, naming the features that drove it", () => {
    // Four different medium surprises within half an hour, three ordinary events between each: no
    // single one is high, and the ordinary events between them must not wash the evidence out.
    const s = newState();
    const events = normalDay(2500);
    for (const e of events) scoreEvent(s, e, ["orders.*"]);
    const at = Date.UTC(2026, 2, 6, 10, 0, 0); // a working day at 10:00 UTC, inside the agent's hours
    expect(at).toBeGreaterThan(events.at(-1)!.ts);
    const base = { type: "tool_call" as const, action: "orders.quote", resource: "instrument/EURUSD", outcome: "success" as const };
    const probes: ScoredInput[] = [
      { ...base, id: "p0", ts: 0, resource: "ledger/accounts/a1" },
      { ...base, id: "p1", ts: 0, action: "orders.place", amount: 2100, currency: "EUR" },
      { ...base, id: "p2", ts: 0, latencyMs: 5000 },
      { ...base, id: "p3", ts: 0, action: "orders.amend" },
    ];
    const ordinary = normalDay(12, 7, at - 30_000).map((e, i) => ({ ...e, id: `o${i}`, ts: at + i * 120_000 }));
    const out = ordinary.flatMap((e, i) => {
      const probe = i % 3 === 2 ? [scoreEvent(s, { ...probes[(i - 2) / 3]!, ts: e.ts + 40_000 }, ["orders.*"]).event] : [];
      return [scoreEvent(s, e, ["orders.*"]).event, ...probe];
    });
    const firstHigh = out.findIndex((x) => x.band === "high");
    expect(firstHigh).toBeGreaterThan(0);
    const high = out[firstHigh]!;
    expect(high.reasons.map((r) => r.feature)).toContain("sustained_anomaly");
    // Without the accumulated window that event alone is not high.
    expect(high.reasons.filter((r) => r.feature !== "sustained_anomaly").reduce((keep, r) => keep * (1 - r.contribution), 1)).toBeGreaterThan(0.15);
    expect(high.reasons.find((r) => r.feature === "sustained_anomaly")!.detail).toMatch(/resource_novelty|amount_over_max|latency/);
  });

  it("one odd case after a shift change is one piece of evidence: its unlikely steps and the step statistic they raise do not escalate after a pause", () => {
    // A KYC agent: cases run open → fetch ×1–4 → sanctions → (pep) → decide → notify, some only look
    // a customer up and screen them, a few re-screen or re-decide, and some cases are interleaved
    // with a lookup. After a shift change one case runs in an order it never has, then the shift
    // pauses for 24 minutes and goes on with ordinary work. The unlikely steps are transition
    // novelty and raise sequence_surprise (a statistic over the last few steps, not over time):
    // after the pause it still holds the same steps, so neither its level "lasting" nor the growth
    // an earlier mark already took in may mark again.
    const scopes = ["kyc.*"];
    const step = (id: string, ts: number, action: string, k: number): ScoredInput => ({ id, ts, type: "tool_call", action: `kyc.${action}`, resource: `kyc/cases/c${k}`, outcome: "success" });
    // A strict pipeline (no interleaving) and one where a tenth of the cases are interleaved with a lookup.
    for (const interleaved of [0, 0.1]) {
      const r = rng(11);
      const task = (t: number, k: number): ScoredInput[] => {
        const v = r();
        const fetches = Array<string>(1 + Math.floor(r() * 4)).fill("fetch_document");
        const steps =
          v < 0.25 ? ["lookup_customer", "screen_sanctions", ...(r() < 0.5 ? ["screen_pep"] : [])]
          : v < 0.28 ? ["open_case", "fetch_document", "screen_sanctions", "screen_pep", "fetch_document", "decide", "notify"]
          : v < 0.3 ? ["open_case", "fetch_document", "screen_sanctions", "decide", "screen_sanctions", "decide", "notify"]
          : v < 0.32 ? ["open_case", "fetch_document", "screen_sanctions", "decide", "notify", "decide", "notify"]
          : ["open_case", ...fetches, "screen_sanctions", ...(r() < 0.6 ? ["screen_pep"] : []), "decide", "notify"];
        if (r() < interleaved) steps.splice(1 + Math.floor(r() * (steps.length - 1)), 0, "lookup_customer", "screen_sanctions");
        return steps.map((a, i) => step(`k${k}-${i}`, t + i * 40_000, a, k));
      };
      const s = newState();
      let k = 0;
      for (let day = 0; day < 28; day++) {
        const start = T0 + day * 86_400_000;
        for (let t = start; t < start + 8 * 3_600_000; t += 600_000 + Math.floor(r() * 600_000)) for (const e of task(t, k++)) scoreEvent(s, e, scopes);
      }
      const at = T0 + 28 * 86_400_000 + 2 * 3_600_000;
      const odd = ["open_case", "fetch_document", "screen_pep", "fetch_document", "decide", "screen_sanctions", "screen_pep", "notify"];
      const out = odd.map((a, i) => scoreEvent(s, step(`x${i}`, at + i * 20_000, a, 0), scopes));
      const resume = at + odd.length * 20_000 + 24 * 60_000;
      out.push(scoreEvent(s, step("x8", resume, "decide", 0), scopes), scoreEvent(s, step("x9", resume + 30_000, "notify", 0), scopes));
      for (const e of [...task(resume + 5 * 60_000, k++), ...task(resume + 20 * 60_000, k++)]) out.push(scoreEvent(s, e, scopes));
      const features = out.flatMap((x) => x.event.reasons.map((r) => r.feature));
      expect(features).toContain("transition_novelty");
      expect(features).toContain("sequence_surprise");
      expect(out.every((x) => x.risk.band !== "high"), `interleaved ${interleaved}`).toBe(true);
    }
  });

  it("a window feature repeating itself is one surprise: an agent's third session at an hour it has worked twice before does not escalate", () => {
    const s = newState();
    const events = normalDay(2500);
    for (const e of events) scoreEvent(s, e, ["orders.*"]);
    const night = (day: number) => Date.UTC(2026, 2, day, 2, 0, 0);
    const session = (day: number, n: number) =>
      Array.from({ length: n }, (_, i) => scoreEvent(s, { id: `s${day}-${i}`, ts: night(day) + i * 45_000, type: "tool_call", action: "orders.quote", resource: "instrument/EURUSD", outcome: "success" }, ["orders.*"]));
    // Two earlier night sessions: medium runs of unusual_hour in the agent's own history.
    session(17, 12);
    session(18, 12);
    const third = session(20, 40);
    // Every event of the session repeats the same fact (work at 02:00): it stays medium, and the
    // agent's risk is not built up by the repetition.
    expect(third[0]!.event.reasons[0]!.feature).toBe("unusual_hour");
    expect(third.every((r) => r.event.band !== "high")).toBe(true);
    expect(third.every((r) => r.risk.band !== "high")).toBe(true);
  });

  it("a review that clears a night session stops it counting: the session going on does not escalate again", () => {
    const s = newState();
    const events = normalDay(2500);
    for (const e of events) scoreEvent(s, e, ["orders.*"]);
    const night = Date.UTC(2026, 2, 20, 2, 0, 0);
    const ev = (i: number) => ({ id: `h${i}`, ts: night + i * 45_000, type: "tool_call" as const, action: "orders.quote", resource: "instrument/EURUSD", outcome: "success" as const });
    const first = Array.from({ length: 40 }, (_, i) => scoreEvent(s, ev(i), ["orders.*"]).event);
    expect(first.some((x) => x.band === "high")).toBe(true);
    acceptAsNormal(s, night + 40 * 45_000);
    const after = Array.from({ length: 40 }, (_, i) => scoreEvent(s, ev(40 + i), ["orders.*"]));
    expect(after.every((r) => r.event.band !== "high")).toBe(true);
    expect(after.every((r) => r.risk.band !== "high")).toBe(true);
  });

  it("exfiltration as volume: reads of ordinary size at a normal pace that add up, and one bulk read, reach high", () => {
    const reads = (n: number, seed: number, start = T0): ScoredInput[] => normalDay(n, seed, start).map((e, i) => ({ ...e, type: "data_access", action: "positions.read", amount: undefined, currency: undefined, records: 80 + ((i * 37) % 60) }));
    const base = () => { const s = newState(); for (const e of reads(2500, 3)) scoreEvent(s, e, ["positions.*"]); return s; };
    const at = Date.UTC(2026, 2, 23, 10, 0, 0);
    let s = base();
    const bulk = scoreEvent(s, { id: "b", ts: at, type: "data_access", action: "positions.read", resource: "instrument/EURUSD", records: 40_000, outcome: "success" }, ["positions.*"]).event;
    expect(bulk.band).toBe("high");
    expect(bulk.reasons[0]!.feature).toMatch(/^volume_/);
    s = base();
    // 12× the usual records per read, at the agent's own pace (one every ~40 s), for an hour.
    const trickle = Array.from({ length: 90 }, (_, i) => scoreEvent(s, { id: `t${i}`, ts: at + i * 40_000, type: "data_access", action: "positions.read", resource: `instrument/X${i}`, records: 1200, outcome: "success" }, ["positions.*"]).event);
    expect(trickle.some((x) => x.band === "high")).toBe(true);
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

  it("separate strong anomalies minutes apart add up: the agent's risk rises above any one of them, and the same events hours apart do not", () => {
    // A tenant's policy weight makes each out-of-scope use strong but not high on its own (0.6),
    // so what the agent's risk does with three of them is the accumulation alone.
    const cfg = resolveScoringConfig({ outOfScope: 0.6 }, DEFAULT_SCORING);
    if (!cfg.ok) throw new Error("config");
    const run = (gapMs: number) => {
      const s = newState();
      const days = normalDay(2000);
      for (const e of days) scoreEvent(s, e, ["orders.*"], cfg.value);
      const at = days.at(-1)!.ts;
      return Array.from({ length: 3 }, (_, k) => scoreEvent(s, { id: `r${k}`, ts: at + gapMs * (k + 1), type: "tool_call", action: "payments.refund", resource: "instrument/EURUSD", outcome: "success", latencyMs: 100 }, ["orders.*"], cfg.value));
    };
    const close = run(120_000);
    for (const r of close) expect(r.event.score).toBeLessThan(0.85);
    expect(close[2]!.risk.score).toBeGreaterThan(Math.max(...close.map((r) => r.event.score)));
    const apart = run(3 * 3_600_000);
    expect(apart[2]!.risk.score).toBe(apart[2]!.event.score);
  });

  it("the event that takes the agent's risk into high reads high itself, naming the earlier evidence it was added to", () => {
    // Each out-of-scope use is strong but not high on its own (≈ 0.7 with its novelty): the third within three
    // minutes lifts the agent to high, which is what triggers the revocation check, so a gateway
    // or SIEM reading that event's band must not see medium.
    const cfg = resolveScoringConfig({ outOfScope: 0.45 }, DEFAULT_SCORING);
    if (!cfg.ok) throw new Error("config");
    const s = newState();
    const days = normalDay(2000);
    for (const e of days) scoreEvent(s, e, ["orders.*"], cfg.value);
    const at = days.at(-1)!.ts;
    const run = Array.from({ length: 6 }, (_, k) => scoreEvent(s, { id: `x${k}`, ts: at + 60_000 * (k + 1), type: "tool_call", action: "payments.refund", resource: "instrument/EURUSD", outcome: "success", latencyMs: 100 }, ["orders.*"], cfg.value));
    const lift = run.findIndex((r) => r.risk.becameHigh);
    expect(lift).toBeGreaterThan(0);
    for (const r of run.slice(0, lift)) expect(r.event.band).not.toBe("high");
    const r = run[lift]!;
    expect(r.event.band).toBe("high");
    expect(r.event.score).toBe(r.risk.score);
    const acc = r.event.reasons.find((x) => x.feature === "accumulated_risk");
    expect(acc?.detail).toMatch(/recent anomalies \(risk 0\.\d\d before this event\), this event takes its risk to 0\.8\d|0\.9\d/);
    expect(r.event.reasons.map((x) => x.feature)).toContain("out_of_scope");
    // The agent's risk keeps the evidence of the events before beside this one's.
    expect(r.risk.reasons.map((x) => x.feature)).toEqual(expect.arrayContaining(["accumulated_risk", "out_of_scope", "action_novelty"]));
    // Once the agent is high, a further anomaly is scored on its own evidence again.
    expect(run[lift + 1]!.event.reasons.map((x) => x.feature)).not.toContain("accumulated_risk");
    // A tenant can switch the lift off by weight, as any other reason.
    const off = resolveScoringConfig({ outOfScope: 0.45, weights: { accumulated_risk: 0 } }, DEFAULT_SCORING);
    if (!off.ok) throw new Error("config");
    const s2 = newState();
    for (const e of days) scoreEvent(s2, e, ["orders.*"], off.value);
    const run2 = Array.from({ length: 6 }, (_, k) => scoreEvent(s2, { id: `x${k}`, ts: at + 60_000 * (k + 1), type: "tool_call", action: "payments.refund", resource: "instrument/EURUSD", outcome: "success", latencyMs: 100 }, ["orders.*"], off.value));
    expect(run2[lift]!.risk.becameHigh).toBe(true);
    expect(run2[lift]!.event.band).not.toBe("high");
  });

  it("bounded memory: 5k events over thousands of distinct maximum-length actions, resources, currencies and units stay under MAX_STATE_BYTES", () => {
    const s = newState();
    const r = rng(7);
    const pad = (x: string, n: number) => (x + "#".repeat(n)).slice(0, n);
    for (let i = 0; i < 5_000; i++) {
      scoreEvent(s, {
        id: `m${i}`, ts: T0 + i * 1000, type: "data_access", action: pad(`tool.t${Math.floor(r() * 2000)}.`, 128),
        resource: pad(`bucket/k${i}/`, 512), amount: r() * 1000, currency: ["EUR", "USD", "GBP", "JPY", "CHF"][i % 5]!, outcome: "success",
        records: Math.floor(r() * 1e6), bytes: Math.floor(r() * 1e9), latencyMs: r() * 1000,
      }, ["*"]);
    }
    const c = DEFAULT_SCORING.caps;
    expect(Object.keys(s.actions).length).toBeLessThanOrEqual(c.actions);
    expect(Object.keys(s.transitions).length).toBeLessThanOrEqual(c.transitions);
    expect(Object.keys(s.resources).length).toBeLessThanOrEqual(c.resources);
    expect(Object.keys(s.amounts).length).toBeLessThanOrEqual(c.keys);
    expect(Object.keys(s.mix?.a ?? {}).length).toBeLessThanOrEqual(MIX_ACTIONS);
    expect(Object.keys(s.actionMinutes ?? {}).length).toBeLessThanOrEqual(c.actions);
    expect(Object.keys(s.hourPending).length).toBeLessThanOrEqual(DEFAULT_SCORING.hourLagMs / 3_600_000 + 2);
    // Two read-volume units and the hourly count of new resources (fanout_hour).
    expect(Object.keys(s.volume).sort()).toEqual(["bytes", "new_resources", "records"]);
    expect(JSON.stringify(s).length).toBeLessThanOrEqual(MAX_STATE_BYTES);
  }, 240_000);

  it("migrates a state stored before the weekly profile, volume and evidence accumulator existed", () => {
    const s = newState();
    for (const e of normalDay(600)) scoreEvent(s, e, ["orders.*"]);
    const old = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    for (const k of ["week", "hourPending", "volume", "cusum"]) delete old[k];
    const back = reviveState(old);
    expect(back.n).toBe(600);
    expect(back.week).toHaveLength(168);
    const next = scoreEvent(back, { ...normalDay(601).at(-1)!, id: "after" }, ["orders.*"]);
    expect(next.event.band).toBe(bandOf(next.event.score));
    expect(reviveState({ version: 0 }).n).toBe(0);
    expect(reviveState("garbage").n).toBe(0);
  });

  it("validated configuration: overrides merge onto the defaults; unknown features and out-of-range values are refused", () => {
    const ok = resolveScoringConfig({ weights: { unusual_hour: 0.5 }, sustained: { halfLifeMs: 600_000 } });
    expect(ok.ok && ok.value.weights.unusual_hour).toBe(0.5);
    expect(ok.ok && ok.value.sustained.slack).toBe(DEFAULT_SCORING.sustained.slack);
    expect(resolveScoringConfig({ weights: { not_a_feature: 1 } }).ok).toBe(false);
    expect(resolveScoringConfig({ outOfScope: 2 }).ok).toBe(false);
    expect(resolveScoringConfig({ caps: { resources: 1e9 } }).ok).toBe(false);
    expect(resolveScoringConfig({}).ok).toBe(true);
    // Every reason the scorer gives is a listed feature, and a weight of 0 silences it.
    const s = newState();
    const seen = new Set<string>();
    for (const e of normalDay(800)) for (const r of scoreEvent(s, e, ["orders.*"]).event.reasons) seen.add(r.feature);
    const oos = scoreEvent(s, { id: "o", ts: T0 + 40 * 86_400_000, type: "transaction", action: "payments.transfer", outcome: "success" }, ["orders.*"]).event;
    for (const r of oos.reasons) seen.add(r.feature);
    for (const f of seen) expect(SCORING_FEATURES).toContain(f);
    const off = resolveScoringConfig({ weights: { out_of_scope: 0 } });
    const s2 = newState();
    const silenced = scoreEvent(s2, { id: "o", ts: T0, type: "transaction", action: "payments.transfer", outcome: "success" }, ["orders.*"], off.ok ? off.value : DEFAULT_SCORING).event;
    expect(silenced.reasons.map((r) => r.feature)).not.toContain("out_of_scope");
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

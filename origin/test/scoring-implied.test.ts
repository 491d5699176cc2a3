import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-02-02T08:00:00Z");
const SCOPES = ["fx.*"];
const PAIRS = ["pairs/EURUSD", "pairs/USDJPY", "pairs/GBPUSD", "pairs/USDCAD", "pairs/EURCHF"];

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string, resource: string): ScoredInput {
  return { id, ts, type: "tool_call", action, resource, outcome: "success" };
}

/**
 * An FX desk agent: on each currency pair it reads the rate, then quotes (most of the time), and
 * sometimes books the quote (never without one). Working hours only, weekdays, ~150 tasks a day for `days` days: about
 * as much history as the b-fx agent of world B whose adoption of a new tool auto-revoked it.
 */
function workDays(s: MonitorState, days: number, seed = 7, start = T0): number {
  const r = rng(seed);
  let t = start;
  let id = 0;
  for (let day = 0; day < days; day++) {
    if (day % 7 >= 5) continue;
    t = start + day * 86_400_000;
    for (let k = 0; k < 150; k++) {
      const pair = PAIRS[Math.floor(r() * PAIRS.length)]!;
      scoreEvent(s, ev(`r${id++}`, (t += 60_000 + Math.floor(r() * 60_000)), "fx.get_rate", pair), SCOPES);
      if (r() >= 0.8) continue;
      scoreEvent(s, ev(`q${id++}`, (t += 5_000 + Math.floor(r() * 20_000)), "fx.quote", pair), SCOPES);
      if (r() < 0.3) scoreEvent(s, ev(`b${id++}`, (t += 5_000 + Math.floor(r() * 20_000)), "fx.book", pair), SCOPES);
    }
  }
  return t;
}

const contribution = (r: Score, feature: string) => r.event.reasons.find((x) => x.feature === feature)?.contribution ?? 0;

describe("a step into a rarely used tool is one surprise, not three (action rarity implies the step's)", () => {
  it("adopting a new in-scope tool after the usual rate read is medium, not high, on its first uses", () => {
    const s = newState();
    let t = workDays(s, 24);
    const uses: Score[] = [];
    // The desk starts suggesting hedges: read the rate, then the new tool, on the same pair.
    for (let k = 0; k < 3; k++) {
      const pair = PAIRS[k]!;
      scoreEvent(s, ev(`n-r${k}`, (t += 3_600_000), "fx.get_rate", pair), SCOPES);
      uses.push(scoreEvent(s, ev(`n-h${k}`, (t += 20_000), "fx.hedge_suggest", pair), SCOPES));
    }
    for (const u of uses) {
      // The tool's rarity is the evidence; never having followed a rate read, on this or any pair,
      // is what any rare tool's step is and says nothing more.
      expect(contribution(u, "action_novelty")).toBeGreaterThan(0.2);
      expect(contribution(u, "transition_novelty")).toBeLessThan(0.1);
      expect(contribution(u, "object_step")).toBeLessThan(0.1);
      expect(u.event.band).not.toBe("high");
      expect(u.risk.band).not.toBe("high");
    }
  });

  it("a never-taken step between the agent's common tools keeps its full evidence", () => {
    const s = newState();
    let t = workDays(s, 24);
    // Booking straight after a rate read, without a quote: both tools are everyday ones, the
    // step between them (on this pair) never happened.
    scoreEvent(s, ev("x-r", (t += 3_600_000), "fx.get_rate", "pairs/EURUSD"), SCOPES);
    const skip = scoreEvent(s, ev("x-b", (t += 20_000), "fx.book", "pairs/EURUSD"), SCOPES);
    expect(contribution(skip, "action_novelty")).toBe(0);
    expect(contribution(skip, "transition_novelty") + contribution(skip, "object_step")).toBeGreaterThan(0.3);
  });
});

describe("one never-seen step is not a run of them (sequence_surprise after transition_novelty)", () => {
  it("a tool the desk adopted last week, once after a step it never followed, is judged once", () => {
    const s = newState();
    let t = workDays(s, 24);
    // Adopted a week ago: always right after a rate read, a dozen times.
    for (let k = 0; k < 12; k++) {
      scoreEvent(s, ev(`a-r${k}`, (t += 600_000), "fx.get_rate", PAIRS[k % 5]!), SCOPES);
      scoreEvent(s, ev(`a-h${k}`, (t += 20_000), "fx.hedge_suggest", PAIRS[k % 5]!), SCOPES);
    }
    t = workDays(s, 3, 9, T0 + 28 * 86_400_000);
    scoreEvent(s, ev("y-r", (t += 600_000), "fx.get_rate", "pairs/EURUSD"), SCOPES);
    scoreEvent(s, ev("y-q", (t += 20_000), "fx.quote", "pairs/EURUSD"), SCOPES);
    // Today it suggests a hedge on the quote it just made: a step never taken before.
    const once = scoreEvent(s, ev("y-h", (t += 20_000), "fx.hedge_suggest", "pairs/EURUSD"), SCOPES);
    expect(contribution(once, "transition_novelty")).toBeGreaterThan(0.2);
    expect(contribution(once, "sequence_surprise")).toBeLessThan(0.1);
    expect(once.risk.band).not.toBe("high");
  });
});

import { describe, expect, it } from "vitest";
import { newState, reviveState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const DAY = 86_400_000;
const MINUTE = 60_000;
const SCOPES = ["svc.*", "warehouse.*"];
const TOOLS = Array.from({ length: 30 }, (_, i) => `svc.tool_${i}`);

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string): ScoredInput {
  return { id, ts, type: "tool_call", action, resource: `svc/${action}`, outcome: "success" };
}

/**
 * One minute of a pipeline agent busy with many tools: `n` calls spread over the minute, each of
 * its 30 tools at most twice (a busy minute holds about 40 events, none of one tool more than 2).
 */
function minuteOf(r: () => number, start: number, n: number): { t: number; action: string }[] {
  const used = new Map<string, number>();
  const out: { t: number; action: string }[] = [];
  for (let i = 0; i < n; i++) {
    let a = TOOLS[Math.floor(r() * TOOLS.length)]!;
    while ((used.get(a) ?? 0) >= 2) a = TOOLS[Math.floor(r() * TOOLS.length)]!;
    used.set(a, (used.get(a) ?? 0) + 1);
    out.push({ t: start + Math.floor(((i + r()) / n) * MINUTE), action: a });
  }
  return out;
}

/**
 * `days` days (weekdays only) of 09:00–13:00: every minute active, most of them 6–16 calls, one in ten a busy
 * one of 40–52. With `batches`, a bulk-load tool also runs at 100 calls a minute for three minutes
 * at 10:00 and at 12:00 (a legitimate batch of this agent's, beside its other work).
 */
function workDays(s: MonitorState, from: number, days: number, seed: number, batches = false): Score[] {
  const r = rng(seed);
  const scores: Score[] = [];
  let id = 0;
  for (let day = from; day < from + days; day++) {
    if (day % 7 >= 5) continue;
    for (let m = 0; m < 240; m++) {
      const start = T0 + day * DAY + m * MINUTE;
      const n = r() < 0.1 ? 40 + Math.floor(r() * 13) : 6 + Math.floor(r() * 11);
      const calls = minuteOf(r, start, n);
      if (batches && (m === 60 || m === 61 || m === 62 || m === 180 || m === 181 || m === 182)) {
        for (let i = 0; i < 100; i++) calls.push({ t: start + Math.floor(i * 600 + r() * 500), action: "warehouse.bulk_load" });
        calls.sort((a, b) => a.t - b.t);
      }
      for (const c of calls) scores.push(scoreEvent(s, ev(`e${day}-${id++}`, c.t, c.action), SCOPES));
    }
  }
  return scores;
}

const rateOf = (x: Score, feature: string) => x.event.reasons.find((r) => r.feature === feature)?.contribution ?? 0;

describe("per-action rate (action_rate)", () => {
  it("a runaway loop of one known tool at 150/min for 2 minutes reaches high on an agent whose busy minutes hold 40 calls of many tools", () => {
    const s = newState();
    workDays(s, 0, 10, 7);
    // Thursday of the second week, 11:00: the agent's ordinary work goes on, and svc.tool_7 (never
    // more than twice a minute) is called 150 times a minute for two minutes.
    const r = rng(99);
    const start = T0 + 10 * DAY + 120 * MINUTE;
    const calls = [...minuteOf(r, start, 12), ...minuteOf(r, start + MINUTE, 12)];
    for (let i = 0; i < 300; i++) calls.push({ t: start + i * 400 + 1, action: "svc.tool_7" });
    calls.sort((a, b) => a.t - b.t);
    const out = calls.map((c, i) => scoreEvent(s, ev(`l${i}`, c.t, c.action), SCOPES));
    const loop = out.filter((_, i) => calls[i]!.action === "svc.tool_7");
    expect(loop.some((x) => x.risk.band === "high")).toBe(true);
    expect(loop.some((x) => x.event.band === "high")).toBe(true);
    const top = loop.reduce((a, b) => (rateOf(b, "action_rate") > rateOf(a, "action_rate") ? b : a));
    expect(top.event.reasons.find((r) => r.feature === "action_rate")!.detail).toMatch(
      /calls of 'svc\.tool_7' in the last minute vs at most ~\d+\/min usually/,
    );
  }, 180_000);

  it("the same agent's ordinary days, busy minutes included, stay low", () => {
    const s = newState();
    workDays(s, 0, 10, 7);
    const next = workDays(s, 10, 3, 8);
    expect(next.every((x) => x.risk.band !== "high")).toBe(true);
    expect(next.every((x) => rateOf(x, "action_rate") < 0.3)).toBe(true);
  }, 180_000);

  it("a tool the agent calls 100 times a minute in batches keeps doing so without alarm", () => {
    const s = newState();
    workDays(s, 0, 10, 7, true);
    const next = workDays(s, 10, 3, 8, true);
    expect(next.every((x) => x.risk.band !== "high")).toBe(true);
    expect(next.every((x) => rateOf(x, "action_rate") < 0.3)).toBe(true);
  }, 180_000);

  it("a state stored before per-action minutes loads and starts counting them", () => {
    const s = newState();
    workDays(s, 0, 7, 7);
    const stored = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    delete stored.actionMinutes;
    const live = reviveState(stored);
    const x = scoreEvent(live, ev("after", T0 + 7 * DAY + 60 * MINUTE, "svc.tool_3"), SCOPES);
    expect(x.event.band).toBe("low");
    expect(live.actionMinutes?.["svc.tool_3"]?.c).toBe(1);
  }, 180_000);
});

import { describe, expect, it } from "vitest";
import { acceptAsNormal, MIX_ACTIONS, newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const DAY = 86_400_000;
const SCOPES = ["ledger.*", "report.*"];

type Score = ReturnType<typeof scoreEvent>;

/** The agent's usual mix of steps: one action drawn per event with these shares. */
const USUAL: readonly [string, number][] = [
  ["ledger.query", 0.5],
  ["ledger.list_accounts", 0.2],
  ["report.render", 0.15],
  ["report.publish", 0.1],
  ["report.export", 0.05],
];

function pick(mix: readonly [string, number][], u: number): string {
  let acc = 0;
  for (const [a, p] of mix) if ((acc += p) > u) return a;
  return mix.at(-1)![0];
}

/** `report.export` takes `share` of the steps, the others keep their proportions. */
function withExport(share: number): [string, number][] {
  const rest = 1 - USUAL.at(-1)![1];
  return USUAL.map(([a, p]) => [a, a === "report.export" ? share : (p * (1 - share)) / rest]);
}

/**
 * Weekdays from 09:00, ~200 steps a day at a steady pace, from `fromDay` for `days` days; the
 * export share moves from `startShare` to `endShare` over the span (linearly, a slow drift).
 */
function work(s: MonitorState, seed: number, fromDay: number, days: number, startShare: number, endShare: number): Score[] {
  const r = rng(seed);
  const out: Score[] = [];
  for (let d = 0; d < days; d++) {
    const day = fromDay + d;
    if (day % 7 >= 5) continue;
    const mix = withExport(startShare + ((endShare - startShare) * d) / Math.max(1, days - 1));
    let t = T0 + day * DAY;
    for (let k = 0; k < 200; k++) {
      const input: ScoredInput = {
        id: `e${day}-${k}`,
        ts: (t += 60_000 + Math.floor(r() * 120_000)),
        type: "tool_call",
        action: pick(mix, r()),
        resource: `books/b${Math.floor(r() * 30)}`,
        outcome: "success",
      };
      out.push(scoreEvent(s, input, SCOPES));
    }
  }
  return out;
}

const drift = (x: Score) => x.event.reasons.find((r) => r.feature === "mix_drift")?.contribution ?? 0;

describe("action-mix drift (mix_drift)", () => {
  it("an action's share creeping up over days is medium, never high; the same mix going on is nothing", () => {
    const steady = newState();
    work(steady, 1, 0, 21, 0.05, 0.05);
    const control = work(steady, 2, 21, 12, 0.05, 0.05);
    expect(control.filter((x) => drift(x) > 0)).toHaveLength(0);

    const s = newState();
    work(s, 1, 0, 21, 0.05, 0.05);
    const drifting = work(s, 2, 21, 12, 0.05, 0.2);
    const flagged = drifting.filter((x) => drift(x) > 0);
    // Found, and in medium: a grown workload looks the same, so it is for a person, not a revocation.
    expect(flagged.filter((x) => x.event.band === "medium").length).toBeGreaterThan(20);
    expect(Math.max(...drifting.map(drift))).toBeLessThanOrEqual(0.5);
    expect(drifting.filter((x) => x.event.band === "high")).toHaveLength(0);
    expect(flagged[0]!.event.reasons.find((r) => r.feature === "mix_drift")!.detail).toMatch(/report\.export .*reference 5\.\d%/);
    // A share that falls (work moved elsewhere) is not drift of the kind that flags.
    const falling = newState();
    work(falling, 1, 0, 21, 0.05, 0.05);
    expect(work(falling, 2, 21, 12, 0.05, 0.0).filter((x) => drift(x) > 0)).toHaveLength(0);
  });

  it("a change that holds for a week is the new normal; a review shown it accepts it at once", () => {
    const aged = newState();
    work(aged, 1, 0, 21, 0.05, 0.05);
    work(aged, 2, 21, 5, 0.05, 0.2);
    const held = work(aged, 3, 26, 14, 0.2, 0.2);
    // Medium while it is new, then accepted: the last week of the new mix carries no drift.
    expect(held.slice(0, 200).some((x) => drift(x) > 0)).toBe(true);
    expect(held.slice(-600).filter((x) => drift(x) > 0)).toHaveLength(0);

    const reviewed = newState();
    work(reviewed, 1, 0, 21, 0.05, 0.05);
    const before = work(reviewed, 2, 21, 5, 0.05, 0.2);
    expect(before.some((x) => drift(x) > 0)).toBe(true);
    acceptAsNormal(reviewed, T0 + 26 * DAY, undefined, { features: ["mix_drift"] });
    expect(work(reviewed, 3, 28, 5, 0.2, 0.2).filter((x) => drift(x) > 0)).toHaveLength(0);

    // A review about something else leaves the drift watched.
    const other = newState();
    work(other, 1, 0, 21, 0.05, 0.05);
    work(other, 2, 21, 5, 0.05, 0.2);
    acceptAsNormal(other, T0 + 26 * DAY, undefined, { features: ["rate_burst"] });
    expect(work(other, 3, 28, 5, 0.2, 0.2).some((x) => drift(x) > 0)).toBe(true);
  });

  it("tracks at most MIX_ACTIONS actions, the most used ones", () => {
    const s = newState();
    const r = rng(5);
    for (let i = 0; i < 1_200; i++) {
      const action = i % 2 === 0 ? `tool.common${i % 6}` : `tool.t${Math.floor(r() * 300)}`;
      scoreEvent(s, { id: `m${i}`, ts: T0 + i * 60_000, type: "tool_call", action, outcome: "success" }, ["*"]);
    }
    expect(Object.keys(s.mix!.a).length).toBeLessThanOrEqual(MIX_ACTIONS);
    for (let c = 0; c < 6; c += 2) expect(s.mix!.a[`tool.common${c}`]).toBeDefined();
  });
});

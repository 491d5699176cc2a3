import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * An agent's stray hours are its own (blind world H): a loan underwriter working 15–03 UTC with a
 * handful of tasks at other hours (05, 07, 09, 11, 13 UTC) in 54 days was auto-revoked on its next
 * one, an ordinary application at 07:50, read as unusual_hour 0.88 on its own. The hour profile was
 * add-½ smoothed per window, so every stray hour read as if the agent had never strayed. Now the
 * profile is a mixture of the agent's habits and its stray hours (features.offProfileFloor): one
 * that often turns up off its profile is less surprising there, one that never has reads as before.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY0 = Date.UTC(2026, 1, 2); // a Monday
const SCOPES = ["claims.*"];
const STEPS = ["claims.intake", "claims.assess", "claims.approve", "claims.pay"];

function task(t: number, id: string, r: () => number): ScoredInput[] {
  let at = t;
  return STEPS.map((action, i) => {
    if (i > 0) at += 15_000 + Math.floor(r() * 25_000);
    return { id: `${id}-${i}`, ts: Math.floor(at), type: "tool_call", action, resource: `claims/${id}`, outcome: "success" };
  });
}

/** 08–17 UTC every day, a task every ~7 minutes; on the days in `strays`, one task at that UTC hour too. */
function history(days: number, strays: ReadonlyMap<number, number>): { s: MonitorState; end: number } {
  const r = rng(7);
  const s = newState();
  let end = 0;
  for (let d = 0; d < days; d++) {
    const day: ScoredInput[] = [];
    for (let t = DAY0 + d * DAY + 8 * HOUR + r() * 60_000; t < DAY0 + d * DAY + 17 * HOUR - 3 * 60_000; t += 300_000 + r() * 300_000)
      day.push(...task(t, `c${d}-${Math.floor(t / 1000)}`, r));
    const h = strays.get(d);
    if (h !== undefined) day.push(...task(DAY0 + d * DAY + h * HOUR + 20 * 60_000, `s${d}`, r));
    day.sort((a, b) => a.ts - b.ts);
    for (const e of day) {
      scoreEvent(s, e, SCOPES);
      end = Math.max(end, e.ts);
    }
  }
  return { s, end };
}

const hourOf = (s: MonitorState, at: number) => {
  const r = rng(11);
  const out = task(at, "probe", r).map((e) => scoreEvent(s, e, SCOPES));
  return {
    hour: Math.max(...out.map((o) => o.event.reasons.find((f) => f.feature === "unusual_hour")?.contribution ?? 0)),
    risk: Math.max(...out.map((o) => o.risk.score)),
  };
};

describe("unusual_hour knows the agent's own stray hours", () => {
  // Stray tasks at hours of day the 08–17 profile never saw, none within an hour of another's
  // (each is off the profile when it comes) nor of the probe's.
  const strays = new Map([
    [22, 19],
    [25, 3],
    [28, 21],
    [31, 5],
    [34, 23],
  ]);
  const probe = DAY0 + 41 * DAY + 1 * HOUR + 30 * 60_000; // 01:30 UTC: no active hour of either agent within an hour of it

  it("after five stray hours in six weeks, a sixth is not high on its own; an agent that never strayed still reads its first as rare", () => {
    const strayed = history(41, strays);
    const steady = history(41, new Map());
    expect(probe).toBeGreaterThan(Math.max(strayed.end, steady.end));
    const a = hourOf(strayed.s, probe);
    const b = hourOf(steady.s, probe);
    // Until 2026-12-07 both read the same: the five stray hours counted for nothing.
    expect(b.hour).toBeGreaterThan(0.7);
    expect(a.hour).toBeLessThan(0.55);
    expect(a.risk).toBeLessThan(0.85);
  }, 60_000);
});

import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * Known evasion of unusual_hour through deferred work (features.owedWork, issue 14): a session
 * after a silence through the agent's working day is read as the backlog of an outage, for as many
 * hours as it skipped, but only for a silence of at most a day (longer: a dormant credential). A
 * holder of the agent's credential that controls when it works skips one working day and works
 * three hours at a dead hour: after 27 hours of silence that is high (0.99); with one ordinary task
 * sent at 06:00, before the working day, the silence is 19 hours and the same three hours read 0.12.
 * Not fixed (no fix measured in time): the decoy only places the silence; see docs/scoring.md.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY0 = Date.UTC(2026, 1, 2); // a Monday
const SCOPES = ["claims.*"];
const STEPS = ["claims.intake", "claims.assess", "claims.approve", "claims.pay"];

/** One task: the four claim steps on a fresh case, 15–40 s apart, from `t`. */
function task(t: number, id: string, r: () => number): ScoredInput[] {
  let at = t;
  return STEPS.map((action, i) => {
    if (i > 0) at += 15_000 + Math.floor(r() * 25_000);
    return { id: `${id}-${i}`, ts: Math.floor(at), type: "tool_call", action, resource: `claims/${id}`, outcome: "success" };
  });
}

/** 17 days of 07–22 work (a task every ~2 min); day 17 skipped, with a decoy task at `decoyHour` or none; then 01:00–04:00 on day 18. The session's highest risk. */
function skippedDay(decoyHour: number | undefined): number {
  const r = rng(5);
  const s: MonitorState = newState();
  for (let d = 0; d < 17; d++)
    for (let t = DAY0 + d * DAY + 7 * HOUR + r() * 60_000; t < DAY0 + d * DAY + 22 * HOUR - 3 * 60_000; t += 60_000 + r() * 120_000)
      for (const e of task(t, `c${d}-${Math.floor(t / 1000)}`, r)) scoreEvent(s, e, SCOPES);
  if (decoyHour !== undefined) for (const e of task(DAY0 + 17 * DAY + decoyHour * HOUR, "decoy", r)) scoreEvent(s, e, SCOPES);
  const at = DAY0 + 18 * DAY + HOUR;
  let risk = 0;
  for (let t = at, i = 0; t < at + 3 * HOUR; t += 60_000 + r() * 60_000, i++)
    for (const e of task(t, `n${i}`, r)) risk = Math.max(risk, scoreEvent(s, e, SCOPES).risk.score);
  return risk;
}

describe("unusual_hour: a silence placed by a decoy earns deferred-work credit (known evasion)", () => {
  it("three hours at 01:00 after a skipped day are high; one task at 06:00 before the skipped day makes them low", () => {
    expect(skippedDay(undefined)).toBeGreaterThanOrEqual(0.85);
    expect(skippedDay(6)).toBeLessThan(0.5);
  }, 60_000);

  it.fails("expected to fail until the evasion is closed: the decoyed session is high", () => {
    expect(skippedDay(6)).toBeGreaterThanOrEqual(0.85);
  }, 60_000);
});

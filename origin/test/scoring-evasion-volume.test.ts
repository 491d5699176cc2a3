import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * White-box evasion of volume_hour (issue 14): the clock hour's read volume is judged against the
 * agent's busy hour, the 98th percentile of its last 240 active hours, which every few busy hours
 * raise. A holder of the agent's credential could raise it level by level (6 hours of reads at 2×,
 * 4× and 8× the usual rate, one level a day, each hour low) and then read 20× the agent's usual
 * daily volume in ten hours at 0.31, where the same ten hours read 0.99 (high) on their own. Now the
 * hour is also read against the busy hours without the recent jumps (features.ts peakBeforeJumps).
 */
const T0 = Date.parse("2026-03-02T00:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCOPES = ["crm.*"];

type Scored = ReturnType<typeof scoreEvent>;

/** `perHour` reads of one of 400 customer accounts in each hour [from, to) of day `d`, ~50 records each. */
function hours(s: MonitorState, r: () => number, d: number, from: number, to: number, perHour: number, out: Scored[] = []): Scored[] {
  for (let h = from; h < to; h++)
    for (let i = 0; i < perHour; i++) {
      const t = T0 + d * DAY + h * HOUR + Math.floor(((i + r()) / perHour) * HOUR);
      const records = Math.max(1, Math.round(50 * Math.exp(0.5 * (r() - 0.5))));
      const read = {
        id: `e${t}-${i}`,
        ts: t,
        type: "tool_call" as const,
        action: "crm.list_contacts",
        resource: `accounts/c${Math.floor(r() * 400)}`,
        records,
        outcome: "success" as const,
      };
      out.push(scoreEvent(s, read, SCOPES));
    }
  return out;
}

/** Four weeks of 10 reads an hour 08–18, then a day of 08–14 at each decoy level (× the usual rate), then ten hours at 20×. */
function attack(levels: readonly number[]) {
  const r = rng(3);
  const s = newState();
  for (let d = 0; d < 28; d++) hours(s, r, d, 8, 18, 10);
  const decoys: Scored[] = [];
  for (const [i, f] of levels.entries()) {
    hours(s, r, 28 + i, 8, 14, 10 * f, decoys);
    hours(s, r, 28 + i, 14, 18, 10, decoys);
  }
  const out = hours(s, r, 28 + levels.length, 8, 18, 200);
  const hourly = (xs: Scored[]) => Math.max(0, ...xs.map((x) => x.event.reasons.find((q) => q.feature === "volume_hour")?.contribution ?? 0));
  return {
    risk: Math.max(...out.map((x) => x.risk.score)),
    volumeHour: hourly(out),
    decoyEvent: Math.max(0, ...decoys.map((x) => x.event.score)),
    decoyRisk: Math.max(0, ...decoys.map((x) => x.risk.score)),
  };
}

/**
 * Known limit (2026-12-08): decoy busy hours raise volume_hour's yardstick (the agent's busy hour)
 * a level a day, and ten hours at 20× the usual daily volume then read below high. Helper R's fix
 * (the hour also read against the busy hour without recent jumps) closed it, but blind world I,
 * whose demand-driven traffic has legitimate jumps, read it as FPR(high) 0.229 → 0.277 % (and D
 * lost an episode): reverted, kept here as the limit it is (docs/scoring.md).
 */
describe("volume_hour: busy hours the agent made in the run-up vouch for its next (known limit)", () => {
  it("20× the usual daily volume in ten hours is high alone; decoy levels at 2×, 4×, 8× a day launder it below high", () => {
    const plain = attack([]);
    expect(plain.risk).toBeGreaterThanOrEqual(0.85);
    const doubling = attack([2, 4, 8]);
    expect(doubling.decoyRisk).toBeLessThan(0.85);
    expect(doubling.risk).toBeLessThan(0.85);
  });

  it.fails("expected to fail until the evasion is closed: the laundered hours, or their run-up, reach high", () => {
    const doubling = attack([2, 4, 8]);
    expect(Math.max(doubling.risk, doubling.decoyRisk)).toBeGreaterThanOrEqual(0.85);
  });

  it("a workload that grows by half each day goes on as it did", () => {
    const grown = attack([1.5, 2.2, 3.3]);
    expect(grown.decoyEvent).toBeLessThan(0.5);
  });
});

import { describe, expect, it } from "vitest";
import { cappedPearsonMean, DEFAULT_SCORING, newEpisodeState, sustainedAnomaly } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const DAY = 86_400_000;

/**
 * The episode scan's events for a quiet agent: one working hour a day of `perDay` events, about one
 * in `oneIn` of them new medium evidence (marked), and optionally one earlier hour (day `burstDay`)
 * of five events, every one marked (an earlier attack). Then, on day `days`, a 45-minute session in
 * which every fourth event is marked (a lasting state re-marking). Returns the scan's highest
 * `sustained_anomaly` contribution during that session and the dispersion it was read with.
 */
function lateEpisode(opts: { days: number; perDay: number; oneIn: number; burstDay?: number; pairs?: boolean }): { top: number; phi: number; history: number } {
  const r = rng(7);
  const ep = newEpisodeState();
  const ev = (ts: number, marked: boolean) =>
    sustainedAnomaly(ep, { ts, novel: marked ? 1 : 0, top: marked ? "amount_over_max" : "", held: {}, now: {}, runs: {} }, DEFAULT_SCORING);
  for (let d = 0; d < opts.days; d++) {
    for (let i = 0; i < opts.perDay; i++) {
      const ts = T0 + d * DAY + i * (3_000_000 / opts.perDay);
      // A clustering agent's marks come in pairs (a new resource family brings two novelties at once).
      const marked = r() < 1 / opts.oneIn;
      ev(ts, marked);
      if (opts.pairs && marked) ev(ts + 1_000, true);
    }
    // The earlier attack: five events in an hour of their own, every one of them marked.
    if (d === opts.burstDay) for (let i = 0; i < 5; i++) ev(T0 + d * DAY + 4 * 3_600_000 + i * 120_000, true);
  }
  // The dispersion the history leaves (its prior: 24 hours at 1), whatever the session then reads.
  const history = Math.max(1, (ep.disp!.s + 24) / (ep.disp!.w + 24));
  let top = 0;
  let phi = NaN;
  const start = T0 + opts.days * DAY;
  for (let i = 0; i < 25; i++) {
    const r = ev(start + i * 108_000, i % 4 === 0);
    if (!r || r.contribution < top) continue;
    top = r.contribution;
    phi = Number(/dispersion ([\d.]+)/.exec(r.detail)![1]);
  }
  return { top, phi, history };
}

describe("episode scan dispersion", () => {
  it("a capped Pearson residual averages 1 uncapped, less when capped, and χ²₁'s capped mean in the normal limit", () => {
    expect(cappedPearsonMean(10, 0.02, 1e9)).toBeCloseTo(1, 6);
    expect(cappedPearsonMean(1, 0.02, 10.83)).toBeCloseTo(0.98 * (0.02 ** 2 / 0.0196) + 0.02 * 10.83, 6);
    expect(cappedPearsonMean(5_000, 0.3, 10.83)).toBeCloseTo(0.998, 3);
  });

  it("one earlier hour of an attack does not hold a quiet agent's dispersion up for weeks", () => {
    const clean = lateEpisode({ days: 30, perDay: 12, oneIn: 60 });
    const after = lateEpisode({ days: 30, perDay: 12, oneIn: 60, burstDay: 20 });
    expect(clean.top).toBeGreaterThan(0.3);
    // Uncapped, the attack hour's r² ≈ 245 held φ near 5 and the session at 0; capped it is one
    // clustered hour among thirty. (Its five marks still raise the agent's share q: a history fact.)
    expect(after.phi).toBeLessThan(1.5);
    expect(after.top).toBeGreaterThan(0.1);
  });

  it("an agent whose marks always come in pairs keeps its dispersion", () => {
    const single = lateEpisode({ days: 60, perDay: 12, oneIn: 20 });
    const paired = lateEpisode({ days: 60, perDay: 12, oneIn: 20, pairs: true });
    expect(single.history).toBeLessThan(1.1);
    expect(paired.history).toBeGreaterThan(1.3);
  });
});

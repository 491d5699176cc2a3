import { describe, expect, it } from "vitest";
import { acceptAsNormal, newState, scoreEvent, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KEY = "payouts.release|EUR";
type Score = ReturnType<typeof scoreEvent>;

function worker(seed: number) {
  const r = rng(seed);
  const s = newState();
  let t = T0;
  let i = 0;
  const step = (factor: number): Score => {
    t += 5 * 60_000 + Math.floor(r() * 10 * 60_000);
    if (new Date(t).getUTCHours() >= 18) t += 14 * HOUR;
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const input: ScoredInput = {
      id: `a${i++}`,
      ts: t,
      type: "transaction",
      action: "payouts.release",
      resource: "payees/p1",
      amount: Math.round(1000 * factor * Math.exp(z)),
      currency: "EUR",
      outcome: "success",
    };
    return scoreEvent(s, input, ["payouts.*"]);
  };
  const until = (end: number, factor: number): Score[] => {
    const out: Score[] = [];
    while (t < end) out.push(step(factor));
    return out;
  };
  return { step, until, now: () => t, state: s };
}

const drift = (x: Score) => x.event.reasons.find((r) => r.feature === "amount_drift")?.contribution ?? 0;

/**
 * A review accepts a series' values up to its alert (feedback.ts acceptAsNormal, `seenAt`): the
 * drift reference becomes those values, and the values after the alert are judged against it. A
 * review that closes hours after its alert, with more than 96 of the series' values since, accepted
 * fewer than the 32 a reference needs: the next values the agent sent after the clear filled the
 * reference unjudged, so a doubling sent right after it read no drift at all.
 */
describe("a review that accepts a drift up to its alert", () => {
  for (const after of [0, 60, 100, 127]) {
    it(`a doubling right after a review (alert ${after} values back) is judged against the reviewed level, not taken into a refilling reference`, () => {
      const w = worker(51);
      w.until(T0 + 25 * DAY, 1);
      w.until(w.now() + 3 * DAY, 3);
      const seen = w.state.amounts[KEY]!.seen;
      for (let k = 0; k < after; k++) w.step(3);
      acceptAsNormal(w.state, w.now(), undefined, { features: ["amount_drift"], seenAt: { [KEY]: seen } });
      // Cleared; at once ×6 (twice the reviewed level) for twelve days.
      const jump = w.until(w.now() + 12 * DAY, 6);
      // Before: 411 and 470 medium readings of ~700 for alerts 0 and 60 values back, none for 100 or 127.
      expect(jump.filter((x) => drift(x) >= 0.3).length).toBeGreaterThan(200);
    });
  }
});

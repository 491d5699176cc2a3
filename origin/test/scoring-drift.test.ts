import { describe, expect, it } from "vitest";
import { applyOverrides, newState, roundScore, scoreEvent } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const HOUR = 3_600_000;

/**
 * A payer with a wide spread of amounts (lognormal, σ 1 in log space: vendors of very different
 * sizes), ~6 payments an hour from 08:00 to 18:00 every day. `factor(t)` scales the amounts.
 */
function payer(seed: number) {
  const r = rng(seed);
  const s = newState();
  let t = T0;
  let i = 0;
  const pay = (factor: number, resource = "payees/p1", action = "payments.send") => {
    t += 5 * 60_000 + Math.floor(r() * 10 * 60_000);
    if (new Date(t).getUTCHours() >= 18) t += 14 * HOUR;
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return scoreEvent(
      s,
      {
        id: `p${i++}`,
        ts: t,
        type: "transaction",
        action,
        resource,
        amount: Math.round(1000 * factor * Math.exp(z)),
        currency: "EUR",
        outcome: "success",
      },
      ["payments.*"],
    );
  };
  return { pay, now: () => t };
}

const drift = (x: ReturnType<ReturnType<typeof payer>["pay"]>) => x.event.reasons.find((r) => r.feature === "amount_drift")?.contribution ?? 0;

describe("slow drift against a frozen reference (amount_drift, CUSUM of ranks)", () => {
  it("amounts creeping up 2 %/hour of work, never outside the usual spread, are flagged within the drift", () => {
    const { pay, now } = payer(31);
    for (let i = 0; i < 1_500; i++) pay(1);
    const start = now();
    const out = [];
    // Two working weeks of creep: ×e^(0.02 · hours worked); by the end ×2.5, one spread (σ = 1) away.
    for (let i = 0; i < 450; i++) out.push(pay(Math.exp((0.02 * (now() - start)) / HOUR / 2.4)));
    const flagged = out.findIndex((x) => drift(x) >= 0.3);
    expect(flagged, JSON.stringify(out.at(-1)!.event.reasons)).toBeGreaterThan(0);
    expect(flagged).toBeLessThan(400);
    const last = out.at(-1)!.event.reasons.find((r) => r.feature === "amount_drift")!;
    expect(last.detail).toMatch(/amounts have run above the reference \(the first 128\) more often than chance allows: CUSUM \d/);
    // Drift alone is for review: never high on its own.
    expect(out.every((x) => drift(x) < 0.85)).toBe(true);
  });

  it("weeks of ordinary amounts, and one day of big tickets followed by ordinary ones, do not drift", () => {
    const { pay } = payer(32);
    const normal = Array.from({ length: 2_000 }, () => pay(1));
    expect(normal.slice(300).every((x) => drift(x) < 0.3)).toBe(true);
    // A month-end day: every payment ×3. It may raise drift for that day; afterwards it fades.
    const busy = Array.from({ length: 60 }, () => pay(3));
    expect(busy.every((x) => x.risk.band !== "high")).toBe(true);
    const after = Array.from({ length: 300 }, () => pay(1));
    expect(after.slice(150).every((x) => drift(x) < 0.3)).toBe(true);
  });

  it("a surge long enough to saturate the drift (a catastrophe week) wears off within hundreds of values once amounts are back, not thousands", () => {
    const { pay } = payer(33);
    for (let i = 0; i < 1_500; i++) pay(1);
    // Six hundred payments at ×3: the CUSUM climbed by about one per value, far past the curve's
    // saturation, and then took that many ordinary values again to come down at K each: every
    // ordinary payment for weeks read as drift at the top of the curve (world D's claims agent:
    // a CUSUM of 1,241 after its catastrophe week). Held at the evidence cap, it comes down from there.
    // Six days of it: a level that holds for a week is the new normal instead (drift.ts, ageDrift;
    // scoring-drift-age.test.ts), and there is then nothing to wear off.
    const surge = Array.from({ length: 360 }, () => pay(3));
    expect(drift(surge.at(-1)!)).toBeGreaterThan(0.8);
    const after = Array.from({ length: 1_500 }, () => pay(1));
    // 263 values here; over 600 before the cap (1,112 after 600 values of surge), and more the longer the surge had lasted.
    const back = after.findIndex((x) => drift(x) < 0.3);
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThan(600);
  });

  it("drift alone, or beside only small reasons, never makes an event or the agent high", () => {
    const { pay } = payer(34);
    for (let i = 0; i < 1_500; i++) pay(1);
    // Amounts settled at ×3 for good: the drift is saturated on every payment from here on.
    const settled = Array.from({ length: 600 }, (_, i) => pay(3, i % 50 === 49 ? `invoices/i${i}` : "payees/p1"));
    // Saturated through its first week (the 360 values of six days); after a week the level is the
    // new normal (drift.ts, ageDrift), and the rest is judged against it.
    expect(settled.slice(0, 360).filter((x) => drift(x) > 0.8).length).toBeGreaterThan(200);
    // Before: the saturated curve (cap 0.85) rounded to 0.850, and a first invoice resource beside it
    // (a small novelty) made the noisy-OR high: an auto-revocation for an agent whose amounts grew.
    const high = settled.filter((x) => x.event.band === "high" || x.risk.band === "high");
    expect(high.map((x) => x.event.reasons.slice(0, 3))).toEqual([]);
    expect(Math.max(...settled.map((x) => x.event.score))).toBeLessThan(0.85);
  });

  it("an event high on its other evidence stays high for a tenant that mutes the drift beside it (weights 0)", () => {
    const { pay } = payer(35);
    for (let i = 0; i < 1_500; i++) pay(1);
    // Six days: the drift is in force (a week of it would be the new normal, drift.ts ageDrift).
    const settled = Array.from({ length: 360 }, () => pay(3));
    expect(drift(settled.at(-1)!)).toBeGreaterThan(0.8);
    // Out of scope while the amounts drift: high on its own evidence, drift or no drift.
    const attack = pay(3, "payees/p1", "treasury.wire");
    expect(attack.event.reasons.map((r) => r.feature)).toContain("amount_drift");
    const other = 1 - attack.event.reasons.filter((r) => !r.feature.endsWith("_drift")).reduce((k, r) => k * (1 - r.contribution), 1);
    expect(other).toBeGreaterThanOrEqual(0.85);
    expect(attack.event.band).toBe("high");
    // The tenant layer reads the score as the noisy-OR of the reasons it lists (shared/src/tenant-scoring.ts):
    // a capped score with the drift listed at full strength read as decayed evidence, so muting the
    // drift took the other reasons' share with it, and the out-of-scope event was medium for that tenant.
    const muted = applyOverrides(attack.event, { weights: { amount_drift: 0 } });
    expect(muted.score).toBeGreaterThanOrEqual(roundScore(other) - 0.002);
    expect(muted.band).toBe("high");
    const keep = attack.event.reasons.reduce((k, r) => k * (1 - r.contribution), 1);
    expect(Math.abs(1 - keep - attack.event.score)).toBeLessThan(0.005);
  });
});

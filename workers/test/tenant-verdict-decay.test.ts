import { describe, expect, it } from "vitest";
import { applyOverrides, type TenantScoring } from "@kakunin/shared";
import { tenantVerdict } from "../src/monitor/tenant-verdict.ts";

/**
 * The agent's lingering risk decays between events, but it keeps the reasons of the event that set
 * it (the scorer's `risk.reasons`), at their original contributions. A tenant weight must act on
 * the evidence the risk still carries, not on those original contributions: otherwise a risk that
 * has decayed to nothing is put back at the reason's full strength by any weight above 1.
 */
const outOfScope = { feature: "out_of_scope", contribution: 0.9, detail: "action 'x' is not covered by the declared scopes" };
/** 90 minutes after an out-of-scope event (0.9, 15-minute time constant): 0.9 · e^-6. */
const decayed = { score: 0.002, reasons: [outOfScope] };
const quietEvent = { score: 0, band: "low" as const, reasons: [] };

describe("tenant overrides on a decayed risk", () => {
  it("a weight above 1 scales what is left of the risk, it does not restore the reason's full contribution", () => {
    const scoring: TenantScoring = { weights: { out_of_scope: 2 } };
    const v = tenantVerdict(decayed, { event: quietEvent, risk: { ...decayed, band: "low", becameHigh: false } }, scoring);
    // Twice the evidence of a 0.002 risk: 1 − 0.998² ≈ 0.004.
    expect(v.risk.score).toBeLessThan(0.01);
    expect(v.risk.band).toBe("low");
  });

  it("sensitivity and weight compose on a decayed risk as on a fresh one", () => {
    const r = applyOverrides(decayed, { weights: { out_of_scope: 3 } }, "high");
    expect(r.score).toBeCloseTo(1 - Math.pow(1 - 0.002, 6), 3);
  });

  it("a weight of 0 still mutes a decayed risk made of that feature alone", () => {
    expect(applyOverrides(decayed, { weights: { out_of_scope: 0 } }).score).toBe(0);
  });

  it("an event score explained by its reasons is weighted exactly as before", () => {
    const event = {
      score: 0.955,
      reasons: [
        { ...outOfScope, contribution: 0.85 },
        { feature: "rate_burst", contribution: 0.7, detail: "" },
      ],
    };
    const r = applyOverrides(event, { weights: { rate_burst: 2 } });
    // 1 − 0.15 · 0.3² = 0.9865, rounded to three decimals.
    expect(Math.abs(r.score - (1 - 0.15 * 0.3 * 0.3))).toBeLessThanOrEqual(0.0006);
  });
});

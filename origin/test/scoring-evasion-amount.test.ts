import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * White-box evasion of amount_over_max (issue 14): the single-value tail is a Pareto tail over the
 * agent's 16 largest amounts ever, and every value that reaches them widens it. A value two or four
 * times the largest reads low against it, so a holder of the agent's credential could send a few
 * such decoys in the days before (each low, more than the amount run's 8 values apart, so no run)
 * and then move 40× the largest, 30× its usual daily total, at 0.49 where it read 0.86 on its own:
 * the decoys, not the agent's history, vouched for it.
 *
 * NOT FIXED (known limit, docs/scoring.md): reading each value also against the tail as it stood
 * before the series' last 128 values, without the recent records that stood out of it, closes this
 * (the attack reads 0.865) but also made a clean loan underwriter's second large loan high (blind
 * world E: e-loan-underwriting-0 auto-revoked on a 3.3M USD approval 2.9× the largest before its
 * last 128; world D's trading agents gained false highs too). The laundering case is kept here as
 * an expected failure, so a fix that closes it shows.
 */
const T0 = Date.parse("2026-03-02T08:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCOPES = ["expenses.*"];

/** A working day of expense approvals (each after a read; lognormal, median 200 EUR), the amounts of `special` (index → amount) in place of the usual. */
function day(s: MonitorState, d: number, r: () => number, special: ReadonlyMap<number, number> = new Map()) {
  const out: { amount: number; scored: ReturnType<typeof scoreEvent> }[] = [];
  let j = 0;
  for (let t = T0 + d * DAY + r() * HOUR; t < T0 + d * DAY + 9 * HOUR; t += HOUR / 2 + r() * HOUR, j++) {
    // Box–Muller: a standard normal from two uniforms.
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const amount = special.get(j) ?? Math.round(200 * Math.exp(0.8 * z) * 100) / 100;
    const id = `x${d}-${j}`;
    scoreEvent(s, { id: `${id}-r`, ts: Math.floor(t), type: "tool_call", action: "expenses.read", resource: `expenses/${id}`, outcome: "success" }, SCOPES);
    const approve = {
      id: `${id}-a`,
      ts: Math.floor(t + 20_000),
      type: "tool_call" as const,
      action: "expenses.approve",
      resource: `expenses/${id}`,
      amount,
      currency: "EUR",
      outcome: "success" as const,
    };
    out.push({ amount, scored: scoreEvent(s, approve, SCOPES) });
  }
  return out;
}

/**
 * 27 days of approvals, then three more days with the given amounts in place of ordinary ones
 * ([day, index, × the largest so far], or "attack": 30× the usual daily total). The attack's score
 * and the highest score and risk of everything else in those days.
 */
function launder(plan: readonly (readonly [number, number, number | "attack"])[]) {
  const r = rng(7);
  const s = newState();
  let largest = 0;
  let total = 0;
  for (let d = 0; d < 27; d++)
    for (const x of day(s, d, r)) {
      largest = Math.max(largest, x.amount);
      total += x.amount;
    }
  const attack = 30 * (total / 27);
  let scored: ReturnType<typeof scoreEvent> | undefined;
  let others = 0;
  let risk = 0;
  for (let d = 27; d < 30; d++) {
    const special = new Map(plan.filter(([at]) => at === d).map(([, j, f]) => [j, f === "attack" ? attack : f * largest] as const));
    for (const x of day(s, d, r, special)) {
      risk = Math.max(risk, x.scored.risk.score);
      if (x.amount === attack) scored = x.scored;
      else others = Math.max(others, x.scored.event.score);
    }
  }
  return { attack: scored!, others, risk, ratio: attack / largest };
}

describe("amount_over_max: decoys sent before a large amount (known evasion)", () => {
  it("40× the largest amount, 30× the usual daily total, is high on its own", () => {
    const plain = launder([[29, 3, "attack"]]);
    expect(plain.ratio).toBeGreaterThan(35);
    expect(plain.attack.event.band).toBe("high");
  });

  it("decoys at 2×, 4× and 8× the largest in the two days before launder it below high, none of them high", () => {
    // Three decoys, each more than 8 approvals after the one before (no run of records), 1–2 days ahead.
    const laundered = launder([
      [27, 2, 2],
      [27, 6, 4],
      [28, 5, 8],
      [29, 3, "attack"],
    ]);
    expect(laundered.attack.event.score).toBeLessThan(0.6);
    expect(laundered.others).toBeLessThan(0.85);
    expect(laundered.risk).toBeLessThan(0.85);
  });

  it.fails("expected to fail until the evasion is closed: the laundered amount is high", () => {
    const laundered = launder([
      [27, 2, 2],
      [27, 6, 4],
      [28, 5, 8],
      [29, 3, "attack"],
    ]);
    expect(laundered.attack.event.band).toBe("high");
  });
});

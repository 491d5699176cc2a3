import { describe, expect, it } from "vitest";
import { newState, recordRun, scoreEvent, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * Several amounts beyond everything the agent moved before them are judged together
 * (`shared/src/scoring/amount-run.ts`). World A's holdout hr-assistant-03 approved three expenses
 * at 31× its usual within two minutes, each 2.7× the largest of its 73 earlier approvals: each was
 * read against a tail the run's own earlier values had already raised, 0.10–0.12 apiece.
 */
const T0 = Date.parse("2026-03-02T08:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCOPES = ["expenses.*"];

/** Four weeks of expense approvals (lognormal amounts, median 200 EUR, σ 0.8 in log space), each after a read. */
function history(): { s: ReturnType<typeof newState>; end: number; largest: number } {
  const r = rng(7);
  const s = newState();
  let largest = 0;
  let end = T0;
  let i = 0;
  for (let d = 0; d < 28; d++)
    for (let t = T0 + d * DAY + r() * HOUR; t < T0 + d * DAY + 9 * HOUR; t += HOUR / 2 + r() * HOUR) {
      // Box–Muller: a standard normal from two uniforms.
      const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      const amount = Math.round(200 * Math.exp(0.8 * z) * 100) / 100;
      largest = Math.max(largest, amount);
      const id = `x${i++}`;
      scoreEvent(s, { id: `${id}-r`, ts: Math.floor(t), type: "tool_call", action: "expenses.read", resource: `expenses/${id}`, outcome: "success" }, SCOPES);
      scoreEvent(s, approve(id, Math.floor(t + 20_000), amount), SCOPES);
      end = t + 20_000;
    }
  return { s, end, largest };
}

function approve(id: string, ts: number, amount: number): ScoredInput {
  return { id: `${id}-a`, ts, type: "tool_call", action: "expenses.approve", resource: `expenses/${id}`, amount, currency: "EUR", outcome: "success" };
}

/** Three reviewed-and-approved expenses a few seconds apart, at the given amounts; the approvals' scores. */
function run(s: ReturnType<typeof newState>, start: number, amounts: readonly number[]) {
  return amounts.map((amount, i) => {
    const ts = start + i * 30_000;
    scoreEvent(s, { id: `run${i}-r`, ts, type: "tool_call", action: "expenses.read", resource: `expenses/run${i}`, outcome: "success" }, SCOPES);
    return scoreEvent(s, approve(`run${i}`, ts + 10_000, amount), SCOPES).event;
  });
}

describe("amount_over_max: a run of record amounts", () => {
  it("three expenses at 30× the usual, each well beyond the largest before them, are high together; one alone is not", () => {
    const a = history();
    const [first, , third] = run(a.s, a.end + DAY, [6_000, 6_900, 6_400]);
    expect(a.largest).toBeLessThan(6_000 / 2);
    expect(first!.band).not.toBe("high");
    expect(third!.band).toBe("high");
    expect(third!.reasons[0]!.feature).toBe("amount_over_max");
    expect(third!.reasons[0]!.detail).toMatch(/3 of the last 8 amounts are beyond the largest before them/);
  });

  it("a run among the agent's largest amounts is its tail; one just past the largest is for review, not an alarm", () => {
    const near = history();
    for (const e of run(near.s, near.end + DAY, [near.largest * 0.8, near.largest * 0.9, near.largest * 0.85])) expect(e.band).toBe("low");
    // Three new records in a row among ~330 values are rare under exchangeability (the rank part),
    // but 10–20 % past the largest is what the agent's own tail produces: medium at most.
    const past = history();
    for (const e of run(past.s, past.end + DAY, [past.largest * 1.1, past.largest * 1.2, past.largest * 1.15])) expect(e.band).not.toBe("high");
  });

  it("the run's tail probability: the k largest of all in the window (exchangeability) times k excesses past the largest before it", () => {
    // 100 values 1.00 … 4.96 in log space, then the window's 7 earlier values: two records (6.0, 5.5).
    const values = Array.from({ length: 100 }, (_, i) => 1 + i / 25);
    const earlier = [1.2, 6.0, 1.1, 5.5, 1.3, 1.4, 1.5];
    const top = [6.0, 5.5, ...values.slice(-14).reverse()];
    const series = { recent: [...values, ...earlier], seen: 107, top };
    const r = recordRun(series, 5.2)!;
    expect(r.k).toBe(3);
    expect(r.m).toBe(8);
    // Before the window: the top values without the window's own (14: 4.44 … 4.96), largest 4.96,
    // Hill mean excess 0.28 over the smallest of them; the three excesses are at least 0.24.
    const beta = values.slice(-14).reduce((a, v) => a + v - values[86]!, 0) / 13;
    const lnRank = Math.log(8 / 108) + Math.log(7 / 107) + Math.log(6 / 106);
    expect(r.x).toBeCloseTo(-(lnRank - (3 * (5.2 - values[99]!)) / beta) - Math.log(108), 6);
    // The current value not beyond the largest before the window, or a lone record: no run.
    expect(recordRun(series, 4.9)).toBeUndefined();
    expect(recordRun({ ...series, recent: [...values, 1, 1, 1, 1, 1, 1, 1], top: values.slice(-16).reverse() }, 5.2)).toBeUndefined();
  });
});

/**
 * A monitor from release 9f2709c keeps no top values (`top` came later): today's build began them
 * empty at the first value after the upgrade, while `seen` still counted the whole history. The
 * run statistic took the largest since the upgrade for the largest ever and the thousands of
 * values before for values it had ranked against, so amounts the agent had exceeded many times
 * before the upgrade read as records among all of them: medium, and high for seed 10 (an automatic
 * suspension under the risk policy), where the same history kept whole read low.
 */
describe("amount_over_max: a monitor whose top values began after its history", () => {
  /** 31 days of approvals (as history()); from day 28 on, as a monitor upgraded then: no top before (or an empty one). */
  function upgraded(seed: number, how: "whole" | "from-9f2709c" | "begun-empty") {
    const r = rng(seed);
    const s = newState();
    let largest = 0;
    let end = T0;
    let i = 0;
    for (let d = 0; d < 31; d++) {
      if (d === 28 && how !== "whole")
        for (const series of Object.values(s.amounts)) {
          delete series.top;
          // A build between the top values and this fix began them empty, recording nothing.
          if (how === "begun-empty") series.top = [];
        }
      for (let t = T0 + d * DAY + r() * HOUR; t < T0 + d * DAY + 9 * HOUR; t += HOUR / 2 + r() * HOUR) {
        const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
        const amount = Math.round(200 * Math.exp(0.8 * z) * 100) / 100;
        largest = Math.max(largest, amount);
        const id = `u${i++}`;
        scoreEvent(s, { id: `${id}-r`, ts: Math.floor(t), type: "tool_call", action: "expenses.read", resource: `expenses/${id}`, outcome: "success" }, SCOPES);
        scoreEvent(s, approve(id, Math.floor(t + 20_000), amount), SCOPES);
        end = t + 20_000;
      }
    }
    return { s, end, largest };
  }

  for (const seed of [8, 9, 10])
    for (const how of ["from-9f2709c", "begun-empty"] as const)
      it(`seed ${seed}, ${how}: amounts at 0.7× its largest ever read as they do with the history whole`, () => {
        const whole = upgraded(seed, "whole");
        const late = upgraded(seed, how);
        const amounts = [0.7, 0.735, 0.686].map((f) => whole.largest * f);
        const expected = run(whole.s, whole.end + DAY, amounts).map((e) => e!.band);
        expect(expected).toEqual(["low", "low", "low"]);
        expect(run(late.s, late.end + DAY, amounts).map((e) => e!.band)).toEqual(expected);
      });

  it("a real run after the upgrade is still high", () => {
    const late = upgraded(7, "from-9f2709c");
    const third = run(late.s, late.end + DAY, [6_000, 6_900, 6_400])[2]!;
    expect(late.largest).toBeLessThan(6_000 / 2);
    expect(third.band).toBe("high");
    expect(third.reasons[0]!.detail).toMatch(/3 of the last 8 amounts are beyond the largest before them/);
  });
});

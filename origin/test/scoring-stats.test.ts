import { describe, expect, it } from "vitest";
import { acceptAsNormal, newState, novelSurprisal, scoreEvent, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * The statistics behind the scorer (issue 14 §1): calibration of the per-agent probabilities on
 * clean data, and each detector firing on a synthetic case it exists for.
 */
const T0 = Date.parse("2026-03-02T09:00:00Z"); // a Monday
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A claims agent that works weekdays 08:00–17:00 UTC, one task every ~4 minutes, each task the
 * same four steps in order (intake → assess → approve → pay), on fresh case ids.
 */
const STEPS = ["claims.intake", "claims.assess", "claims.approve", "claims.pay"];
function workdays(days: number, seed = 1, start = T0): ScoredInput[] {
  const r = rng(seed);
  const out: ScoredInput[] = [];
  for (let d = 0; d < days; d++) {
    const day = start - 9 * HOUR + d * DAY;
    const dow = new Date(day).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    for (let t = day + 8 * HOUR + r() * 60_000; t < day + 17 * HOUR; t += 120_000 + r() * 240_000) {
      const caseId = `c${d}-${Math.floor(t / 1000) % 100000}`;
      STEPS.forEach((action, i) =>
        out.push({
          id: `w${out.length}`,
          ts: Math.floor(t + i * 15_000),
          type: "tool_call",
          action,
          resource: `claims/${caseId}`,
          amount: action === "claims.pay" ? Math.round(200 + r() * 600) : undefined,
          currency: action === "claims.pay" ? "EUR" : undefined,
          outcome: r() < 0.01 ? "error" : "success",
        }),
      );
    }
  }
  return out;
}

const SCOPES = ["claims.*"];
const warm = (days = 28, seed = 1) => {
  const s = newState();
  const events = workdays(days, seed);
  const scores = events.map((e) => scoreEvent(s, e, SCOPES));
  return { s, events, scores, end: events.at(-1)!.ts };
};

describe("calibration on clean data", () => {
  it("the novelty probability is calibrated: predicted P(new) averages to the observed rate of new categories", () => {
    // Categories: a fixed set of 20 used with Zipf weights, and a fresh id with probability q.
    for (const q of [0.3, 0.05, 0.002]) {
      const r = rng(7);
      const counts: Record<string, { c: number; t: number }> = Object.create(null);
      let total = 0;
      let rate = 0;
      let predicted = 0;
      let observed = 0;
      const n = 6000;
      for (let i = 0; i < n; i++) {
        const key = r() < q ? `fresh-${i}` : `k${Math.floor(20 * Math.pow(r(), 2))}`;
        const isNew = counts[key] === undefined;
        if (i >= 1000) {
          predicted += Math.exp(-novelSurprisal(counts, total, 0, 1e15, rate, Object.keys(counts).length));
          observed += isNew ? 1 : 0;
        }
        rate += (i < 50 ? 1 / (i + 1) : 0.01) * ((isNew ? 1 : 0) - rate);
        counts[key] = { c: (counts[key]?.c ?? 0) + 1, t: 0 };
        total++;
      }
      const m = n - 1000;
      // Conservative (the larger of two estimates) but within a factor of two of the truth.
      expect(predicted / m).toBeGreaterThanOrEqual((observed / m) * 0.8);
      expect(predicted / m).toBeLessThanOrEqual(Math.max(2 * (observed / m), 3 / m));
    }
  });

  it("a clean month of work stays low: no high event, under 1% in medium, risk never high", () => {
    const { s, scores } = warm(35, 3);
    const late = scores.slice(400);
    expect(late.filter((x) => x.event.band === "high")).toHaveLength(0);
    expect(late.filter((x) => x.event.band === "medium").length).toBeLessThan(late.length * 0.01);
    expect(s.risk.score).toBeLessThan(0.85);
  });

  it("resources that are always fresh ids are not novel: the agent's own novelty rate calibrates resource_novelty", () => {
    const { scores } = warm(21, 4);
    const late = scores.slice(2000);
    const novelty = late.flatMap((x) => x.event.reasons.filter((r) => r.feature === "resource_novelty"));
    expect(novelty.every((r) => r.contribution < 0.3)).toBe(true);
  });

  it("hour-of-week: an agent that works every day the same hours scores Sunday like Wednesday", () => {
    const s = newState();
    const r = rng(5);
    for (let d = 0; d < 28; d++) {
      for (let t = T0 + d * DAY; t < T0 + d * DAY + 8 * HOUR; t += 200_000 + r() * 100_000) {
        scoreEvent(s, { id: `e${t}`, ts: Math.floor(t), type: "tool_call", action: "claims.intake", outcome: "success" }, SCOPES);
      }
    }
    const unusual = (ts: number) =>
      scoreEvent(structuredClone(s), { id: "x", ts, type: "tool_call", action: "claims.intake", outcome: "success" }, SCOPES).event.reasons.find(
        (x) => x.feature === "unusual_hour",
      )?.contribution ?? 0;
    const sunday = Date.UTC(2026, 2, 29, 12, 0, 0);
    const wednesday = Date.UTC(2026, 3, 1, 12, 0, 0);
    expect(unusual(sunday)).toBeLessThan(0.05);
    expect(Math.abs(unusual(sunday) - unusual(wednesday))).toBeLessThan(0.02);
  });
});

describe("each detector fires on its synthetic case", () => {
  it("odd hours: a weekday-only agent's Sunday is flagged as rarer than a Wednesday; a session at 03:00 reaches high", () => {
    const { s, end } = warm(28, 6);
    const day = Math.floor(end / DAY) + 1;
    const sunday = (day + ((7 - ((day + 4) % 7)) % 7)) * DAY + 14 * HOUR; // the first Sunday after the history (day 0 was a Thursday)
    expect(new Date(sunday).getUTCDay()).toBe(0);
    const session = (at: number) =>
      workdays(1, 9, T0)
        .slice(0, 48)
        .map((e, i) => ({ ...e, id: `s${at}-${i}`, ts: at + i * 40_000 }));
    const hour = (x: { reasons: { feature: string; contribution: number }[] }) => x.reasons.find((r) => r.feature === "unusual_hour")?.contribution ?? 0;
    // Sunday afternoon is rarer for this agent than the same hour on a Wednesday (which it works).
    const sun = scoreEvent(structuredClone(s), session(sunday)[0]!, SCOPES).event;
    const wed = scoreEvent(structuredClone(s), session(sunday + 3 * DAY)[0]!, SCOPES).event;
    expect(hour(sun)).toBeGreaterThan(0);
    expect(hour(sun)).toBeGreaterThan(hour(wed));
    // The dead of night on a working day: one event is already flagged, and a session reaches high.
    const night = (day + 7) * DAY + 3 * HOUR;
    const one = scoreEvent(structuredClone(s), { ...session(night)[0]! }, SCOPES).event;
    expect(one.band).not.toBe("low");
    const nightRun = session(night).map((e) => scoreEvent(s, e, SCOPES).event);
    expect(nightRun.some((x) => x.band === "high")).toBe(true);
  });

  it("impossible sequence: tasks done backwards (pay before intake) raise sequence_surprise and a run of them reaches high", () => {
    const { s, end } = warm(28, 7);
    const at = end + DAY; // next working day, same hours
    const reversed: ScoredInput[] = [];
    for (let k = 0; k < 8; k++) {
      [...STEPS].reverse().forEach((action, i) =>
        reversed.push({
          id: `r${k}-${i}`,
          ts: at + k * 240_000 + i * 15_000,
          type: "tool_call",
          action,
          resource: `claims/x${k}`,
          amount: action === "claims.pay" ? 500 : undefined,
          currency: action === "claims.pay" ? "EUR" : undefined,
          outcome: "success",
        }),
      );
    }
    const scores = reversed.map((e) => scoreEvent(s, e, SCOPES).event);
    expect(scores.flatMap((x) => x.reasons.map((r) => r.feature))).toContain("sequence_surprise");
    expect(scores.some((x) => x.band === "high")).toBe(true);
  });

  it("a review that clears the reversed run also clears its sequence evidence: the next ordinary task is not held against the agent", () => {
    const { s, end } = warm(28, 7);
    const at = end + DAY;
    for (let k = 0; k < 4; k++) {
      [...STEPS]
        .reverse()
        .forEach((action, i) =>
          scoreEvent(
            s,
            { id: `r${k}-${i}`, ts: at + k * 240_000 + i * 15_000, type: "tool_call", action, resource: `claims/x${k}`, outcome: "success" },
            SCOPES,
          ),
        );
    }
    expect(s.seq.short).toBeGreaterThan(s.seq.mean);
    acceptAsNormal(s, at + 4 * 240_000);
    expect(s.seq.short).toBe(s.seq.mean);
    const next = scoreEvent(
      s,
      { id: "n0", ts: at + 5 * 240_000, type: "tool_call", action: STEPS[0]!, resource: "claims/n0", outcome: "success" },
      SCOPES,
    ).event;
    expect(next.reasons.map((r) => r.feature)).not.toContain("sequence_surprise");
  });

  it("amount tail: a payout 100× the usual is high; the agent's own earlier big tickets make a similar one ordinary", () => {
    // One ordinary task whose payout is `amount`: only the amount is unusual.
    const big = (s: ReturnType<typeof newState>, ts: number, amount: number) => {
      const steps = STEPS.map(
        (action, i) =>
          scoreEvent(
            s,
            {
              id: `b${ts}-${i}`,
              ts: ts + i * 15_000,
              type: "tool_call",
              action,
              resource: "claims/c99-1",
              amount: i === 3 ? amount : undefined,
              currency: i === 3 ? "EUR" : undefined,
              outcome: "success",
            },
            SCOPES,
          ).event,
      );
      return steps[3]!;
    };
    const a = warm(28, 8);
    const spike = big(a.s, a.end + 60_000, 50_000);
    expect(spike.band).toBe("high");
    expect(spike.reasons[0]!.feature).toBe("amount_over_max");
    // Same agent, but one payout in fifty is a big ticket of 10–30× the usual.
    const s = newState();
    const r = rng(11);
    const events = workdays(28, 8).map((e) => (e.amount !== undefined && r() < 0.02 ? { ...e, amount: e.amount * (10 + 20 * r()) } : e));
    for (const e of events) scoreEvent(s, e, SCOPES);
    const similar = big(s, events.at(-1)!.ts + 60_000, 12_000);
    expect(similar.band, JSON.stringify(similar.reasons)).not.toBe("high");
  });

  it("a value beyond the agent's largest is judged against its whole history: a read with per-event tail p e^-14.5 is extreme after 400 reads, not after 4,000", () => {
    // A reader whose records per read are heavy-tailed (lognormal, σ = 1), one read every ~40 s.
    const reads = (n: number, seed: number) => {
      const r = rng(seed);
      const s = newState();
      let t = T0;
      for (let i = 0; i < n; i++) {
        t += 30_000 + Math.floor(r() * 20_000);
        const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
        scoreEvent(
          s,
          {
            id: `r${i}`,
            ts: t,
            type: "data_access",
            action: "positions.read",
            resource: "positions/book",
            records: Math.round(Math.exp(6 + z)),
            outcome: "success",
          },
          ["positions.*"],
        );
      }
      return { s, t };
    };
    // The read whose per-event exceedance p-value is e^-14.5 (1 in ~2 million), from the agent's own tail.
    const readAtTail = (n: number, seed: number) => {
      const { s, t } = reads(n, seed);
      const series = s.amounts["positions.read|#records"]!;
      const top = series.top!;
      const beta = Math.max(0.1, top.reduce((a, v) => a + v - top.at(-1)!, 0) / (top.length - 1));
      const seen = Math.max(series.seen, series.recent.length);
      const x = top[0]! + beta * (14.5 - Math.log(seen + 1));
      const e = {
        id: "big",
        ts: t + 40_000,
        type: "data_access" as const,
        action: "positions.read",
        resource: "positions/book",
        records: Math.round(Math.expm1(x)),
        outcome: "success" as const,
      };
      return scoreEvent(s, e, ["positions.*"]).event;
    };
    // Among 4,000 reads it turns up once in ~500 such histories: a big read, not yet a revocation.
    const long = readAtTail(4_000, 21);
    expect(long.band, JSON.stringify(long.reasons)).not.toBe("high");
    // Among 400 it turns up once in ~5,000 histories.
    const young = readAtTail(400, 21);
    expect(young.band, JSON.stringify(young.reasons)).toBe("high");
    expect(young.reasons[0]!.feature).toBe("volume_over_max");
  });

  it("slow drift is measured against a frozen reference: payouts creeping up ×6 over 5,000 payments are flagged, and a review that accepts them re-freezes it", () => {
    // A payer: one payment every ~90 s around 1,000 EUR (lognormal, σ 0.3); after 1,000 payments the
    // amounts creep up by a factor of 6 over the next 5,000, each step far inside the usual spread.
    const r = rng(5);
    const s = newState();
    let t = T0;
    const pay = (i: number, factor: number) => {
      t += 60_000 + Math.floor(r() * 60_000);
      const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      return scoreEvent(
        s,
        {
          id: `p${i}`,
          ts: t,
          type: "transaction",
          action: "payments.send",
          resource: "payees/p1",
          amount: Math.round(1000 * factor * Math.exp(0.3 * z)),
          currency: "EUR",
          outcome: "success",
        },
        ["payments.*"],
      ).event;
    };
    const drift = (e: { reasons: { feature: string; contribution: number }[] }) => e.reasons.find((x) => x.feature === "amount_drift")?.contribution ?? 0;
    for (let i = 0; i < 1_000; i++) pay(i, 1);
    let end = pay(1_000, 1);
    expect(drift(end)).toBe(0);
    for (let i = 0; i < 5_000; i++) end = pay(1_001 + i, Math.pow(6, i / 5_000));
    // Each step is 0.04 % of the spread; a reference that slides (even every 16th value over 2,048
    // values) walks along with it. Against the first values the median is ×6 away.
    expect(drift(end), JSON.stringify(end.reasons)).toBeGreaterThanOrEqual(0.5);
    expect(end.band).not.toBe("low");
    // A reviewer accepts the new level: it becomes the reference, and the same amounts are ordinary.
    acceptAsNormal(s, t);
    const after = pay(7_000, 6);
    expect(drift(after), JSON.stringify(after.reasons)).toBe(0);
  });

  it("a review accepts the drift it was shown, up to its alert: not a drift it was not shown, not the values after", () => {
    // A payer around 1,000 EUR; its alert is about something else (or about the drift) at payment
    // 1,000; the agent then pays 4× as much 60 times before the review.
    const r = rng(6);
    let t = T0;
    const pay = (s: ReturnType<typeof newState>, i: number, factor: number) => {
      t += 60_000 + Math.floor(r() * 60_000);
      const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      const e = {
        id: `p${i}`,
        ts: t,
        type: "transaction" as const,
        action: "payments.send",
        resource: "payees/p1",
        amount: Math.round(1000 * factor * Math.exp(0.3 * z)),
        currency: "EUR",
        outcome: "success" as const,
      };
      return scoreEvent(s, e, ["payments.*"]).event;
    };
    const drift = (e: { reasons: { feature: string; contribution: number }[] }) => e.reasons.find((x) => x.feature === "amount_drift")?.contribution ?? 0;
    const agent = () => {
      const s = newState();
      for (let i = 0; i < 1_000; i++) pay(s, i, 1);
      const seenAt = { "payments.send|EUR": s.amounts["payments.send|EUR"]!.seen };
      for (let i = 0; i < 60; i++) pay(s, 1_000 + i, 4);
      return { s, seenAt };
    };
    // Shown the drift, up to the alert: the reference is the reviewed values, and the 60 payments
    // after the alert are judged against it at once (a step this size also widens the CUSUM's
    // dispersion, so it is a drift to review, not yet high), where accepting everything forgets them.
    const a = agent();
    const series = a.s.amounts["payments.send|EUR"]!;
    const reviewed = series.recent.slice(0, series.recent.length - 60);
    acceptAsNormal(a.s, t, undefined, { features: ["amount_drift", "unusual_hour"], seenAt: a.seenAt });
    expect(series.ref).toEqual(reviewed);
    expect(series.drift!.s).toBeGreaterThan(50);
    const next = pay(a.s, 2_000, 4);
    expect(drift(next), JSON.stringify(next.reasons)).toBeGreaterThanOrEqual(0.1);
    // Shown something else: the reference is not the review's to move.
    const b = agent();
    const before = [...b.s.amounts["payments.send|EUR"]!.ref];
    acceptAsNormal(b.s, t, undefined, { features: ["unusual_hour"] });
    expect(b.s.amounts["payments.send|EUR"]!.ref).toEqual(before);
    expect(drift(pay(b.s, 2_000, 4))).toBeGreaterThanOrEqual(0.1);
    // A snapshot that predates every value it still holds (or does not know the series): nothing
    // reviewed is left to freeze, so nothing moves.
    const c = agent();
    const refC = [...c.s.amounts["payments.send|EUR"]!.ref];
    acceptAsNormal(c.s, t, undefined, { features: ["amount_drift"], seenAt: {} });
    expect(c.s.amounts["payments.send|EUR"]!.ref).toEqual(refC);
    // An origin that names neither: everything up to the review is accepted, as before.
    const d = agent();
    acceptAsNormal(d.s, t);
    expect(drift(pay(d.s, 2_000, 4))).toBe(0);
  });
});

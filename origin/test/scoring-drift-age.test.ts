import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * A drift that has read medium for a week is the agent's new normal (drift.ts, ageDrift): nothing
 * opens a review below high, so without it a lasting, legitimate change (payouts that grew, an
 * analyst whose reports got bigger, a feed whose weekday mix changed) kept the agent medium for
 * good, and a gateway verifying with `max_band=low` refused it for good (blind world D: 12 % of
 * ordinary events medium, a clean analyst medium on 65 % of its events for 34 days).
 */
const T0 = Date.parse("2026-03-02T08:00:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Score = ReturnType<typeof scoreEvent>;

/** ~6 events an hour from 08:00 to 18:00 every day; each carries `amount` or `records` (lognormal, σ 1) scaled by `factor`. */
function worker(seed: number, unit: "amount" | "records") {
  const r = rng(seed);
  const s = newState();
  let t = T0;
  let i = 0;
  const step = (factor: number): Score => {
    t += 5 * 60_000 + Math.floor(r() * 10 * 60_000);
    if (new Date(t).getUTCHours() >= 18) t += 14 * HOUR;
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const value = Math.round(1000 * factor * Math.exp(z));
    const input: ScoredInput =
      unit === "amount"
        ? { id: `a${i++}`, ts: t, type: "transaction", action: "payouts.release", resource: "payees/p1", amount: value, currency: "EUR", outcome: "success" }
        : { id: `r${i++}`, ts: t, type: "data_access", action: "warehouse.query", resource: "tables/t1", records: value, outcome: "success" };
    return scoreEvent(s, input, ["payouts.*", "warehouse.*"]);
  };
  const until = (end: number, factor: number): Score[] => {
    const out: Score[] = [];
    while (t < end) out.push(step(factor));
    return out;
  };
  return { step, until, now: () => t, state: s, resumeAt: (at: number) => void (t = at) };
}

const reading = (feature: string) => (x: Score) => x.event.reasons.find((r) => r.feature === feature)?.contribution ?? 0;

describe("a drift that has read medium for a week is accepted (amount_drift, volume_drift)", () => {
  for (const [unit, feature] of [
    ["amount", "amount_drift"],
    ["records", "volume_drift"],
  ] as const) {
    it(`${feature}: a level that settled at ×3 for good is medium for about a week, then the reference; a further rise is judged against the new level`, () => {
      const w = worker(unit === "amount" ? 41 : 42, unit);
      const drift = reading(feature);
      w.until(T0 + 25 * DAY, 1);
      const settledAt = w.now();
      const settled = w.until(settledAt + 21 * DAY, 3);
      const firstMedium = settled.findIndex((x) => drift(x) >= 0.3);
      expect(firstMedium).toBeGreaterThanOrEqual(0);
      // Medium through the first week: visible to a gateway that asks max_band=low, for a person to look at.
      const week = settled.filter((x) => drift(x) >= 0.3);
      expect(week.length).toBeGreaterThan(300);
      // Then the new level is the agent's reference: its last ten days read no drift at all.
      const lastTen = settled.slice(-600);
      expect(lastTen.filter((x) => drift(x) >= 0.3).map((x) => x.event.reasons.find((r) => r.feature === feature)?.detail)).toEqual([]);
      // It never went high on drift, before or after.
      expect(settled.filter((x) => x.event.band === "high")).toHaveLength(0);
      // Accepted means re-based, not switched off: values that then climb to ×9 drift again.
      const climbing = w.until(w.now() + 4 * DAY, 9);
      expect(climbing.some((x) => drift(x) >= 0.3)).toBe(true);
    });
  }

  /** ×1 for 25 days, then ×3 until the drift is accepted: the action's series re-based (its age and CUSUM start again). */
  const accepted = () => {
    const w = worker(41, "amount");
    w.until(T0 + 25 * DAY, 1);
    const series = () => w.state.amounts["payouts.release|EUR"]!;
    let aged = false;
    for (let k = 0; k < 5000; k++) {
      w.step(3);
      if (series().age !== undefined) aged = true;
      else if (aged && series().drift?.s === 0) break;
    }
    expect(w.now() - T0).toBeGreaterThan(32 * DAY);
    return w;
  };

  it("a jump right after a drift was accepted is judged against the accepted level, not taken into a refilling reference", () => {
    const w = accepted();
    const drift = reading("amount_drift");
    // Then at once ×30, for twelve days. Before: the reference restarted from 32 values and took the
    // next 96 whatever they were, so the jump became the reference it is judged against and read
    // no drift at all (0 of ~720 values; 3 events not low, on amount_over_max), the week of visible
    // medium a drift must stand skipped by timing the jump. Now it is medium until its own week is up.
    const jump = w.until(w.now() + 12 * DAY, 30);
    expect(jump.filter((x) => drift(x) >= 0.3).length).toBeGreaterThan(200);
  });

  it("the next drift after an accepted one is not muted by the dispersion the accepted drift raised", () => {
    const drift = reading("amount_drift");
    // A doubling of the accepted level. Before: the CUSUM's dispersion σ² (an uncentred mean of
    // block sums) was kept from the week at ×3, which had raised it ~8-fold, and the doubling first
    // read medium 562 values (nine days) on; a fresh series reads it in about two.
    const doubled = accepted().until(T0 + 60 * DAY, 6);
    expect(doubled.slice(0, 240).some((x) => drift(x) >= 0.3)).toBe(true);
    // The accepted level itself stays quiet: no drift from a σ² taken lower.
    const same = accepted();
    const from = same.now();
    expect(same.until(from + 12 * DAY, 3).filter((x) => drift(x) >= 0.3)).toHaveLength(0);
  });

  it("a surge that ended is not accepted as the new level, though its drift reads medium for days after it", () => {
    const w = worker(46, "amount");
    const drift = reading("amount_drift");
    const base = w.until(T0 + 25 * DAY, 1);
    expect(base.slice(300).filter((x) => drift(x) >= 0.3)).toHaveLength(0);
    // Six days of ×3 (a catastrophe week), then back to ×1: the drift reads medium into the seventh day while its CUSUM comes down.
    const surge = w.until(w.now() + 6 * DAY, 3);
    expect(surge.slice(-30).every((x) => drift(x) >= 0.3)).toBe(true);
    const back = w.until(w.now() + 10 * DAY, 1);
    expect(back.slice(0, 30).some((x) => drift(x) >= 0.3)).toBe(true);
    // The reference is still the payer's real level (median 1,000), not the surge's (3,000): a
    // drift counted from any medium reading had its week by now and re-based it on the surge's
    // last values, which would hide a later rise to ×2–3 from the real level.
    const ref = [...w.state.amounts["payouts.release|EUR"]!.ref].sort((a, b) => a - b);
    expect(Math.expm1(ref[ref.length >> 1]!)).toBeLessThan(1600);
  });

  it("a week counted across silence is no week of medium: three days of drift, six quiet, and the next day is still judged against the old level", () => {
    const w = worker(47, "amount");
    const drift = reading("amount_drift");
    w.until(T0 + 25 * DAY, 1);
    // ×3 on days 25–27 (08:00–17:30): three days of standing drift, over 128 values.
    const first = w.until(T0 + 27 * DAY + 9.5 * HOUR, 3);
    expect(first.length).toBeGreaterThan(128);
    expect(first.slice(-30).every((x) => drift(x) >= 0.3)).toBe(true);
    // Quiet until day 34, then back at ×3 for the day: the week since the drift first stood is out,
    // but it stood on four days of it. Before, the first value back accepted it.
    w.resumeAt(T0 + 34 * DAY);
    const back = w.until(T0 + 34 * DAY + 9 * HOUR, 3);
    expect(back.every((x) => drift(x) >= 0.3)).toBe(true);
    // On its fifth day of standing it is the new level.
    const later = w.until(T0 + 35 * DAY + 9 * HOUR, 3);
    expect(later.slice(-30).every((x) => drift(x) < 0.3)).toBe(true);
  });

  it("a drift not yet a week old is not accepted, and an event time stamped back does not age it", () => {
    const w = worker(43, "amount");
    const drift = reading("amount_drift");
    w.until(T0 + 25 * DAY, 1);
    const settled = w.until(w.now() + 6 * DAY, 3);
    // Six days in: still medium on the last day.
    expect(settled.slice(-30).every((x) => drift(x) >= 0.3)).toBe(true);
    // Late (back-dated) values of the same level, stamped 20 days back, do not make the drift older than it is.
    const s: MonitorState = w.state;
    const r = rng(44);
    for (let k = 0; k < 200; k++) {
      const amount = Math.round(3000 * Math.exp(Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())));
      scoreEvent(
        s,
        {
          id: `late${k}`,
          ts: w.now() - 20 * DAY + k * 60_000,
          type: "transaction",
          action: "payouts.release",
          resource: "payees/p1",
          amount,
          currency: "EUR",
          outcome: "success",
        },
        ["payouts.*"],
      );
    }
    // Still judged against the old reference (an accepted drift has no reason until the level moves again).
    const next = w.until(w.now() + 6 * HOUR, 3);
    expect(next.every((x) => x.event.reasons.some((r) => r.feature === "amount_drift"))).toBe(true);
    expect(next.some((x) => drift(x) >= 0.3)).toBe(true);
  });
});

/** Mix: weekdays of work (~200 steps, `report.export` at `share`), weekends of heartbeats only (`feed.heartbeat`, a step weekdays never take). */
function weekly(s: MonitorState, seed: number, fromDay: number, days: number, share: number): Score[] {
  const r = rng(seed);
  const out: Score[] = [];
  for (let d = 0; d < days; d++) {
    const day = fromDay + d;
    let t = Date.parse("2026-03-02T09:00:00Z") + day * DAY;
    const weekend = day % 7 >= 5;
    for (let k = 0; k < (weekend ? 48 : 200); k++) {
      const u = r();
      const action = weekend
        ? "feed.heartbeat"
        : u < share
          ? "report.export"
          : u < share + 0.3
            ? "feed.poll"
            : u < share + 0.6
              ? "ledger.query"
              : "report.render";
      t += weekend ? 30 * 60_000 : 60_000 + Math.floor(r() * 120_000);
      out.push(
        scoreEvent(s, { id: `m${day}-${k}`, ts: t, type: "tool_call", action, resource: `books/b${Math.floor(r() * 30)}`, outcome: "success" }, [
          "report.*",
          "feed.*",
          "ledger.*",
        ]),
      );
    }
  }
  return out;
}

describe("mix_drift's week counts weekdays of a weekly rhythm", () => {
  it("a share that rose for good on weekdays is accepted within about a week, though weekends bring it below the line", () => {
    const s = newState();
    weekly(s, 1, 0, 21, 0.05);
    const after = weekly(s, 2, 21, 28, 0.2);
    const drift = reading("mix_drift");
    expect(after.slice(0, 1000).some((x) => drift(x) > 0)).toBe(true);
    // Before: each weekend's heartbeats brought the share's CUSUM below the line and restarted the
    // week, so a feed whose weekday mix changed was medium on every weekday for good (world E).
    const lastTwoWeeks = after.slice(-(2 * (5 * 200 + 2 * 48)));
    expect(lastTwoWeeks.filter((x) => drift(x) > 0)).toHaveLength(0);
  });
});

describe("mix_drift is accepted only after a week of visible medium", () => {
  it("a share steered to stand just above the family-wise line, never reading medium, is not accepted (no weekly ratchet)", () => {
    // The attacker knows the code and its own events, so it can mirror the CUSUM: it takes
    // `report.export` whenever the share's evidence is under 1.5 nats above the line and an ordinary
    // step otherwise. The evidence then stands above the line (where mix-drift.ts counted the week)
    // but reads no mix_drift reason at all, let alone medium. Before, after a week the reference
    // share became the raised one, and the next week the attacker raised it again from there.
    const s = newState();
    weekly(s, 1, 0, 7, 0.05);
    const r = rng(9);
    const ref0 = s.mix!.a["report.export"]!.c;
    const out: Score[] = [];
    for (let day = 7; day < 7 + 35; day++) {
      let t = Date.parse("2026-03-02T09:00:00Z") + day * DAY;
      for (let k = 0; k < 200; k++) {
        const m = s.mix!;
        const a = m.a["report.export"]!;
        const x = a.s / Math.max(1, a.q) - Math.log(Object.keys(m.a).length * (m.n + 2));
        const u = r();
        const action = x < 1.5 ? "report.export" : u < 0.33 ? "feed.poll" : u < 0.66 ? "ledger.query" : "report.render";
        t += 60_000 + Math.floor(r() * 120_000);
        out.push(
          scoreEvent(s, { id: `x${day}-${k}`, ts: t, type: "tool_call", action, resource: `books/b${Math.floor(r() * 30)}`, outcome: "success" }, [
            "report.*",
            "feed.*",
            "ledger.*",
          ]),
        );
      }
    }
    // Never visible: no event read mix_drift medium.
    expect(out.filter((x) => reading("mix_drift")(x) >= 0.3)).toHaveLength(0);
    // So nothing was accepted: the reference share is still the agent's own.
    expect(s.mix!.a["report.export"]!.c).toBe(ref0);
  });
});

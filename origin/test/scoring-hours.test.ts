import { describe, expect, it } from "vitest";
import { acceptAsNormal, hourOfWeek, newState, reviveState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * unusual_hour in units of independent observations (issue 14 §1): the hour evidence grows with
 * the days and clock hours the agent had to show an hour, not with how many events it sent, and
 * a session that lasts at a dead hour still reaches high.
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

/** A busy claims agent: every day `from`–`to` UTC, a task every ~2 minutes (≈ 1,100 events a day). */
function history(days: number, from: number, to: number, seed: number): { s: MonitorState; end: number } {
  const r = rng(seed);
  const s = newState();
  let end = 0;
  for (let d = 0; d < days; d++) {
    for (let t = DAY0 + d * DAY + from * HOUR + r() * 60_000; t < DAY0 + d * DAY + to * HOUR - 3 * 60_000; t += 60_000 + r() * 120_000) {
      for (const e of task(t, `c${d}-${Math.floor(t / 1000)}`, r)) {
        scoreEvent(s, e, SCOPES);
        end = Math.max(end, e.ts);
      }
    }
  }
  return { s, end };
}

describe("unusual_hour counts days and sessions, not events", () => {
  it("one ordinary 3-event task at 22:54 after 20 days of 08–17 work is not high, and does not revoke", () => {
    const { s, end } = history(20, 8, 17, 3);
    const at = DAY0 + 21 * DAY + 22 * HOUR + 54 * 60_000; // Monday evening, the day after the history
    expect(at).toBeGreaterThan(end);
    const r = rng(11);
    const out = task(at, "late", r)
      .slice(0, 3)
      .map((e) => scoreEvent(s, e, SCOPES));
    for (const x of out) {
      expect(x.event.band).not.toBe("high");
      expect(x.risk.band).not.toBe("high");
    }
    // The hour is noticed (it was never worked), and said in units a reviewer can check.
    const hour = out[0]!.event.reasons.find((f) => f.feature === "unusual_hour");
    expect(hour).toBeDefined();
    expect(hour!.detail).toMatch(/of its \d+ active clock hours/);
  }, 60_000);

  it("a session at a dead hour after a silence through the agent's working day is deferred work: far weaker than the same session after a normal day", () => {
    // 20 days of 08–17 work. Day 21: in one run the agent works 08–17 as ever; in the other it stops
    // at 10:00 (an outage), and both then work 20:00–21:00, an hour it never works. After the outage
    // the session is the backlog coming through; after a normal day it is the odd-hours session it
    // always was. And after days away (a dormant credential), it is not excused either.
    const session = (outage: boolean) => {
      const { s } = history(20, 8, 17, 5);
      const r = rng(21);
      const day = DAY0 + 20 * DAY;
      for (let t = day + 8 * HOUR; t < day + (outage ? 10 : 17) * HOUR - 3 * 60_000; t += 60_000 + r() * 120_000)
        for (const e of task(t, `d-${t}`, r)) scoreEvent(s, e, SCOPES);
      const out: ReturnType<typeof scoreEvent>[] = [];
      for (let t = day + 20 * HOUR; t < day + 21 * HOUR; t += 90_000) for (const e of task(t, `n-${t}`, r)) out.push(scoreEvent(s, e, SCOPES));
      const hour = (x: ReturnType<typeof scoreEvent>) => x.event.reasons.find((f) => f.feature === "unusual_hour");
      return {
        out,
        max: Math.max(...out.map((x) => hour(x)?.contribution ?? 0)),
        detail: out.map((x) => hour(x)?.detail ?? "").find((d) => d.includes("deferred")),
      };
    };
    const normal = session(false);
    const backlog = session(true);
    // After a normal day the hour on its own is medium (one start at a dead hour: its blocks follow
    // that start, the hurdle in features.unusualHour) and the hour-long session is high as an episode.
    expect(normal.max).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...normal.out.map((x) => x.risk.score))).toBeGreaterThanOrEqual(0.85);
    expect(normal.detail).toBeUndefined();
    expect(backlog.max).toBeLessThan(0.3);
    expect(backlog.out.every((x) => x.risk.band !== "high")).toBe(true);
    expect(backlog.detail).toMatch(/after a silence through \d+\.\d of its usual active hours, read as work it deferred/);
    // Back after three days away, at the same dead hour: a session after a long absence is no backlog.
    const { s } = history(20, 8, 17, 5);
    const r = rng(22);
    const away = DAY0 + 22 * DAY + 20 * HOUR;
    const back = Array.from({ length: 40 }, (_, i) => task(away + i * 90_000, `a-${i}`, r))
      .flat()
      .map((e) => scoreEvent(s, e, SCOPES));
    expect(Math.max(...back.map((x) => x.event.score))).toBeGreaterThanOrEqual(0.85);
    expect(back.every((x) => !x.event.reasons.some((f) => f.detail.includes("deferred")))).toBe(true);
  }, 60_000);

  it("a session that lasts at a dead hour reaches high for an agent with a broad day (07–22), after two weeks", () => {
    const { s, end } = history(14, 7, 22, 5);
    const at = DAY0 + 14 * DAY + 3 * HOUR; // 03:00, never worked
    expect(at).toBeGreaterThan(end);
    const r = rng(12);
    // Ordinary tasks, one every ~1.5 minutes, for 45 minutes.
    const events: ScoredInput[] = [];
    for (let t = at, i = 0; t < at + 45 * 60_000; t += 60_000 + r() * 60_000, i++) events.push(...task(t, `n${i}`, r));
    const out = events.map((e) => scoreEvent(s, e, SCOPES));
    expect(out[0]!.event.band).not.toBe("high");
    const first = out.findIndex((x) => x.event.band === "high" || x.risk.band === "high");
    expect(first).toBeGreaterThan(0);
    expect(out[first]!.event.reasons.map((f) => f.feature)).toContain("unusual_hour");
  }, 60_000);

  it("a sporadic agent's busy session at its usual hour, on a weekday it happened to skip, is not high: an active hour's blocks follow one start", () => {
    // A research assistant that works 08–12 UTC on about half of its days, a task every 30–50
    // minutes while it works. Two weeks in, it works 10:00–11:00 on a Wednesday, a weekday it
    // skipped both times before, at a busier pace (a task every 4–7 minutes). The hour is its most
    // usual one; only the weekday is unusual, and it skips days at random anyway. Until 2026-12-06
    // each of the session's active 10-minute blocks was read as rare again (a geometric tail on the
    // expected blocks), and the session was high within the hour: world C's clean research
    // assistants were auto-revoked for this.
    for (const seed of [31, 32]) {
      const r = rng(seed);
      const s = newState();
      const worked = [0, 1, 3, 4, 5, 7, 10, 11, 13]; // days from Monday 2 Feb; Wednesdays (2, 9) skipped
      for (const d of worked)
        for (let t = DAY0 + d * DAY + 8 * HOUR + r() * 600_000; t < DAY0 + d * DAY + 12 * HOUR; t += 1_800_000 + r() * 1_200_000)
          for (const e of task(t, `w${d}-${Math.floor(t / 1000)}`, r)) scoreEvent(s, e, SCOPES);
      const wednesday = DAY0 + 16 * DAY + 10 * HOUR;
      expect(new Date(wednesday).getUTCDay()).toBe(3);
      const out: ReturnType<typeof scoreEvent>[] = [];
      for (let t = wednesday; t < wednesday + 55 * 60_000; t += 240_000 + r() * 160_000)
        for (const e of task(t, `x-${t}`, r)) out.push(scoreEvent(s, e, SCOPES));
      expect(out.length).toBeGreaterThan(30);
      for (const x of out) {
        expect(x.event.band).not.toBe("high");
        expect(x.risk.band).not.toBe("high");
      }
    }
  }, 60_000);
  it("an hourly job's one busier hour, at its usual time, is not an unusual hour: the blocks an hour fills say how busy it is, not when", () => {
    // A batch agent that runs once an hour, around the clock, for 20 days (every active hour holds
    // one 10-minute block). One hour it runs three times, at 10:05, 10:25 and 10:45 on a Sunday,
    // an hour it has worked every day. Counted as a hurdle's continuation (an active hour of this
    // agent never held a second block), the third run read as unusual_hour 0.87, high.
    const s = newState();
    const ev = (id: string, ts: number): ScoredInput => ({ id, ts, type: "tool_call", action: "claims.intake", resource: `claims/${id}`, outcome: "success" });
    for (let d = 0; d < 20; d++)
      for (let h = 0; h < 24; h++) scoreEvent(s, ev(`c${d}-${h}`, DAY0 + d * DAY + h * HOUR + 5 * 60_000 + ((d * 7 + h) % 3) * 60_000), SCOPES);
    const at = DAY0 + 20 * DAY + 10 * HOUR;
    expect(new Date(at).getUTCDay()).toBe(0);
    for (const m of [5, 25, 45]) {
      const out = scoreEvent(s, ev(`x${m}`, at + m * 60_000), SCOPES);
      expect(out.event.reasons.find((f) => f.feature === "unusual_hour")?.contribution ?? 0).toBeLessThan(0.3);
      expect(out.risk.band).not.toBe("high");
    }
  }, 60_000);
  it("a state stored before the active-hour profiles loads, keeps its history and scores the same odd hour as rare", () => {
    const { s, end } = history(10, 8, 17, 7);
    const old = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    delete old.active;
    delete old.blockPending;
    const back = reviveState(old);
    expect(back.active!.hours).toHaveLength(24);
    expect(back.active!.week).toHaveLength(168);
    // Upper bounds from the event counts: at most one active day per day of history in any hour.
    expect(Math.max(...back.active!.hours)).toBeLessThanOrEqual(11);
    const night = { id: "n", ts: end + DAY - 14 * HOUR, type: "tool_call" as const, action: "claims.intake", outcome: "success" as const };
    expect(new Date(night.ts).getUTCHours()).toBeLessThan(6);
    const a = scoreEvent(back, night, SCOPES).event.reasons.find((f) => f.feature === "unusual_hour");
    expect(a?.contribution ?? 0).toBeGreaterThan(0);
    expect(JSON.stringify(back).length).toBeLessThan(JSON.stringify(s).length + 4_000);
  }, 60_000);
  it("a review in the middle of an hour counts that hour once as an active hour, not once at the review and again when it closes", () => {
    const slotOf = (withReview: boolean) => {
      const { s } = history(6, 8, 17, 5);
      const hour = DAY0 + 7 * DAY + 10 * HOUR; // the next morning, 10:00
      const r = rng(7);
      const before = structuredClone(s.active!);
      for (const e of task(hour + 5 * 60_000, "a", r)) scoreEvent(s, e, SCOPES);
      if (withReview) acceptAsNormal(s, hour + 20 * 60_000);
      for (const e of task(hour + 30 * 60_000, "b", r)) scoreEvent(s, e, SCOPES);
      // Hours later: every pending hour has been folded.
      for (const e of task(hour + 8 * HOUR, "c", r)) scoreEvent(s, e, SCOPES);
      const w = hourOfWeek(hour);
      return { week: s.active!.week[w]! - before.week[w]!, total: s.active!.total - before.total };
    };
    const plain = slotOf(false);
    expect(plain.week).toBeCloseTo(1, 1);
    const reviewed = slotOf(true);
    expect(reviewed.week).toBeCloseTo(plain.week, 6);
    expect(reviewed.total).toBeCloseTo(plain.total, 6);
  });
  it("a weekday is the agent's own day, not the UTC day: an office agent away from UTC reads its weekend as one at UTC does", () => {
    // Mon–Fri 09–19 local for four weeks, at UTC, UTC−6 and UTC+9. Split at UTC midnight, UTC−6's
    // Friday evenings fell on the UTC Saturday (its Saturday morning read half as rare) and its
    // Sunday 23:00 on the UTC Monday, a workday (0.56 instead of 0.90); UTC+9's Saturday 02:00 fell
    // on the UTC Friday (0.54).
    const weekendReads = (tz: number) => {
      const r = rng(7);
      const s = newState();
      for (let d = 0; d < 26; d++) {
        if (d % 7 >= 5) continue; // DAY0 is a Monday
        const local = DAY0 + d * DAY - tz * HOUR;
        for (let t = local + 9 * HOUR + r() * 600_000; t < local + 19 * HOUR - 5 * 60_000; t += 400_000 + r() * 400_000)
          for (const e of task(t, `w${d}-${Math.floor(t / 1000)}`, r)) scoreEvent(s, e, SCOPES);
      }
      const read = (day: number, hour: number) => {
        const copy = reviveState(JSON.parse(JSON.stringify(s)));
        const e = task(DAY0 + day * DAY - tz * HOUR + hour * HOUR, "x", r)[0]!;
        return scoreEvent(copy, e, SCOPES).event.reasons.find((f) => f.feature === "unusual_hour")?.contribution ?? 0;
      };
      return { saturdayMorning: read(26, 10), saturdayNight: read(26, 2), sundayNight: read(27, 23) };
    };
    const utc = weekendReads(0);
    expect(utc.sundayNight).toBeGreaterThan(0.85);
    expect(utc.saturdayNight).toBeGreaterThan(0.85);
    for (const tz of [-6, 9]) {
      const away = weekendReads(tz);
      expect(away.sundayNight).toBeGreaterThan(0.85);
      expect(away.saturdayNight).toBeGreaterThan(0.85);
      expect(Math.abs(away.saturdayMorning - utc.saturdayMorning)).toBeLessThan(0.025);
    }
  }, 60_000);
});

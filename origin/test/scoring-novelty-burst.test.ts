import { describe, expect, it } from "vitest";
import { DEFAULT_SCORING, newState, noveltyBurst, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const DAY = 86_400_000;
const SCOPES = ["screening.*", "alerts.*", "cases.*", "registry.*"];
const TOOLS = ["screening.screen_party", "alerts.open", "alerts.close", "cases.note"];

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string): ScoredInput {
  return { id, ts, type: "tool_call", action, resource: `parties/p${id.length}`, outcome: "success" };
}

/** Three weeks of a screening agent's weekdays: four tools, about 40 events a day, nothing new. */
function history(s: MonitorState): number {
  const r = rng(5);
  let n = 0;
  for (let day = 0; day < 21; day++) {
    if (day % 7 >= 5) continue;
    let t = T0 + day * DAY;
    for (let i = 0; i < 40; i++) scoreEvent(s, ev(`h${n++}`, (t += 600_000 + Math.floor(r() * 300_000)), TOOLS[Math.floor(r() * TOOLS.length)]!), SCOPES);
  }
  return n;
}

const novelty = (x: Score) => x.event.reasons.find((q) => q.feature === "action_novelty")?.contribution ?? 0;

describe("a burst of never-used tools (tool discovery)", () => {
  it("each first use is judged against the agent's history, not against the burst's own first uses", () => {
    const s = newState();
    history(s);
    // Monday after: nine in-scope tools the agent has never used, one every 90 s.
    let t = T0 + 21 * DAY + 2 * 3_600_000;
    const burst: Score[] = [];
    for (let k = 0; k < 9; k++) burst.push(scoreEvent(s, ev(`x${k}`, (t += 90_000), `registry.tool_${k}`), SCOPES));
    const first = novelty(burst[0]!);
    expect(first).toBeGreaterThan(0.3);
    // Before, the burst taught itself that a new tool is ordinary: the ninth read 1 in 30 where the
    // first read 1 in 500 (singletons and the new-tool rate both counted the burst's own tools).
    for (const b of burst) expect(novelty(b)).toBeGreaterThan(0.8 * first);
    expect(burst.some((b) => b.risk.band === "high")).toBe(true);
  });

  it("calling each never-used tool twice does not teach the burst that a new tool is ordinary", () => {
    // The lag that keeps the hour's own first uses out of the null counted only tools used about
    // once (decayed count < 1.5): a tool called twice left its step in the new-tool rate, so an
    // agent driven through the same nine tools, each called twice, read the ninth first use as
    // ordinary (0.997 → 0.235 in review, 2026-12-06). The hour's first uses are counted by when
    // they were first used, however often they were used since.
    const once = newState();
    const twice = newState();
    history(once);
    history(twice);
    let t = T0 + 21 * DAY + 2 * 3_600_000;
    const single: Score[] = [];
    const double: Score[] = [];
    for (let k = 0; k < 9; k++) {
      t += 90_000;
      single.push(scoreEvent(once, ev(`x${k}`, t, `registry.tool_${k}`), SCOPES));
      double.push(scoreEvent(twice, ev(`y${k}`, t, `registry.tool_${k}`), SCOPES));
      scoreEvent(twice, ev(`z${k}`, t + 20_000, `registry.tool_${k}`), SCOPES);
    }
    const first = novelty(double[0]!);
    expect(first).toBeGreaterThan(0.3);
    for (const [k, d] of double.entries()) {
      expect(novelty(d)).toBeGreaterThan(0.8 * first);
      expect(novelty(d)).toBeGreaterThan(0.8 * novelty(single[k]!));
    }
    expect(double.some((b) => b.risk.band === "high")).toBe(true);
  });

  it("an agent that adopts tools all the time still goes high on nine never-used tools in a quarter of an hour, and not on a first incident's three", () => {
    // Three weeks of a broad agent: 24 tools in use, and a new one every other working day, so a
    // first use is an ordinary thing for it (action_novelty about 0.2 each, medium at most). Until
    // 2026-12-06 nine in a row read no higher than three: novelty_run's run of novel events
    // saturates at five, and no single first use was medium enough to mark the episode.
    const broad = () => {
      const s = newState();
      const r = rng(8);
      const tools = Array.from({ length: 24 }, (_, k) => `ops.tool_${k}`);
      let n = 0;
      for (let day = 0; day < 21; day++) {
        if (day % 7 >= 5) continue;
        if (day % 2 === 0) tools.push(`ops.added_${day}`);
        let t = T0 + day * DAY;
        for (let i = 0; i < 40; i++)
          scoreEvent(s, ev(`h${n++}`, (t += 600_000 + Math.floor(r() * 300_000)), tools[Math.floor(r() * tools.length)]!), ["ops.*", "registry.*"]);
      }
      return s;
    };
    const s = broad();
    let t = T0 + 21 * DAY + 2 * 3_600_000;
    const burst: Score[] = [];
    for (let k = 0; k < 9; k++) burst.push(scoreEvent(s, ev(`x${k}`, (t += 100_000), `registry.tool_${k}`), ["ops.*", "registry.*"]));
    expect(novelty(burst[0]!)).toBeLessThan(0.5);
    expect(burst.some((b) => b.risk.band === "high")).toBe(true);
    const top = burst.find((b) => b.risk.band === "high")!;
    expect(top.event.reasons.find((q) => q.feature === "novelty_run")?.detail).toMatch(/first-time tools in the last hour among its \d+ events/);
    // The same agent's first incident: three tools it never used, within a minute, among its
    // ordinary work. A task it has never done brings its tools together; it is not three tasks.
    const s2 = broad();
    let u = T0 + 21 * DAY + 2 * 3_600_000;
    const incident: Score[] = [];
    for (const [k, a] of ["ops.tool_1", "ops.tool_2", "incident.ack", "incident.rollback", "incident.note", "ops.tool_3"].entries())
      incident.push(scoreEvent(s2, ev(`i${k}`, (u += 20_000), a), ["ops.*", "registry.*", "incident.*"]));
    expect(incident.every((x) => x.risk.band !== "high")).toBe(true);
  });

  it("new tools an hour and more apart still become the agent's ordinary rate of novelty", () => {
    const s = newState();
    history(s);
    // One new tool every two hours for a week of working days: the rate learns them.
    let t = T0 + 21 * DAY;
    const out: Score[] = [];
    for (let k = 0; k < 20; k++) out.push(scoreEvent(s, ev(`y${k}`, (t += 2 * 3_600_000), `registry.new_${k}`), SCOPES));
    expect(novelty(out.at(-1)!)).toBeLessThan(novelty(out[0]!));
    expect(out.every((x) => x.risk.band !== "high")).toBe(true);
  });
});

describe("the hour's events that first uses are counted among", () => {
  it("an agent busier than the 256-event ring is judged on all of its hour's events", () => {
    // 1,200 events in the last hour (20 a minute), the last 256 of them in the ring, and two new
    // tools already this hour; a third now. The tail of 3 first uses was read among at most 257
    // events (the ring) until 2026-12-06, which made them rarer than they are on a busy agent.
    const ts = T0 + 21 * DAY + 10 * 3_600_000;
    const s = newState();
    s.n = 50_000;
    s.actionTotal = { c: 50_000, t: ts };
    for (let m = 0; m < 60; m++) s.minutes[String(Math.floor(ts / 60_000) - m)] = [m === 0 ? 21 : 20, 0];
    s.recentTs = Array.from({ length: 256 }, (_, i) => ts - (256 - i) * 3_000);
    s.newTools = [ts - 40 * 60_000, ts - 20 * 60_000];
    const r = noveltyBurst(s, ev("now", ts, "registry.tool_new"), 12, DEFAULT_SCORING);
    const n = Number(/among its (\d+) events/.exec(r?.detail ?? "")?.[1]);
    expect(n).toBeGreaterThanOrEqual(1_200);
    expect(n).toBeLessThanOrEqual(1_221);
  });
});

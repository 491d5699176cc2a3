import { describe, expect, it } from "vitest";
import { acceptAsNormal, newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-02-02T07:00:00Z");
/** share_external is declared (a scope the agent was given) and never used in its history. */
const SCOPES = ["warehouse.*", "report.render", "report.publish", "report.publish_v2", "report.share_external"];

/** The Monday after three weeks of history, at the start of the working day. */
const MONDAY = T0 + 21 * 86_400_000;

type Score = ReturnType<typeof scoreEvent>;

function ev(id: string, ts: number, action: string, resource: string): ScoredInput {
  return { id, ts, type: "tool_call", action, resource, outcome: "success" };
}

/**
 * A reporting agent like world B's b-reporting ones: most of its events are warehouse queries,
 * a report is rendered and published now and then, for `days` days (weekdays, from 07:00), and
 * every third day a one-off admin tool.
 */
function workDays(s: MonitorState, days: number): void {
  const r = rng(11);
  let id = 0;
  for (let day = 0; day < days; day++) {
    if (day % 7 >= 5) continue;
    let t = T0 + day * 86_400_000;
    // Now and then a one-off tool, used once and not again: the tools this agent wakes take
    // almost none of its following events (the pooled share young_tool starts from).
    if (day % 3 === 0) scoreEvent(s, ev(`o${day}`, (t += 60_000), `warehouse.admin_${day}`, "partitions"), SCOPES);
    for (let k = 0; k < 60; k++) {
      const part = `partitions/p${Math.floor(r() * 40)}`;
      for (let q = 0; q < 3; q++) scoreEvent(s, ev(`q${day}-${id++}`, (t += 30_000 + Math.floor(r() * 60_000)), "warehouse.query", part), SCOPES);
      if (r() < 0.3) scoreEvent(s, ev(`l${day}-${id++}`, (t += 20_000), "warehouse.list_partitions", "partitions"), SCOPES);
      if (r() < 0.4) {
        const rep = `reports/${day}-${k}`;
        scoreEvent(s, ev(`r${day}-${id++}`, (t += 40_000), "report.render", rep), SCOPES);
        scoreEvent(s, ev(`p${day}-${id++}`, (t += 30_000), "report.publish", rep), SCOPES);
      }
    }
  }
}

/** The Monday after: the same queries, and each report rendered and then taken through `steps`. */
function monday(s: MonitorState, steps: readonly string[]): Score[] {
  const r = rng(3);
  const scores: Score[] = [];
  let t = MONDAY;
  for (let k = 0; k < 60; k++) {
    for (let q = 0; q < 3; q++)
      scores.push(scoreEvent(s, ev(`mq${k}-${q}`, (t += 30_000 + Math.floor(r() * 60_000)), "warehouse.query", `partitions/p${Math.floor(r() * 40)}`), SCOPES));
    if (r() >= 0.4) continue;
    const rep = `reports/21-${k}`;
    scores.push(scoreEvent(s, ev(`mr${k}`, (t += 40_000), "report.render", rep), SCOPES));
    for (const [i, step] of steps.entries()) scores.push(scoreEvent(s, ev(`m${i}-${k}`, (t += 25_000), step, rep), SCOPES));
  }
  return scores;
}

const contribution = (r: Score, feature: string) => r.event.reasons.find((x) => x.feature === feature)?.contribution ?? 0;

describe("a dormant tool woken and driven is caught by its share of the agent's events (young_tool)", () => {
  it("a declared tool never used, then used 12 times in 12 minutes and nothing else, reaches high", () => {
    const s = newState();
    workDays(s, 21);
    let t = MONDAY;
    const uses: Score[] = [];
    for (let i = 0; i < 12; i++) uses.push(scoreEvent(s, ev(`x${i}`, (t += 60_000), "report.share_external", `reports/20-${i}`), SCOPES));
    // Its first uses are rare (action_novelty); from the fourth on, the tool is no longer rare, and
    // only its share of the events since it woke (12 of 12, where this agent's tools take far less) says so.
    // On the scorer without it, the 4th to 12th uses scored 0.
    for (const u of uses.slice(5)) expect(u.event.band).toBe("high");
    // From the 8th use on (7 of the 7 events since it woke), that share alone is high.
    for (const u of uses.slice(7)) expect(contribution(u, "young_tool")).toBeGreaterThan(0.85);
    expect(uses.at(-1)!.risk.band).toBe("high");
  });

  it("two dormant tools called in turn are judged together: each taking half the events hid both (a quiet agent of four tools)", () => {
    // A quiet FX agent like blind world G's: four tools from its first day, ~10 events a day, two
    // execution tools declared and never used. Its four tools woke together at the start and each
    // took a quarter of its events: what a woken tool of this agent is expected to take.
    const fx = ["fx.quote", "fx.execute", "position.read", "limit.check", "fx.option.execute", "fx.ndf.execute"];
    const s = newState();
    const r = rng(21);
    let t = T0;
    for (let day = 0; day < 18; day++) {
      t = T0 + day * 86_400_000;
      for (let k = 0; k < 10; k++)
        scoreEvent(s, ev(`d${day}-${k}`, (t += 20 * 60_000 + Math.floor(r() * 20 * 60_000)), fx[Math.floor(r() * 4)]!, `pair:P${Math.floor(r() * 5)}`), fx);
    }
    t = T0 + 18 * 86_400_000 + 3_600_000;
    const calls: Score[] = [];
    for (let i = 0; i < 16; i++)
      calls.push(scoreEvent(s, ev(`x${i}`, (t += 30_000), i % 2 === 0 ? "fx.ndf.execute" : "fx.option.execute", `pair:P${i % 5}`), fx));
    // Before, each tool had half of the events since it woke, under an average tool's quarter or near it,
    // and the sixteen calls read 0.13 at most. Together they have all of them.
    const top = Math.max(...calls.map((c) => contribution(c, "young_tool")));
    expect(top).toBeGreaterThan(0.7);
    expect(
      calls.map((c) => c.event.reasons.find((q) => q.feature === "young_tool")?.detail).find((d) => d?.includes("other tool(s) woken with it")),
    ).toBeDefined();
  });

  it("in an agent's first week a tool taking a large share is part of learning its repertoire: medium at most (a later life-cycle step first reached by many objects at once)", () => {
    const s = newState();
    // Four working days of history (Monday to Thursday), about a thousand events.
    workDays(s, 4);
    expect(s.n).toBeGreaterThan(800);
    // Friday morning: the same 12 uses in 12 minutes that reach high after three weeks (above).
    let t = T0 + 4 * 86_400_000;
    const uses: Score[] = [];
    for (let i = 0; i < 12; i++) uses.push(scoreEvent(s, ev(`y${i}`, (t += 60_000), "report.share_external", `reports/3-${i}`), SCOPES));
    const young = Math.max(...uses.map((u) => contribution(u, "young_tool")));
    expect(young).toBeGreaterThan(0.3);
    expect(young).toBeLessThan(0.85);
    expect(uses.some((u) => u.risk.band === "high")).toBe(false);
  });

  it("the same tool adopted into the agent's tasks (once per report) is never high", () => {
    const s = newState();
    workDays(s, 21);
    // A working day in which reports are also shared once published: the tool takes the share a
    // report step takes, however many times it is used.
    const scores = monday(s, ["report.publish", "report.share_external"]);
    expect(Math.max(...scores.map((u) => contribution(u, "young_tool")))).toBeLessThan(0.3);
    expect(scores.some((u) => u.risk.band === "high")).toBe(false);
  });

  it("a tool replaced by its next version (same share of the work) is not a takeover", () => {
    const s = newState();
    workDays(s, 21);
    // From Monday on, the same tasks publish with report.publish_v2 (report.publish is retired).
    const scores = monday(s, ["report.publish_v2"]);
    expect(Math.max(...scores.map((u) => contribution(u, "young_tool")))).toBeLessThan(0.3);
    expect(scores.some((u) => u.risk.band === "high")).toBe(false);
  });

  it("a watch that has ended by time reads nothing, whether or not another event came first", () => {
    // The watch lasts 2 h from the wake. Its end was applied only when the next event was learned,
    // after it was scored: until 2026-12-06 the woken tool's first use after a 3 h pause was still
    // read against the ended watch (young_tool 0.53 in review), and read nothing if any other
    // event had come first.
    const wokenThenPause = (ordinaryFirst: boolean) => {
      const s = newState();
      workDays(s, 21);
      let t = MONDAY;
      for (let i = 0; i < 4; i++) scoreEvent(s, ev(`w${i}`, (t += 60_000), "report.share_external", `reports/w-${i}`), SCOPES);
      expect(s.young?.some((w) => w.a === "report.share_external")).toBe(true);
      t += 3 * 3_600_000;
      if (ordinaryFirst) scoreEvent(s, ev("q", (t += 1_000), "warehouse.query", "partitions/p1"), SCOPES);
      return scoreEvent(s, ev("after", (t += 1_000), "report.share_external", "reports/w-after"), SCOPES);
    };
    expect(contribution(wokenThenPause(true), "young_tool")).toBe(0);
    expect(contribution(wokenThenPause(false), "young_tool")).toBe(0);
  });

  it("a review that clears the woken tool ends its watch: its next uses are the agent's own", () => {
    const s = newState();
    workDays(s, 21);
    let t = MONDAY;
    for (let i = 0; i < 5; i++) scoreEvent(s, ev(`c${i}`, (t += 60_000), "report.share_external", `reports/c-${i}`), SCOPES);
    expect(s.young?.some((w) => w.a === "report.share_external")).toBe(true);
    acceptAsNormal(s, t);
    const after: Score[] = [];
    for (let i = 0; i < 8; i++) after.push(scoreEvent(s, ev(`d${i}`, (t += 60_000), "report.share_external", `reports/d-${i}`), SCOPES));
    expect(Math.max(...after.map((u) => contribution(u, "young_tool")))).toBe(0);
  });

  it("a review shown something else does not adopt the woken tool: it stays watched", () => {
    const s = newState();
    workDays(s, 21);
    let t = MONDAY;
    for (let i = 0; i < 5; i++) scoreEvent(s, ev(`c${i}`, (t += 60_000), "report.share_external", `reports/c-${i}`), SCOPES);
    // The alert the reviewer cleared was about the hour; the tool it woke was never in front of them.
    acceptAsNormal(s, t, undefined, { features: ["unusual_hour"] });
    expect(s.young?.some((w) => w.a === "report.share_external")).toBe(true);
    const after: Score[] = [];
    for (let i = 0; i < 8; i++) after.push(scoreEvent(s, ev(`d${i}`, (t += 60_000), "report.share_external", `reports/d-${i}`), SCOPES));
    expect(Math.max(...after.map((u) => contribution(u, "young_tool")))).toBeGreaterThanOrEqual(0.3);
    // Shown the tool: adopted, as an origin that names no features means.
    acceptAsNormal(s, t, undefined, { features: ["young_tool"] });
    expect(s.young?.some((w) => w.a === "report.share_external") ?? false).toBe(false);
  });

  it("memory stays bounded: however many tools wake at once, at most 4 are watched", () => {
    const s = newState();
    workDays(s, 14);
    let t = MONDAY;
    for (let i = 0; i < 40; i++) scoreEvent(s, ev(`w${i}`, (t += 10_000), `warehouse.tool_${i}`, "partitions"), SCOPES);
    expect(s.young!.length).toBeLessThanOrEqual(4);
    expect(s.youngPool!.n.c).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type MonitorState, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T00:00:00Z");
const DAY = 86_400_000;
const SCOPES = ["screening.*", "alerts.*"];

type Score = ReturnType<typeof scoreEvent>;

function screen(id: string, ts: number, records: number): ScoredInput {
  return { id, ts, type: "data_access", action: "screening.screen_party", resource: `parties/${id}`, outcome: "success", records };
}

/**
 * An AML screening agent with two kinds of the same read: a nightly batch at 01:00 UTC that
 * screens parties in chunks of 10–50 records, and a daytime trickle of single-party screens, so
 * its reads are bimodal, and the day's single screens outnumber the night's chunks about 2 to 1.
 * After a day of single screens the recent reads are nearly all 1: the night's first chunk is
 * far above them, and it is what the agent has done every night since it started.
 */
function night(s: MonitorState, day: number, r: () => number, out: Score[]): void {
  let t = T0 + day * DAY + 3_600_000;
  for (let i = 0; i < 30; i++) out.push(scoreEvent(s, screen(`n${day}-${i}`, (t += 40_000 + Math.floor(r() * 30_000)), 10 + Math.floor(r() * 41)), SCOPES));
}

function daytime(s: MonitorState, day: number, r: () => number): void {
  let t = T0 + day * DAY + 8 * 3_600_000;
  for (let i = 0; i < 60; i++) scoreEvent(s, screen(`d${day}-${i}`, (t += 300_000 + Math.floor(r() * 300_000)), 1), SCOPES);
}

/** Three weeks of days and nights from `seed`; the last week's night scores go to `lastNights` when given. */
function threeWeeks(s: MonitorState, seed: number, lastNights: Score[] = []): () => number {
  const r = rng(seed);
  for (let day = 0; day < 21; day++) {
    daytime(s, day, r);
    night(s, day + 1, r, day >= 14 ? lastNights : []);
  }
  return r;
}

const spike = (x: Score) => x.event.reasons.find((q) => q.feature === "volume_spike")?.contribution ?? 0;

describe("a bimodal read volume (nightly batch chunks, daytime single screens)", () => {
  it("the night's chunks are not volume spikes after a day of single screens; a read far beyond any chunk still is", () => {
    const s = newState();
    const nights: Score[] = [];
    // The agent starts in the daytime: its frozen reference is mostly single screens.
    const r = threeWeeks(s, 7, nights);
    // A week of nights after three weeks of the same: every chunk is ordinary for this agent.
    expect(Math.max(...nights.map(spike))).toBeLessThan(0.3);
    expect(nights.every((x) => x.event.band !== "high" && x.risk.band !== "high")).toBe(true);
    // A bulk pull 100 times the largest chunk is still far beyond anything the agent read.
    daytime(s, 22, r);
    const bulk = scoreEvent(s, screen("bulk", T0 + 22 * DAY + 20 * 3_600_000, 5_000), SCOPES);
    expect(bulk.event.score).toBeGreaterThanOrEqual(0.5);
    expect(bulk.event.reasons.map((q) => q.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/^volume_(spike|over_max)$/)]));
  });
});

describe("a count that is nearly always 1 (a lookup that returns one customer)", () => {
  it("a lookup of 5 records is no spike for an agent whose largest reads have reached 5 and more again and again; one far beyond them still is", () => {
    const s = newState();
    const r = rng(11);
    let t = T0 + 8 * 3_600_000;
    // Four weeks of lookups, ~1 in 60 returning 4–9 records (a family account, a shared address).
    for (let i = 0; i < 3_000; i++) {
      const records = r() < 1 / 60 ? 4 + Math.floor(r() * 6) : 1;
      scoreEvent(s, { ...screen(`l${i}`, (t += 8 * 60_000 + Math.floor(r() * 4 * 60_000)), records), action: "customer.lookup" }, ["customer.*"]);
    }
    // The last values are all 1: the median is 1 and the MAD 0, so the robust z of a 5 was 22 and
    // the lookup high (blind world F: a clean support agent auto-revoked on one such lookup).
    for (let i = 0; i < 40; i++) scoreEvent(s, { ...screen(`o${i}`, (t += 8 * 60_000), 1), action: "customer.lookup" }, ["customer.*"]);
    const five = scoreEvent(s, { ...screen("x5", (t += 8 * 60_000), 5), action: "customer.lookup" }, ["customer.*"]);
    expect(five.event.reasons.filter((q) => q.contribution >= 0.3)).toEqual([]);
    expect(five.event.band).toBe("low");
    // 500 records is far beyond anything it read: still high.
    const bulk = scoreEvent(s, { ...screen("x500", (t += 8 * 60_000), 500), action: "customer.lookup" }, ["customer.*"]);
    expect(bulk.event.band).toBe("high");
  });
});

describe("a read tool too new to have a history of its own (agent-wide series)", () => {
  it("a bulk pull through a tool adopted yesterday is judged against everything the agent reads", () => {
    const s = newState();
    threeWeeks(s, 9);
    // A renamed lookup (v2) first used today: four reads of 5,000 records each, a hundred times the
    // largest chunk the agent ever read, through a tool with no series of its own.
    let t = T0 + 22 * DAY + 9 * 3_600_000;
    const pulls: Score[] = [];
    for (let i = 0; i < 4; i++) pulls.push(scoreEvent(s, { ...screen(`v${i}`, (t += 60_000), 5_000), action: "screening.lookup_v2" }, SCOPES));
    const over = pulls.flatMap((p) => p.event.reasons).find((q) => q.feature === "volume_over_max");
    expect(over?.detail).toMatch(/against all its actions' volumes \('screening.lookup_v2' has too few of its own\)/);
    expect(pulls.some((p) => p.event.band === "high")).toBe(true);
    // An ordinary single screen through the same new tool is no spike (the hour's total still counts).
    const one = scoreEvent(s, { ...screen("v-one", (t += 60_000), 1), action: "screening.lookup_v2" }, SCOPES);
    expect(one.event.reasons.some((q) => q.feature === "volume_spike" || q.feature === "volume_over_max")).toBe(false);
  });
});

describe("an action name with a '|' in it", () => {
  it("is judged against the same agent-wide series as any other new tool (the key's unit is after the last '|')", () => {
    const s = newState();
    threeWeeks(s, 9);
    let t = T0 + 22 * DAY + 9 * 3_600_000;
    const pulls: Score[] = [];
    for (let i = 0; i < 4; i++) pulls.push(scoreEvent(s, { ...screen(`w${i}`, (t += 60_000), 5_000), action: "screening|lookup" }, SCOPES));
    expect(pulls.flatMap((p) => p.event.reasons).some((q) => q.feature === "volume_over_max")).toBe(true);
  });
});

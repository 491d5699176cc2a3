import { describe, expect, it } from "vitest";
import { newState, scoreEvent, type ScoredInput } from "@kakunin/shared";
import { rng } from "./rng.ts";

const T0 = Date.parse("2026-03-02T08:00:00Z");
const SCOPES = ["docs.*", "search.*"];

/**
 * A research agent: searches, then reads documents, 08:00–17:00 on weekdays; about a third of
 * its reads are documents it has never opened (2–12 new ones an hour), the rest re-reads of
 * its working set. Reads carry no records or bytes, so volume_hour has nothing to add up.
 */
function weeks(days: number, seed = 21): { s: ReturnType<typeof newState>; scores: ReturnType<typeof scoreEvent>[]; next: number } {
  const r = rng(seed);
  const s = newState();
  const scores = [];
  let next = 0;
  for (let day = 0; day < days; day++) {
    if (day % 7 >= 5) continue;
    for (let t = T0 + day * 86_400_000; t < T0 + day * 86_400_000 + 9 * 3_600_000; t += 60_000 + Math.floor(r() * 240_000)) {
      const fresh = r() < 0.33;
      const doc = fresh ? `doc:${next++}` : `doc:${Math.floor(r() * Math.min(next, 200))}`;
      const e: ScoredInput = {
        id: `d${t}`,
        ts: t,
        type: r() < 0.2 ? "tool_call" : "data_access",
        action: r() < 0.2 ? "search.query" : "docs.read",
        resource: r() < 0.2 ? "search/index" : doc,
        outcome: "success",
      };
      scores.push(scoreEvent(s, e, SCOPES));
    }
  }
  return { s, scores, next };
}

describe("fan-out per hour (fanout_hour)", () => {
  it("reading ten times the agent's busiest hour of new documents at an ordinary pace reaches high; no minute of it is a burst", () => {
    const { s, next } = weeks(21);
    const at = T0 + 21 * 86_400_000 + 2 * 3_600_000;
    // 150 never-opened documents in an hour, one every 24 s: a normal minute's pace.
    const out = Array.from({ length: 150 }, (_, i) =>
      scoreEvent(
        s,
        { id: `x${i}`, ts: at + i * 24_000, type: "data_access", action: "docs.read", resource: `doc:${next + 1000 + i}`, outcome: "success" },
        SCOPES,
      ),
    );
    expect(out.every((x) => !x.event.reasons.some((r) => r.feature === "rate_burst" && r.contribution >= 0.3))).toBe(true);
    const fan = out.flatMap((x) => x.event.reasons).filter((r) => r.feature === "fanout_hour");
    expect(fan.length).toBeGreaterThan(0);
    expect(fan.at(-1)!.detail).toMatch(/distinct new resources this hour vs at most ~\d+ in a busy hour/);
    expect(out.some((x) => x.risk.band === "high")).toBe(true);
  });

  it("the agent's ordinary weeks, busy hours included, never go high on it", () => {
    const { scores } = weeks(28, 22);
    const late = scores.slice(scores.length / 4);
    expect(late.every((x) => x.risk.band !== "high")).toBe(true);
    expect(late.every((x) => !x.event.reasons.some((r) => r.feature === "fanout_hour" && r.contribution >= 0.3))).toBe(true);
  });
});
